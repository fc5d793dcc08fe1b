/**
 * The assist loop on the market, through the node roles on anvil and libp2p: a person's node packs their episodes as
 * a dataset blob signed with its key and posts an assistant-training job naming it by CID; a solver fetches the dataset
 * over libp2p, trains it, publishes the model and commits; a verifier re-executes it and agrees; the job finalizes.
 * The person's app (another node) fetches the model by CID over libp2p with the run's step hashes, checks it against
 * the finalized job on chain (applyModelUpdate) and uses it; a model of another run is refused and the current model
 * stays. Then the same through \`mycel assist\`'s server on that market (HTTP, as the page calls it): a consenting
 * person's episodes posted as a job, and the finalized job's model loaded by CID. And as any job: a solver that cheats
 * at one step loses the dispute game on chain to the verifier; a job whose dataset is not signed by whom its spec names
 * is refused by the solver before it claims. Tiny settings: a 3x2x3 world, 3 steps.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startAssistServer } from '../../src/cli/assist-server.js';
import { hexToBytes, keccak256 } from 'viem';
import { getBlockNumber } from 'viem/actions';
import { getJob, postJob } from '../../src/chain/index.js';
import { send } from '../../src/chain/actions/send.js';
import { JobMarketAbi } from '../../src/chain/generated/JobMarket.js';
import { canonicalJson } from '../../src/train/index.js';
import { blobCid, packDataset } from '../../src/assist/dataset.js';
import { buildAssistJob, parseAssistJobSpec } from '../../src/assist/job.js';
import { createAssistant, defineApp, encodeEpisode, EpisodeRecorder, initModel, modelHash, trainAssistant, type Episode } from '../../src/assist/index.js';
import { fineTune } from '../../src/assist/fine-tune.js';
import { mycelInProcess } from '../cli/in-process.js';
import { EXPERIMENT_DEFAULTS, fineTuneSettings } from '../../src/assist/blocks/experiment.js';
import { applyModelUpdate, ModelUpdateError } from '../../src/assist/model-update.js';
import type { NodeEvent } from '../../src/node/context.js';
import { awaitJob, fetchStepHashes, runSolver, runVerifier, submitJob } from '../../src/node/roles.js';
import { startNode } from '../../src/node/run.js';
import { bootstrapAddr, getBlob, putBlob } from '../../src/node/p2p.js';
import { encodeCheckpoint, runInMemory } from '../../src/train/index.js';
import { rulesOf } from '../../src/verify/index.js';
import { REWARD, STAKE, WINDOW_BLOCKS, setupGameChain, type GameChain } from '../chain/dispute-replay.js';

const app = defineApp({ grid: [3, 2, 3], values: 3 });

function episode(cells: number[]): Episode {
  const grid = new Uint8Array(app.cells);
  const rec = new EpisodeRecorder(app, 'ada', grid);
  cells.forEach((cell, tick) => {
    grid[cell] = 1 + (tick % 2);
    rec.record({ who: 'human', kind: 'place', cell, value: grid[cell], tick }, grid);
  });
  return rec.episode();
}

let c: GameChain;
let dir: string;
let personKey: `0x${string}`;
let dataset: ReturnType<typeof packDataset>;
const episodes = [episode([0, 1, 6, 7]), episode([2, 3, 8])];
const placeholder = packDataset(episodes, new Uint8Array(32).fill(1));
const specOf = (d: { cid: string; signer: string }) => parseAssistJobSpec({
  version: 1, kind: 'assist', app: { grid: [3, 2, 3], values: 3 }, model: { goalHidden: 8, humanHidden: 4 },
  data: { kind: 'dataset', cid: d.cid, signer: d.signer }, optimizer: { kind: 'adam', lr: 3e-3 },
  steps: 3, batchSize: 2, seed: 5, checkpointEvery: 2,
});

beforeAll(async () => {
  [c, dir] = await Promise.all([
    // The fixture wants some job's rules (for the facts of tests that post by hand); this test posts with submitJob.
    setupGameChain(rulesOf(buildAssistJob(specOf(placeholder), new Map([[placeholder.cid, placeholder.bytes]])))),
    mkdtemp(join(tmpdir(), 'mycel-assist-job-')),
  ]);
  personKey = c.anvil.accounts[1].privateKey;
  // Signed with the person's node key: the key of their account (the submitter) and of their PeerId.
  dataset = packDataset(episodes, hexToBytes(personKey));
}, 120_000);
afterAll(async () => {
  c?.anvil.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an assistant trained by a market job comes back by CID', () => {
  test('posted, trained, verified, finalized; the app takes the model only if it is the finalized run', async () => {
    const keys = c.anvil.accounts.map((x) => x.privateKey);
    const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
    const events: NodeEvent[] = [];
    const fromBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
    const config = (name: string, key: `0x${string}`, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, name), name, bootstrap, fromBlock, confirmations: 0 });
    const person = await startNode(config('person', personKey, []), (e) => events.push(e));
    const boot = [bootstrapAddr(person.p2p)];
    const [solver, verifier, appNode] = await Promise.all([
      startNode(config('solver', keys[2], boot), (e) => events.push(e)),
      startNode(config('verifier', keys[3], boot), (e) => events.push(e)),
      startNode(config('app', keys[4], boot), (e) => events.push(e)),
    ]);
    try {
      const solving = runSolver(solver, { maxJobs: 1 });
      const verifying = runVerifier(verifier, { maxJobs: 1 });
      // The dataset goes into the person's blob store (as `mycel assist`'s share does), then the job names it.
      expect(await putBlob(person.p2p, join(dir, 'dataset.json'), dataset.bytes)).toBe(dataset.cid);
      expect(dataset.signer.toLowerCase()).toBe(person.address.toLowerCase());
      const spec = specOf(dataset);
      // A job naming the dataset as someone else's is refused before anything is posted.
      await expect(submitJob(person, { spec: specOf({ cid: dataset.cid, signer: solver.address }), reward: REWARD, stake: STAKE })).rejects.toThrow(`it is signed by ${dataset.signer}, and the job names ${solver.address}`);
      const { jobId } = await submitJob(person, { spec, reward: REWARD, stake: STAKE, challengeWindow: WINDOW_BLOCKS });
      const settled = awaitJob(person, jobId, undefined, spec);
      const [checked] = await verifying;
      expect(checked).toMatchObject({ jobId, agreed: true });
      const committed = await getJob(c.publicClient, { market: c.market, jobId });
      // The app hears the solver's step hashes while the job is open to challenge (the solver stops announcing once settled).
      const stepHashes = await fetchStepHashes(appNode, jobId, committed.root, spec.steps, AbortSignal.timeout(60_000));
      await c.advance(WINDOW_BLOCKS + 1n);
      const [solved] = await solving;
      expect(solved).toMatchObject({ jobId, phase: 'Finalized' });
      const result = await settled;
      expect(result).toMatchObject({ jobId, phase: 'Finalized', accepted: true, standing: 'unchallenged', modelCid: solved.modelCid });

      // The same run as the person's own machine would train: the root on chain is its commitment.
      const local = trainAssistant(app, dataset.ids.map((id) => episodes.find((e) => encodeEpisode(e).id === id)!), { seed: 5, steps: 3, batch: 2, lr: 3e-3, config: { goalHidden: 8, humanHidden: 4 } });
      expect(committed.root).toBe(`0x${local.commitment}`);
      // The solver and the verifier got the dataset from the person's node over libp2p.
      const logs = events.flatMap((e) => (e.type === 'log' ? [`${e.node}: ${e.text}`] : []));
      for (const node of ['solver', 'verifier']) expect(logs).toContain(`${node}: got blob ${dataset.cid.slice(0, 12)}… (${dataset.bytes.length} bytes), named by a job's spec`);

      // The app fetches the model by CID over libp2p and checks it against the finalized job before using it.
      const bytes = await getBlob(appNode.p2p, solved.modelCid, join(dir, 'app-tmp'));
      const current = initModel(app, 9, { goalHidden: 8, humanHidden: 4 });
      const assistant = createAssistant({ model: current, observe: () => ({ grid: new Uint8Array(app.cells) }), act: () => {} });
      const params = { market: c.market, jobId, cid: solved.modelCid, bytes, stepHashes };
      await expect(applyModelUpdate(assistant, appNode.publicClient, params)).resolves.toEqual({ commitment: local.commitment });
      expect(modelHash(assistant.model)).toBe(modelHash(local.model));
      expect(assistant.step().belief.goal.length).toBe(app.cells * app.values); // it runs with the new model

      // Another run's model (a different seed, its own step hashes), offered for this job: refused, the model stays.
      const other = buildAssistJob({ ...spec, seed: 6 }, new Map([[dataset.cid, dataset.bytes]]));
      const otherRun = runInMemory(other);
      let state = other.init();
      for (let t = 0; t < spec.steps; t++) state = other.step(state).state;
      const forged = encodeCheckpoint(state, { jobId: other.id, spec: { ...spec, seed: 6 } });
      const kept = createAssistant({ model: current, observe: () => ({ grid: new Uint8Array(app.cells) }), act: () => {} });
      const refused = applyModelUpdate(kept, appNode.publicClient, { market: c.market, jobId, cid: blobCid(forged), bytes: forged, stepHashes: otherRun.stepHashes });
      await expect(refused).rejects.toThrow(ModelUpdateError);
      await expect(applyModelUpdate(kept, appNode.publicClient, { market: c.market, jobId, cid: blobCid(forged), bytes: forged, stepHashes: otherRun.stepHashes })).rejects.toThrow(`is not the root job ${jobId} holds on chain`);
      // The finalized model under the wrong step hashes: its state is not their last.
      await expect(applyModelUpdate(kept, appNode.publicClient, { ...params, stepHashes: otherRun.stepHashes })).rejects.toThrow("not to the run's last step hash");
      expect(modelHash(kept.model)).toBe(modelHash(current));
    } finally {
      await Promise.all([person.stop(), solver.stop(), verifier.stop(), appNode.stop()]);
    }
  }, 180_000);
});

describe("mycel assist's server on a market", () => {
  test('with consent, posts the person\'s episodes as a job; once finalized, loads its model by CID; refuses what is not it', async () => {
    const keys = c.anvil.accounts.map((x) => x.privateKey);
    const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
    const fromBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
    const config = (name: string, key: `0x${string}`, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, 'server', name), name, bootstrap, fromBlock, confirmations: 0 });
    const person = await startNode(config('person', personKey, []), () => {});
    const boot = [bootstrapAddr(person.p2p)];
    const [solver, verifier] = await Promise.all([startNode(config('solver', keys[2], boot), () => {}), startNode(config('verifier', keys[3], boot), () => {})]);
    const base = initModel(app, 1, { goalHidden: 8, humanHidden: 4 });
    // Other people's episodes of this app, learned beside the person's (the block game's server replays its crowd).
    const replay = [episode([9, 10, 11]), episode([4, 5, 12, 13]), episode([14, 15])].map((e) => ({ ...e, person: 'crowd' }));
    const server = await startAssistServer({
      dir: join(dir, 'server', 'assist'), dataDir: join(dir, 'server'), port: 0, model: base, commitment: 'none', learnSteps: 3, log: () => {}, replay,
      market: { node: person, reward: REWARD, stake: STAKE, steps: 3, challengeWindow: WINDOW_BLOCKS },
    });
    const api = async (path: string, body?: unknown) => {
      const res = await fetch(new URL(path, server.url), body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (path === 'api/model' ? undefined : await res.json()) as Record<string, unknown>, hash: res.headers.get('X-Model-Hash') };
    };
    try {
      for (const e of episodes) {
        const { bytes } = encodeEpisode(e);
        expect((await fetch(new URL('api/episodes', server.url), { method: 'POST', body: bytes as Uint8Array<ArrayBuffer> })).status).toBe(200);
      }
      // Sharing off: nothing is posted.
      expect(await api('api/jobs', { person: 'ada' })).toMatchObject({ status: 403 });
      await api('api/consent', { share: true });
      const solving = runSolver(solver, { maxJobs: 1 });
      const verifying = runVerifier(verifier, { maxJobs: 1 });
      const posted = await api('api/jobs', { person: 'ada' });
      expect(posted).toMatchObject({ status: 200, body: { jobId: expect.any(String), dataset: dataset.cid, episodes: 2, signer: dataset.signer } });
      const jobId = posted.body.jobId as string;
      // Before it is finalized, its model is not taken.
      const early = await api('api/model/from-job', { jobId, cid: dataset.cid });
      expect(early.status).toBe(409);
      await verifying;
      await c.advance(WINDOW_BLOCKS + 1n);
      await solving;
      let row: Record<string, unknown> | undefined;
      for (const end = Date.now() + 60_000; !row?.modelCid && Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
        row = ((await api('api/jobs')).body.jobs as Record<string, unknown>[]).find((j) => j.jobId === jobId);
      }
      expect(row).toMatchObject({ phase: 'Finalized', modelCid: expect.any(String) });
      // A blob that is not the job's model (the dataset, fetched by its CID): refused, the model stays.
      const before = (await api('api/model')).hash;
      const wrong = await api('api/model/from-job', { jobId, cid: dataset.cid });
      expect(wrong.status).toBe(409);
      expect(String(wrong.body.error)).toMatch(/refused.*stays in use/s);
      expect((await api('api/model')).hash).toBe(before);
      // The job's model by CID: checked against the finalized job, then in use.
      const used = await api('api/model/from-job', { jobId, cid: row!.modelCid });
      expect(used).toMatchObject({ status: 200, body: { jobId } });
      // The job ran the app's own fine-tuning (assist/fine-tune.ts): the model from the network is the one "Learn" trains
      // here from the same episodes and replay (a second server from the base model, same episodes dir).
      const tuned = fineTune(app, base, episodes, replay, fineTuneSettings({ ...EXPERIMENT_DEFAULTS, fineTuneSteps: 3 }));
      expect((await api('api/model')).hash).toBe(modelHash(tuned.model));
      expect(used.body.commitment).toBe(tuned.commitment);
      // The solver's and the verifier's runs of the job, in their data dirs (job-N), are found and replayed by the CLI
      // from the blobs each node fetched (dataset, base model, replay).
      for (const node of ['solver', 'verifier']) {
        const verified = await mycelInProcess('verify', `job-${jobId}`, '--data-dir', join(dir, 'server', node), '--json');
        expect(JSON.parse(verified.stdout)).toMatchObject({ commitment: tuned.commitment, agrees: true, steps_executed: 3 });
      }
      const local = await startAssistServer({ dir: join(dir, 'server', 'assist'), dataDir: join(dir, 'server'), port: 0, model: base, commitment: 'none', learnSteps: 3, log: () => {}, replay });
      try {
        const learned = await fetch(new URL('api/learn', local.url), { method: 'POST', body: JSON.stringify({ person: 'ada' }) });
        expect(await learned.json()).toMatchObject({ model: modelHash(tuned.model), commitment: tuned.commitment });
      } finally {
        await local.close();
      }
    } finally {
      await server.close();
      await Promise.all([person.stop(), solver.stop(), verifier.stop()]);
    }
  }, 180_000);
});

describe('an assistant job on the market is disputable like any job', () => {
  test('a solver that flips a bit at step 2 is challenged by the verifier, loses the game on chain, and the job is refuted', async () => {
    const keys = c.anvil.accounts.map((x) => x.privateKey);
    const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
    const fromBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
    const config = (name: string, key: `0x${string}`, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, 'dispute', name), name, bootstrap, fromBlock, confirmations: 0 });
    const person = await startNode(config('person', personKey, []), () => {});
    const boot = [bootstrapAddr(person.p2p)];
    const [solver, verifier] = await Promise.all([startNode(config('solver', keys[2], boot), () => {}), startNode(config('verifier', keys[3], boot), () => {})]);
    try {
      const solving = runSolver(solver, { maxJobs: 1, cheatAt: 2 });
      const verifying = runVerifier(verifier, { maxJobs: 1 });
      await putBlob(person.p2p, join(dir, 'dispute', 'dataset.json'), dataset.bytes);
      const spec = parseAssistJobSpec({ ...specOf(dataset), seed: 7 }); // another job than the tests' above
      const { jobId } = await submitJob(person, { spec, reward: REWARD, stake: STAKE, challengeWindow: WINDOW_BLOCKS });
      const [checked] = await verifying;
      expect(checked).toMatchObject({ jobId, agreed: false, dispute: { loser: 'solver', at: 'instruction' } });
      const [solved] = await solving;
      expect(solved).toMatchObject({ jobId, phase: 'Refuted' });
      expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Refuted');
    } finally {
      await Promise.all([person.stop(), solver.stop(), verifier.stop()]);
    }
  }, 180_000);
});

describe('an assistant job whose dataset is not what its spec says', () => {
  test('a solver fetches the dataset, refuses it with the reason before claiming, and the job stays Open', async () => {
    const keys = c.anvil.accounts.map((x) => x.privateKey);
    const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
    const events: NodeEvent[] = [];
    const fromBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
    const config = (name: string, key: `0x${string}`, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, 'bad', name), name, bootstrap, fromBlock, confirmations: 0 });
    const person = await startNode(config('person', personKey, []), (e) => events.push(e));
    const solver = await startNode(config('solver', keys[2], [bootstrapAddr(person.p2p)]), (e) => events.push(e));
    const ac = new AbortController();
    try {
      const solving = runSolver(solver, { maxJobs: 1, signal: ac.signal }).catch((e: unknown) => e);
      // Posted by hand (submitJob refuses it): the person's dataset, named as someone else's.
      await putBlob(person.p2p, join(dir, 'bad', 'dataset.json'), dataset.bytes);
      const bytes = new TextEncoder().encode(canonicalJson(specOf({ cid: dataset.cid, signer: solver.address })));
      const cid = await putBlob(person.p2p, join(dir, 'bad', 'spec.json'), bytes);
      const { jobId } = await postJob(c.wallets[1], { market: c.market, spec: bytes, steps: 3n, reward: REWARD, stake: STAKE, deadlineIn: 3_600n });
      await send(c.wallets[1], { address: c.market, abi: JobMarketAbi, functionName: 'setRules', args: [jobId, c.facts.h0, c.facts.root, c.facts.size] });
      await person.announcements.announce({ kind: 'spec', jobId: jobId.toString(), key: keccak256(bytes), cid });
      for (const end = Date.now() + 60_000; !events.some((e) => e.type === 'refused') && Date.now() < end;) await new Promise((r) => setTimeout(r, 100));
      ac.abort(new Error('test done'));
      expect(await solving).toEqual(new Error('test done')); // it claimed nothing
      expect(events.find((e) => e.type === 'refused')).toMatchObject({ node: 'solver', jobId: jobId.toString(), reason: `This dataset blob is refused: it is signed by ${dataset.signer}, and the job names ${solver.address}.` });
      expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Open');
    } finally {
      ac.abort();
      await Promise.all([person.stop(), solver.stop()]);
    }
  }, 120_000);
});
