/**
 * The game's transition function: (rules, position, move, now) -> position. Checks whose turn it is,
 * the deadline and that the move fits the phase, then hands it to the one function for that phase.
 * Throws (the position is unchanged: it is a value) on a move out of turn, a malformed move or a proof
 * that does not verify; the error names the reason and what to send.
 */
import { ruleInstruction, ruleState } from '../referee.js';
import { runStart } from './run-level.js';
import { commitStep } from './step-level.js';
import { reveal } from './descend.js';
import { commitOp, openChunk } from './op-level.js';
import { claim, commitElement } from './element-level.js';
import { claimTimeout } from './timeout.js';
import { DeadlineError, GameOverError, MalformedMoveError, NoDisagreementError, OutOfTurnError, UnknownJobError, WrongMoveError } from './errors.js';
import { expectHex } from './check.js';
import { ZERO, type Move, type Position, type Rules } from './types.js';

/** The position a dispute starts from: the descent of the run trees, the solver to move. Rejects an unknown job and equal commitments. */
export function startGame(rules: Rules, { jobId, solverRoot, challengerRoot }: { jobId: string; solverRoot: string; challengerRoot: string }, now: number): Position {
  if (jobId !== rules.jobId) throw new UnknownJobError(`${jobId} (these rules are job ${rules.jobId})`);
  expectHex('start', 'solverRoot', solverRoot);
  expectHex('start', 'challengerRoot', challengerRoot);
  if (solverRoot === challengerRoot) throw new NoDisagreementError('the two run commitments are equal');
  return runStart(rules, {
    jobId: rules.jobId, level: 'run', phase: 'bisect', turn: 'solver', deadline: now + rules.clock, clockSolver: rules.clock, clockChallenger: rules.clock, round: 0,
    solverRoot, challengerRoot, t: 0, hPrev: ZERO, hSolver: ZERO, hChallenger: ZERO, stepRootSolver: ZERO, stepRootChallenger: ZERO,
    op: 0, element: 0, lo: 0, n: 0, nodeSolver: ZERO, nodeChallenger: ZERO, agreed: ZERO, pending: [], pendingWords: [],
    valueSolver: 0, valueChallenger: 0, ruling: null,
  });
}

/** The move kind each (level, phase) expects. */
export function expectedMove(pos: Position): Move['kind'] | 'none' {
  if (pos.level === 'done') return 'none';
  if (pos.phase === 'prove') return pos.level === 'state' ? 'prove-state' : 'prove';
  if (pos.phase === 'bisect') return pos.level === 'element' ? 'claim' : 'reveal';
  if (pos.phase === 'open') return 'open-chunk';
  return pos.level === 'step' ? 'commit-step' : pos.level === 'op' ? 'commit-op' : 'commit-element';
}

export function transition(rules: Rules, pos: Position, move: Move, now: number): Position {
  if (pos.level === 'done') throw new GameOverError();
  if (!move || typeof move !== 'object' || typeof move.kind !== 'string') throw new MalformedMoveError('unknown', 'a move is an object with a kind');
  if (move.by !== 'solver' && move.by !== 'challenger') throw new MalformedMoveError(move.kind, 'by must be solver or challenger');
  if (move.kind === 'timeout') return claimTimeout(pos, move, now);
  if (now > pos.deadline) throw new DeadlineError(now, pos.deadline, true);
  const expected = expectedMove(pos);
  if (pos.turn !== 'either' && move.by !== pos.turn) throw new OutOfTurnError(move.by, pos.turn, expected);
  if (move.kind !== expected) throw new WrongMoveError(move.kind, pos.level, pos.phase, `a ${expected} move`);
  const next = charge(apply(rules, pos, move), pos, now);
  const exchanged = next.turn !== 'challenger';
  return { ...next, round: pos.round + (exchanged ? 1 : 0) };
}

/**
 * The chess clock: the party whose turn it was (the solver at 'either') keeps the ticks it had left at `now`; the party
 * to move next has until now plus its own clock. Nothing resets a clock, so a dispute ends within 2 x rules.clock ticks.
 */
function charge(next: Position, pos: Position, now: number): Position {
  const left = pos.deadline - now;
  const clocks = pos.turn === 'challenger' ? { clockSolver: pos.clockSolver, clockChallenger: left } : { clockSolver: left, clockChallenger: pos.clockChallenger };
  return { ...next, ...clocks, deadline: now + (next.turn === 'challenger' ? clocks.clockChallenger : clocks.clockSolver) };
}

function apply(rules: Rules, pos: Position, move: Move): Position {
  switch (move.kind) {
    case 'commit-step': return commitStep(rules, pos, move);
    case 'reveal': return reveal(rules, pos, move);
    case 'commit-op': return commitOp(rules, pos, move);
    case 'open-chunk': return openChunk(rules, pos, move);
    case 'commit-element': return commitElement(rules, pos, move);
    case 'claim': return claim(rules, pos, move);
    case 'prove-state': return { ...pos, level: 'done', phase: 'over', turn: 'none', ruling: ruleState(rules, pos, move) };
    case 'prove': return { ...pos, level: 'done', phase: 'over', turn: 'none', ruling: ruleInstruction(rules, pos, move) };
    default: throw new MalformedMoveError((move as { kind: string }).kind, 'unknown move kind');
  }
}
