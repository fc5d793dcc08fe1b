/**
 * The meaning of each instruction (isa.ts writes it down in words): one function that advances a
 * mutable state by one instruction. step() wraps it purely; run() uses it in place for speed.
 */
import { bitsOf, CANONICAL_NAN_BITS, ffma, fmax, fmin, fromBits } from '../../tensor/f32.js';
import { MachineFaultError } from './errors.js';
import type { Instruction, Memory, Program } from './isa.js';

export type MutableState = { pc: number; steps: number; halted: boolean; registers: Int32Array };

/** Rounds a float64 that is the exact (or once-rounded, double rounding being innocuous) result to binary32 bits. */
function wordOf(x: number): number {
  return x !== x ? CANONICAL_NAN_BITS : bitsOf(x) | 0;
}

const INT32_LIMIT = 2147483648;

/** Truncation toward zero, saturating, NaN -> 0 (WebAssembly i32.trunc_sat_f32_s). */
function truncateSaturating(x: number): number {
  if (x !== x) return 0;
  if (x >= INT32_LIMIT) return INT32_LIMIT - 1;
  if (x <= -INT32_LIMIT) return -INT32_LIMIT;
  return Math.trunc(x) | 0;
}

export function execute(program: Program, s: MutableState, memory: Memory): void {
  if (s.halted) return;
  const ins = program[s.pc];
  if (ins === undefined) throw new MachineFaultError(s.pc, `pc is outside the program of ${program.length} instructions`);
  executeInstruction(ins, s, memory);
}

/** Advances a state that is not halted by `ins`, the instruction at its pc. */
export function executeInstruction(ins: Instruction, s: MutableState, memory: Memory): void {
  const r = s.registers;
  const a = r[ins.a];
  const b = r[ins.b];
  let next = s.pc + 1;
  let value: number | undefined;
  switch (ins.op) {
    case 'halt': s.halted = true; next = s.pc; break;
    case 'jnz': if (a !== 0) next = ins.imm; break;
    case 'const': value = ins.imm; break;
    case 'load': {
      const input = memory[ins.b];
      const address = (a + ins.imm) | 0;
      if (input === undefined || address < 0 || address >= input.length) {
        throw new MachineFaultError(s.pc, `load of input ${ins.b} at ${address} is out of range`);
      }
      value = input[address];
      break;
    }
    case 'select': value = a !== 0 ? b : r[ins.imm]; break;
    case 'fadd': value = wordOf(fromBits(a) + fromBits(b)); break;
    case 'fsub': value = wordOf(fromBits(a) - fromBits(b)); break;
    case 'fmul': value = wordOf(fromBits(a) * fromBits(b)); break;
    case 'fdiv': value = wordOf(fromBits(a) / fromBits(b)); break;
    case 'fsqrt': value = wordOf(Math.sqrt(fromBits(a))); break;
    case 'fmin': value = wordOf(fmin(fromBits(a), fromBits(b))); break;
    case 'fmax': value = wordOf(fmax(fromBits(a), fromBits(b))); break;
    case 'ffma': value = wordOf(ffma(fromBits(a), fromBits(b), fromBits(r[ins.imm]))); break;
    case 'feq': value = fromBits(a) === fromBits(b) ? 1 : 0; break;
    case 'flt': value = fromBits(a) < fromBits(b) ? 1 : 0; break;
    case 'fle': value = fromBits(a) <= fromBits(b) ? 1 : 0; break;
    case 'ftoi': value = truncateSaturating(fromBits(a)); break;
    case 'itof': value = wordOf(a); break;
    case 'iadd': value = a + b; break;
    case 'isub': value = a - b; break;
    case 'imul': value = Math.imul(a, b); break;
    case 'iand': value = a & b; break;
    case 'ior': value = a | b; break;
    case 'ixor': value = a ^ b; break;
    case 'shl': value = a << b; break;
    case 'shr_s': value = a >> b; break;
    case 'shr_u': value = a >>> b; break;
    case 'ieq': value = a === b ? 1 : 0; break;
    case 'ilt': value = a < b ? 1 : 0; break;
    case 'ile': value = a <= b ? 1 : 0; break;
    case 'divu': value = b === 0 ? -1 : Math.floor((a >>> 0) / (b >>> 0)); break;
    case 'remu': value = b === 0 ? a : (a >>> 0) % (b >>> 0); break;
  }
  // The Int32Array store wraps to 32 bits (imm and shr_u results are unsigned).
  if (value !== undefined) r[ins.d] = value;
  s.pc = next;
  s.steps++;
}
