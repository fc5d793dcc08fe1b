/**
 * End to end: the devnet scenario on a shortened job (a micro GPT, a few steps). Job A (honest solver) is finalized
 * and paid; job B (a solver that flips a bit at step 3) is challenged by the verifier, the dispute is played on chain
 * with the real DisputeGame, the cheater loses its stake (half burned, half to the verifier), the submitter is refunded.
 * The node processes share no directory: job specs, step hashes and the model move as libp2p blobs (announced on the
 * market's gossip topic, checked against the chain), and each party learns the other's dispute moves from the chain.
 * Then the swarm (node/devnet-swarm.ts): 3 rounds of three SAPO nodes from a pre-trained policy (made once per checkout
 * into .cache/devnet, beside the market's jobs), the inflated score refuted every round, the honest nodes paid by score
 * and use, tokens adding up; all read from the chain.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { parseUnits } from 'viem';
import { formatSummary, runDevnet, type DevnetSummary } from '../../src/node/index.js';
import { microSpec } from '../train/helpers.js';

/** The swarm's starting policy, pre-trained once per checkout (a pure function of its spec). */
const CACHE = join(process.cwd(), '.cache', 'devnet');

/** What the devnet's swarm must show, read from the chain: the cheat refuted every round, the honest nodes paid by score and use, tokens adding up. */
function expectSwarm(s: DevnetSummary): void {
  expect(s.swarm).toBeDefined();
  const w = s.swarm!;
  const node = Object.fromEntries(w.nodes.map((n) => [n.role, n]));
  expect(w.rounds).toBe(3);
  expect(node['cheating solver']).toMatchObject({ claims: ['refuted', 'refuted', 'refuted'], scoreShare: '0', useShare: '0', net: '-30' });
  // It claims 16, or 15 in a round where its policy really answered all 16 (its claim is always a lie).
  for (const score of node['cheating solver'].scores) expect([15, 16]).toContain(score);
  for (const role of ['honest solver', 'verifier']) {
    expect(node[role].claims).toEqual(['stood', 'stood', 'stood']);
    expect(Number(node[role].net)).toBeGreaterThan(0);
  }
  // The honest scores are real evaluations of pre-trained policies: above 0 in some round, so a score share is paid.
  expect(Number(node['honest solver'].scoreShare) + Number(node.verifier.scoreShare)).toBeGreaterThan(0);
  expect(node['honest solver'].scores.some((x) => x > 0)).toBe(true);
  expect(w.disputes).toHaveLength(3);
  for (const d of w.disputes) expect(d).toMatchObject({ node: 'cheating solver', loser: 'solver', at: 'instruction' });
  expect(w.burned).toBe('15');
  // The verifier re-executed its peers' GRPO steps behind their used roots (all honest): every one agreed.
  expect(w.steps.checked).toBeGreaterThan(0);
  expect(w.steps.agreed).toBe(w.steps.checked);
  // Tokens add up: what the nodes gained and what was burned is what the pool paid.
  expect(w.nodes.reduce((a, n) => a + Number(n.net), 0) + Number(w.burned)).toBeCloseTo(Number(w.poolPaid), 9);
  expect(Number(w.poolPaid) + Number(w.poolLeft)).toBe(300);
}

describe('mycel devnet', () => {
  test('honest job paid; cheater challenged, loses the dispute on chain and is slashed; a few swarm rounds pay verified scores and uses and slash an inflated score', async () => {
    const lines: string[] = [];
    // The nodes' data is kept by the devnet for the person who ran it; a test removes its own.
    const dir = await mkdtemp(join(tmpdir(), 'mycel-devnet-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const s: DevnetSummary = await runDevnet({
      dir,
      cacheDir: CACHE,
      spec: microSpec({ steps: 4, checkpointEvery: 2 }),
      steps: 4,
      cheatAt: 3,
      // The challenge window is sized from the job (node/window.ts): a loaded verifier still re-executes in time.
      // Stopped (anvil and every node process with it) before the test's own timeout would abandon them.
      signal: AbortSignal.timeout(560_000),
      onEvent: (e) => lines.push(e.type === 'log' ? `${e.node}: ${e.text}` : JSON.stringify(e)),
    });
    const text = formatSummary(s);
    console.log(text);
    const [a, b] = s.jobs;
    expect(s.failures).toEqual([]);
    expect(a.phase).toBe('Finalized');
    // "verified" only because the verifier re-executed it and agreed (its rules on chain were checked too).
    expect(a.verification).toBe('verified by re-execution: the verifier re-ran it and its root agreed');
    expect(text).toContain(`job A (#${a.jobId}) by the honest solver: Finalized (verified by re-execution`);
    expect(b.phase).toBe('Refuted');
    expect(b.verification).toBeUndefined();
    expect(b.dispute).toMatchObject({ loser: 'solver', at: 'instruction' });
    const delta = Object.fromEntries(s.parties.map((p) => [p.role, Number(p.delta)]));
    // reward 25, stake 5: the honest solver gets its stake back and the reward; the cheater loses its stake;
    // the verifier gets its stake back plus half the cheater's; the submitter paid job A and was refunded job B.
    expect(delta['honest solver']).toBe(25);
    expect(delta['cheating solver']).toBe(-5);
    expect(delta.verifier).toBe(2.5);
    expect(delta.submitter).toBe(-25);
    expect(parseUnits(s.totalSupply.burned, 18)).toBe(parseUnits('2.5', 18));
    expect(s.gas.find((g) => g.action === 'dispute prove')?.count).toBe(1);
    expect(existsSync(s.model!.path)).toBe(true);
    // The spec went to the node processes and the model came back to the submitter as libp2p blobs.
    // Nothing is exchanged through the file system: each node has its own dir, and there is no shared one.
    expect(readdirSync(s.dir).sort()).toEqual(['solver-cheater', 'solver-honest', 'submitter', 'verifier']);
    expect(s.model!.cid).toMatch(/^b[a-z2-7]+$/);
    expect(s.model!.path).toBe(`${s.dir}/submitter/models/job-${s.model!.jobId}.safetensors`);
    expect(text).toContain(`libp2p blob: ${s.model!.cid}`);
    // Specs: both solvers and the verifier (twice). Step hashes: the dispute needs none (each party reveals its own run
    // tree), so neither the verifier nor the cheater fetched the other's.
    expect(lines.filter((l) => /job \d+: got the spec over libp2p/.test(l)).length).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => /^(verifier|solver-cheater): job \d+: got the steps over libp2p/.test(l))).toHaveLength(0);
    expect(lines.some((l) => /^submitter: job \d+: got the model over libp2p/.test(l))).toBe(true);
    expect(existsSync(`${s.dir}/submitter/models/job-${s.jobs[1].jobId}.safetensors`)).toBe(false);
    // ...and the submitter got the honest solver's, to check that the model is the final state of the committed run.
    expect(lines.some((l) => /^submitter: job 0: got the steps over libp2p/.test(l))).toBe(true);
    expect(s.p2p.stepHashesFetched).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.includes('challenging'))).toBe(true);
    // Job A's window closed as soon as the devnet's only verifier agreed with its root, not when it ran out.
    expect(lines.some((l) => /^devnet: job 0: the verifier agrees with its root .* mined the \d+ blocks left of its challenge window/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('rejected'))).toBe(false);
    // The swarm on chain, 3 rounds: the cheating solver's inflated score is re-executed by the verifier, challenged and
    // refuted every round (its claim bond lost, half burned, half to the verifier); the honest nodes' pre-trained
    // policies score above 0, so the pool pays them a score share, and a use share for the rollouts the others trained on.
    expectSwarm(s);
    expect(text).toContain('swarm on chain: 3 rounds of 3 SAPO nodes');
    // The two solvers and the verifier ran as separate node processes.
    expect(lines.filter((l) => /^devnet: started (solver|verifier) .* as process \d+$/.test(l))).toHaveLength(3);
  }, 580_000);

  test('--swarm-only: the swarm alone, no market jobs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mycel-devnet-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const s = await runDevnet({ dir, cacheDir: CACHE, swarmOnly: true, signal: AbortSignal.timeout(240_000) });
    expect(s.failures).toEqual([]);
    expect(s.jobs).toEqual([]);
    expectSwarm(s);
    expect(formatSummary(s)).toMatch(/^devnet: the swarm only/);
  }, 250_000);
});
