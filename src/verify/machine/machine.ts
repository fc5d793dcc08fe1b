import { StepLimitError } from './errors.js';
import { execute, executeInstruction, type MutableState } from './execute.js';
import type { Instruction, Memory, Program } from './isa.js';
import { initialState, type MachineState } from './state.js';

/** Executes ONE instruction: what the one-step referee runs. Pure: the input state is untouched. */
export function step(program: Program, state: MachineState, memory: Memory): MachineState {
  const next: MutableState = { ...state, registers: state.registers.slice() };
  execute(program, next, memory);
  return next;
}

/**
 * step() with the instruction at state.pc given instead of the program: what a contract executes once
 * it has checked the instruction against the program's root. A halted state is its own successor.
 */
export function stepInstruction(ins: Instruction, state: MachineState, memory: Memory): MachineState {
  const next: MutableState = { ...state, registers: state.registers.slice() };
  if (!next.halted) executeInstruction(ins, next, memory);
  return next;
}

/** Default step budget: far above any element program of a real op (matmul costs ~8 per k). */
export const DEFAULT_MAX_STEPS = 1 << 26;

export type RunResult = {
  /** The halted register's word (float32 bits or int32). */
  result: number;
  steps: number;
  final: MachineState;
  /** Every state from the initial one to the halted one, when asked for (states[k] is after k steps). */
  states?: MachineState[];
};

/** Runs output element `index` to halt; throws StepLimitError after maxSteps without halting. */
export function run(program: Program, memory: Memory, index: number, { maxSteps = DEFAULT_MAX_STEPS, keepStates = false } = {}): RunResult {
  const s: MutableState = { ...initialState(index) };
  const states: MachineState[] | undefined = keepStates ? [snapshot(s)] : undefined;
  while (!s.halted) {
    if (s.steps >= maxSteps) throw new StepLimitError(maxSteps);
    execute(program, s, memory);
    states?.push(snapshot(s));
  }
  const result = s.registers[program[s.pc].a];
  return { result, steps: s.steps, final: snapshot(s), ...(states ? { states } : {}) };
}

/** The state of element `index` after k instructions (or the halted state, if the program halts sooner): a bisection probe. */
export function runTo(program: Program, memory: Memory, index: number, k: number): MachineState {
  const s: MutableState = { ...initialState(index) };
  while (!s.halted && s.steps < k) execute(program, s, memory);
  return snapshot(s);
}

function snapshot(s: MutableState): MachineState {
  return { pc: s.pc, steps: s.steps, halted: s.halted, registers: s.registers.slice() };
}
