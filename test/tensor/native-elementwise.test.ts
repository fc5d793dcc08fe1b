/**
 * The native elementwise kernels (native/elementwise.c) against the reference (reference.ts, the specification),
 * bit for bit: random shapes and broadcasts (fast-check) whose values mix ±0, subnormals, ±Inf, NaNs with payloads
 * and ordinary numbers; the math functions on a sweep of all float32 bit patterns and on their special values; and
 * the fallback: without the addon the ops run the reference. A few hundred cases each in CI, many more under
 * MYCEL_LONG=1.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../src/platform/native-addon.js';
import { configureKernels, elementwiseKernels, unaryKernel } from '../../src/tensor/backend.js';
import { referenceElementwise, type ElementwiseKernels } from '../../src/tensor/kernels/elementwise.js';
import { createNativeElementwise } from '../../src/tensor/kernels/native-elementwise.js';
import { referenceAdamw } from '../../src/tensor/kernels/adamw.js';
import * as ref from '../../src/tensor/kernels/reference.js';
import type { MathUnaryOp } from '../../src/tensor/kernels/wasm-math.js';
import { BINARY_OPS } from '../../src/tensor/op.js';
import { broadcastShapes, sizeOf, type Shape } from '../../src/tensor/shape.js';

const LONG = process.env.MYCEL_LONG === '1';
const RUNS = LONG ? 5000 : 150;
const { addon, why } = loadNativeAddon();
if (!addon) throw new Error(`the native addon does not load (${why}); build it with npm run build`);
const maybeNative = createNativeElementwise(addon, { minNative: 0 });
if (!maybeNative) throw new Error('the native addon has no elementwise kernels; rebuild it with npm run build');
const native = maybeNative;

const SPECIAL_BITS = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff,
  0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xffc00001, 0x7fffffff, 0x3f800000, 0xbf800000, 0x33800000,
];

/** A float32 bit pattern: often special, else an ordinary number near 1 or any pattern at all. */
const floatBits = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_BITS) },
  { weight: 5, arbitrary: fc.float({ min: -8, max: 8, noNaN: true }).map((v) => new Uint32Array(Float32Array.of(v).buffer)[0]) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);

function values(n: number): fc.Arbitrary<Float32Array> {
  return fc.array(floatBits, { minLength: n, maxLength: n }).map((b) => new Float32Array(Uint32Array.from(b).buffer));
}

const bitsOf = (x: Float32Array | Int32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

/** The first index where the bits differ, or -1: for large arrays, where a deep comparison takes seconds. */
function firstDifference(x: Float32Array, y: Float32Array): number {
  const [a, b] = [new Uint32Array(x.buffer, x.byteOffset, x.length), new Uint32Array(y.buffer, y.byteOffset, y.length)];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

/** A shape of rank 0..4, dimensions 1..6 (sometimes 0). */
const shape = fc.array(fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: fc.constant(0) }), { maxLength: 4 });

/** A shape that broadcasts to `out`: trailing axes kept or set to 1, leading ones dropped. */
function broadcastFrom(out: Shape): fc.Arbitrary<number[]> {
  return fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
    .map(([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
}

describe('native elementwise kernels, bit for bit against the reference', () => {
  it('binary ops with broadcasting', () => {
    const cases = shape.chain((out) => fc.tuple(fc.constant(out), broadcastFrom(out), broadcastFrom(out), fc.constantFrom(...BINARY_OPS)))
      .chain(([out, as, bs, op]) => fc.tuple(fc.constant(op), fc.constant(as), values(sizeOf(as)), fc.constant(bs), values(sizeOf(bs)), fc.constant(broadcastShapes(op, as, bs))));
    fc.assert(fc.property(cases, ([op, as, a, bs, b, outShape]) => {
      const expected = new Float32Array(sizeOf(outShape));
      const actual = new Float32Array(expected.length).fill(7);
      ref.binary(op, a, as, b, bs, expected, outShape);
      native.binary(op, a, as, b, bs, actual, outShape);
      expect(bitsOf(actual)).toEqual(bitsOf(expected));
    }), { numRuns: RUNS });
  });

  it('binary ops and sum/max on every pair of special values (±0 orders, NaN payloads, Inf - Inf)', () => {
    const specials = new Float32Array(Uint32Array.from(SPECIAL_BITS).buffer);
    const n = specials.length;
    const a = new Float32Array(n * n).map((_, i) => specials[Math.floor(i / n)]);
    const b = new Float32Array(n * n).map((_, i) => specials[i % n]);
    for (const op of BINARY_OPS) {
      const expected = new Float32Array(n * n);
      const actual = new Float32Array(n * n);
      ref.binary(op, a, [n, n], b, [n, n], expected, [n, n]);
      native.binary(op, a, [n, n], b, [n, n], actual, [n, n]);
      expect(bitsOf(actual), op).toEqual(bitsOf(expected));
    }
    // Pairs as rows [n * n, 2] (inner 1) and as [1, 2, n * n] (inner n * n): a then b, summed or maxed in order.
    const pairs = new Float32Array(2 * n * n).map((_, i) => (i % 2 === 0 ? a[i >> 1] : b[i >> 1]));
    const columns = new Float32Array(2 * n * n).map((_, i) => (i < n * n ? a[i] : b[i - n * n]));
    for (const op of ['sum', 'max'] as const) {
      for (const [x, outer, inner] of [[pairs, n * n, 1], [columns, 1, n * n]] as const) {
        const expected = new Float32Array(n * n);
        const actual = new Float32Array(n * n);
        ref.reduce(op, x, outer, 2, inner, expected);
        native.reduce(op, x, outer, 2, inner, actual);
        expect(bitsOf(actual), `${op}, inner ${inner}`).toEqual(bitsOf(expected));
      }
    }
  });

  it('where, expand and permute copy the same bits (float32 and int32)', () => {
    const cases = shape.chain((out) => fc.tuple(fc.constant(out), broadcastFrom(out), broadcastFrom(out), broadcastFrom(out), fc.boolean(), fc.shuffledSubarray(out.map((_, i) => i), { minLength: out.length, maxLength: out.length })))
      .chain(([out, cs, as, bs, int, perm]) => fc.tuple(fc.constant({ out, cs, as, bs, int, perm }),
        fc.array(fc.integer({ min: -1, max: 1 }), { minLength: sizeOf(cs), maxLength: sizeOf(cs) }), values(sizeOf(as)), values(sizeOf(bs)), values(sizeOf(out))));
    fc.assert(fc.property(cases, ([{ out, cs, as, bs, int, perm }, c, a, b, x]) => {
      const typed = (v: Float32Array) => (int ? new Int32Array(v.buffer) : v);
      const cond = Int32Array.from(c);
      const expected = typed(new Float32Array(sizeOf(out)));
      const actual = typed(new Float32Array(sizeOf(out)).fill(7));
      ref.where(cond, cs, typed(a), as, typed(b), bs, expected, out);
      native.where(cond, cs, typed(a), as, typed(b), bs, actual, out);
      expect(bitsOf(actual)).toEqual(bitsOf(expected));
      ref.expand(typed(a), as, expected, out);
      native.expand(typed(a), as, actual, out);
      expect(bitsOf(actual)).toEqual(bitsOf(expected));
      ref.permute(typed(x), out, perm, expected);
      native.permute(typed(x), out, perm, actual);
      expect(bitsOf(actual)).toEqual(bitsOf(expected));
    }), { numRuns: RUNS });
  });

  it('sum and max over the middle axis', () => {
    const dims = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 9 }));
    const cases = dims.chain(([outer, n, inner]) => fc.tuple(fc.constant([outer, n, inner] as const), fc.constantFrom('sum' as const, 'max' as const), values(outer * n * inner)));
    fc.assert(fc.property(cases, ([[outer, n, inner], op, x]) => {
      const expected = new Float32Array(outer * inner);
      const actual = new Float32Array(outer * inner).fill(7);
      ref.reduce(op, x, outer, n, inner, expected);
      native.reduce(op, x, outer, n, inner, actual);
      expect(bitsOf(actual)).toEqual(bitsOf(expected));
    }), { numRuns: RUNS });
  });

  it('layer_norm, layer_norm_grad, softmax and softmax_grad, row by row', () => {
    const dims = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 70 }));
    const cases = dims.chain(([rows, n]) => fc.tuple(fc.constant([rows, n] as const), values(rows * n), values(rows * n),
      fc.constantFrom(1e-5, 1e-6, 0.5, 0), fc.constantFrom(1, 1e-3, 30, 1e4)));
    fc.assert(fc.property(cases, ([[rows, n], x0, g, eps, scale]) => {
      // Scaled ordinary values make the sums meaningful; the specials stay special.
      const x = x0.map((v) => v * scale);
      const e = Math.fround(eps);
      const run = (f: (k: ElementwiseKernels, out: Float32Array) => void) => {
        const expected = new Float32Array(rows * n);
        const actual = new Float32Array(rows * n).fill(7);
        f(referenceElementwise, expected);
        f(native, actual);
        expect(bitsOf(actual)).toEqual(bitsOf(expected));
      };
      run((k, out) => k.layerNorm(x, rows, n, e, out));
      run((k, out) => k.layerNormGrad(x, g, rows, n, e, out));
      run((k, out) => k.softmax(x, rows, n, out, ref.unary));
      run((k, out) => k.softmaxGrad(x, g, rows, n, out));
    }), { numRuns: RUNS });
  });

  it('neg, abs and sqrt on every 9973rd float32 bit pattern and the special values', () => {
    const sweep = new Uint32Array(Math.floor((2 ** 32 - 1) / 9973) + 1).map((_, i) => i * 9973);
    const x = new Float32Array(Uint32Array.from([...sweep, ...SPECIAL_BITS]).buffer);
    for (const op of ['neg', 'abs', 'sqrt'] as const) {
      const [expected, actual] = [new Float32Array(x.length), new Float32Array(x.length).fill(7)];
      ref.unary(op, x, expected);
      native.basicUnary(op, x, actual);
      expect(bitsOf(actual), op).toEqual(bitsOf(expected));
    }
  });

  it('slice and concat copy the same bits (float32 and int32)', () => {
    const dims = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 6 }), fc.boolean());
    const cases = dims.chain(([outer, ns, inner, int]) => {
      const n = ns.reduce((a, b) => a + b, 0);
      return fc.tuple(fc.constant({ outer, ns, inner, int, n }), values(outer * n * inner), fc.integer({ min: 0, max: n }).chain((a) => fc.tuple(fc.constant(a), fc.integer({ min: a, max: n }))));
    });
    fc.assert(fc.property(cases, ([{ outer, ns, inner, int, n }, all, [start, end]]) => {
      const typed = (v: Float32Array) => (int ? new Int32Array(v.buffer, v.byteOffset, v.length) : v);
      const parts = ns.map((k, i) => all.subarray(0, outer * k * inner).map((_, j) => all[(j * 7 + i) % Math.max(all.length, 1)]));
      const [expected, actual] = [typed(new Float32Array(outer * n * inner)), typed(new Float32Array(outer * n * inner).fill(7))];
      ref.concat(parts.map(typed), outer, ns, inner, expected);
      native.concat(parts.map(typed), outer, ns, inner, actual);
      expect(bitsOf(actual)).toEqual(bitsOf(expected));
      const width = outer * (end - start) * inner;
      const [se, sa] = [typed(new Float32Array(width)), typed(new Float32Array(width).fill(7))];
      ref.slice(typed(all), outer, n, inner, start, end, se);
      native.slice(typed(all), outer, n, inner, start, end, sa);
      expect(bitsOf(sa)).toEqual(bitsOf(se));
    }), { numRuns: RUNS });
  });

  it('AdamW\'s fused update', () => {
    const f32 = Math.fround;
    const constant = fc.oneof(fc.float({ min: f32(1e-8), max: 1, noNaN: true }), fc.constantFrom(0, 1, f32(0.9), f32(0.999), f32(1e-8)));
    const cases = fc.integer({ min: 0, max: 300 }).chain((n) => fc.tuple(values(n), values(n), values(n), values(n).map((v) => v.map(Math.abs)), fc.array(constant, { minLength: 9, maxLength: 9 })));
    fc.assert(fc.property(cases, ([p, g, m, v, k]) => {
      const c = { beta1: k[0], oneMinusBeta1: k[1], beta2: k[2], oneMinusBeta2: k[3], correction1: k[4], correction2: k[5], eps: k[6], decay: k[7], lr: k[8] };
      const expected = [0, 1, 2].map(() => new Float32Array(p.length));
      const actual = [0, 1, 2].map(() => new Float32Array(p.length).fill(7));
      referenceAdamw(p, g, m, v, c, expected[0], expected[1], expected[2]);
      native.adamw(p, g, m, v, c, actual[0], actual[1], actual[2]);
      expect(actual.map(bitsOf)).toEqual(expected.map(bitsOf));
    }), { numRuns: RUNS });
  });
});

describe.each(['exp', 'log', 'tanh', 'sigmoid', 'gelu', 'gelu_grad'] as MathUnaryOp[])('native %s', (op) => {
  const compare = (input: Float32Array) => {
    const expected = new Float32Array(input.length);
    ref.unary(op, input, expected);
    const actual = new Float32Array(input.length).fill(7);
    native.unary(op, input, actual);
    const [e, a, x] = [bitsOf(expected), bitsOf(actual), bitsOf(input)];
    const i = e.findIndex((v, k) => v !== a[k]);
    expect(i < 0 ? undefined : `x = 0x${x[i].toString(16)}: reference 0x${e[i].toString(16)}, native 0x${a[i].toString(16)}`).toBeUndefined();
  };

  // Under MYCEL_LONG=1, 44 million patterns per function: the JavaScript reference takes a minute or more.
  it(`gives the reference bits on every ${LONG ? 97 : 9973}th float32 bit pattern and on special values and their neighbours`, { timeout: LONG ? 900_000 : 60_000 }, () => {
    const stride = LONG ? 97 : 9973;
    const sweep = new Uint32Array(Math.floor((2 ** 32 - 1) / stride) + 1);
    for (let i = 0; i < sweep.length; i++) sweep[i] = i * stride;
    compare(new Float32Array(sweep.buffer));
    const specials = Uint32Array.from([...SPECIAL_BITS, 0x42b17218, 0xc2cff1b5, 0x3e99999a, 0x41a00000, 0xbf40751f, 0x409ccccd, 0xc12e6666, 0x5f800000]
      .flatMap((b) => Array.from({ length: 33 }, (_, d) => (b + d - 16) >>> 0)));
    compare(new Float32Array(specials.buffer));
  });

  it('handles every tail length, unaligned subarrays and dst === src', () => {
    const pool = new Float32Array(Uint32Array.from({ length: 80 }, (_, i) => (i * 104729 * 40503) >>> 0).buffer);
    for (let length = 0; length <= 40; length++) {
      const input = pool.subarray(length % 5, (length % 5) + length);
      const expected = new Float32Array(length);
      ref.unary(op, input, expected);
      const inPlace = input.slice();
      native.unary(op, inPlace, inPlace);
      expect(bitsOf(inPlace)).toEqual(bitsOf(expected));
    }
  });
});

describe('split over the addon\'s threads', () => {
  it('the binary, where, math, row and reduction kernels and AdamW of large tensors give the same bits on 1, 2 and 3 threads as the reference', () => {
    const [rows, n] = [301, 131]; // 39,431 elements: above the split threshold, rows and elements not multiples of 2 or 3
    const x = new Float32Array(rows * n).map((_, i) => Math.sin(i * 12.9898) * (i % 7 === 0 ? 90 : 3));
    const g = new Float32Array(rows * n).map((_, i) => Math.cos(i * 78.233));
    x[17] = NaN;
    x[5 * n + 3] = -Infinity;
    // Memory-bound kernels split from 262,144 elements (where, sums over rows, AdamW) or 524,288 (binary).
    const R = 14 * rows; // 552,034 elements
    const big = new Float32Array(R * n).map((_, i) => (i % 11 === 0 ? -1 : 1) * x[i % x.length]);
    const gBig = big.map((value, i) => value * g[i % g.length]);
    for (const threads of [1, 2, 3]) {
      const k = createNativeElementwise(addon, { threads })!;
      for (const op of ['exp', 'gelu', 'gelu_grad'] as MathUnaryOp[]) {
        const [expected, actual] = [new Float32Array(x.length), new Float32Array(x.length)];
        ref.unary(op, x, expected);
        k.unary(op, x, actual);
        expect(bitsOf(actual), `${op} on ${threads} threads`).toEqual(bitsOf(expected));
      }
      // Binary ops split by output rows: same shapes, a broadcast row, a broadcast column, a [14, 1, 131] operand.
      for (const [as, bs] of [[[R, n], [R, n]], [[R, n], [n]], [[R, 1], [R, n]], [[14, rows, n], [14, 1, n]]] as const) {
        const outShape = broadcastShapes('add', as, bs);
        for (const op of BINARY_OPS) {
          const [expected, actual] = [new Float32Array(sizeOf(outShape)), new Float32Array(sizeOf(outShape))];
          ref.binary(op, big.subarray(0, sizeOf(as)), as, gBig.subarray(0, sizeOf(bs)), bs, expected, outShape);
          k.binary(op, big.subarray(0, sizeOf(as)), as, gBig.subarray(0, sizeOf(bs)), bs, actual, outShape);
          expect(firstDifference(actual, expected), `${op} [${as}] [${bs}] on ${threads} threads`).toBe(-1);
        }
      }
      const run = (name: string, f: (kernels: ElementwiseKernels, out: Float32Array) => void) => {
        const [expected, actual] = [new Float32Array(x.length), new Float32Array(x.length)];
        f(referenceElementwise, expected);
        f(k, actual);
        expect(bitsOf(actual), `${name} on ${threads} threads`).toEqual(bitsOf(expected));
      };
      run('layer_norm', (kernels, out) => kernels.layerNorm(x, rows, n, Math.fround(1e-5), out));
      run('layer_norm_grad', (kernels, out) => kernels.layerNormGrad(x, g, rows, n, Math.fround(1e-5), out));
      run('softmax', (kernels, out) => kernels.softmax(x, rows, n, out, ref.unary));
      run('softmax_grad', (kernels, out) => kernels.softmaxGrad(x, g, rows, n, out));
      const cond = Int32Array.from({ length: n }, (_, i) => i % 3);
      const runBig = (name: string, f: (kernels: ElementwiseKernels, out: Float32Array) => void) => {
        const [expected, actual] = [new Float32Array(big.length), new Float32Array(big.length)];
        f(referenceElementwise, expected);
        f(k, actual);
        expect(firstDifference(actual, expected), `${name} on ${threads} threads`).toBe(-1);
      };
      runBig('where', (kernels, out) => kernels.where(cond, [n], big, [R, n], g.subarray(0, R), [R, 1], out, [R, n]));
      for (const op of ['sum', 'max'] as const) {
        for (const [outer, middle, inner] of [[rows, n, 1], [R, n, 1], [14, rows, n], [1, R, n]] as const) {
          const [expected, actual] = [new Float32Array(outer * inner), new Float32Array(outer * inner)];
          ref.reduce(op, big.subarray(0, outer * middle * inner), outer, middle, inner, expected);
          k.reduce(op, big.subarray(0, outer * middle * inner), outer, middle, inner, actual);
          expect(firstDifference(actual, expected), `${op} [${outer}, ${middle}, ${inner}] on ${threads} threads`).toBe(-1);
        }
      }
      const c = { beta1: Math.fround(0.9), oneMinusBeta1: Math.fround(0.1), beta2: Math.fround(0.95), oneMinusBeta2: Math.fround(0.05), correction1: Math.fround(0.19), correction2: Math.fround(0.0975), eps: Math.fround(1e-8), decay: Math.fround(0.99997), lr: Math.fround(3e-4) };
      const [expected, actual] = [0, 1, 2].map(() => [0, 1, 2].map(() => new Float32Array(big.length)));
      const vBig = big.map(Math.abs);
      referenceAdamw(big, gBig, big, vBig, c, expected[0], expected[1], expected[2]);
      k.adamw(big, gBig, big, vBig, c, actual[0], actual[1], actual[2]);
      actual.forEach((out, i) => expect(firstDifference(out, expected[i]), `adamw output ${i} on ${threads} threads`).toBe(-1));
    }
  });
});

describe('the backend picks them', () => {
  afterAll(() => void configureKernels({ kernels: 'fast' }));

  it('fast kernels run native code; wasm and reference settings, and an absent addon, run the reference', () => {
    configureKernels({ kernels: 'fast' });
    expect(elementwiseKernels().name).toBe(native.name);
    expect(elementwiseKernels().name).toMatch(/^native-(avx512|avx2|baseline)$/);
    configureKernels({ kernels: 'wasm' });
    expect(elementwiseKernels()).toBe(referenceElementwise);
    configureKernels({ kernels: 'reference' });
    expect(elementwiseKernels()).toBe(referenceElementwise);
    expect(unaryKernel()).toBe(ref.unary);
    // An addon without the elementwise exports (built before them) gives no native kernels.
    const { binary: _binary, ...older } = addon;
    expect(createNativeElementwise(older)).toBeUndefined();
  });
});
