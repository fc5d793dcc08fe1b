/**
 * contracts/DisputeGame.sol against the TypeScript game: a real dispute (a solver that flipped one op output of step
 * 3) is played in TypeScript with playGame, then the same accepted moves are sent on chain one by one to the real
 * DisputeGame that the JobMarket uses as its resolver. After every move the stored dispute must equal the TS position
 * (level, phase, turn, round, interval, nodes, agreed state, values); the ruling must equal TS's and the market must
 * pay the winner. A game both parties lie in ends "both" on chain too, and the market slashes both. Games that end at
 * the state level (a skipped step, an optimizer step not advanced, a challenger lying only about h_t) are replayed the
 * same way and ruled by proveState on chain against the liar. Then: a move out
 * of turn, a wrong move kind and a bad proof revert; a timeout (deadlines are block numbers) rules against the silent
 * party.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { keccak256, type Hex } from 'viem';
import { readContract } from 'viem/actions';
import { send } from '../../src/chain/actions/send.js';
import { finalize, getJob, setRules } from '../../src/chain/index.js';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { encodeDisputeMove, GAME_AT, GAME_LEVELS, GAME_PHASES, GAME_TURNS, chunkGroups, solverChain, stepContextOf } from '../../src/chain/dispute-moves.js';
import { REFEREE_LOSERS } from '../../src/chain/referee.js';
import { adversary, playGame, replayParty, type GameResult, type Position } from '../../src/verify/index.js';
import { DESCENT_DEPTH } from '../../src/verify/game/descend.js';
import { honest, rules, runOf, type Run } from '../verify/game-helpers.js';
import { runCommitment } from '../../src/train/index.js';
import { acceptedMoves, CLOCK_BLOCKS, WINDOW_BLOCKS, openJobDispute, qkvCheatGame, qkvWriter, readDispute, replayOnChain, REWARD, setupGameChain, STAKE, type GameChain, type OnChainDispute } from './dispute-replay.js';
import { expectRevert } from './mycel-fixture.js';

const T = 3;
let c: GameChain;
let game: GameResult;
let good: Run;
let cheat: Run;
let roots: { solver: string; challenger: string };

beforeAll(async () => {
  ({ good, cheat, roots, game } = await qkvCheatGame(T));
  c = await setupGameChain(rules);
}, 180_000);

afterAll(() => c?.anvil.stop());

const h = (x: string): Hex => `0x${x}`;
const ZERO = h('0'.repeat(64));

/**
 * The contract's `pending`: the solver's half of the exchange under way, as is (one hash) or as the hash chain of its
 * list (a frontier, claims, an opened chunk's 32-byte groups); stale once the exchange ends, so compared only while TS
 * has one.
 */
const pendingOf = (p: Position, kind: string) =>
  p.pendingWords.length > 0 ? solverChain(chunkGroups(p.pendingWords))
    : p.pending.length === 0 ? 'stale' : kind === 'reveal' || kind === 'claim' ? solverChain(p.pending) : h(p.pending[0]);

/** The contract's stepContext: the hash of h_{t-1}, both h_t and step roots and the batch commitment, 0 before the step level. */
const stepContextHash = (p: Position) => (p.stepRootSolver === '0'.repeat(64) ? ZERO : keccak256(stepContextOf(rules, p)));

/** The TS position's fields as the contract stores them. */
function expected(p: Position, kind: string) {
  return {
    level: p.level, phase: p.phase, turn: p.turn, round: p.round, t: BigInt(p.t), op: p.op, element: BigInt(p.element), lo: BigInt(p.lo), n: BigInt(p.n),
    stepContext: stepContextHash(p),
    nodeSolver: h(p.nodeSolver), nodeChallenger: h(p.nodeChallenger), agreed: h(p.agreed), pending: pendingOf(p, kind),
    valueSolver: p.valueSolver >>> 0, valueChallenger: p.valueChallenger >>> 0,
  };
}

function actual(d: OnChainDispute, p: Position) {
  return {
    level: GAME_LEVELS[d.level], phase: GAME_PHASES[d.phase], turn: GAME_TURNS[d.turn], round: d.round, t: d.t, op: d.op, element: d.element, lo: BigInt(d.lo), n: BigInt(d.n),
    stepContext: d.stepContext,
    nodeSolver: d.nodeSolver, nodeChallenger: d.nodeChallenger, agreed: d.agreed, pending: p.pending.length === 0 && p.pendingWords.length === 0 ? 'stale' : d.pending, valueSolver: d.valueSolver, valueChallenger: d.valueChallenger,
  };
}

describe('DisputeGame replays the TypeScript game move by move', () => {
  test('every position equals TS, the ruling equals TS (instruction, solver loses), the market pays the challenger', async () => {
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: T });
    const [solver, challenger, submitter] = [c.wallets[2], c.wallets[3], c.wallets[1]];
    const { jobId, disputeId } = await openJobDispute(c, rules, solver, challenger, roots);
    const before = await Promise.all([solver, challenger, submitter].map((w) => c.balance(w.account.address)));
    const moves = acceptedMoves(rules, game, roots);
    const replayed = await replayOnChain(c, rules, disputeId, moves, { solver, challenger }, (m) => {
      expect({ move: m.kind, by: m.by, ...actual(m.chain, m.after) }).toEqual({ move: m.kind, by: m.by, ...expected(m.after, m.kind) });
    });
    expect(replayed.map((m) => m.kind)).toEqual(moves.map((m) => m.move.kind));
    // Gas is deterministic: the goal for a whole dispute holds for this one (bench/chain.ts measures a 1,000-step job).
    const gas = replayed.reduce((sum, m) => sum + m.gas, 0n);
    console.log(`dispute gas ${gas} in ${game.totalRounds} rounds, ${replayed.length} transactions`);
    expect(gas).toBeLessThan(1_700_000n);
    const final = await readDispute(c, disputeId);
    expect(REFEREE_LOSERS[final.loser]).toBe(game.ruling.loser);
    expect(GAME_AT[final.ruledAt]).toBe(game.ruling.at);
    expect(final.round).toBe(game.final.round);
    const after = await Promise.all([solver, challenger, submitter].map((w) => c.balance(w.account.address)));
    expect(after[0] - before[0]).toBe(0n);
    expect(after[1] - before[1]).toBe(STAKE + STAKE / 2n);
    expect(after[2] - before[2]).toBe(REWARD);
    expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Refuted');
    await expectRevert(send(challenger, { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [disputeId] }), 'DisputeOver', [disputeId]);
  }, 120_000);
});

describe('a game both parties lie in', () => {
  test('the contract rules "both" at the instruction as TS does; the market slashes both stakes and refunds the submitter', async () => {
    const other = await runOf(adversary.flipOpOutput(honest, T, qkvWriter(T), 37, 5));
    const both = { solver: cheat.record.commitment!, challenger: other.record.commitment! };
    const played = await playGame(
      rules,
      replayParty({ role: 'solver', program: cheat.program, reference: honest, store: cheat.store, record: cheat.record }),
      replayParty({ role: 'challenger', program: other.program, reference: honest, store: other.store, record: other.record }),
      { solverRoot: both.solver, challengerRoot: both.challenger },
    );
    expect(played.ruling).toMatchObject({ loser: 'both', at: 'instruction', t: T });
    const [solver, challenger, submitter] = [c.wallets[2], c.wallets[4], c.wallets[1]];
    const { jobId, disputeId } = await openJobDispute(c, rules, solver, challenger, both);
    const before = await Promise.all([solver, challenger, submitter].map((w) => c.balance(w.account.address)));
    const moves = acceptedMoves(rules, played, both);
    await replayOnChain(c, rules, disputeId, moves, { solver, challenger }, (m) => {
      expect({ move: m.kind, by: m.by, ...actual(m.chain, m.after) }).toEqual({ move: m.kind, by: m.by, ...expected(m.after, m.kind) });
    });
    expect(REFEREE_LOSERS[(await readDispute(c, disputeId)).loser]).toBe('both');
    const after = await Promise.all([solver, challenger, submitter].map((w) => c.balance(w.account.address)));
    expect([after[0] - before[0], after[1] - before[1], after[2] - before[2]]).toEqual([0n, 0n, REWARD + STAKE]);
    expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Refuted');
  }, 120_000);
});

describe('the state level on chain: every op output agrees, h_t does not', () => {
  /** Plays `liar` against the honest run (as solver or challenger) in TS, replays it on chain and checks every position, the ruling and the payout. */
  async function stateGame(liar: Run, liarRole: 'solver' | 'challenger', leaf: number) {
    const [sRun, cRun] = liarRole === 'solver' ? [liar, good] : [good, liar];
    const pair = { solver: sRun.record.commitment!, challenger: cRun.record.commitment! };
    const party = (run: Run, role: 'solver' | 'challenger', other: Run) =>
      replayParty({ role, program: run.program, reference: honest, store: run.store, record: run.record });
    const played = await playGame(rules, party(sRun, 'solver', cRun), party(cRun, 'challenger', sRun), { solverRoot: pair.solver, challengerRoot: pair.challenger });
    expect(played.ruling).toMatchObject({ loser: liarRole, at: 'state', t: T, instruction: leaf });
    const [solver, challenger] = [c.wallets[2], c.wallets[5]];
    const { jobId, disputeId } = await openJobDispute(c, rules, solver, challenger, pair);
    const honestWallet = liarRole === 'solver' ? challenger : solver;
    const before = await c.balance(honestWallet.account.address);
    const moves = acceptedMoves(rules, played, pair);
    expect(moves.some((m) => m.before.level === 'state' && m.move.kind === 'reveal')).toBe(true);
    const replayed = await replayOnChain(c, rules, disputeId, moves, { solver, challenger }, (m) => {
      expect({ move: m.kind, by: m.by, ...actual(m.chain, m.after) }).toEqual({ move: m.kind, by: m.by, ...expected(m.after, m.kind) });
    });
    const prove = replayed[replayed.length - 1];
    expect(prove.kind).toBe('prove-state');
    const gas = replayed.reduce((sum, m) => sum + m.gas, 0n);
    const stateReveals = replayed.filter((m) => m.level === 'state').map((m) => `${m.by} ${m.kind} ${m.gas}`);
    console.log(`state-level dispute (${liarRole} lies, leaf ${leaf}): ${gas} gas in ${played.totalRounds} rounds; state level: ${stateReveals.join(', ')}`);
    const final = await readDispute(c, disputeId);
    expect([REFEREE_LOSERS[final.loser], GAME_AT[final.ruledAt], GAME_LEVELS[final.level]]).toEqual([liarRole, 'state', 'done']);
    expect(final.round).toBe(played.final.round);
    if (liarRole === 'challenger') {
      // The solver won its dispute; it is paid (with the loser's unburned half) once the window has closed.
      expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Committed');
      await c.advance(WINDOW_BLOCKS);
      await finalize(solver, { market: c.market, jobId });
    }
    expect((await c.balance(honestWallet.account.address)) - before).toBe(STAKE + STAKE / 2n + (liarRole === 'challenger' ? REWARD : 0n));
    expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe(liarRole === 'solver' ? 'Refuted' : 'Finalized');
  }

  test('a solver that skips a step loses at the first state tensor it did not update', async () => {
    await stateGame(await runOf(adversary.skipStep(honest, T)), 'solver', 1);
  }, 120_000);

  test('a solver that does not advance the optimizer step loses at the header leaf', async () => {
    const cheat = adversary.cheatAt(honest, T, (state, batch) => {
      const r = honest.step(state, batch);
      return { ...r, state: { ...r.state, opt: { ...r.state.opt, step: state.opt.step } } };
    });
    await stateGame(await runOf(cheat), 'solver', 0);
  }, 120_000);

  test('a prove-state whose commitment or state fact does not verify reverts; the position is unchanged', async () => {
    const liar = await runOf(adversary.skipStep(honest, T));
    const pair = { solver: liar.record.commitment!, challenger: good.record.commitment! };
    const played = await playGame(
      rules,
      replayParty({ role: 'solver', program: liar.program, reference: honest, store: liar.store, record: liar.record }),
      replayParty({ role: 'challenger', program: honest, reference: honest, store: good.store, record: good.record }),
      { solverRoot: pair.solver, challengerRoot: pair.challenger },
    );
    const [solver, challenger] = [c.wallets[2], c.wallets[5]];
    const { disputeId: id } = await openJobDispute(c, rules, solver, challenger, pair);
    const moves = acceptedMoves(rules, played, pair);
    await replayOnChain(c, rules, id, moves.slice(0, -1), { solver, challenger });
    const last = moves[moves.length - 1];
    const call = encodeDisputeMove(rules, c.facts, id, last.before, last.move);
    type Fact = { sourceKind: number; sourceIndex: bigint; constantCommitment: Hex; name: Hex; index: bigint; path: Hex[] };
    const [, optStep, commitment, proof, fact, context] = call.args as [bigint, bigint, Hex, Hex[], Fact, { hPrev: Hex }];
    const proveState = (args: readonly unknown[]) => send(challenger, { address: c.game, abi: DisputeGameAbi, functionName: 'proveState', args: args as never });
    const start = await readDispute(c, id);
    await expectRevert(proveState([id, optStep, h('ab'.repeat(32)), proof, fact, context]), 'ProofInvalid');
    await expectRevert(proveState([id, optStep, commitment, proof, { ...fact, sourceIndex: fact.sourceIndex + 1n }, context]), 'ProofInvalid');
    // The step context must be the one stored (its hash): another h_{t-1} is refused.
    const STEP_CONTEXT = 14; // DisputeGame.Proof
    await expectRevert(proveState([id, optStep, commitment, proof, fact, { ...context, hPrev: h('ab'.repeat(32)) }]), 'ProofInvalid', [id, STEP_CONTEXT, BigInt(last.before.t)]);
    expect(await readDispute(c, id)).toEqual(start);
    await proveState(call.args);
    expect(REFEREE_LOSERS[(await readDispute(c, id)).loser]).toBe('solver');
  }, 120_000);

  test('a challenger that commits the honest op outputs with another h_t loses against the honest solver', async () => {
    const name = 'params.blocks.0.qkv.weight';
    const leaf = rules.structure(T).stateOutputs.findIndex((s) => s.name === name) + 1;
    await stateGame(await runOf(adversary.flipAfterUpdate(honest, T, 'blocks.0.qkv.weight', 37, 3)), 'challenger', leaf);
  }, 120_000);
});

describe('DisputeGame rejects bad moves and rules timeouts', () => {
  let disputeId: bigint;
  let jobId: bigint;

  test('a move out of turn, a wrong move kind and a bad proof revert; the position is unchanged', async () => {
    const [solver, challenger] = [c.wallets[4], c.wallets[3]];
    ({ disputeId, jobId } = await openJobDispute(c, rules, solver, challenger, roots));
    const [first] = acceptedMoves(rules, game, roots);
    // The run level: the solver reveals its own run tree first.
    expect([first.move.kind, first.move.by, first.before.level]).toEqual(['reveal', 'solver', 'run']);
    const call = encodeDisputeMove(rules, c.facts, disputeId, first.before, first.move);
    const start = await readDispute(c, disputeId);
    await expectRevert(send(challenger, { address: c.game, abi: DisputeGameAbi, functionName: call.functionName, args: call.args }), 'DisputeNotYourTurn');
    await expectRevert(send(c.wallets[5], { address: c.game, abi: DisputeGameAbi, functionName: call.functionName, args: call.args }), 'DisputeNotParty');
    const noRun = { prev: ZERO, prevProof: [], h: ZERO };
    const noFact = { leafCount: 0n, stateLeafCount: 0n, batchCommitment: ZERO, index: 0n, path: [] };
    await expectRevert(send(solver, { address: c.game, abi: DisputeGameAbi, functionName: 'commitStep', args: [disputeId, ZERO, [], noFact, noRun, '0x'] }), 'DisputeWrongMove', [disputeId, 0, 1]);
    const [id, nodes, ...rest] = call.args as [bigint, Hex[], bigint, Hex, Hex, Hex];
    const FRONTIER = 5; // DisputeGame.Proof
    await expectRevert(send(solver, { address: c.game, abi: DisputeGameAbi, functionName: 'reveal', args: [id, [...nodes].reverse(), ...rest] }), 'ProofInvalid', [disputeId, FRONTIER, 0n]);
    expect(await readDispute(c, disputeId)).toEqual(start);
  }, 60_000);

  test("a timeout before the deadline reverts; after the solver's chess clock ran out, anyone rules against it and the market pays", async () => {
    const [solver, challenger, stranger] = [c.wallets[4], c.wallets[3], c.wallets[5]];
    await expectRevert(send(stranger, { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [disputeId] }), 'DisputeDeadlineNotPassed');
    const before = await c.balance(challenger.account.address);
    await c.advance(BigInt(CLOCK_BLOCKS + 1));
    const [first] = acceptedMoves(rules, game, roots);
    const late = encodeDisputeMove(rules, c.facts, disputeId, first.before, first.move);
    await expectRevert(send(solver, { address: c.game, abi: DisputeGameAbi, functionName: late.functionName, args: late.args }), 'DisputeDeadlinePassed');
    await send(stranger, { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [disputeId] });
    const d = await readDispute(c, disputeId);
    expect([REFEREE_LOSERS[d.loser], GAME_AT[d.ruledAt], GAME_LEVELS[d.level]]).toEqual(['solver', 'timeout', 'done']);
    expect((await c.balance(challenger.account.address)) - before).toBe(STAKE + STAKE / 2n);
    expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Refuted');
  }, 60_000);

  test('the chess clock on chain: each party keeps what its turns left of its clock, as TS does', async () => {
    const [solver, challenger] = [c.wallets[4], c.wallets[3]];
    const { disputeId: id } = await openJobDispute(c, rules, solver, challenger, roots);
    const moves = acceptedMoves(rules, game, roots);
    await c.advance(40n);
    await replayOnChain(c, rules, id, moves.slice(0, 3), { solver, challenger });
    const d = await readDispute(c, id);
    // The solver's first turn took 41 blocks (40 empty, 1 for its move), its second 1; the challenger's one turn 1.
    expect([d.clockSolver, d.clockChallenger]).toEqual([CLOCK_BLOCKS - 42, CLOCK_BLOCKS - 1]);
    expect(d.deadline).toBe(Number(await c.publicClient.getBlockNumber()) + (GAME_TURNS[d.turn] === 'challenger' ? d.clockChallenger : d.clockSolver));
  }, 60_000);

  test("a challenger's reveal that does not prove where it parts from the solver's frontier reverts", async () => {
    const [solver, challenger] = [c.wallets[4], c.wallets[3]];
    const { disputeId: id } = await openJobDispute(c, rules, solver, challenger, roots);
    const moves = acceptedMoves(rules, game, roots);
    const at = moves.findIndex((m) => m.move.kind === 'reveal' && m.move.by === 'challenger');
    await replayOnChain(c, rules, id, moves.slice(0, at), { solver, challenger });
    const call = encodeDisputeMove(rules, c.facts, id, moves[at].before, moves[at].move);
    const [, nodes, first, node, rest, context] = call.args as [bigint, Hex[], bigint, Hex, Hex, Hex];
    const reveal = (args: readonly unknown[]) => send(challenger, { address: c.game, abi: DisputeGameAbi, functionName: 'reveal', args: args as [bigint, Hex[], bigint, Hex, Hex, Hex] });
    await expectRevert(reveal([id, nodes, first, node, ZERO, context]), 'ProofInvalid', [id, 9, first]);
    await expectRevert(reveal([id, nodes, first, nodes[Number(first)], rest, context]), 'NotFirstDifference', [id, first]);
    await expectRevert(reveal([id, nodes, BigInt(nodes.length), node, rest, context]), 'NotFirstDifference', [id, BigInt(nodes.length)]);
    await reveal(call.args);
    expect(actual(await readDispute(c, id), moves[at].after)).toEqual(expected(moves[at].after, 'reveal'));
  }, 60_000);

  test("the halt instruction and the one-step instruction must be the op's committed element program's", async () => {
    const [solver, challenger] = [c.wallets[4], c.wallets[3]];
    const { disputeId: id } = await openJobDispute(c, rules, solver, challenger, roots);
    const moves = acceptedMoves(rules, game, roots);
    const sendAs = (w: typeof solver, name: string, args: readonly unknown[]) => send(w, { address: c.game, abi: DisputeGameAbi, functionName: name, args });
    const at = moves.findIndex((m) => m.move.kind === 'commit-element');
    await replayOnChain(c, rules, id, moves.slice(0, at), { solver, challenger });
    const commit = encodeDisputeMove(rules, c.facts, id, moves[at].before, moves[at].move);
    const [, final, halt, opening] = commit.args as [bigint, Hex, Hex, { instructionProof: Hex[] }];
    // A halt of another register (the liar's way to point at a register that holds its word) is not the program's.
    const otherHalt = `${halt.slice(0, 6)}${((parseInt(halt.slice(6, 8), 16) + 1) % 32).toString(16).padStart(2, '0')}${halt.slice(8)}` as Hex;
    const finalPc = BigInt(parseInt(final.slice(2, 10), 16));
    const HALT_INSTRUCTION = 10; // DisputeGame.Proof
    await expectRevert(sendAs(solver, 'commitElement', [id, final, otherHalt, opening]), 'ProofInvalid', [id, HALT_INSTRUCTION, finalPc]);
    await expectRevert(sendAs(solver, 'commitElement', [id, final, halt, { ...opening, instructionProof: opening.instructionProof.slice(1) }]), 'ProofInvalid', [id, HALT_INSTRUCTION, finalPc]);
    const prove = moves.findIndex((m) => m.move.kind === 'prove');
    await replayOnChain(c, rules, id, moves.slice(at, prove), { solver, challenger });
    const call = encodeDisputeMove(rules, c.facts, id, moves[prove].before, moves[prove].move);
    const [, pre, instruction, load, program, context] = call.args as [bigint, Hex, Hex, unknown, { instructionProof: Hex[] }, unknown];
    const otherOp = `0x${instruction.slice(2, 4) === '20' ? '21' : '20'}${instruction.slice(4)}` as Hex; // fadd <-> fsub
    await expectRevert(sendAs(challenger, 'prove', [id, pre, otherOp, load, program, context]), 'RefereeOpRuleMismatch');
    await expectRevert(sendAs(challenger, 'prove', [id, pre, instruction, load, { ...program, instructionProof: program.instructionProof.slice(1) }, context]), 'RefereeOpRuleMismatch');
    await sendAs(challenger, 'prove', call.args);
    expect(REFEREE_LOSERS[(await readDispute(c, id)).loser]).toBe('solver');
  }, 60_000);

  test('the descent depth is one game rule in TS and Solidity', async () => {
    expect(await readContract(c.publicClient, { address: c.game, abi: DisputeGameAbi, functionName: 'DESCENT_DEPTH' })).toBe(BigInt(DESCENT_DEPTH));
  });

  test('a run that starts from a wrong h_0 is refuted at leaf 0 on chain, as TS rules it; the honest challenger is paid', async () => {
    // Only the run trees are played: a party's run record is all the run level reads.
    const wrong = ['ab'.repeat(32), ...good.record.stepHashes.slice(1)];
    const liar = { ...cheat, record: { ...cheat.record, stepHashes: wrong, commitment: runCommitment(wrong) } };
    const pair = { solver: liar.record.commitment, challenger: good.record.commitment! };
    const played = await playGame(
      rules,
      replayParty({ role: 'solver', program: honest, reference: honest, store: liar.store, record: liar.record }),
      replayParty({ role: 'challenger', program: honest, reference: honest, store: good.store, record: good.record }),
      { solverRoot: pair.solver, challengerRoot: pair.challenger },
    );
    expect(played.ruling).toMatchObject({ loser: 'solver', at: 'initial' });
    const [solver, challenger] = [c.wallets[4], c.wallets[3]];
    const { jobId, disputeId: id } = await openJobDispute(c, rules, solver, challenger, pair);
    const before = await c.balance(challenger.account.address);
    const moves = acceptedMoves(rules, played, pair);
    await replayOnChain(c, rules, id, moves, { solver, challenger }, (m) => {
      expect({ move: m.kind, by: m.by, ...actual(m.chain, m.after) }).toEqual({ move: m.kind, by: m.by, ...expected(m.after, m.kind) });
    });
    const d = await readDispute(c, id);
    expect([REFEREE_LOSERS[d.loser], GAME_AT[d.ruledAt], GAME_LEVELS[d.level]]).toEqual(['solver', 'initial', 'done']);
    expect((await c.balance(challenger.account.address)) - before).toBe(STAKE + STAKE / 2n);
    expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Refuted');
  }, 60_000);

  test('rules: the market keeps them, set only by the submitter, only while the job is Open; the game opens disputes only for a contract', async () => {
    await expectRevert(setRules(c.wallets[2], { market: c.market, jobId: 0n, h0: ZERO, factsRoot: ZERO, factsSize: 1n }), 'RulesNotSubmitter');
    await expectRevert(setRules(c.wallets[1], { market: c.market, jobId: 0n, h0: ZERO, factsRoot: ZERO, factsSize: 1n }), 'RulesTooLate');
    const rules0 = { h0: ZERO, factsRoot: ZERO, factsSize: 1n, steps: 4n };
    await expectRevert(send(c.wallets[1], { address: c.game, abi: DisputeGameAbi, functionName: 'openDispute', args: [0n, rules0, c.wallets[2].account.address, c.wallets[3].account.address, ZERO, h('1'.repeat(64))] }), 'DisputeClientNotContract');
  });
});
