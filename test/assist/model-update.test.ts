/**
 * A model coming back by CID is used only if its run commitment is the root a finalized job holds on chain (anvil
 * with the mycel contracts): the right model is taken; one whose commitment is not the job's, a job still in its
 * challenge window, and bytes that do not match the CID are refused, and the assistant keeps its model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from 'viem';
import { approve, claimJob, commitRoot, finalize, postJob, register, publicKeyOf } from '../../src/chain/index.js';
import type { MycelWalletClient } from '../../src/chain/actions/send.js';
import { createAssistant, defineApp, EpisodeRecorder, initModel, modelHash, trainAssistant } from '../../src/assist/index.js';
import { applyModelUpdate, encodeModelUpdate, ModelUpdateError } from '../../src/assist/model-update.js';
import { blobCid } from '../../src/assist/dataset.js';
import { CHALLENGE_WINDOW, MIN_STAKE, T, setPlaceholderRules, setupMycel, type Fixture } from '../chain/mycel-fixture.js';

const app = defineApp({ grid: [3, 2, 3], values: 3 });
let f: Fixture;
let submitter: MycelWalletClient, solver: MycelWalletClient;

function episode() {
  const grid = new Uint8Array(app.cells);
  const rec = new EpisodeRecorder(app, 'p', grid);
  [0, 1, 6, 7].forEach((cell, tick) => {
    grid[cell] = 1;
    rec.record({ who: 'human', kind: 'place', cell, value: 1, tick }, grid);
  });
  return rec.episode();
}

/** A job on the market that a solver commits `root` to; finalized unless `open`. */
async function job(root: string, open = false): Promise<bigint> {
  const spec = toHex(new TextEncoder().encode('{"assist":"fine-tune on dataset"}'));
  const { jobId } = await postJob(submitter, { market: f.market, spec, steps: 3n, reward: T(5), stake: T(2), deadlineIn: 1_000n });
  await setPlaceholderRules(submitter, f.market, jobId);
  await claimJob(solver, { market: f.market, jobId, spec });
  await commitRoot(solver, { market: f.market, jobId, root: `0x${root}` });
  if (!open) {
    await f.mine(CHALLENGE_WINDOW);
    await finalize(submitter, { market: f.market, jobId });
  }
  return jobId;
}

beforeAll(async () => {
  f = await setupMycel();
  [submitter, solver] = [f.wallets[1], f.wallets[2]];
  await approve(solver, { token: f.token, spender: f.registry, amount: MIN_STAKE });
  await register(solver, { registry: f.registry, stake: MIN_STAKE, publicKey: publicKeyOf(f.anvil.accounts[2].privateKey) });
  for (const w of [submitter, solver]) await approve(w, { token: f.token, spender: f.market, amount: T(1_000) });
});
afterAll(async () => {
  await f?.stop();
});

describe('a model update', () => {
  const trained = trainAssistant(app, [episode()], { seed: 1, steps: 3, batch: 2 });
  const bytes = encodeModelUpdate(trained);
  const cid = blobCid(bytes);
  const current = initModel(app, 9);
  const assistant = () => createAssistant({ model: current, observe: () => ({ grid: new Uint8Array(app.cells) }), act: () => {} });

  it('is used when its run commitment is the finalized root of its job', async () => {
    const jobId = await job(trained.commitment);
    const a = assistant();
    const { commitment } = await applyModelUpdate(a, f.publicClient, { market: f.market, jobId, cid, bytes });
    expect(commitment).toBe(trained.commitment);
    expect(modelHash(a.model)).toBe(modelHash(trained.model));
  });

  it('is refused, and the current model stays, when its commitment is not the one on chain', async () => {
    const other = trainAssistant(app, [episode()], { seed: 2, steps: 3, batch: 2 });
    const jobId = await job(trained.commitment);
    const otherBytes = encodeModelUpdate(other);
    const a = assistant();
    await expect(applyModelUpdate(a, f.publicClient, { market: f.market, jobId, cid: blobCid(otherBytes), bytes: otherBytes })).rejects.toThrow(ModelUpdateError);
    await expect(applyModelUpdate(a, f.publicClient, { market: f.market, jobId, cid: blobCid(otherBytes), bytes: otherBytes })).rejects.toThrow(`is not the root job ${jobId} holds on chain`);
    expect(modelHash(a.model)).toBe(modelHash(current));
  });

  it('is refused while its job can still be challenged', async () => {
    const jobId = await job(trained.commitment, true);
    const a = assistant();
    await expect(applyModelUpdate(a, f.publicClient, { market: f.market, jobId, cid, bytes })).rejects.toThrow('is Committed on chain, not Finalized');
    expect(modelHash(a.model)).toBe(modelHash(current));
  });

  it('is refused when its bytes do not match its CID, or its state not its step hashes', async () => {
    const jobId = await job(trained.commitment);
    const a = assistant();
    const bad = bytes.slice();
    bad[bad.length - 1] ^= 1;
    await expect(applyModelUpdate(a, f.publicClient, { market: f.market, jobId, cid, bytes: bad })).rejects.toThrow(`not ${cid}`);
    // The same bytes under their own CID: the state no longer hashes to the run's last step hash.
    await expect(applyModelUpdate(a, f.publicClient, { market: f.market, jobId, cid: blobCid(bad), bytes: bad })).rejects.toThrow("not to the run's last step hash");
    expect(modelHash(a.model)).toBe(modelHash(current));
  });
});
