import { afterEach, describe, expect, it } from 'vitest';
import { configureKernels, unaryKernel } from '../../src/tensor/backend.js';
import { unary as referenceUnary } from '../../src/tensor/kernels/reference.js';
import { createWasmMath, type MathUnaryOp } from '../../src/tensor/kernels/wasm-math.js';

const OPS: MathUnaryOp[] = ['exp', 'log', 'tanh', 'sigmoid', 'gelu', 'gelu_grad'];
const wasm = createWasmMath();

function fromBits(bits: readonly number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits, (b) => b >>> 0).buffer);
}

/** Every `stride`th float32 bit pattern: both signs, all exponents, subnormals and NaNs. */
function strideBits(stride: number): Float32Array {
  const bits = new Uint32Array(Math.floor((2 ** 32 - 1) / stride) + 1);
  for (let i = 0; i < bits.length; i++) bits[i] = i * stride;
  return new Float32Array(bits.buffer);
}

/** ±0, subnormals, normal limits, ±Inf, NaNs with payloads and sign, and the functions' branch points. */
const SPECIAL_BITS = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00000002, 0x007fffff, 0x807fffff, 0x00400000, 0x00800000,
  0x80800000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001,
  0x7fc00001, 0xffc00001, 0x7fffffff, 0xffffffff, 0x3f800000, 0xbf800000, 0x3fb504f3, 0x3f3504f3,
  0x42b17217, 0x42b17218, 0x42b20000, 0xc2cff1b4, 0xc2cff1b5, 0xc2d00000, 0xc2aeac50, 0x3e99999a, 0x3e999999,
  0x41a00000, 0x41102cb4, 0xc0a00000, 0x41880000, 0x1f800000, 0x5d800000,
  // gelu_grad: its zero near -0.7518, s rounding to 1 (x ~ 4.9) and to 0 (x ~ -10.9), x^2 overflowing
  0xbf40751f, 0x409ccccd, 0xc12e6666, 0x5f800000, 0xdf800000,
];
/** Each special value and its 8 neighbours on each side (both signs). */
const SPECIALS = fromBits(SPECIAL_BITS.flatMap((b) => Array.from({ length: 17 }, (_, d) => b + d - 8)));

/** The first index where the bits differ, described; undefined when all bits agree. */
function firstDifference(input: Float32Array, expected: Float32Array, actual: Float32Array): string | undefined {
  const x = new Uint32Array(input.buffer, input.byteOffset, input.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  for (let i = 0; i < e.length; i++) {
    if (e[i] !== a[i]) {
      const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
      return `index ${i}: x = ${hex(x[i])}, reference ${hex(e[i])}, wasm ${hex(a[i])}`;
    }
  }
  return undefined;
}

function expectSameBits(op: MathUnaryOp, input: Float32Array): void {
  const expected = new Float32Array(input.length);
  referenceUnary(op, input, expected);
  const actual = new Float32Array(input.length).fill(123);
  wasm.unary(op, input, actual);
  expect(firstDifference(input, expected, actual)).toBeUndefined();
}

describe.each(OPS)('wasm %s', (op) => {
  it('writes the scalar reference bits on every 997th float32 bit pattern', () => {
    expectSameBits(op, strideBits(997));
  });

  it('writes the scalar reference bits on special values (±0, subnormals, ±Inf, NaN payloads, branch points)', () => {
    expectSameBits(op, SPECIALS);
  });

  it('handles every tail length 0..9, unaligned subarrays, and dst === src', () => {
    const pool = strideBits(104729).subarray(0, 64);
    for (let length = 0; length <= 9; length++) {
      for (let offset = 0; offset < 4; offset++) {
        const input = pool.subarray(offset, offset + length);
        const expected = new Float32Array(length);
        referenceUnary(op, input, expected);
        const backing = new Float32Array(length + 8).fill(7);
        const actual = backing.subarray(3, 3 + length);
        wasm.unary(op, input, actual);
        expect(firstDifference(input, expected, actual), `length ${length}, offset ${offset}`).toBeUndefined();
        expect([...backing.subarray(0, 3), ...backing.subarray(3 + length)]).toEqual(new Array(8).fill(7));
        const inPlace = input.slice();
        wasm.unary(op, inPlace, inPlace);
        expect(firstDifference(input, expected, inPlace), `in place, length ${length}`).toBeUndefined();
      }
    }
  });
});

describe('unaryKernel', () => {
  afterEach(() => {
    configureKernels({ kernels: 'fast' });
  });

  it('gives the same bits with fast and reference kernels, above and below the wasm size threshold', () => {
    const input = strideBits(65537);
    for (const length of [5, 63, 64, 65, 40000]) {
      for (const op of OPS) {
        const src = input.subarray(0, length);
        configureKernels({ kernels: 'fast' });
        const fast = new Float32Array(length);
        unaryKernel()(op, src, fast);
        configureKernels({ kernels: 'reference' });
        const reference = new Float32Array(length);
        unaryKernel()(op, src, reference);
        expect(firstDifference(src, reference, fast), `${op}, length ${length}`).toBeUndefined();
      }
    }
  });

  it('refuses a dst shorter than src', () => {
    expect(() => wasm.unary('exp', new Float32Array(8), new Float32Array(7))).toThrow(/dst has 7 elements but src has 8/);
  });
});
