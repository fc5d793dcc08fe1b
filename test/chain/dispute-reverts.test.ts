/**
 * The DisputeGame and JobMarket reverts that test/chain/dispute-game.test.ts and market.test.ts leave out, each
 * triggered by a real, minimal scenario on anvil and checked by name and arguments: the rules (set twice, missing
 * when a solver claims), the opening (roots equal, steps 0, one party twice, an account as client), the step commit (an h_t that is not the mover's run leaf, an
 * h_{t-1} that does not open in the solver's run tree), an opened chunk of the wrong length, a final element state that
 * is not a halt with the claimed value, a claim list of the wrong length, and a resolver that returns a dispute id
 * twice (MockResolver.repeatLastId). Each bad move is the valid TS move's call with one argument tampered, and the
 * stored position is unchanged after it. DisputeRootsEqual is guarded by the market (JobChallengeRootMatches), so the
 * game's own checks are reached by simulated calls from the market's address. StepRootsEqual is not tested: the
 * challenger's step root must open its h_t at the last leaf, where the solver's root opens the solver's h_t, and
 * the run descent made the two differ, so equal roots need a SHA-256 collision.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createWalletClient, http, type Hex } from 'viem';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { MockResolverAbi } from '../../src/chain/generated/MockResolver.js';
import { send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { approve, challenge, claimJob, commitRoot, getJob, postJob, register, setRules } from '../../src/chain/index.js';
import { encodeDisputeMove } from '../../src/chain/dispute-moves.js';
import type { GameResult, Move, Position } from '../../src/verify/index.js';
import { rules } from '../verify/game-helpers.js';
import { acceptedMoves, openJobDispute, qkvCheatGame, readDispute, replayOnChain, REWARD, setupGameChain, STAKE, type GameChain } from './dispute-replay.js';
import { MIN_STAKE, T as TOKENS, call, expectRevert, setupMycel } from './mycel-fixture.js';

const T = 3;
let c: GameChain;
let game: GameResult;
let roots: { solver: string; challenger: string };

beforeAll(async () => {
  ({ roots, game } = await qkvCheatGame(T));
  c = await setupGameChain(rules);
}, 120_000);

afterAll(() => c?.anvil.stop());

const h = (x: string): Hex => `0x${x}`;
const sendGame = (w: MycelWalletClient, functionName: string, args: readonly unknown[]) => send(w, { address: c.game, abi: DisputeGameAbi, functionName, args });

/** Expects every call to revert as given, and the dispute's stored position to be unchanged after them. */
async function rejected(id: bigint, cases: [() => Promise<unknown>, string, readonly unknown[]][]) {
  const start = await readDispute(c, id);
  for (const [p, name, args] of cases) await expectRevert(p(), name, args);
  expect(await readDispute(c, id)).toEqual(start);
}

describe('rules and opening', () => {
  const setFacts = (w: MycelWalletClient, jobId: bigint) => setRules(w, { market: c.market, jobId, h0: c.facts.h0, factsRoot: c.facts.root, factsSize: c.facts.size });
  const post = async () => (await postJob(c.wallets[1], { market: c.market, specHash: h('5e'.repeat(32)), steps: BigInt(rules.steps), reward: REWARD, stake: STAKE, deadlineIn: 3_600n })).jobId;

  test('RulesAlreadySet: the submitter sets a job’s rules once', async () => {
    const submitter = c.wallets[1];
    const jobId = await post();
    await setFacts(submitter, jobId);
    await expectRevert(setFacts(submitter, jobId), 'RulesAlreadySet', [jobId]);
  });

  test('JobRulesUnset: nobody can claim a job before its rules are set (a claimed job without rules could never be challenged)', async () => {
    const [submitter, solver] = [c.wallets[1], c.wallets[2]];
    const jobId = await post();
    await expectRevert(claimJob(solver, { market: c.market, jobId }), 'JobRulesUnset', [jobId]);
    expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Open');
    await setFacts(submitter, jobId);
    await claimJob(solver, { market: c.market, jobId });
    expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Claimed');
  });

  test('DisputeRootsEqual: the market refuses equal roots first; the game refuses them from the market too', async () => {
    const [submitter, solver, challenger] = [c.wallets[1], c.wallets[2], c.wallets[3]];
    const jobId = await post();
    await setFacts(submitter, jobId);
    await claimJob(solver, { market: c.market, jobId });
    await commitRoot(solver, { market: c.market, jobId, root: h(roots.solver) });
    await expectRevert(challenge(challenger, { market: c.market, jobId, root: h(roots.solver) }), 'JobChallengeRootMatches', [jobId, h(roots.solver)]);
    // No market call reaches the game's own checks, so they are simulated (eth_call, nothing sent) with the market, a
    // contract, as sender; from an account (no code, nothing to call back) the game refuses any dispute.
    const asMarket = createWalletClient({ account: c.market, chain: c.wallets[0].chain, transport: http(c.anvil.rpcUrl) });
    const game = { h0: c.facts.h0, factsRoot: c.facts.root, factsSize: c.facts.size, steps: BigInt(rules.steps) };
    const args = (r: typeof game, s: string, ch: string, a: Hex, b: Hex) => [jobId, r, s, ch, a, b];
    const [sa, ca] = [solver.account.address, challenger.account.address];
    await expectRevert(sendGame(asMarket, 'openDispute', args(game, sa, ca, h(roots.solver), h(roots.solver))), 'DisputeRootsEqual', [h(roots.solver)]);
    await expectRevert(sendGame(asMarket, 'openDispute', args({ ...game, steps: 0n }, sa, ca, h(roots.solver), h(roots.challenger))), 'DisputeRulesInvalid', ['steps', 0n]);
    await expectRevert(sendGame(asMarket, 'openDispute', args(game, sa, sa, h(roots.solver), h(roots.challenger))), 'DisputePartiesInvalid', [sa, sa]);
    await expectRevert(sendGame(challenger, 'openDispute', args(game, sa, ca, h(roots.solver), h(roots.challenger))), 'DisputeClientNotContract', [ca]);
  });
});

describe('bad moves in one played dispute revert with their error; the position is unchanged', () => {
  const [solverAt, challengerAt] = [2, 3];
  let id: bigint;
  let moves: { before: Position; move: Move; after: Position }[];
  let next = 0;

  /** Replays the accepted moves up to the next `kind` by `by`; returns that move's valid call and its position. */
  async function playUntil(kind: Move['kind'], by: Move['by']) {
    const at = moves.findIndex((m, i) => i >= next && m.move.kind === kind && m.move.by === by);
    expect(at).toBeGreaterThanOrEqual(next);
    await replayOnChain(c, rules, id, moves.slice(next, at), { solver: c.wallets[solverAt], challenger: c.wallets[challengerAt] });
    next = at;
    return { ...moves[at], args: encodeDisputeMove(rules, c.facts, id, moves[at].before, moves[at].move).args };
  }

  beforeAll(async () => {
    ({ disputeId: id } = await openJobDispute(c, rules, c.wallets[solverAt], c.wallets[challengerAt], roots));
    moves = acceptedMoves(rules, game, roots);
  });

  test("step commit: an h_t that is not the mover's run leaf, an h_{t-1} that does not open in the solver's run tree", async () => {
    const solver = c.wallets[solverAt];
    const { args } = await playUntil('commit-step', 'solver');
    const [, root, proof, fact, run] = args as [bigint, Hex, Hex[], unknown, { prev: Hex; prevProof: Hex[]; h: Hex }];
    const t = BigInt(T);
    const [RUN_PREV, RUN_CUR] = [0, 1]; // DisputeGame.Proof
    await rejected(id, [
      [() => sendGame(solver, 'commitStep', [id, root, proof, fact, { ...run, h: run.prev }, '0x']), 'ProofInvalid', [id, RUN_CUR, t]],
      [() => sendGame(solver, 'commitStep', [id, root, proof, fact, { ...run, prev: run.h }, '0x']), 'ProofInvalid', [id, RUN_PREV, t - 1n]],
      [() => sendGame(solver, 'commitStep', [id, root, proof, fact, { ...run, prevProof: run.prevProof.slice(1) }, '0x']), 'ProofInvalid', [id, RUN_PREV, t - 1n]],
    ]);
  });

  test("the challenger's step commit must send the step context the solver's stored (its hash is all the game keeps)", async () => {
    const challenger = c.wallets[challengerAt];
    const { args } = await playUntil('commit-step', 'challenger');
    const [, root, proof, fact, run, context] = args as [bigint, Hex, Hex[], unknown, unknown, Hex];
    const t = BigInt(T);
    const STEP_CONTEXT = 14; // DisputeGame.Proof
    // another solver step root (the fourth word), a context cut short, none at all
    const otherRoot = `${context.slice(0, 2 + 64 * 3)}${'ab'.repeat(32)}${context.slice(2 + 64 * 4)}` as Hex;
    await rejected(id, [
      [() => sendGame(challenger, 'commitStep', [id, root, proof, fact, run, otherRoot]), 'ProofInvalid', [id, STEP_CONTEXT, t]],
      [() => sendGame(challenger, 'commitStep', [id, root, proof, fact, run, context.slice(0, -64) as Hex]), 'ProofInvalid', [id, STEP_CONTEXT, t]],
      [() => sendGame(challenger, 'commitStep', [id, root, proof, fact, run, '0x']), 'ProofInvalid', [id, STEP_CONTEXT, t]],
    ]);
  });

  test("ChunkLengthWrong: the solver's opened chunk one word short or long", async () => {
    const solver = c.wallets[solverAt];
    const { args } = await playUntil('open-chunk', 'solver');
    const [, chunk, ...rest] = args as [bigint, Hex, bigint, Hex, Hex];
    const want = BigInt((chunk.length - 2) / 2);
    await rejected(id, [
      [() => sendGame(solver, 'openChunk', [id, chunk.slice(0, -8), ...rest]), 'ChunkLengthWrong', [id, want - 4n, want]],
      [() => sendGame(solver, 'openChunk', [id, `${chunk}00000000`, ...rest]), 'ChunkLengthWrong', [id, want + 4n, want]],
    ]);
  });

  test("ElementNotFinal: the solver's final state not halted, or with another word in the halt's register", async () => {
    const solver = c.wallets[solverAt];
    const { before, move } = await playUntil('commit-element', 'solver');
    if (move.kind !== 'commit-element') throw new Error(move.kind);
    const call = (final: typeof move.final) => encodeDisputeMove(rules, c.facts, id, before, { ...move, final }).args;
    const halt = call(move.final)[2] as Hex;
    const a = parseInt(halt.slice(6, 8), 16); // the halt's result register (MachineStep.Instruction.a)
    const value = move.final.registers[a] >>> 0;
    expect((await readDispute(c, id)).valueSolver).toBe(value);
    const other = move.final.registers.map((r, i) => (i === a ? r ^ 1 : r));
    const HALT = 0; // MachineStep.HALT
    await rejected(id, [
      [() => sendGame(solver, 'commitElement', call({ ...move.final, halted: false })), 'ElementNotFinal', [id, false, HALT, value, value]],
      [() => sendGame(solver, 'commitElement', call({ ...move.final, registers: other })), 'ElementNotFinal', [id, true, HALT, (value ^ 1) >>> 0, value]],
    ]);
  });

  test("ClaimCountWrong: the solver's claim list one hash short or long", async () => {
    const solver = c.wallets[solverAt];
    const { args } = await playUntil('claim', 'solver');
    const [, hashes, ...rest] = args as [bigint, Hex[], bigint, Hex, Hex];
    const want = BigInt(hashes.length);
    await rejected(id, [
      [() => sendGame(solver, 'claim', [id, hashes.slice(1), ...rest]), 'ClaimCountWrong', [id, want - 1n, want]],
      [() => sendGame(solver, 'claim', [id, [...hashes, hashes[0]], ...rest]), 'ClaimCountWrong', [id, want + 1n, want]],
    ]);
  });
});

test('DisputeIdReused: the market refuses a dispute id its resolver returned before', async () => {
  const f = await setupMycel();
  try {
    const [submitter, solver, challenger] = [f.wallets[1], f.wallets[2], f.wallets[3]];
    for (const w of [solver, challenger]) {
      await approve(w, { token: f.token, spender: f.registry, amount: MIN_STAKE });
      await register(w, { registry: f.registry, stake: MIN_STAKE });
    }
    for (const w of [submitter, solver, challenger]) await approve(w, { token: f.token, spender: f.market, amount: TOKENS(1_000) });
    const committed = async () => {
      const { jobId } = await postJob(submitter, { market: f.market, specHash: h('5e'.repeat(32)), steps: 4n, reward: TOKENS(10), stake: TOKENS(5), deadlineIn: 3_600n });
      await setRules(submitter, { market: f.market, jobId, h0: h('00'.repeat(32)), factsRoot: h('00'.repeat(32)), factsSize: 1n });
      await claimJob(solver, { market: f.market, jobId });
      await commitRoot(solver, { market: f.market, jobId, root: h('01'.repeat(32)) });
      return jobId;
    };
    const { disputeId } = await challenge(challenger, { market: f.market, jobId: await committed(), root: h('02'.repeat(32)) });
    const jobId = await committed();
    await call(f.wallets[0], f.resolver, MockResolverAbi, 'repeatLastId');
    await expectRevert(challenge(challenger, { market: f.market, jobId, root: h('02'.repeat(32)) }), 'DisputeIdReused', [disputeId]);
    expect((await getJob(f.publicClient, { market: f.market, jobId })).phase).toBe('Committed');
  } finally {
    await f.stop();
  }
});
