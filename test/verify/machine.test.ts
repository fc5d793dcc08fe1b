import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/tensor/index.js';
import { CANONICAL_NAN_BITS, bitsOf, ffma, fmax, fmin, fromBits } from '../../src/tensor/f32.js';
import { toHex } from '../../src/platform/sha256.js';
import { leafHash, merkleRoot, rootFromProof } from '../../src/train/merkle.js';
import {
  MachineFaultError,
  OPCODE,
  ProgramDecodeError,
  INDEX_REGISTER,
  REGISTER_COUNT,
  StepLimitError,
  decodeProgram,
  elementProgram,
  encodeProgram,
  encodeState,
  initialState,
  instructionProof,
  programRoot,
  run,
  runTo,
  stateHashOf,
  step,
  type Instruction,
  type MachineState,
  type Opcode,
} from '../../src/verify/machine/index.js';

const ins = (op: Opcode, d = 0, a = 0, b = 0, imm = 0): Instruction => ({ op, d, a, b, imm });

/** r2 = op(r0, r1) in one step, from registers holding a and b. */
function exec(op: Opcode, a: number, b = 0, imm = 0): number {
  const registers = new Int32Array(REGISTER_COUNT);
  registers.set([a, b]);
  const state: MachineState = { pc: 0, steps: 0, halted: false, registers };
  return step([ins(op, 2, 0, 1, imm)], state, [new Int32Array([7, 8, 9])]).registers[2];
}

const SPECIALS = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00000003, 0x007fffff, 0x00800000, 0x3f800000, 0xbf800000, 0x3f800001,
  0x33800000, 0x33800001, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00001, 0xff800001,
  0x4b800000, 0x4f000000, 0xcf000000, 0x4effffff, 0xcf000001, 0x3f000000, 0xbf400000,
].map((w) => w | 0);

function operandPairs(): [number, number][] {
  const words = Array.from(new Rng(5).words(400), (w) => w | 0);
  const values = [...SPECIALS, ...words];
  const pairs: [number, number][] = [];
  for (const a of SPECIALS) for (const b of SPECIALS) pairs.push([a, b]);
  for (let i = 0; i + 1 < values.length; i++) pairs.push([values[i], values[(i * 7 + 3) % values.length]]);
  return pairs;
}

/** The binary32 result of a TypeScript float computation, with the canonical NaN. */
const word = (x: number) => (x !== x ? CANONICAL_NAN_BITS : bitsOf(x)) | 0;
const f = fromBits;

const FLOAT_REFERENCE: Partial<Record<Opcode, (a: number, b: number) => number>> = {
  fadd: (a, b) => word(Math.fround(a + b)),
  fsub: (a, b) => word(Math.fround(a - b)),
  fmul: (a, b) => word(Math.fround(a * b)),
  fdiv: (a, b) => word(Math.fround(a / b)),
  fsqrt: (a) => word(Math.fround(Math.sqrt(a))),
  fmin: (a, b) => word(fmin(a, b)),
  fmax: (a, b) => word(fmax(a, b)),
  feq: (a, b) => (a === b ? 1 : 0),
  flt: (a, b) => (a < b ? 1 : 0),
  fle: (a, b) => (a <= b ? 1 : 0),
};

describe('instruction semantics', () => {
  it.each(Object.keys(FLOAT_REFERENCE) as Opcode[])('%s matches the TypeScript float32 reference on special and random words', (op) => {
    for (const [a, b] of operandPairs()) {
      expect(exec(op, a, b), `${op}(0x${(a >>> 0).toString(16)}, 0x${(b >>> 0).toString(16)})`).toBe(FLOAT_REFERENCE[op]!(f(a), f(b)));
    }
  });

  it('ffma d, a, b, c is fma(r[a], r[b], r[imm]) rounded once, its third operand the register in imm', () => {
    const fma3 = (a: number, b: number, c: number) => {
      const registers = new Int32Array(REGISTER_COUNT);
      registers.set([a, b, c]);
      return step([ins('ffma', 3, 0, 1, 2)], { pc: 0, steps: 0, halted: false, registers }, []).registers[3];
    };
    const pairs = operandPairs();
    pairs.forEach(([a, b], i) => {
      const c = pairs[(i * 13 + 5) % pairs.length][1];
      expect(fma3(a, b, c), `ffma(0x${(a >>> 0).toString(16)}, 0x${(b >>> 0).toString(16)}, 0x${(c >>> 0).toString(16)})`).toBe(word(ffma(f(a), f(b), f(c))));
    });
    const x = bitsOf(1 + 2 ** -12);
    expect(fma3(x, x, bitsOf(-(1 + 2 ** -11)))).toBe(bitsOf(2 ** -24)); // fused; mul-then-add gives 0
    expect(fma3(bitsOf(Infinity), 0, bitsOf(1))).toBe(CANONICAL_NAN_BITS);
    expect(decodeProgram(encodeProgram([ins('ffma', 3, 0, 1, 2)]))).toEqual([ins('ffma', 3, 0, 1, 2)]);
    expect(() => decodeProgram(encodeProgram([ins('ffma', 3, 0, 1, 32)]))).toThrow(ProgramDecodeError);
  });

  it('rounds ties to even, keeps subnormals, and writes every NaN as 0x7fc00000', () => {
    expect(exec('fadd', bitsOf(1), bitsOf(2 ** -24))).toBe(bitsOf(1)); // tie, down to even
    expect(exec('fadd', bitsOf(1 + 2 ** -23), bitsOf(2 ** -24))).toBe(bitsOf(1 + 2 ** -22)); // tie, up to even
    expect(exec('fmul', 3, bitsOf(0.5))).toBe(2); // 1.5 * smallest subnormal -> 2 (even)
    expect(exec('fmul', 1, bitsOf(0.5))).toBe(0); // 0.5 * smallest subnormal -> +0
    expect(exec('fsub', 0x00800000, 0x007fffff)).toBe(1); // subnormal difference, no flush
    expect(exec('fadd', 0x7fa00001, bitsOf(1))).toBe(CANONICAL_NAN_BITS);
    expect(exec('fmul', bitsOf(Infinity), 0)).toBe(CANONICAL_NAN_BITS);
    expect(exec('fsqrt', bitsOf(-1))).toBe(CANONICAL_NAN_BITS);
    expect(exec('fsqrt', 0x80000000)).toBe(0x80000000 | 0); // sqrt(-0) = -0
    expect(exec('fadd', 0x80000000, 0)).toBe(0); // -0 + +0 = +0
    expect(exec('fmax', 0x80000000, 0)).toBe(0);
    expect(exec('fmin', 0, 0x80000000)).toBe(0x80000000 | 0);
    expect(exec('fmax', 0xffc00001 | 0, bitsOf(1))).toBe(CANONICAL_NAN_BITS);
    expect(exec('feq', 0x80000000, 0)).toBe(1);
    expect(exec('feq', CANONICAL_NAN_BITS, CANONICAL_NAN_BITS)).toBe(0);
  });

  it('converts: ftoi truncates and saturates (NaN -> 0), itof rounds to nearest even', () => {
    const ftoi = (x: number) => exec('ftoi', bitsOf(x));
    expect([ftoi(1.99), ftoi(-1.99), ftoi(-0), ftoi(-0.5), ftoi(2147483520), ftoi(-2147483648)]).toEqual([1, -1, 0, 0, 2147483520, -2147483648]);
    expect([ftoi(2147483648), ftoi(Infinity), ftoi(-3e9), ftoi(-Infinity), exec('ftoi', CANONICAL_NAN_BITS)]).toEqual([2147483647, 2147483647, -2147483648, -2147483648, 0]);
    const itof = (n: number) => f(exec('itof', n));
    expect([itof(16777217), itof(16777219), itof(-16777219), itof(2147483647), itof(-2147483648), itof(-5)]).toEqual([16777216, 16777220, -16777220, 2147483648, -2147483648, -5]);
  });

  it('integer ops wrap, shifts use the low 5 bits, compares are signed', () => {
    expect(exec('iadd', 0x7fffffff, 1)).toBe(-2147483648);
    expect(exec('isub', -2147483648, 1)).toBe(0x7fffffff);
    expect(exec('imul', 0x10000, 0x10001)).toBe(0x10000);
    expect(exec('imul', -3, 0x7fffffff)).toBe(Math.imul(-3, 0x7fffffff));
    expect([exec('iand', 0xf0f0, 0xff00), exec('ior', 0xf0f0, 0xff00), exec('ixor', 0xf0f0, 0xff00)]).toEqual([0xf000, 0xfff0, 0x0ff0]);
    expect([exec('shl', 1, 33), exec('shl', 1, 31), exec('shr_s', -8, 1), exec('shr_u', -8, 1), exec('shr_u', -8, 32)]).toEqual([2, -2147483648, -4, 0x7ffffffc, -8]);
    expect([exec('ieq', 5, 5), exec('ilt', -1, 0), exec('ilt', 0x7fffffff, -2147483648), exec('ile', 3, 3)]).toEqual([1, 1, 0, 1]);
  });

  it('divu and remu are unsigned and truncating; x / 0 = 0xffffffff and x % 0 = x, as RISC-V', () => {
    expect([exec('divu', 7, 2), exec('remu', 7, 2), exec('divu', 2, 7), exec('remu', 2, 7)]).toEqual([3, 1, 0, 2]);
    expect([exec('divu', 0x80000000, 2), exec('remu', 0x80000001, 2)]).toEqual([0x40000000, 1]);
    expect([exec('divu', -1, 3), exec('remu', -1, 3)]).toEqual([0x55555555, 0]);
    expect([exec('divu', 0x80000000, -1), exec('remu', 0x80000000, -1)]).toEqual([0, 0x80000000 | 0]);
    expect([exec('divu', -7, 0), exec('remu', -7, 0), exec('divu', 0, 0), exec('remu', 0, 0)]).toEqual([-1, -7, -1, 0]);
    for (const [a, b] of operandPairs()) {
      const [x, y] = [a >>> 0, b >>> 0];
      expect(exec('divu', a, b) >>> 0).toBe(y === 0 ? 0xffffffff : Math.floor(x / y));
      expect(exec('remu', a, b) >>> 0).toBe(y === 0 ? x : x % y);
    }
  });

  it('const, load, select, jnz and halt', () => {
    expect(exec('const', 0, 0, 0xdeadbeef)).toBe(0xdeadbeef | 0);
    const registers1 = Int32Array.from({ length: REGISTER_COUNT }, (_, i) => i);
    const loaded = step([ins('load', 5, 1, 1, 1)], { pc: 0, steps: 0, halted: false, registers: registers1 }, [new Int32Array(3), new Int32Array([7, 8, 9])]);
    expect(loaded.registers[5]).toBe(9); // memory[1][r1 + 1]
    expect(exec('select', 0, 11, 1)).toBe(11); // r0 == 0: r[imm], here r1
    expect(exec('select', 4, 11, 0)).toBe(11); // r0 != 0: r1
    expect(exec('select', 0, 11, 0)).toBe(0);
    const registers = new Int32Array(REGISTER_COUNT).fill(1);
    const jumped = step([ins('jnz', 0, 3, 0, 5)], { pc: 0, steps: 0, halted: false, registers }, []);
    expect([jumped.pc, jumped.steps]).toEqual([5, 1]);
    const halted = step([ins('halt', 0, 3)], initialState(0), []);
    expect([halted.halted, halted.pc, halted.steps]).toEqual([true, 0, 1]);
    expect(step([ins('halt', 0, 3)], halted, [])).toEqual(halted); // a halted machine stays put
  });

  it('faults on a load outside its input, a pc outside the program, and a missing halt', () => {
    expect(() => exec('load', 3)).toThrow(MachineFaultError);
    expect(() => exec('load', -1)).toThrow(MachineFaultError);
    expect(() => step([ins('const')], { ...initialState(0), pc: 1 }, [])).toThrow(MachineFaultError);
    expect(() => run([ins('const', 0, 0, 0, 1), ins('jnz', 0, 0, 0, 0)], [], 0, { maxSteps: 100 })).toThrow(StepLimitError);
  });
});

describe('canonical encoding and state hash', () => {
  const program = elementProgram({ op: 'matmul', attrs: { transposeA: false, transposeB: true }, inputShapes: [[2, 3], [4, 3]], inputDtypes: ['float32', 'float32'], outputShape: [2, 4] }, 5).program;

  it('round-trips programs through 8-byte instructions (opcode, d, a, b, imm u32 big-endian)', () => {
    const bytes = encodeProgram(program);
    expect(bytes.length).toBe(8 * program.length);
    expect(decodeProgram(bytes)).toEqual(program);
    expect(Array.from(encodeProgram([ins('const', 3, 0, 0, 0xff800000)]))).toEqual([OPCODE.const, 3, 0, 0, 0xff, 0x80, 0, 0]);
    expect(() => decodeProgram(new Uint8Array(7))).toThrow(ProgramDecodeError);
    expect(() => decodeProgram(Uint8Array.from([0xee, 0, 0, 0, 0, 0, 0, 0]))).toThrow(ProgramDecodeError);
    expect(() => decodeProgram(Uint8Array.from([OPCODE.fadd, 32, 0, 0, 0, 0, 0, 0]))).toThrow(ProgramDecodeError);
    expect(() => decodeProgram(Uint8Array.from([OPCODE.select, 0, 0, 0, 0, 0, 0, 40]))).toThrow(ProgramDecodeError);
  });

  it('starts element i with r0 = i and everything else 0', () => {
    const start = initialState(0xfffffffe);
    expect([start.pc, start.steps, start.halted, start.registers[INDEX_REGISTER] >>> 0]).toEqual([0, 0, false, 0xfffffffe]);
    expect(Array.from(start.registers).filter((r, i) => i !== INDEX_REGISTER && r !== 0)).toEqual([]);
  });

  it('commits a program by the RFC 6962 root over its 8-byte instructions, with a proof per pc', () => {
    const bytes = encodeProgram(program);
    const leaves = program.map((_, pc) => leafHash(bytes.subarray(8 * pc, 8 * pc + 8)));
    const root = programRoot(program);
    expect(toHex(root)).toBe(toHex(merkleRoot(leaves)));
    for (let pc = 0; pc < program.length; pc++) {
      expect(toHex(rootFromProof(leaves[pc], pc, program.length, instructionProof(program, pc))!)).toBe(toHex(root));
    }
    const other = [...program];
    other[3] = { ...other[3], imm: other[3].imm ^ 1 };
    expect(toHex(programRoot(other))).not.toBe(toHex(root));
  });

  it('hashes pc, steps, halted and every register in a fixed big-endian layout', () => {
    const state = { pc: 3, steps: 9, halted: false, registers: Int32Array.from({ length: REGISTER_COUNT }, (_, i) => i * 0x01010101) };
    const expected = Buffer.alloc(137);
    expected.writeUInt32BE(3, 0);
    expected.writeUInt32BE(9, 4);
    state.registers.forEach((r, i) => expected.writeUInt32BE(r >>> 0, 9 + 4 * i));
    expect(Buffer.from(encodeState(state))).toEqual(expected);
    expect(stateHashOf(state)).toBe(createHash('sha256').update(expected).digest('hex'));
    const hashes = new Set([stateHashOf(state), stateHashOf({ ...state, pc: 4 }), stateHashOf({ ...state, steps: 10 }), stateHashOf({ ...state, halted: true })]);
    for (let r = 0; r < REGISTER_COUNT; r++) {
      const registers = state.registers.slice();
      registers[r] ^= 1 << (r % 32);
      hashes.add(stateHashOf({ ...state, registers }));
    }
    expect(hashes.size).toBe(4 + REGISTER_COUNT);
  });

  it('step is pure, and run, runTo and step agree on every intermediate state', () => {
    const memory = [new Int32Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer), new Int32Array(new Float32Array(12).map((_, i) => i / 3).buffer)];
    const { states, steps, result } = run(program, memory, 5, { keepStates: true });
    expect(states!.length).toBe(steps + 1);
    for (let k = 0; k < steps; k++) {
      const before = stateHashOf(states![k]);
      const next = step(program, states![k], memory);
      expect(stateHashOf(states![k])).toBe(before);
      expect(stateHashOf(next)).toBe(stateHashOf(states![k + 1]));
      expect(stateHashOf(runTo(program, memory, 5, k))).toBe(before);
    }
    expect(stateHashOf(runTo(program, memory, 5, steps + 10))).toBe(stateHashOf(states![steps]));
    const [b1, b2] = [Math.fround(4 / 3), Math.fround(5 / 3)];
    expect(f(result)).toBe(ffma(6, b2, ffma(5, b1, ffma(4, 1, 0)))); // row 1 of A . row 1 of B, fused, k ascending
  });
});
