/**
 * A restarted node catches up on the market events it missed while it was down (node/cursor.ts): the position it
 * stopped reading at is kept in its LMDB store, and it never passes an event whose work is not yet durable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getBlockNumber } from 'viem/actions';
import { getJob } from '../../src/chain/index.js';
import type { NodeEvent } from '../../src/node/context.js';
import { EventCursor } from '../../src/node/cursor.js';
import { runSolver, submitJob } from '../../src/node/roles.js';
import { startNode } from '../../src/node/run.js';
import { bootstrapAddr } from '../../src/node/p2p.js';
import { NodeState } from '../../src/node/state.js';
import { rules, SPEC } from '../verify/game-helpers.js';
import { REWARD, STAKE, setupGameChain, type GameChain } from '../chain/dispute-replay.js';

describe('the event cursor', () => {
  test('is kept across a restart, never passes an event in hand, and follows the watcher when idle', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mycel-cursor-'));
    try {
      let state = NodeState.open(dir);
      const first = new EventCursor(state, 'solver/JobPosted', 100n);
      expect(first.fromBlock).toBe(100n);
      first.take({ block: 101n, logIndex: 0 });
      first.take({ block: 101n, logIndex: 3 });
      first.done({ block: 101n, logIndex: 3 }); // out of order: 101:0 is still in hand
      first.idle(120n);
      await state.close();

      state = NodeState.open(dir);
      const again = new EventCursor(state, 'solver/JobPosted', 500n);
      expect(again.fromBlock).toBe(101n); // not the new start: 101:0 was never done
      expect(again.handled({ block: 101n, logIndex: 0 })).toBe(false);
      expect(again.handled({ block: 100n, logIndex: 9 })).toBe(true);
      again.done({ block: 101n, logIndex: 0 });
      again.idle(120n);
      await state.close();

      state = NodeState.open(dir);
      expect(new EventCursor(state, 'solver/JobPosted', 500n).fromBlock).toBe(119n);
      expect(new EventCursor(state, 'verifier/RootCommitted', 7n).fromBlock).toBe(7n); // each role's events its own
      expect(new EventCursor(state, 'solver/JobPosted', 300n, true).fromBlock).toBe(300n); // --from-block wins
      await state.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a restarted solver', () => {
  let c: GameChain;
  beforeAll(async () => {
    c = await setupGameChain(rules);
  }, 120_000);
  afterAll(() => c?.anvil.stop());

  test('takes a job posted while it was down', async () => {
    const keys = c.anvil.accounts.map((x) => x.privateKey);
    const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
    const dir = await mkdtemp(join(tmpdir(), 'mycel-cursor-'));
    const events: NodeEvent[] = [];
    const head = () => getBlockNumber(c.publicClient, { cacheTime: 0 });
    const config = async (name: string, key: `0x${string}`, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, name), name, bootstrap, fromBlock: await head(), confirmations: 0 });
    const submitter = await startNode(await config('submitter', keys[1], []), (e) => events.push(e));
    const solver = await startNode(await config('solver', keys[2], [bootstrapAddr(submitter.p2p)]), (e) => events.push(e));
    const stopped = new AbortController();
    const restarted = new AbortController();
    try {
      // The solver runs, then stops before any job is posted.
      const before = runSolver(solver, { signal: stopped.signal }).catch((e: unknown) => e);
      stopped.abort(new Error('stopped'));
      expect(await before).toEqual(new Error('stopped'));

      const { jobId } = await submitJob(submitter, { spec: SPEC, reward: REWARD, stake: STAKE });
      // Started again as `mycel node run` starts it: its fromBlock is the head now, past the JobPosted event.
      const after = runSolver({ ...solver, fromBlock: await head() }, { maxJobs: 1, signal: restarted.signal }).catch((e: unknown) => e);
      const end = Date.now() + 90_000;
      while (!events.some((e) => e.type === 'tx' && e.node === 'solver' && e.action === 'claimJob') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      restarted.abort(new Error('test done'));
      await after;
      const job = await getJob(c.publicClient, { market: c.market, jobId });
      expect(job.solver.toLowerCase()).toBe(solver.address.toLowerCase());
      expect(job.phase).not.toBe('Open');
    } finally {
      stopped.abort();
      restarted.abort();
      await Promise.all([submitter.stop(), solver.stop()]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
