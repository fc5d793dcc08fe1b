/**
 * contracts/DisputeGame.sol against the TypeScript game: a real dispute (a solver that flipped one op output of step
 * 3) is played in TypeScript with playGame, then the same accepted moves are sent on chain one by one to the real
 * DisputeGame that the JobMarket uses as its resolver. After every move the stored dispute must equal the TS position
 * (level, phase, turn, round, interval, nodes, agreed state, values); the ruling must equal TS's and the market must
 * pay the winner. Then: a move out of turn, a wrong move kind and a bad proof revert; a timeout rules against the
 * silent party.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Hex } from 'viem';
import { send } from '../../src/chain/actions/send.js';
import { getJob } from '../../src/chain/index.js';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { encodeDisputeMove, GAME_AT, GAME_LEVELS, GAME_PHASES, GAME_TURNS } from '../../src/chain/dispute-moves.js';
import { REFEREE_LOSERS } from '../../src/chain/referee.js';
import { adversary, playGame, replayParty, type GameResult, type Position } from '../../src/verify/index.js';
import { honest, rules, runOf, type Run } from '../verify/game-helpers.js';
import { acceptedMoves, MOVE_TIMEOUT, openJobDispute, readDispute, replayOnChain, REWARD, setupGameChain, STAKE, type GameChain, type OnChainDispute } from './dispute-replay.js';
import { expectRevert } from './mycel-fixture.js';

const T = 3;
let c: GameChain;
let game: GameResult;
let good: Run;
let cheat: Run;
let roots: { solver: string; challenger: string };

beforeAll(async () => {
  good = await runOf(honest);
  const writer = (rules.structure(T).stateOutputs.find((s) => s.name === 'params.blocks.0.qkv.weight')!.source as { index: number }).index;
  cheat = await runOf(adversary.flipOpOutput(honest, T, writer, 37, 3));
  const challengerParty = replayParty({ role: 'challenger', program: honest, reference: honest, store: good.store, record: good.record, opponentHashes: cheat.record.stepHashes });
  const solverParty = replayParty({ role: 'solver', program: cheat.program, reference: honest, store: cheat.store, record: cheat.record, opponentHashes: good.record.stepHashes });
  roots = { solver: cheat.record.commitment!, challenger: good.record.commitment! };
  game = await playGame(rules, solverParty, challengerParty, { solverRoot: roots.solver, challengerRoot: roots.challenger });
  c = await setupGameChain(rules);
}, 180_000);

afterAll(() => c?.anvil.stop());

const h = (x: string): Hex => `0x${x}`;
const ZERO = h('0'.repeat(64));

/** The TS position's fields as the contract stores them. */
function expected(p: Position) {
  return {
    level: p.level, phase: p.phase, turn: p.turn, round: p.round, t: BigInt(p.t), op: p.op, element: BigInt(p.element), lo: BigInt(p.lo), n: BigInt(p.n),
    hPrev: h(p.hPrev), hSolver: h(p.hSolver), hChallenger: h(p.hChallenger), stepRootSolver: h(p.stepRootSolver), stepRootChallenger: h(p.stepRootChallenger),
    nodeSolver: h(p.nodeSolver), nodeChallenger: h(p.nodeChallenger), agreed: h(p.agreed), pendingLeft: p.pending[0] ? h(p.pending[0]) : ZERO,
    valueSolver: p.valueSolver >>> 0, valueChallenger: p.valueChallenger >>> 0,
  };
}

function actual(d: OnChainDispute) {
  return {
    level: GAME_LEVELS[d.level], phase: GAME_PHASES[d.phase], turn: GAME_TURNS[d.turn], round: d.round, t: d.t, op: d.op, element: d.element, lo: d.lo, n: d.n,
    hPrev: d.hPrev, hSolver: d.hSolver, hChallenger: d.hChallenger, stepRootSolver: d.stepRootSolver, stepRootChallenger: d.stepRootChallenger,
    nodeSolver: d.nodeSolver, nodeChallenger: d.nodeChallenger, agreed: d.agreed, pendingLeft: d.pendingLeft, valueSolver: d.valueSolver, valueChallenger: d.valueChallenger,
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
      expect({ move: m.kind, by: m.by, ...actual(m.chain) }).toEqual({ move: m.kind, by: m.by, ...expected(m.after) });
    });
    expect(replayed.map((m) => m.kind)).toEqual(moves.map((m) => m.move.kind));
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

describe('DisputeGame rejects bad moves and rules timeouts', () => {
  let disputeId: bigint;
  let jobId: bigint;

  test('a move out of turn, a wrong move kind and a bad proof revert; the position is unchanged', async () => {
    const [solver, challenger] = [c.wallets[4], c.wallets[3]];
    ({ disputeId, jobId } = await openJobDispute(c, rules, solver, challenger, roots));
    const [first] = acceptedMoves(rules, game, roots);
    expect(first.move.kind).toBe('open-step');
    const call = encodeDisputeMove(rules, c.facts, disputeId, first.before, first.move);
    const start = await readDispute(c, disputeId);
    await expectRevert(send(solver, { address: c.game, abi: DisputeGameAbi, functionName: call.functionName, args: call.args }), 'DisputeNotYourTurn');
    await expectRevert(send(c.wallets[5], { address: c.game, abi: DisputeGameAbi, functionName: call.functionName, args: call.args }), 'DisputeNotParty');
    await expectRevert(send(challenger, { address: c.game, abi: DisputeGameAbi, functionName: 'reveal', args: [disputeId, ZERO, ZERO] }), 'DisputeWrongMove', [disputeId, 2, 0]);
    type Side = { prev: Hex; prevProof: Hex[]; cur: Hex; curProof: Hex[] };
    const [id, t, s, ch] = call.args as [bigint, bigint, Side, Side];
    const flipped = { ...s, curProof: [`0x${s.curProof[0].slice(2, 4) === '00' ? '01' : '00'}${s.curProof[0].slice(4)}` as Hex, ...s.curProof.slice(1)] };
    await expectRevert(send(challenger, { address: c.game, abi: DisputeGameAbi, functionName: 'openStep', args: [id, t, flipped, ch] }), 'ProofInvalid', [disputeId, 1, t]);
    await expectRevert(send(challenger, { address: c.game, abi: DisputeGameAbi, functionName: 'openStep', args: [id, t, s, s] }), 'ProofInvalid');
    expect(await readDispute(c, disputeId)).toEqual(start);
    // The valid move goes through: the solver is now to move.
    await send(challenger, { address: c.game, abi: DisputeGameAbi, functionName: call.functionName, args: call.args });
    expect(actual(await readDispute(c, disputeId))).toEqual(expected(first.after));
  }, 60_000);

  test('a timeout before the deadline reverts; after it, anyone rules against the silent solver and the market pays', async () => {
    const [solver, challenger, stranger] = [c.wallets[4], c.wallets[3], c.wallets[5]];
    await expectRevert(send(stranger, { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [disputeId] }), 'DisputeDeadlineNotPassed');
    const before = await c.balance(challenger.account.address);
    await c.advance(MOVE_TIMEOUT + 1n);
    const [, second] = acceptedMoves(rules, game, roots);
    const late = encodeDisputeMove(rules, c.facts, disputeId, second.before, second.move);
    await expectRevert(send(solver, { address: c.game, abi: DisputeGameAbi, functionName: late.functionName, args: late.args }), 'DisputeDeadlinePassed');
    await send(stranger, { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [disputeId] });
    const d = await readDispute(c, disputeId);
    expect([REFEREE_LOSERS[d.loser], GAME_AT[d.ruledAt], GAME_LEVELS[d.level]]).toEqual(['solver', 'timeout', 'done']);
    expect((await c.balance(challenger.account.address)) - before).toBe(STAKE + STAKE / 2n);
    expect((await getJob(c.publicClient, { market: c.market, jobId })).phase).toBe('Refuted');
  }, 60_000);

  test('rules: only the submitter, only while the job is Open; a dispute needs them', async () => {
    await expectRevert(send(c.wallets[2], { address: c.game, abi: DisputeGameAbi, functionName: 'setRules', args: [0n, ZERO, ZERO, 1n] }), 'RulesNotSubmitter');
    await expectRevert(send(c.wallets[1], { address: c.game, abi: DisputeGameAbi, functionName: 'setRules', args: [0n, ZERO, ZERO, 1n] }), 'RulesTooLate');
    await expectRevert(send(c.wallets[1], { address: c.game, abi: DisputeGameAbi, functionName: 'openDispute', args: [0n, 4n, c.wallets[2].account.address, c.wallets[3].account.address, ZERO, h('1'.repeat(64))] }), 'DisputeNotMarket');
  });
});
