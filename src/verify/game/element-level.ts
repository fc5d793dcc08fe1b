/**
 * Element level: the element program of (op i, element e) is fixed by the step program. Each party
 * commits to its final machine state, which must be halted with its element word as the result,
 * then the game bisects on machine-state hashes over instruction counts until one instruction
 * separates an agreed state from a disputed one; the referee (referee.ts) executes that one.
 */
import { elementProgram, initialState, stateHashOf, type Program } from '../machine/index.js';
import { expectHex, expectInt, expectWords } from './check.js';
import { MalformedMoveError } from './errors.js';
import { REGISTER_COUNT } from '../machine/isa.js';
import type { OpStructure } from './structure.js';
import { toMachineState, type Move, type Position, type Rules } from './types.js';

const programs = new WeakMap<OpStructure, Map<number, Program>>();

/** The element program both parties and the referee derive (cached per op structure). */
export function programAt(rules: Rules, t: number, op: number, element: number): Program {
  const s = rules.structure(t).ops[op];
  let byElement = programs.get(s);
  if (!byElement) programs.set(s, (byElement = new Map()));
  let program = byElement.get(element);
  if (!program) {
    program = elementProgram({ op: s.op, attrs: s.attrs, inputShapes: s.inputs.map((x) => x.shape), inputDtypes: s.inputs.map((x) => x.dtype), outputShape: s.output.shape }, element).program;
    byElement.set(element, program);
  }
  return program;
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
  const next: Position = { ...pos, phase: 'bisect', turn: 'solver', lo: 0, n, agreed: stateHashOf(initialState()), nodeSolver: pos.pending[0], nodeChallenger: hash, pending: [] };
  return n === 1 ? { ...next, phase: 'prove', turn: 'either' } : next;
}

/** Each party's state hash after lo + floor(n/2) instructions. */
export function claim(_rules: Rules, pos: Position, move: Extract<Move, { kind: 'claim' }>): Position {
  const hash = expectHex('claim', 'hash', move.hash);
  if (move.by === 'solver') return { ...pos, pending: [hash], turn: 'challenger' };
  const half = Math.floor(pos.n / 2);
  const [mine] = pos.pending;
  const next: Position = mine === hash
    ? { ...pos, lo: pos.lo + half, n: pos.n - half, agreed: hash, pending: [], turn: 'solver' }
    : { ...pos, n: half, nodeSolver: mine, nodeChallenger: hash, pending: [], turn: 'solver' };
  return next.n === 1 ? { ...next, phase: 'prove', turn: 'either' } : next;
}
