/**
 * A party checks a job's dispute rules on chain (h_0, facts root and size, set by the submitter) against its own
 * derivation from the spec before it stakes (roles.ts checkRules): the job's own rules pass; rules with another facts
 * root, and a job with no rules, are refused with JobRulesMismatchError. Through the node roles, on anvil and libp2p:
 * a job posted with rules that are not its spec's is refused by an honest solver, flagged (not challenged) by the
 * verifier, and reported Finalized but not verified to its submitter.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { keccak256, type Hex } from 'viem';
import { getBlockNumber } from 'viem/actions';
import { send } from '../../src/chain/actions/send.js';
import { createClients } from '../../src/chain/clients.js';
import { claimJob, commitRoot, finalize, getJob, postJob } from '../../src/chain/index.js';
import { JobRulesMismatchError } from '../../src/chain/errors.js';
import { JobMarketAbi } from '../../src/chain/generated/JobMarket.js';
import { awaitJob, checkRules, runSolver, runVerifier } from '../../src/node/roles.js';
import { startNode } from '../../src/node/run.js';
import { bootstrapAddr, putBlob } from '../../src/node/p2p.js';
import type { NodeEvent } from '../../src/node/context.js';
import { canonicalJson } from '../../src/train/index.js';
import { rules, SPEC } from '../verify/game-helpers.js';
import { REWARD, STAKE, setupGameChain, type GameChain } from '../chain/dispute-replay.js';

let c: GameChain;
let testClient: ReturnType<typeof createClients>['testClient'];
beforeAll(async () => {
  c = await setupGameChain(rules);
  ({ testClient } = createClients({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId }));
}, 120_000);
afterAll(() => c?.anvil.stop());

async function jobWithRules(factsRoot?: Hex): Promise<bigint> {
  const submitter = c.wallets[1];
  const { jobId } = await postJob(submitter, { market: c.market, specHash: `0x${'5e'.repeat(32)}`, steps: BigInt(rules.steps), reward: REWARD, stake: STAKE, deadlineIn: 3_600n });
  if (factsRoot) await send(submitter, { address: c.market, abi: JobMarketAbi, functionName: 'setRules', args: [jobId, c.facts.h0, factsRoot, c.facts.size] });
  return jobId;
}

describe('checkRules', () => {
  test("the spec's own rules pass; another facts root or no rules at all are refused", async () => {
    const ctx = { publicClient: c.publicClient, contracts: { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game } };
    await expect(checkRules(ctx, await jobWithRules(c.facts.root), { facts: c.facts })).resolves.toBeUndefined();
    const forged = await checkRules(ctx, await jobWithRules(`0x${'ab'.repeat(32)}`), { facts: c.facts }).catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(JobRulesMismatchError);
    expect((forged as Error).message).toContain(c.facts.root);
    const unset = await checkRules(ctx, await jobWithRules(), { facts: c.facts }).catch((e: unknown) => e);
    expect(unset).toBeInstanceOf(JobRulesMismatchError);
    expect((unset as Error).message).toMatch(/has no dispute rules on chain/);
  }, 60_000);
});

describe('a job whose rules on chain are not its spec\'s (a submitter colluding with a solver)', () => {
  test('honest solvers refuse it, the verifier flags it instead of challenging, and it is never called verified', async () => {
    const keys = c.anvil.accounts.map((x) => x.privateKey);
    const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
    const dir = await mkdtemp(join(tmpdir(), 'mycel-rules-'));
    const events: NodeEvent[] = [];
    const fromBlock = (await getBlockNumber(c.publicClient, { cacheTime: 0 })) + 1n; // after the jobs of the test above
    const config = (name: string, key: Hex, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, name), name, bootstrap, fromBlock, confirmations: 0 });
    const submitter = await startNode(config('submitter', keys[1], []), (e) => events.push(e));
    const boot = [bootstrapAddr(submitter.p2p)];
    const [solver, verifier] = await Promise.all([startNode(config('solver', keys[2], boot), (e) => events.push(e)), startNode(config('verifier', keys[3], boot), (e) => events.push(e))]);
    const ac = new AbortController();
    try {
      const solving = runSolver(solver, { maxJobs: 1, signal: ac.signal }).catch((e: unknown) => e);
      const verifying = runVerifier(verifier, { maxJobs: 1 });
      // The submitter posts the spec with another facts root, and announces the spec as usual.
      const bytes = new TextEncoder().encode(canonicalJson(SPEC));
      const cid = await putBlob(submitter.p2p, join(dir, 'spec.json'), bytes);
      const { jobId } = await postJob(c.wallets[1], { market: c.market, spec: bytes, steps: BigInt(SPEC.steps), reward: REWARD, stake: STAKE, deadlineIn: 3_600n });
      await send(c.wallets[1], { address: c.market, abi: JobMarketAbi, functionName: 'setRules', args: [jobId, c.facts.h0, `0x${'ab'.repeat(32)}`, c.facts.size] });
      await submitter.announcements.announce({ kind: 'spec', jobId: jobId.toString(), key: keccak256(bytes), cid });
      const settled = awaitJob(submitter, jobId, undefined, SPEC);
      const flagged = (node: string) => events.some((e) => e.type === 'unverified' && e.node === node && e.jobId === jobId.toString());
      await waitUntil(() => flagged('solver'));
      ac.abort(new Error('test done'));
      expect(await solving).toEqual(new Error('test done')); // it claimed nothing
      // The colluding solver claims it and commits any root.
      await claimJob(c.wallets[4], { market: c.market, jobId });
      await commitRoot(c.wallets[4], { market: c.market, jobId, root: `0x${'11'.repeat(32)}` });
      const [checked] = await verifying;
      expect(checked).toMatchObject({ jobId, agreed: false, unverified: expect.stringContaining(c.facts.root) });
      expect(checked.dispute).toBeUndefined();
      expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Committed'); // not challenged
      await testClient.increaseTime({ seconds: 601 });
      await c.advance(601n);
      await finalize(c.wallets[4], { market: c.market, jobId });
      const result = await settled;
      expect(result).toMatchObject({ jobId, phase: 'Finalized', accepted: false, unverified: expect.stringContaining(c.facts.root) });
      expect(result.model).toBeUndefined();
      expect(flagged('submitter') && flagged('verifier')).toBe(true);
      const logs = events.flatMap((e) => (e.type === 'log' ? [`${e.node}: ${e.text}`] : []));
      expect(logs).toContain(`submitter: job ${jobId}: Finalized on chain, but NOT VERIFIED (its dispute rules on chain are not its spec's)`);
      expect(logs.some((l) => l.startsWith(`verifier: job ${jobId}: NOT VERIFIED:`) && l.includes('Not challenging it'))).toBe(true);
    } finally {
      ac.abort();
      await Promise.all([submitter.stop(), solver.stop(), verifier.stop()]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

async function waitUntil(ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
