import { ProgramDecodeError } from './errors.js';
import { OPCODE, REGISTER_COUNT, opcodeOf, type Instruction, type Program } from './isa.js';

/** Bytes per instruction: opcode u8, d u8, a u8, b u8, imm u32 big-endian (as the contract reads it). */
export const INSTRUCTION_BYTES = 8;

export function encodeProgram(program: Program): Uint8Array {
  const bytes = new Uint8Array(program.length * INSTRUCTION_BYTES);
  const view = new DataView(bytes.buffer);
  program.forEach((ins, i) => {
    const at = i * INSTRUCTION_BYTES;
    bytes.set([OPCODE[ins.op], ins.d, ins.a, ins.b], at);
    view.setUint32(at + 4, ins.imm >>> 0);
  });
  return bytes;
}

/** The inverse of encodeProgram; rejects unknown opcodes and register numbers out of range. */
export function decodeProgram(bytes: Uint8Array): Instruction[] {
  if (bytes.length % INSTRUCTION_BYTES !== 0) throw new ProgramDecodeError(bytes.length, `length is not a multiple of ${INSTRUCTION_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: Instruction[] = [];
  for (let at = 0; at < bytes.length; at += INSTRUCTION_BYTES) {
    const op = opcodeOf(bytes[at]);
    if (op === undefined) throw new ProgramDecodeError(at, `unknown opcode 0x${bytes[at].toString(16)}`);
    const [d, a] = [bytes[at + 1], bytes[at + 2]];
    // load's b is an input number, not a register.
    const b = bytes[at + 3];
    const imm = view.getUint32(at + 4);
    const registers = op === 'select' || op === 'ffma' ? [d, a, b, imm] : op === 'load' ? [d, a] : [d, a, b];
    if (registers.some((r) => r >= REGISTER_COUNT)) throw new ProgramDecodeError(at, `a register number above r${REGISTER_COUNT - 1}`);
    program.push({ op, d, a, b, imm });
  }
  return program;
}
