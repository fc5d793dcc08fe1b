/**
 * The element-level machine's instruction set: what the one-step referee (TypeScript here, Solidity
 * soft-float on chain) executes. Every value is a 32-bit word; registers are untyped, so a bit cast
 * is no instruction at all: float ops read a word as IEEE binary32, integer ops as two's-complement
 * int32. The codes are part of the canonical encoding: never renumber.
 *
 * Semantics (r = registers, d/a/b register operands, c = imm a third register (select, ffma), imm a u32):
 *   halt a            stop; the element's value is r[a]. Stepping a halted state changes nothing.
 *   jnz a, imm        pc = imm if r[a] != 0, else pc + 1.
 *   const d, imm      r[d] = imm.
 *   load d, a, b, imm r[d] = memory[b][r[a] + imm] (b a literal input number; int32 wrapping add;
 *                     an address outside the input faults: element programs never do that).
 *   select d, a, b, c r[d] = r[a] != 0 ? r[b] : r[c] (raw bits).
 *   fadd fsub fmul fdiv fsqrt(a)   binary32, round to nearest even, subnormals kept (no flush);
 *                     any NaN result is the canonical NaN 0x7fc00000.
 *   ffma d, a, b, c   r[d] = fma(r[a], r[b], r[c]): IEEE fusedMultiplyAdd, a * b + c rounded once (binary32,
 *                     round to nearest even, subnormals kept); any NaN result is the canonical NaN.
 *   fmin fmax         IEEE 754-2019 minimum/maximum: NaN if either is NaN (canonical), -0 < +0.
 *   feq flt fle       r[d] = 1 if r[a] (=, <, <=) r[b] as binary32, else 0; false with a NaN; -0 == +0.
 *   ftoi a            float -> int32, truncating toward zero; saturates (>= 2^31 -> 2^31 - 1,
 *                     <= -2^31 - 1 -> -2^31) and NaN -> 0, as WebAssembly i32.trunc_sat_f32_s.
 *   itof a            int32 -> binary32, round to nearest even.
 *   iadd isub imul    int32, wrapping (low 32 bits of the product).
 *   iand ior ixor     bitwise.
 *   shl shr_s shr_u   shift r[a] by (r[b] & 31): left, arithmetic right, logical right.
 *   ieq ilt ile       r[d] = 1 if r[a] (=, <, <=) r[b] as signed int32, else 0.
 *   divu remu         r[a] / r[b] and r[a] % r[b] as unsigned 32-bit integers, truncating. Division by
 *                     zero does not fault (as RISC-V's divu/remu): divu x, 0 = 0xffffffff, remu x, 0 = x.
 *                     Element programs divide the output index by shape extents, which are never 0.
 * Every instruction but jnz and halt then sets pc = pc + 1; every instruction but a step of a halted
 * state adds 1 to the step count. A pc outside the program faults. An op has one program for all its
 * output elements; element i starts from initialState(i) (state.ts): r0 = i, everything else 0.
 */
export const OPCODE = {
  // control
  halt: 0x00,
  jnz: 0x01,
  // data movement
  const: 0x10,
  load: 0x11,
  select: 0x12,
  // float arithmetic
  fadd: 0x20,
  fsub: 0x21,
  fmul: 0x22,
  fdiv: 0x23,
  fsqrt: 0x24,
  fmin: 0x25,
  fmax: 0x26,
  ffma: 0x27,
  // float compares
  feq: 0x30,
  flt: 0x31,
  fle: 0x32,
  // conversions
  ftoi: 0x40,
  itof: 0x41,
  // integer arithmetic, bitwise and compares
  iadd: 0x50,
  isub: 0x51,
  imul: 0x52,
  iand: 0x53,
  ior: 0x54,
  ixor: 0x55,
  shl: 0x56,
  shr_s: 0x57,
  shr_u: 0x58,
  ieq: 0x59,
  ilt: 0x5a,
  ile: 0x5b,
  divu: 0x5c,
  remu: 0x5d,
} as const;

export type Opcode = keyof typeof OPCODE;

/** Registers r0..r31; the state hash covers all of them. */
export const REGISTER_COUNT = 32;

/** One instruction; operands an opcode does not use are 0 (the encoding is canonical). */
export type Instruction = {
  readonly op: Opcode;
  readonly d: number;
  readonly a: number;
  readonly b: number;
  /** An unsigned 32-bit immediate. */
  readonly imm: number;
};

export type Program = readonly Instruction[];

/** The op's input tensors, each a flat array of 32-bit words (float32 bits or int32), in input order. */
export type Memory = readonly Int32Array[];

const OPCODE_NAMES = new Map<number, Opcode>(Object.entries(OPCODE).map(([name, code]) => [code, name as Opcode]));

export function opcodeOf(code: number): Opcode | undefined {
  return OPCODE_NAMES.get(code);
}
