import { beforeAll, describe, expect, test } from 'vitest';
import {
  adversary, DeadlineError, encodeMove, encodePosition, expectedMove, InvalidProofError, MalformedMoveError, NoDisagreementError,
  OutOfTurnError, playGame, positionHash, replayParty, startGame, transition, UnknownJobError, WrongMoveError,
  type Move, type Party, type Position,
} from '../../src/verify/index.js';
import { DESCENT_DEPTH, frontier, nodeOfFrontier } from '../../src/verify/game/descend.js';
import { claimOffsets } from '../../src/verify/game/element-level.js';
import { toHex } from '../../src/platform/sha256.js';
import { leafHash, merkleRoot } from '../../src/train/merkle.js';
import { honest, rules, runOf, type Run } from './game-helpers.js';

const T = 2;
let good: Run;
let bad: Run;
let solver: Party;
let challenger: Party;

beforeAll(async () => {
  good = await runOf(honest);
  bad = await runOf(adversary.mathExp(honest, T));
  solver = replayParty({ role: 'solver', program: bad.program, reference: honest, store: bad.store, record: bad.record });
  challenger = replayParty({ role: 'challenger', program: good.program, reference: honest, store: good.store, record: good.record });
});

const start = () => startGame(rules, { jobId: rules.jobId, solverRoot: bad.record.commitment!, challengerRoot: good.record.commitment! }, 0);

/** Plays honest moves until the game expects `kind` from its turn-holder. */
async function advanceTo(kind: Move['kind']): Promise<Position> {
  let pos = start();
  while (expectedMove(pos) !== kind) pos = transition(rules, pos, (await (pos.turn === 'challenger' ? challenger : solver).move(pos, rules))!, 1);
  return pos;
}

/** The move must be rejected with `error`, and the position must not change. */
function rejects(pos: Position, move: Move, error: new (...args: never[]) => Error) {
  const before = positionHash(pos);
  expect(() => transition(rules, pos, move, 1)).toThrow(error);
  expect(positionHash(pos)).toBe(before);
}

describe('the game rejects bad input with a reason and leaves the position unchanged', () => {
  test('a malformed move', async () => {
    const pos = await advanceTo('reveal');
    rejects(pos, { kind: 'reveal', by: 'solver', nodes: ['xyz', '00'] } as Move, MalformedMoveError);
    rejects(pos, { kind: 'reveal', by: 'solver', nodes: ['00'.repeat(32)] }, MalformedMoveError);
    rejects(pos, { kind: 'nonsense', by: 'solver' } as unknown as Move, WrongMoveError);
    rejects(pos, { kind: 'reveal', by: 'judge', nodes: [] } as unknown as Move, MalformedMoveError);
  });

  test('a move out of turn', async () => {
    const pos = await advanceTo('commit-step');
    const move = (await solver.move(pos, rules))!;
    rejects(pos, { ...move, by: 'challenger' } as Move, OutOfTurnError);
  });

  test('a Merkle proof that does not verify', async () => {
    const pos = await advanceTo('commit-step');
    const move = (await solver.move(pos, rules)) as Extract<Move, { kind: 'commit-step' }>;
    const proof = [...move.prev!.proof];
    proof[0] = proof[0].replace(/^./, (c) => (c === '0' ? '1' : '0'));
    rejects(pos, { ...move, prev: { ...move.prev!, proof } }, InvalidProofError);
    rejects(pos, { ...move, prev: null }, MalformedMoveError);
    // An h_t that is not the preimage of the mover's run-tree leaf the run descent ended on.
    rejects(pos, { ...move, h: move.prev!.hash }, InvalidProofError);
    // A frontier that does not hash to the committed node.
    const at = await advanceTo('reveal');
    const reveal = (await solver.move(at, rules)) as Extract<Move, { kind: 'reveal' }>;
    rejects(at, { ...reveal, nodes: [...reveal.nodes].reverse() }, InvalidProofError);
  });

  test('a state-level proof whose leaf does not open against its source', async () => {
    // A solver that skips step T: the descent of the state trees ends on the first state tensor.
    const skipped = await runOf(adversary.skipStep(honest, T));
    const parties = {
      solver: replayParty({ role: 'solver', program: skipped.program, reference: honest, store: skipped.store, record: skipped.record }),
      challenger: replayParty({ role: 'challenger', program: honest, reference: honest, store: good.store, record: good.record }),
    };
    let pos = startGame(rules, { jobId: rules.jobId, solverRoot: skipped.record.commitment!, challengerRoot: good.record.commitment! }, 0);
    while (expectedMove(pos) !== 'prove-state') pos = transition(rules, pos, (await parties[pos.turn as 'solver' | 'challenger'].move(pos, rules))!, 1);
    expect([pos.level, pos.phase, pos.turn, pos.lo, pos.n]).toEqual(['state', 'prove', 'either', 1, 1]);
    const move = (await parties.challenger.move(pos, rules)) as Extract<Move, { kind: 'prove-state' }>;
    rejects(pos, { ...move, commitment: 'ab'.repeat(32) }, InvalidProofError);
    rejects(pos, { ...move, proof: move.proof.slice(1) }, InvalidProofError);
    // At the header leaf: an optimizer step that is not h_{t-1}'s.
    const header = { ...pos, lo: 0 };
    const headerMove = (await parties.challenger.move(header, rules)) as Extract<Move, { kind: 'prove-state' }>;
    rejects(header, { ...headerMove, optStep: headerMove.optStep + 1 }, InvalidProofError);
    expect(transition(rules, pos, move, 1).ruling).toMatchObject({ loser: 'solver', at: 'state', instruction: 1 });
  });

  test('a one-step proof from a state that is not the agreed one', async () => {
    const pos = await advanceTo('prove');
    const move = (await solver.move(pos, rules)) as Extract<Move, { kind: 'prove' }>;
    rejects(pos, { ...move, pre: { ...move.pre, registers: move.pre.registers.map((r, i) => (i === 0 ? r + 1 : r)) } }, InvalidProofError);
  });

  test('a commitment for an unknown job, or two equal commitments', () => {
    expect(() => startGame(rules, { jobId: 'ff'.repeat(32), solverRoot: bad.record.commitment!, challengerRoot: good.record.commitment! }, 0)).toThrow(UnknownJobError);
    expect(() => startGame(rules, { jobId: rules.jobId, solverRoot: good.record.commitment!, challengerRoot: good.record.commitment! }, 0)).toThrow(NoDisagreementError);
  });
});

describe('timeouts', () => {
  test('a party that does not move in time loses', async () => {
    const silent: Party = { role: 'challenger', work: { steps: 0, instructions: 0 }, move: async () => undefined };
    const game = await playGame(rules, solver, silent, { solverRoot: bad.record.commitment!, challengerRoot: good.record.commitment! });
    expect(game.ruling).toMatchObject({ loser: 'challenger', at: 'timeout' });
  });

  test('no timeout before the deadline; no move after it', async () => {
    const pos = start();
    expect(() => transition(rules, pos, { kind: 'timeout', by: 'challenger' }, pos.deadline)).toThrow(DeadlineError);
    const move = (await solver.move(pos, rules))!;
    expect(() => transition(rules, pos, move, pos.deadline + 1)).toThrow(DeadlineError);
    expect(transition(rules, pos, { kind: 'timeout', by: 'challenger' }, pos.deadline + 1).ruling).toMatchObject({ loser: 'solver', at: 'timeout' });
  });

  test('a chess clock: a move charges its mover the ticks its turn took, and nothing resets it', async () => {
    const pos = start();
    expect([pos.clockSolver, pos.clockChallenger, pos.deadline]).toEqual([rules.clock, rules.clock, rules.clock]);
    // The solver stalls 60 ticks: it keeps clock - 60; the challenger's turn ends at 60 + its whole clock.
    const a = transition(rules, pos, (await solver.move(pos, rules))!, 60);
    expect([a.clockSolver, a.clockChallenger, a.deadline, a.turn]).toEqual([rules.clock - 60, rules.clock, 60 + rules.clock, 'challenger']);
    const b = transition(rules, a, (await challenger.move(a, rules))!, 61);
    expect([b.clockSolver, b.clockChallenger, b.turn]).toEqual([rules.clock - 60, rules.clock - 1, 'solver']);
    // The solver's next turn ends when its remaining clock runs out, not a fresh per-move timeout later.
    expect(b.deadline).toBe(61 + rules.clock - 60);
    expect(transition(rules, b, { kind: 'timeout', by: 'challenger' }, b.deadline + 1).ruling).toMatchObject({ loser: 'solver', at: 'timeout' });
  });
});

describe('the run level needs nothing of the opponent and checks h_0', () => {
  test("a run from another initial state (another seed) loses at leaf 0, as solver or as challenger; both lose if neither is the job's", async () => {
    const { buildProgram } = await import('../../src/train/index.js');
    const { SPEC } = await import('./game-helpers.js');
    const other = await runOf(buildProgram({ ...SPEC, seed: SPEC.seed + 1 }));
    const party = (run: Run, role: 'solver' | 'challenger') => replayParty({ role, program: run.program, reference: honest, store: run.store, record: run.record });
    const asSolver = await playGame(rules, party(other, 'solver'), party(good, 'challenger'), { solverRoot: other.record.commitment!, challengerRoot: good.record.commitment! });
    expect(asSolver.ruling).toMatchObject({ loser: 'solver', at: 'initial', t: 0 });
    expect(asSolver.moves.every((m) => !m.rejected && m.move.kind === 'reveal')).toBe(true);
    const asChallenger = await playGame(rules, party(good, 'solver'), party(other, 'challenger'), { solverRoot: good.record.commitment!, challengerRoot: other.record.commitment! });
    expect(asChallenger.ruling).toMatchObject({ loser: 'challenger', at: 'initial' });
    const third = await runOf(buildProgram({ ...SPEC, seed: SPEC.seed + 2 }));
    const neither = await playGame(rules, party(other, 'solver'), party(third, 'challenger'), { solverRoot: other.record.commitment!, challengerRoot: third.record.commitment! });
    expect(neither.ruling).toMatchObject({ loser: 'both', at: 'initial' });
  });

  test('a solver that withholds its run tree (never reveals) loses by timeout; the challenger needed none of its data', async () => {
    const silent: Party = { role: 'solver', work: { steps: 0, instructions: 0 }, move: async () => undefined };
    const game = await playGame(rules, silent, challenger, { solverRoot: bad.record.commitment!, challengerRoot: good.record.commitment! });
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'timeout' });
    expect(game.moves.filter((m) => !m.rejected)).toHaveLength(0);
  });
});

describe('canonical encoding', () => {
  test('a position has one encoding and hash; moves encode compactly', async () => {
    let pos = await advanceTo('commit-step');
    while (expectedMove(pos) !== 'reveal') pos = transition(rules, pos, (await (pos.turn === 'challenger' ? challenger : solver).move(pos, rules))!, 1);
    expect(positionHash({ ...pos })).toBe(positionHash(pos));
    expect(encodePosition(pos).length).toBeGreaterThan(400);
    const move = (await solver.move(pos, rules)) as Extract<Move, { kind: 'reveal' }>;
    expect(move.nodes.length).toBe(2 ** DESCENT_DEPTH);
    expect(encodeMove(move).length).toBe(2 + 4 + 32 * 2 ** DESCENT_DEPTH);
  });

  test('the honest challenger wins, within 64 rounds, every move accepted', async () => {
    const game = await playGame(rules, solver, challenger, { solverRoot: bad.record.commitment!, challengerRoot: good.record.commitment! });
    expect(game.ruling.loser).toBe('solver');
    expect(game.totalRounds).toBeLessThanOrEqual(64);
    expect(game.moves.every((m) => !m.rejected)).toBe(true);
  });
});

describe('the step program and arbitrary liars', () => {
  test('the step program derived from the spec is the structure of the honest step', async () => {
    const { replayToStep } = await import('../../src/train/index.js');
    const { executeStep } = await import('../../src/verify/index.js');
    const before = await replayToStep(honest, good.store, good.record, T - 1);
    expect(JSON.stringify(executeStep(honest, before).structure)).toBe(JSON.stringify(rules.structure(T)));
  });

  test('a challenger that claims arbitrary machine states loses; one that sends children of nothing times out', async () => {
    const honestSolver = replayParty({ role: 'solver', program: good.program, reference: honest, store: good.store, record: good.record });
    const liar = (corrupt: (m: Move) => Move): Party => {
      const inner = replayParty({ role: 'challenger', program: bad.program, reference: honest, store: bad.store, record: bad.record });
      return { ...inner, move: async (p, r) => { const m = await inner.move(p, r); return m && corrupt(m); } };
    };
    const random = () => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
    const roots = { solverRoot: good.record.commitment!, challengerRoot: bad.record.commitment! };
    const claims = await playGame(rules, honestSolver, liar((m) => (m.kind === 'claim' ? { ...m, hashes: m.hashes.map(random) } : m)), roots);
    expect(claims.ruling).toMatchObject({ loser: 'challenger', at: 'instruction', t: T });
    const reveals = await playGame(rules, honestSolver, liar((m) => (m.kind === 'reveal' ? { ...m, nodes: [...m.nodes].reverse() } : m)), roots);
    expect(reveals.ruling).toMatchObject({ loser: 'challenger', at: 'timeout' });
    expect(reveals.moves.some((m) => m.rejected?.includes('Proof does not verify'))).toBe(true);
  });
});

describe('k-ary descent and bisection', () => {
  test("a frontier is the tree's own subtrees, left to right, and folds back into the node", () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(Uint8Array.of(i)));
      const parts = frontier(n);
      expect(parts.length).toBeLessThanOrEqual(2 ** DESCENT_DEPTH);
      expect(parts.map((p) => p.offset)).toEqual(parts.map((_, i) => parts.slice(0, i).reduce((a, p) => a + p.size, 0)));
      expect(parts.reduce((a, p) => a + p.size, 0)).toBe(n);
      const nodes = parts.map((p) => toHex(merkleRoot(leaves.slice(p.offset, p.offset + p.size))));
      expect(nodeOfFrontier(nodes, n)).toBe(toHex(merkleRoot(leaves)));
    }
    expect(frontier(2 ** DESCENT_DEPTH * 4).every((p) => p.size === 4)).toBe(true);
  });

  test('claims split a range into min(n, 2^D) non-empty parts', () => {
    for (let n = 2; n <= 100; n++) {
      const bounds = [0, ...claimOffsets(n), n];
      expect(bounds.length - 1).toBe(Math.min(n, 2 ** DESCENT_DEPTH));
      for (let j = 1; j < bounds.length; j++) expect(bounds[j]).toBeGreaterThan(bounds[j - 1]);
    }
  });
});
