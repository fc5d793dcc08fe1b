import { beforeAll, describe, expect, test } from 'vitest';
import {
  adversary, DeadlineError, encodeMove, encodePosition, expectedMove, InvalidProofError, MalformedMoveError, NoDisagreementError,
  OutOfTurnError, playGame, positionHash, replayParty, startGame, transition, UnknownJobError, WrongMoveError,
  type Move, type Party, type Position,
} from '../../src/verify/index.js';
import { honest, rules, runOf, type Run } from './game-helpers.js';

const T = 2;
let good: Run;
let bad: Run;
let solver: Party;
let challenger: Party;

beforeAll(async () => {
  good = await runOf(honest);
  bad = await runOf(adversary.mathExp(honest, T));
  solver = replayParty({ role: 'solver', program: bad.program, reference: honest, store: bad.store, record: bad.record, opponentHashes: good.record.stepHashes });
  challenger = replayParty({ role: 'challenger', program: good.program, reference: honest, store: good.store, record: good.record, opponentHashes: bad.record.stepHashes });
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
    rejects(pos, { kind: 'reveal', by: 'solver', left: 'xyz', right: '00' } as Move, MalformedMoveError);
    rejects(pos, { kind: 'nonsense', by: 'solver' } as unknown as Move, WrongMoveError);
    rejects(pos, { kind: 'reveal', by: 'judge', left: '', right: '' } as unknown as Move, MalformedMoveError);
  });

  test('a move out of turn', async () => {
    const pos = await advanceTo('commit-step');
    const move = (await solver.move(pos, rules))!;
    rejects(pos, { ...move, by: 'challenger' } as Move, OutOfTurnError);
  });

  test('a Merkle proof that does not verify', async () => {
    const pos = start();
    const move = (await challenger.move(pos, rules)) as Extract<Move, { kind: 'open-step' }>;
    const proof = [...move.solver.cur.proof];
    proof[0] = proof[0].replace(/^./, (c) => (c === '0' ? '1' : '0'));
    rejects(pos, { ...move, solver: { ...move.solver, cur: { ...move.solver.cur, proof } } }, InvalidProofError);
    // Children that do not hash to the committed node.
    const at = await advanceTo('reveal');
    const reveal = (await solver.move(at, rules)) as Extract<Move, { kind: 'reveal' }>;
    rejects(at, { ...reveal, left: reveal.right, right: reveal.left }, InvalidProofError);
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
    const silent: Party = { role: 'solver', work: { steps: 0, instructions: 0 }, move: async () => undefined };
    const game = await playGame(rules, silent, challenger, { solverRoot: bad.record.commitment!, challengerRoot: good.record.commitment! });
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'timeout' });
  });

  test('no timeout before the deadline; no move after it', async () => {
    const pos = start();
    expect(() => transition(rules, pos, { kind: 'timeout', by: 'solver' }, pos.deadline)).toThrow(DeadlineError);
    const move = (await challenger.move(pos, rules))!;
    expect(() => transition(rules, pos, move, pos.deadline + 1)).toThrow(DeadlineError);
    expect(transition(rules, pos, { kind: 'timeout', by: 'solver' }, pos.deadline + 1).ruling).toMatchObject({ loser: 'challenger', at: 'timeout' });
  });
});

describe('canonical encoding', () => {
  test('a position has one encoding and hash; moves encode compactly', async () => {
    const pos = await advanceTo('reveal');
    expect(positionHash({ ...pos })).toBe(positionHash(pos));
    expect(encodePosition(pos).length).toBeGreaterThan(400);
    const move = (await solver.move(pos, rules))!;
    expect(encodeMove(move).length).toBe(2 + 64);
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
    const honestSolver = replayParty({ role: 'solver', program: good.program, reference: honest, store: good.store, record: good.record, opponentHashes: bad.record.stepHashes });
    const liar = (corrupt: (m: Move) => Move): Party => {
      const inner = replayParty({ role: 'challenger', program: bad.program, reference: honest, store: bad.store, record: bad.record, opponentHashes: good.record.stepHashes });
      return { ...inner, move: async (p, r) => { const m = await inner.move(p, r); return m && corrupt(m); } };
    };
    const random = () => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
    const roots = { solverRoot: good.record.commitment!, challengerRoot: bad.record.commitment! };
    const claims = await playGame(rules, honestSolver, liar((m) => (m.kind === 'claim' ? { ...m, hash: random() } : m)), roots);
    expect(claims.ruling).toMatchObject({ loser: 'challenger', at: 'instruction', t: T });
    const reveals = await playGame(rules, honestSolver, liar((m) => (m.kind === 'reveal' ? { ...m, left: m.right, right: m.left } : m)), roots);
    expect(reveals.ruling).toMatchObject({ loser: 'challenger', at: 'timeout' });
    expect(reveals.moves.some((m) => m.rejected?.includes('Proof does not verify'))).toBe(true);
  });
});
