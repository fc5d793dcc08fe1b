/**
 * A solver does not wait for good on a job whose spec nobody announces: once the chain is `specWaitBlocks` past the
 * job's posting it passes the job over, says why, and takes up the next job (here one it then refuses for its rules,
 * which shows it moved on). Through the node roles, on anvil and libp2p.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { keccak256, type Hex } from 'viem';
import { send } from '../../src/chain/actions/send.js';
import { getJob, postJob } from '../../src/chain/index.js';
import { JobMarketAbi } from '../../src/chain/generated/JobMarket.js';
import type { NodeEvent } from '../../src/node/context.js';
import { runSolver } from '../../src/node/roles.js';
import { startNode } from '../../src/node/run.js';
import { bootstrapAddr, putBlob } from '../../src/node/p2p.js';
import { canonicalJson } from '../../src/train/index.js';
import { rules, SPEC } from '../verify/game-helpers.js';
import { REWARD, STAKE, setupGameChain, type GameChain } from '../chain/dispute-replay.js';

let c: GameChain;
beforeAll(async () => {
  c = await setupGameChain(rules);
}, 120_000);
afterAll(() => c?.anvil.stop());

describe('a job whose spec nobody announces', () => {
  test('is passed over once the wait in blocks is up, with the reason, and the solver goes on to the next job', async () => {
    const keys = c.anvil.accounts.map((x) => x.privateKey);
    const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
    const dir = await mkdtemp(join(tmpdir(), 'mycel-spec-wait-'));
    const events: NodeEvent[] = [];
    const fromBlock = (await c.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    const config = (name: string, key: Hex, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, name), name, bootstrap, fromBlock, confirmations: 0 });
    const submitter = await startNode(config('submitter', keys[1], []), (e) => events.push(e));
    const solver = await startNode(config('solver', keys[2], [bootstrapAddr(submitter.p2p)]), (e) => events.push(e));
    const ac = new AbortController();
    try {
      const bytes = new TextEncoder().encode(canonicalJson(SPEC));
      const post = async (factsRoot: Hex) => {
        const { jobId } = await postJob(c.wallets[1], { market: c.market, spec: bytes, steps: BigInt(SPEC.steps), reward: REWARD, stake: STAKE, deadlineIn: 3_600n });
        await send(c.wallets[1], { address: c.market, abi: JobMarketAbi, functionName: 'setRules', args: [jobId, c.facts.h0, factsRoot, c.facts.size] });
        return jobId;
      };
      const solving = runSolver(solver, { maxJobs: 1, specWaitBlocks: 5n, signal: ac.signal }).catch((e: unknown) => e);
      // Job 1: rules set, spec never announced. Job 2: its spec announced (and rules that are not the spec's).
      const silent = await post(c.facts.root);
      const next = await post(`0x${'ab'.repeat(32)}`);
      await submitter.announcements.announce({ kind: 'spec', jobId: next.toString(), key: keccak256(bytes), cid: await putBlob(submitter.p2p, join(dir, 'spec.json'), bytes) });
      const logs = () => events.flatMap((e) => (e.type === 'log' && e.node === 'solver' ? [e.text] : []));
      await new Promise((r) => setTimeout(r, 1_500));
      expect(logs().some((l) => l.includes('passed over'))).toBe(false); // not before the wait is up
      await c.advance(6n);
      await waitUntil(() => events.some((e) => e.type === 'unverified' && e.node === 'solver' && e.jobId === next.toString())).catch((e: unknown) => {
        throw new Error(`${(e as Error).message}; the solver said:\n${logs().join('\n')}`);
      });
      expect(logs()).toContainEqual(expect.stringMatching(new RegExp(`^job ${silent}: passed over: no peer announced its spec by block \\d+ \\(the wait after its posting\\)\\. Its submitter must announce the spec`)));
      expect((await getJob(c.publicClient, { market: c.market, jobId: silent })).phase).toBe('Open'); // left for whoever has the spec
      ac.abort(new Error('test done'));
      expect(await solving).toEqual(new Error('test done'));
    } finally {
      ac.abort();
      await Promise.all([submitter.stop(), solver.stop()]);
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
