/**
 * A node given a memory limit refuses a job whose estimate (train/memory.ts) is above it, and says so (a `refused`
 * event and a log line naming the figures and --max-memory) before it stakes: the job stays Open, unclaimed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getBlockNumber } from 'viem/actions';
import { getJob } from '../../src/chain/index.js';
import type { NodeEvent } from '../../src/node/context.js';
import { runSolver, submitJob } from '../../src/node/roles.js';
import { startNode } from '../../src/node/run.js';
import { bootstrapAddr } from '../../src/node/p2p.js';
import { rules, SPEC } from '../verify/game-helpers.js';
import { REWARD, STAKE, setupGameChain, type GameChain } from '../chain/dispute-replay.js';

let c: GameChain;
beforeAll(async () => {
  c = await setupGameChain(rules);
}, 120_000);
afterAll(() => c?.anvil.stop());

describe('a memory limit', () => {
  test('a solver refuses a job that does not fit, before claiming it, and says why', async () => {
    const keys = c.anvil.accounts.map((x) => x.privateKey);
    const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
    const dir = await mkdtemp(join(tmpdir(), 'mycel-memory-'));
    const events: NodeEvent[] = [];
    const fromBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
    const config = (name: string, key: `0x${string}`, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, name), name, bootstrap, fromBlock, confirmations: 0 });
    const submitter = await startNode(config('submitter', keys[1], []), (e) => events.push(e));
    const solver = await startNode(config('solver', keys[2], [bootstrapAddr(submitter.p2p)]), (e) => events.push(e));
    const ac = new AbortController();
    try {
      const solving = runSolver(solver, { maxJobs: 1, maxMemoryBytes: 64 * 1024, signal: ac.signal }).catch((e: unknown) => e);
      const { jobId } = await submitJob(submitter, { spec: SPEC, reward: REWARD, stake: STAKE });
      const end = Date.now() + 60_000;
      while (!events.some((e) => e.type === 'refused') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      ac.abort(new Error('test done'));
      expect(await solving).toEqual(new Error('test done')); // it claimed nothing
      expect(events.find((e) => e.type === 'refused')).toMatchObject({ node: 'solver', jobId: jobId.toString(), reason: expect.stringMatching(/needs about \d+ MiB of memory .* above this node's limit of 0 MiB/) });
      expect(events.some((e) => e.type === 'log' && e.node === 'solver' && /not claimed: .*--max-memory GIB/.test(e.text))).toBe(true);
      expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Open');
    } finally {
      ac.abort();
      await Promise.all([submitter.stop(), solver.stop()]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
