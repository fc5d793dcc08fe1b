/**
 * Generated adversaries end to end through the node roles (issue 10): the honest side of every game is the real node
 * code (submitJob/awaitJob, runSolver, runVerifier and their playDispute, over libp2p and anvil, in this process), and
 * the adversary is a generated strategy (adversary-driver.ts) with its own keys, acting as
 * - a cheating solver (any base run of test/verify/adversary-game.ts, any plan of moves) that an honest verifier
 *   challenges; possibly with an accomplice (a second key of the solver that challenges first, with a made-up root, a
 *   wrong run, or even the right root, and throws its game), and possibly with a colluding submitter (who posts the
 *   job itself and never challenges, or posts it with rules that are not its spec's);
 * - one or two wrong challengers of an honest solver, one after the other.
 * Properties: the honest party never loses (its own result says so); a cheating solver is never paid, and a job whose
 * rules are not its spec's is flagged, never challenged and never called verified; the tokens add up (holdings plus
 * burns are conserved, the market holds nothing once the job is settled, the solver's bond is unlocked); the job
 * settles within its window plus the chess clocks. A few cases in CI; MYCEL_LONG=1 runs more.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { getAddress, keccak256, type Address, type Hex } from 'viem';
import { getContractEvents, readContract } from 'viem/actions';
import { send } from '../../src/chain/actions/send.js';
import { challenge, claimJob, commitRoot, finalize, getJob, getNode, postJob } from '../../src/chain/index.js';
import { JobMarketAbi } from '../../src/chain/generated/JobMarket.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import type { NodeEvent } from '../../src/node/context.js';
import { awaitJob, runSolver, runVerifier, submitJob, type SolverResult, type SubmitterResult, type VerifierResult } from '../../src/node/roles.js';
import { startNode, type RunningNode } from '../../src/node/run.js';
import { bootstrapAddr, putBlob } from '../../src/node/p2p.js';
import { canonicalJson } from '../../src/train/index.js';
import { rules, SPEC } from '../verify/game-helpers.js';
import { ACTIONS, BASES, cases, makeParties, makeRuns, type Action, type Base, type Runs } from '../verify/adversary-game.js';
import { CLOCK_BLOCKS, REWARD, STAKE, setupGameChain, type GameChain } from '../chain/dispute-replay.js';
import { driveAdversary, type DriverReport } from './adversary-driver.js';

/** Long enough for two adversarial games one after the other (each ends within 2 x the clock, mined at once). */
const WINDOW = 500n;

let runs: Runs;
let parties: ReturnType<typeof makeParties>;
let c: GameChain;
let dir: string;
let nodes: { submitter: RunningNode; solver: RunningNode; verifier: RunningNode };
const events: NodeEvent[] = [];
/** MYCEL_TRACE=FILE: every node event and each case's steps, appended to FILE as they happen (to follow a slow run). */
const trace = (line: string) => {
  if (process.env.MYCEL_TRACE) appendFileSync(process.env.MYCEL_TRACE, `${new Date().toISOString()} ${line}\n`);
};
const onEvent = (e: NodeEvent) => {
  events.push(e);
  if (e.type === 'log' || e.type === 'tx' || e.type === 'unverified') trace(`${e.node}: ${e.type === 'log' ? e.text : e.type === 'tx' ? `tx ${e.action} ${e.gas}` : `unverified ${e.jobId}`}`);
};

beforeAll(async () => {
  [runs, c, dir] = await Promise.all([makeRuns(), setupGameChain(rules), mkdtemp(join(tmpdir(), 'mycel-adv-node-'))]);
  parties = makeParties(runs);
  const keys = c.anvil.accounts.map((a) => a.privateKey);
  const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
  const config = (name: string, key: Hex, bootstrap: string[]) => ({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: key, contracts, dataDir: join(dir, name), name, bootstrap, fromBlock: 0n, confirmations: 0 });
  const submitter = await startNode(config('submitter', keys[1], []), onEvent);
  const boot = [bootstrapAddr(submitter.p2p)];
  const [solver, verifier] = await Promise.all([startNode(config('solver', keys[2], boot), onEvent), startNode(config('verifier', keys[3], boot), onEvent)]);
  nodes = { submitter, solver, verifier };
}, 300_000);
afterAll(async () => {
  await Promise.all(nodes ? Object.values(nodes).map((n) => n.stop()) : []);
  c?.anvil.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Plan = { actions: Action[]; seed: number };
const planArb = fc.record({ actions: fc.array(fc.constantFrom(...ACTIONS), { maxLength: 12 }), seed: fc.nat() });
const SOLVER_BASES = ['op-liar', 'state-liar', 'skip-step', 'wrong-h0', 'fake-run', 'other-lr', 'other-job'] as const satisfies readonly Base[];

/** What an accomplice challenges with: a root with no tree behind it, another wrong run, or the right one (thrown). */
type Accomplice = Plan & { root: 'made-up' | Base | 'right' };
type Submitter = 'honest' | 'colluding' | 'wrong-facts' | 'wrong-h0';
type SolverCase = Plan & { kind: 'cheating-solver'; base: (typeof SOLVER_BASES)[number]; submitter: Submitter; accomplice?: Accomplice };
type ChallengerCase = { kind: 'wrong-challengers'; challengers: (Plan & { base: Base })[] };

const solverCase: fc.Arbitrary<SolverCase> = fc.record({
  kind: fc.constant('cheating-solver' as const),
  base: fc.constantFrom(...SOLVER_BASES),
  actions: planArb.map((p) => p.actions),
  seed: fc.nat(),
  submitter: fc.constantFrom<Submitter>('honest', 'colluding', 'wrong-facts', 'wrong-h0'),
  accomplice: fc.option(fc.record({ root: fc.constantFrom<Accomplice['root']>('made-up', 'right', ...BASES), actions: planArb.map((p) => p.actions), seed: fc.nat() }), { nil: undefined }),
}, { requiredKeys: ['kind', 'base', 'actions', 'seed', 'submitter'] });
const challengerCase: fc.Arbitrary<ChallengerCase> = fc.record({
  kind: fc.constant('wrong-challengers' as const),
  challengers: fc.array(fc.record({ base: fc.constantFrom(...BASES), actions: planArb.map((p) => p.actions), seed: fc.nat() }), { minLength: 1, maxLength: 2 }),
});

const wallets = () => ({ submitter: c.wallets[1], solver: c.wallets[2], verifier: c.wallets[3], adversary: c.wallets[4], accomplice: c.wallets[5] });
const rootOf = (base: Base) => `0x${runs.bases[base].record.commitment!}` as Hex;
const RIGHT = () => `0x${runs.good.record.commitment!}` as Hex;

/** Token holdings of everyone involved, the market and the registry, and the supply (burns lower it). */
async function ledger() {
  const who = [...Object.values(wallets()).map((w) => w.account.address), c.market, c.registry];
  const balances = await Promise.all(who.map((a) => c.balance(a)));
  const supply = await readContract(c.publicClient, { address: c.token, abi: MycelTokenAbi, functionName: 'totalSupply' });
  return { of: (a: Address) => balances[who.indexOf(a)], total: balances.reduce((s, b) => s + b, 0n), supply };
}

const block = () => c.publicClient.getBlockNumber({ cacheTime: 0 });
async function waitFor<T>(what: string, f: () => Promise<T | undefined>, signal: AbortSignal): Promise<T> {
  for (;;) {
    signal.throwIfAborted();
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const challengedBy = async (jobId: bigint, challenger: Address, fromBlock: bigint) => {
  const logs = await getContractEvents(c.publicClient, { address: c.market, abi: JobMarketAbi, eventName: 'JobChallenged', args: { jobId, challenger }, fromBlock, toBlock: 'latest' });
  return logs.length > 0 ? (logs[0].args as { disputeId: bigint }).disputeId : undefined;
};
const drive = (disputeId: bigint, role: 'solver' | 'challenger', wallet: (typeof c.wallets)[number], plan: Plan, party: Parameters<typeof driveAdversary>[1]['party'], parties: { solver: Address; challenger: Address }, roots: { solver: Hex; challenger: Hex }, fromBlock: bigint, signal: AbortSignal) =>
  driveAdversary(c, { disputeId, role, wallet, party, rules, facts: c.facts, parties, roots, fromBlock, actions: plan.actions, seed: plan.seed, signal, trace });

/** A cheating solver (wallets[4]) against the honest verifier node; an accomplice is wallets[5]. */
async function playCheatingSolver(k: SolverCase, signal: AbortSignal) {
  const w = wallets();
  const [adversary, accomplice, verifier] = [w.adversary.account.address, w.accomplice.account.address, nodes.verifier.address];
  const before = await ledger();
  const from = (await block()) + 1n;
  let jobId: bigint;
  let settled: Promise<SubmitterResult> | undefined;
  if (k.submitter === 'honest') {
    ({ jobId } = await submitJob({ ...nodes.submitter, fromBlock: from }, { spec: SPEC, reward: REWARD, stake: STAKE, challengeWindow: WINDOW }));
    settled = awaitJob(nodes.submitter, jobId, signal, SPEC);
  } else {
    // The submitter colludes: it posts the job itself (with rules that are not the spec's, for some) and announces
    // the spec as usual; it will not challenge, nor wait for a model.
    const bytes = new TextEncoder().encode(canonicalJson(SPEC));
    const cid = await putBlob(nodes.submitter.p2p, join(dir, 'submitter', 'colluding-spec.json'), bytes);
    ({ jobId } = await postJob(w.submitter, { market: c.market, spec: bytes, steps: BigInt(SPEC.steps), reward: REWARD, stake: STAKE, deadlineIn: 3_600n, challengeWindow: WINDOW }));
    const h0 = k.submitter === 'wrong-h0' ? (`0x${'0d'.repeat(32)}` as Hex) : c.facts.h0;
    const factsRoot = k.submitter === 'wrong-facts' ? (`0x${'ab'.repeat(32)}` as Hex) : c.facts.root;
    await send(w.submitter, { address: c.market, abi: JobMarketAbi, functionName: 'setRules', args: [jobId, h0, factsRoot, c.facts.size] });
    await nodes.submitter.announcements.announce({ kind: 'spec', jobId: jobId.toString(), key: keccak256(bytes), cid });
  }
  const root = rootOf(k.base);
  await claimJob(w.adversary, { market: c.market, jobId });
  await commitRoot(w.adversary, { market: c.market, jobId, root });
  const committedAt = await block();
  const reports: DriverReport[] = [];
  const solverParty = parties.base(k.base, 'solver');
  if (k.accomplice) {
    // The solver's second key challenges first and throws its game (or plays a wrong run): it must shield nothing.
    const a = k.accomplice;
    const aRoot = a.root === 'made-up' ? (`0x${'77'.repeat(32)}` as Hex) : a.root === 'right' ? RIGHT() : rootOf(a.root);
    if (aRoot !== root) {
      const opened = (await block()) + 1n;
      const { disputeId } = await challenge(w.accomplice, { market: c.market, jobId, root: aRoot });
      const both = { solver: adversary, challenger: accomplice };
      const roots = { solver: root, challenger: aRoot };
      const aParty = a.root === 'made-up' ? undefined : a.root === 'right' ? parties.honest('challenger') : parties.base(a.root, 'challenger');
      // Thrown on purpose: even with the right root it goes silent at once.
      const aPlan = a.root === 'right' ? { ...a, actions: ['silent' as Action, ...a.actions] } : a;
      reports.push(...(await Promise.all([
        drive(disputeId, 'solver', w.adversary, k, solverParty, both, roots, opened, signal),
        drive(disputeId, 'challenger', w.accomplice, aPlan, aParty, both, roots, opened, signal),
      ])));
    }
  }
  // The honest verifier checks every committed root (it never needs the solver's data), and challenges a wrong one.
  const verifying = runVerifier({ ...nodes.verifier, fromBlock: from, fromBlockOverridesCursor: true }, { maxJobs: 1, signal });
  let result: VerifierResult;
  if (k.submitter === 'wrong-facts' || k.submitter === 'wrong-h0') {
    [result] = await verifying;
  } else {
    const disputeId = await Promise.race([waitFor('the verifier’s challenge', () => challengedBy(jobId, verifier, committedAt), signal), verifying.then(() => undefined)]);
    if (disputeId !== undefined) {
      const opened = await challengeBlock(jobId, disputeId);
      reports.push(await drive(disputeId, 'solver', w.adversary, k, solverParty, { solver: adversary, challenger: verifier }, { solver: root, challenger: RIGHT() }, opened, signal));
    }
    [result] = await verifying;
  }
  let job = await getJob(c.publicClient, { market: c.market, jobId });
  if (job.phase === 'Committed') {
    // Nobody challenged (the rules were not the spec's): the colluders are paid their own money once the window closes.
    const now = await block();
    if (now < job.challengeEnds) await c.advance(job.challengeEnds - now);
    await finalize(w.adversary, { market: c.market, jobId });
    job = await getJob(c.publicClient, { market: c.market, jobId });
  }
  const settledAt = await block();
  const submitted = settled ? await settled : undefined;
  const after = await ledger();
  return { jobId, job, result, submitted, reports, before, after, committedAt, settledAt, adversary, verifier };
}

/** The block a dispute was opened in. */
async function challengeBlock(jobId: bigint, disputeId: bigint): Promise<bigint> {
  const logs = await getContractEvents(c.publicClient, { address: c.market, abi: JobMarketAbi, eventName: 'JobChallenged', args: { jobId }, fromBlock: 0n, toBlock: 'latest' });
  return logs.find((l) => (l.args as { disputeId: bigint }).disputeId === disputeId)!.blockNumber;
}

/** The honest solver node against one or two wrong challengers (wallets[4], wallets[5]), one after the other. */
async function playWrongChallengers(k: ChallengerCase, signal: AbortSignal) {
  const w = wallets();
  const before = await ledger();
  const from = (await block()) + 1n;
  const solving = runSolver({ ...nodes.solver, fromBlock: from, fromBlockOverridesCursor: true }, { maxJobs: 1, signal });
  const { jobId } = await submitJob({ ...nodes.submitter, fromBlock: from }, { spec: SPEC, reward: REWARD, stake: STAKE, challengeWindow: WINDOW });
  const settled = awaitJob(nodes.submitter, jobId, signal, SPEC);
  const job0 = await waitFor('the solver’s commit', async () => {
    const j = await getJob(c.publicClient, { market: c.market, jobId });
    return j.phase === 'Committed' ? j : undefined;
  }, signal);
  const committedAt = job0.challengeEnds - job0.challengeWindow;
  const reports: DriverReport[] = [];
  const solver = getAddress(job0.solver);
  for (const [i, ch] of k.challengers.entries()) {
    const wallet = i === 0 ? w.adversary : w.accomplice;
    const root = rootOf(ch.base);
    const opened = (await block()) + 1n;
    const { disputeId } = await challenge(wallet, { market: c.market, jobId, root });
    reports.push(await drive(disputeId, 'challenger', wallet, ch, parties.base(ch.base, 'challenger'), { solver, challenger: wallet.account.address }, { solver: job0.root, challenger: root }, opened, signal));
  }
  // Time passes until the window closes; the solver node finalizes.
  const now = await block();
  if (now < job0.challengeEnds) await c.advance(job0.challengeEnds - now);
  const [result] = await solving;
  const settledAt = await block();
  const submitted = await settled;
  const job = await getJob(c.publicClient, { market: c.market, jobId });
  return { jobId, job, result: result as SolverResult, submitted, reports, before: before, after: await ledger(), committedAt, settledAt, solver };
}

/** The common properties: tokens conserved, nothing left in escrow, bonds unlocked, settled in time, no junk accepted. */
async function expectBooksBalance(o: { job: { phase: string }; before: Awaited<ReturnType<typeof ledger>>; after: Awaited<ReturnType<typeof ledger>>; reports: DriverReport[]; committedAt: bigint; settledAt: bigint }, solver: Address) {
  expect(['Finalized', 'Refuted']).toContain(o.job.phase);
  const burned = o.before.supply - o.after.supply;
  expect(o.after.total + burned).toBe(o.before.total);
  expect(o.after.of(c.market)).toBe(o.before.of(c.market)); // nothing of this job is left in escrow
  expect((await getNode(c.publicClient, { registry: c.registry, node: solver })).activeJobs).toBe(0);
  // Settled within the window plus the games (each within 2 x the chess clock, a few blocks of slack for the moves).
  expect(o.settledAt - o.committedAt).toBeLessThanOrEqual(WINDOW + BigInt(2 * CLOCK_BLOCKS + 10));
  for (const r of o.reports) {
    expect(r.junkAccepted).toBe(0);
    expect(r.unexplained).toEqual([]); // every refused move names its reason and what to send instead
  }
}

describe('generated adversaries against the node roles, on anvil', () => {
  test('an honest verifier refutes a cheating solver whatever its accomplices and its submitter do; an honest solver beats wrong challengers', async () => {
    const seen: string[] = [];
    await fc.assert(
      // MYCEL_CASE='{…}' replays one case (a failure prints its case whole).
      fc.asyncProperty(process.env.MYCEL_CASE ? fc.constant(JSON.parse(process.env.MYCEL_CASE) as SolverCase | ChallengerCase) : fc.oneof(solverCase, challengerCase), async (k) => {
        const signal = AbortSignal.timeout(300_000);
        trace(`case ${JSON.stringify(k)}`);
        if (k.kind === 'cheating-solver') {
          const o = await playCheatingSolver(k, signal);
          seen.push(`${k.kind}/${k.base}/${k.submitter}${k.accomplice ? `/accomplice:${k.accomplice.root}` : ''}: ${o.job.phase}`);
          await expectBooksBalance(o, o.adversary);
          const gained = (a: Address) => o.after.of(a) - o.before.of(a);
          if (k.submitter === 'wrong-facts' || k.submitter === 'wrong-h0') {
            // Not challengeable fairly: flagged (an 'unverified' event and result), never challenged, never verified.
            expect(o.result).toMatchObject({ jobId: o.jobId, agreed: false, unverified: expect.any(String) });
            expect(o.result.dispute).toBeUndefined();
            expect(events.some((e) => e.type === 'unverified' && e.node === 'verifier' && e.jobId === o.jobId.toString())).toBe(true);
            expect(gained(o.verifier)).toBe(0n);
            return;
          }
          // The honest verifier never loses: it won its game, or an accomplice's game had refuted the job already.
          if (o.result.dispute) expect(o.result.dispute.loser).toBe('solver');
          else expect(o.result).toMatchObject({ agreed: false, skipped: 'settled' });
          expect(o.job.phase).toBe('Refuted');
          expect(gained(o.verifier)).toBeGreaterThanOrEqual(0n);
          // The cheat is never paid: the solver's key, and its accomplice's with it, end poorer.
          expect(gained(o.adversary) + gained(wallets().accomplice.account.address)).toBeLessThan(0n);
          if (o.submitted) expect(o.submitted).toMatchObject({ phase: 'Refuted', accepted: false });
        } else {
          const o = await playWrongChallengers(k, signal);
          seen.push(`${k.kind}/${k.challengers.map((x) => x.base).join('+')}: ${o.job.phase}`);
          await expectBooksBalance(o, o.solver);
          // The honest solver won every game and was paid the reward and each loser's unburned half.
          expect(o.result.phase).toBe('Finalized');
          expect(o.result.disputes.map((d) => d.loser)).toEqual(k.challengers.map(() => 'challenger'));
          expect(o.after.of(o.solver) - o.before.of(o.solver)).toBe(REWARD + BigInt(k.challengers.length) * (STAKE / 2n));
          expect(o.submitted).toMatchObject({ phase: 'Finalized', accepted: true, standing: 'upheld', disputes: k.challengers.length });
        }
      }),
      // No shrinking: each case is a real job on chain; the failing case is printed whole.
      { numRuns: process.env.MYCEL_CASE ? 1 : cases(3, 24), endOnFailure: true, seed: process.env.MYCEL_SEED ? Number(process.env.MYCEL_SEED) : undefined },
    );
    console.log(`adversaries through the node roles:\n  ${seen.join('\n  ')}`);
  }, 1_800_000);
});
