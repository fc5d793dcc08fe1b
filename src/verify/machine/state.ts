import { sha256, toHex } from '../../platform/sha256.js';
import { REGISTER_COUNT } from './isa.js';

/** What the element game commits to after each instruction. */
export type MachineState = {
  readonly pc: number;
  /** Instructions executed so far. */
  readonly steps: number;
  readonly halted: boolean;
  readonly registers: Int32Array;
};

/** The register that holds the output index when an element program starts. */
export const INDEX_REGISTER = 0;

/**
 * The state element `index` of an op starts from: every op has one program for all its elements, and
 * this register is what tells them apart; pc, steps and every other register are 0.
 */
export function initialState(index: number): MachineState {
  const registers = new Int32Array(REGISTER_COUNT);
  registers[INDEX_REGISTER] = index;
  return { pc: 0, steps: 0, halted: false, registers };
}

/** Bytes hashed per state: pc u32, steps u32, halted u8, then r0..r31 as u32, all big-endian. */
export const STATE_BYTES = 4 + 4 + 1 + 4 * REGISTER_COUNT;

export function encodeState(state: MachineState): Uint8Array {
  const bytes = new Uint8Array(STATE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, state.pc);
  view.setUint32(4, state.steps);
  bytes[8] = state.halted ? 1 : 0;
  state.registers.forEach((word, i) => view.setUint32(9 + 4 * i, word >>> 0));
  return bytes;
}

/** SHA-256 of encodeState, as hex: the leaf of the element-level bisection. */
export function stateHashOf(state: MachineState): string {
  return toHex(sha256(encodeState(state)));
}
