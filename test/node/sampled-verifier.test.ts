/**
 * A verifier node with a sampling policy (roles.ts VerifyPolicy): it checks sampled steps from the solver's published
 * checkpoints (over libp2p, each checked against the committed step hashes), agrees with an honest job without
 * re-executing all of it, and on a wrong step re-executes in full and challenges (the game needs its whole run); under a
 * budget it re-executes in full until the budget is spent, then samples. The cases share one chain and the same
 * accounts, as nodes of one market do: each case's nodes join after the previous case's jobs, and a committed job whose
 * spec nobody announces any more (its submitter gone) is passed over once its window closes instead of holding the
 * verifier for ever (it did: a second case's verifier heard the first case's job, waited for its spec and hung).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getBlockNumber } from 'viem/actions';
import type { NodeEvent } from '../../src/node/context.js';
import { runSolver, runVerifier, submitJob, type VerifierResult, type VerifyPolicy } from '../../src/node/roles.js';
import { startNode } from '../../src/node/run.js';
import { bootstrapAddr } from '../../src/node/p2p.js';
import { NodeState } from '../../src/node/state.js';
import { rules, SPEC } from '../verify/game-helpers.js';
import { REWARD, STAKE, WINDOW_BLOCKS, setupGameChain, type GameChain } from '../chain/dispute-replay.js';

let c: GameChain;
let dir: string;
beforeAll(async () => {
  c = await setupGameChain(rules);
  dir = await mkdtemp(join(tmpdir(), 'mycel-sampled-'));
}, 120_000);
afterAll(async () => {
  await c?.anvil.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const KEYS = { submitter: 1, solver: 2, verifier: 3, 'solver-2': 4 };

/**
 * A submitter, a solver per job (cheating at `cheatAt`; a solver holds its job until the window closes, so one solver
 * takes one job here) and a verifier under `policy`, joining at the chain's next block; the submitter posts `jobs` jobs
 * at once (one wallet, concurrent sends). Returns the verifier's results (or an Error 'challenged' once it challenged)
 * and every node's events. `before` runs on the first solver's and the verifier's data dirs before they start.
 */
async function scenario(name: string, o: { policy: VerifyPolicy; jobs?: number; cheatAt?: number; verifierJobs?: number; fromBlock?: bigint; before?: (dirs: Record<'solver' | 'verifier', string>) => Promise<void> }): Promise<{ verdicts: VerifierResult[] | Error; events: NodeEvent[] }> {
  const accounts = c.anvil.accounts.map((x) => x.privateKey);
  const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
  const events: NodeEvent[] = [];
  const fromBlock = o.fromBlock ?? (await getBlockNumber(c.publicClient, { cacheTime: 0 })) + 1n;
  const dataDir = (role: string) => join(dir, name, role);
  await o.before?.({ solver: dataDir('solver'), verifier: dataDir('verifier') });
  const config = (role: keyof typeof KEYS, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: accounts[KEYS[role]], contracts, dataDir: dataDir(role), name: role, bootstrap, fromBlock, confirmations: 0 });
  const submitter = await startNode(config('submitter', []), (e) => events.push(e));
  const boot = [bootstrapAddr(submitter.p2p)];
  const jobs = o.jobs ?? 1;
  const solvers = await Promise.all((['solver', 'solver-2'] as const).slice(0, jobs).map((role) => startNode(config(role, boot), (e) => events.push(e))));
  const verifier = await startNode(config('verifier', boot), (e) => events.push(e));
  const ac = new AbortController();
  try {
    const solving = Promise.all(solvers.map((solver) => runSolver(solver, { maxJobs: 1, signal: ac.signal, ...(o.cheatAt === undefined ? {} : { cheatAt: o.cheatAt }) }).catch(() => undefined)));
    // The test ends at the verifier's verdicts, or at its challenge (the dispute itself is tested elsewhere).
    const checking = runVerifier(verifier, { maxJobs: o.verifierJobs ?? jobs, signal: ac.signal, policy: o.policy }).catch((e: Error) => e);
    const posted = await Promise.all(Array.from({ length: jobs }, () => submitJob(submitter, { spec: SPEC, reward: REWARD, stake: STAKE })));
    expect(new Set(posted.map((p) => p.jobId)).size).toBe(jobs);
    const challenged = new Promise<void>((resolve) => {
      const t = setInterval(() => events.some((e) => e.type === 'tx' && e.action === 'challenge') && (clearInterval(t), resolve()), 100);
      void checking.then(() => clearInterval(t));
    });
    const verdicts = await Promise.race([checking, challenged.then(() => new Error('challenged'))]);
    ac.abort(new Error('test done'));
    await solving;
    return { verdicts, events };
  } finally {
    ac.abort();
    await Promise.all([submitter, ...solvers, verifier].map((n) => n.stop()));
  }
}

const verifierSaid = (events: NodeEvent[]) => events.filter((e) => e.node === 'verifier' && e.type === 'log').map((e) => (e as { text: string }).text);

describe('a sampling verifier', { timeout: 240_000 }, () => {
  let firstBlock: bigint;
  test('agrees with an honest job from its sampled steps, without re-executing it in full', async () => {
    firstBlock = await getBlockNumber(c.publicClient, { cacheTime: 0 });
    const { verdicts, events } = await scenario('honest', { policy: { kind: 'sample', steps: 2 } });
    expect(verdicts).toEqual([expect.objectContaining({ agreed: true, sampled: expect.objectContaining({ steps: expect.any(Array), catchProbability: 0.5 }) })]);
    const { sampled } = (verdicts as VerifierResult[])[0];
    expect(sampled!.steps).toHaveLength(2);
    expect(sampled!.executed).toBeLessThanOrEqual(SPEC.steps);
    expect(verifierSaid(events).some((t) => /^re-executing job/.test(t))).toBe(false);
  });

  test('catches a cheat at a sampled step, then re-executes in full and challenges', async () => {
    // Every step sampled: the cheat's step is among them whatever the seed (the catch itself is what is tested here;
    // sampled-check.test.ts shows a sample that misses).
    const { verdicts, events } = await scenario('cheat', { policy: { kind: 'sample', steps: SPEC.steps }, cheatAt: 2 });
    expect(verdicts).toEqual(new Error('challenged'));
    expect(verifierSaid(events).some((t) => /sampled check: the committed h_2 is not what step 2 computes .*; re-executing it in full/.test(t))).toBe(true);
  });

  test('under a budget, re-executes jobs in full until it is spent, then samples; jobs held that the chain does not know are released', async () => {
    // Each node's store holds a job of another chain (a data dir reused after a devnet reset): each says so and goes on.
    const before = async (dirs: Record<'solver' | 'verifier', string>) => {
      for (const role of ['solver', 'verifier'] as const) {
        const state = NodeState.open(dirs[role]);
        await state.hold({ role, jobId: '999', spec: JSON.stringify(SPEC), fromBlock: '0' });
        await state.close();
      }
    };
    // A budget of one job's steps: the first job checked is re-executed in full, the second sampled.
    const { verdicts, events } = await scenario('budget', { policy: { kind: 'budget', fullSteps: SPEC.steps, steps: 2 }, jobs: 2, verifierJobs: 3, before });
    const results = verdicts as VerifierResult[];
    expect(results.find((r) => r.jobId === 999n)).toMatchObject({ agreed: false, skipped: 'settled' });
    const checked = results.filter((r) => r.jobId !== 999n);
    expect(checked.map((r) => r.agreed)).toEqual([true, true]);
    expect(checked.filter((r) => r.sampled === undefined)).toHaveLength(1);
    expect(checked.filter((r) => r.sampled?.steps.length === 2)).toHaveLength(1);
    expect(verifierSaid(events).filter((t) => /^re-executing job/.test(t))).toHaveLength(1);
    for (const node of ['solver', 'verifier']) {
      expect(events.some((e) => e.node === node && e.type === 'log' && /^job 999: held before a restart, but market 0x[0-9a-fA-F]+ has no such job .*; released$/.test(e.text))).toBe(true);
    }
  });

  test('passes over a committed job whose spec nobody announces once its window closes, instead of waiting for ever', async () => {
    // A verifier joining at the first case's block hears that job's commit; its submitter and solver are gone.
    const { verdicts, events } = await scenario('orphan', {
      policy: { kind: 'full' },
      jobs: 0,
      verifierJobs: 1,
      fromBlock: firstBlock,
      before: async () => void setTimeout(() => void c.advance(WINDOW_BLOCKS + 1n), 2_000),
    });
    expect(verdicts).toEqual([expect.objectContaining({ jobId: 0n, agreed: false, skipped: 'spec' })]);
    expect(verifierSaid(events).some((t) => /^job 0: passed over: no peer announced its spec by block \d+/.test(t))).toBe(true);
  });
});
