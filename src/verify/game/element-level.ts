/**
 * Element level: the element program of (op i, element e) is fixed by the step program. Each party
 * commits to its final machine state, which must be halted with its element word as the result,
 * then each exchange splits the disputed instruction range into up to 2^DESCENT_DEPTH parts (each
 * party claims the state hashes at the inner bounds) and keeps the first part where the claims
 * differ, until one instruction separates an agreed state from a disputed one; the referee
 * (referee.ts) executes that one.
 */
import { elementProgram, initialState, stateHashOf, type Program } from '../machine/index.js';
import { expectHexList, expectInt, expectWords } from './check.js';
import { DESCENT_DEPTH } from './descend.js';
import { MalformedMoveError } from './errors.js';
import { REGISTER_COUNT } from '../machine/isa.js';
import { elementEntryOfOp, opProgram } from './op-rule.js';
import { toMachineState, type Move, type Position, type Rules } from './types.js';

/** The op's element program (one for all its elements), after checking that `element` is one of them. */
export function programAt(rules: Rules, t: number, op: number, element: number): Program {
  const s = rules.structure(t).ops[op];
  return elementProgram(elementEntryOfOp(s), element, opProgram(s)).program;
}

/** Checks a machine state sent in a move and returns it. */
export function expectState(kind: string, s: unknown) {
  const x = s as { pc: unknown; steps: unknown; halted: unknown; registers: unknown };
  if (!x || typeof x !== 'object' || typeof x.halted !== 'boolean') throw new MalformedMoveError(kind, 'a machine state needs pc, steps, halted and registers');
  return toMachineState({
    pc: expectInt(kind, 'pc', x.pc, 0, 2 ** 32 - 1),
    steps: expectInt(kind, 'steps', x.steps, 0, 2 ** 32 - 1),
    halted: x.halted,
    registers: expectWords(kind, 'registers', x.registers, REGISTER_COUNT),
  });
}

export function commitElement(rules: Rules, pos: Position, move: Extract<Move, { kind: 'commit-element' }>): Position {
  const final = expectState('commit-element', move.final);
  const program = programAt(rules, pos.t, pos.op, pos.element);
  const value = move.by === 'solver' ? pos.valueSolver : pos.valueChallenger;
  if (!final.halted || program[final.pc]?.op !== 'halt' || final.registers[program[final.pc].a] !== value) {
    throw new MalformedMoveError('commit-element', `the final state must be halted with the ${move.by}'s element word as its result`);
  }
  const hash = stateHashOf(final);
  if (move.by === 'solver') return { ...pos, pending: [hash], n: final.steps, turn: 'challenger' };
  const n = Math.max(pos.n, final.steps);
  const next: Position = { ...pos, phase: 'bisect', turn: 'solver', lo: 0, n, agreed: stateHashOf(initialState(pos.element)), nodeSolver: pos.pending[0], nodeChallenger: hash, pending: [] };
  return n === 1 ? { ...next, phase: 'prove', turn: 'either' } : next;
}

/** Parts an exchange splits a range of `n` instructions into. */
export const claimParts = (n: number) => Math.min(2 ** DESCENT_DEPTH, n);

/** The offsets from lo at which each party claims its state hash: floor(j·n/m) for j = 1..m-1 (each part is at least one instruction). */
export const claimOffsets = (n: number): number[] => {
  const m = claimParts(n);
  return Array.from({ length: m - 1 }, (_, j) => Math.floor(((j + 1) * n) / m));
};

/** Each party's state hashes at lo + claimOffsets(n); the game keeps the first part whose end the parties claim differently. */
export function claim(_rules: Rules, pos: Position, move: Extract<Move, { kind: 'claim' }>): Position {
  const offsets = claimOffsets(pos.n);
  const hashes = expectHexList('claim', 'hashes', move.hashes, offsets.length);
  if (hashes.length !== offsets.length) throw new MalformedMoveError('claim', `a range of ${pos.n} instructions takes ${offsets.length} claims`);
  if (move.by === 'solver') return { ...pos, pending: hashes, turn: 'challenger' };
  const i = hashes.findIndex((h, j) => h !== pos.pending[j]);
  const bounds = [0, ...offsets, pos.n];
  const part = i < 0 ? offsets.length : i;
  const next: Position = {
    ...pos, lo: pos.lo + bounds[part], n: bounds[part + 1] - bounds[part], agreed: part === 0 ? pos.agreed : hashes[part - 1], pending: [], turn: 'solver',
    ...(i < 0 ? {} : { nodeSolver: pos.pending[i], nodeChallenger: hashes[i] }),
  };
  return next.n === 1 ? { ...next, phase: 'prove', turn: 'either' } : next;
}
