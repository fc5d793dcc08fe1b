/**
 * Nothing lost on a crash: a cheating solver and the verifier run as separate node processes (child.ts), and each is
 * killed with SIGKILL at a point drawn at random (the solver once it has the job's spec but may not have claimed it,
 * after its claim or after its commit; the verifier once it re-executes, before its challenge, or after one of its
 * first dispute moves), then started again with the same data dir. Each resumes from its store (state.ts: the jobs it
 * holds, and where it stopped reading the market's events, cursor.ts) and the chain: a solver killed before its claim
 * hears the JobPosted event again, the solver trains and commits (or finds its commit on chain), the verifier
 * re-executes, finds its challenge on chain (or makes it) and plays the dispute on. The honest outcome holds: the
 * cheater is refuted.
 * Long (separate processes, a dispute on chain): MYCEL_LONG=1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getBlockNumber } from 'viem/actions';
import { getJob } from '../../src/chain/index.js';
import type { NodeEvent } from '../../src/node/context.js';
import type { ChildSpec } from '../../src/node/child.js';
import { submitJob, type SolverResult, type VerifierResult } from '../../src/node/roles.js';
import { startNode } from '../../src/node/run.js';
import { bootstrapAddr } from '../../src/node/p2p.js';
import { spawnRole, type RoleProcess } from '../../src/node/spawn.js';
import { rules, SPEC } from '../verify/game-helpers.js';
import { REWARD, STAKE, setupGameChain, type GameChain } from '../chain/dispute-replay.js';

const LONG = process.env.MYCEL_LONG === '1';
let c: GameChain;
beforeAll(async () => {
  if (LONG) c = await setupGameChain(rules);
}, 120_000);
afterAll(() => c?.anvil.stop());

describe.skipIf(!LONG)('crash and restart (MYCEL_LONG=1)', () => {
  test('a solver and a verifier killed with SIGKILL mid-job and mid-dispute resume, and the cheater is still refuted', async () => {
    const keys = c.anvil.accounts.map((x) => x.privateKey);
    const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
    const dir = await mkdtemp(join(tmpdir(), 'mycel-crash-'));
    const events: NodeEvent[] = [];
    const fromBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
    const base = (name: string, key: `0x${string}`, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, name), name, bootstrap, fromBlock, confirmations: 0 });
    const submitter = await startNode(base('submitter', keys[1], []), (e) => events.push(e));
    const boot = [bootstrapAddr(submitter.p2p)];
    const solverSpec: ChildSpec = { ...base('solver', keys[2], boot), fromBlock: fromBlock.toString(), role: 'solver', maxJobs: 1, cheatAt: 2 };
    const verifierSpec: ChildSpec = { ...base('verifier', keys[3], boot), fromBlock: fromBlock.toString(), role: 'verifier', maxJobs: 1 };
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)];
    const solverKill = process.env.MYCEL_CRASH_SOLVER ?? pick(['spec', 'claimJob', 'commitRoot']);
    // 0: once it re-executes the job (before its challenge); 1, 2: after its first or second dispute move.
    const verifierKill = Number(process.env.MYCEL_CRASH_VERIFIER ?? pick([0, 1, 2]));
    console.log(`killing the solver after ${solverKill === 'spec' ? 'it got the spec' : `its ${solverKill}`}, the verifier ${verifierKill === 0 ? 'as it re-executes' : `after dispute move ${verifierKill}`}`);
    const started = performance.now();
    const seen = (node: string, ok: (e: NodeEvent) => boolean) => events.some((e) => e.node === node && ok(e));
    const processes: RoleProcess<unknown>[] = [];
    const start = <R>(spec: ChildSpec) => {
      const p = spawnRole<R>(spec, (e) => events.push(e));
      processes.push(p as RoleProcess<unknown>);
      p.result.catch(() => undefined);
      return p;
    };
    try {
      const solver1 = start<SolverResult[]>(solverSpec);
      const verifier1 = start<VerifierResult[]>(verifierSpec);
      const { jobId } = await submitJob(submitter, { spec: SPEC, reward: REWARD, stake: STAKE });

      await waitUntil(() => seen('solver', (e) => (solverKill === 'spec' ? e.type === 'log' && /got the spec/.test(e.text) : e.type === 'tx' && e.action === solverKill)));
      solver1.child.kill('SIGKILL');
      const solver2 = start<SolverResult[]>(solverSpec);

      await waitUntil(() =>
        verifierKill === 0
          ? seen('verifier', (e) => e.type === 'log' && /^re-executing job/.test(e.text))
          : events.filter((e) => e.node === 'verifier' && e.type === 'tx' && e.action.startsWith('dispute ')).length >= verifierKill,
      );
      verifier1.child.kill('SIGKILL');
      await verifier1.result.catch(() => undefined);
      const verifier2 = start<VerifierResult[]>(verifierSpec);

      const [solved, checked] = await Promise.all([solver2.result, verifier2.result]);
      expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Refuted');
      expect(checked[0]).toMatchObject({ agreed: false, dispute: { loser: 'solver' } });
      expect(solved[0]).toMatchObject({ phase: 'Refuted' });
      // Killed before its claim, the solver had nothing held: it heard the JobPosted event again (its cursor).
      if (solverKill !== 'spec') expect(seen('solver', (e) => e.type === 'log' && /held before a restart/.test(e.text))).toBe(true);
      expect(seen('verifier', (e) => e.type === 'log' && /held before a restart/.test(e.text))).toBe(true);
      console.log(`refuted after both restarts in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    } finally {
      for (const p of processes) p.stop();
      await submitter.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

async function waitUntil(ok: () => boolean, ms = 300_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
