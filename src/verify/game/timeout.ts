/** A party that does not move by the deadline loses; at the one-step phase ('either') that is the solver. */
import { DeadlineError } from './errors.js';
import type { Move, Position, Ruling } from './types.js';

export function claimTimeout(pos: Position, _move: Extract<Move, { kind: 'timeout' }>, now: number): Position {
  if (now <= pos.deadline) throw new DeadlineError(now, pos.deadline, false);
  const loser = pos.turn === 'challenger' ? 'challenger' : 'solver';
  const ruling: Ruling = {
    loser, at: 'timeout', t: pos.t, op: pos.op, opName: '', element: pos.element, instruction: pos.lo, opcode: 'none',
    reason: `the ${loser} did not move at ${pos.level}/${pos.phase} by ${pos.deadline}`,
  };
  return { ...pos, level: 'done', phase: 'over', turn: 'none', ruling };
}
