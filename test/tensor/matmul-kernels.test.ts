import { afterAll, describe, expect, it } from 'vitest';
import type { MatmulKernel, MatmulProblem, MatOperand } from '../../src/tensor/kernels/matmul-problem.js';
import { referenceMatmul } from '../../src/tensor/kernels/reference-matmul.js';
import { createWasmMatmul, hasWasmFmaMatmul } from '../../src/tensor/kernels/wasm-matmul.js';
import { createNativeMatmul } from '../../src/tensor/kernels/native-matmul.js';
import { loadNativeAddon } from '../../src/platform/native-addon.js';
import { ffma } from '../../src/tensor/f32.js';

/** mulberry32: a small seeded generator, so that a failure reproduces. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIALS = [0, -0, 1e-45, -1e-45, 1.1754942e-38, 1.17549435e-38, Infinity, -Infinity, NaN, 3e38, -3e38, 1, -1, 0.1];

type Layout = { transposed?: boolean; broadcast?: boolean; offset?: number };

/** A [batch, rows, cols] operand laid out as asked (row- or column-major, batch stride 0, leading padding). */
function operand(batch: number, rows: number, cols: number, layout: Layout, value: () => number): MatOperand {
  const offset = layout.offset ?? 0;
  const stored = layout.broadcast ? 1 : batch;
  const data = new Float32Array(offset + stored * rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = value();
  const strides: [number, number, number] = layout.transposed ? [rows * cols, 1, rows] : [rows * cols, cols, 1];
  if (layout.broadcast) strides[0] = 0;
  return { data, offset, strides };
}

function problem(seed: number, batch: number, m: number, k: number, n: number, la: Layout = {}, lb: Layout = {}, specials = 0): MatmulProblem & { key?: string } {
  const random = seeded(seed);
  const value = () => (random() < specials ? SPECIALS[Math.floor(random() * SPECIALS.length)] : (random() - 0.5) * 4);
  return {
    key: JSON.stringify([seed, batch, m, k, n, la, lb, specials]),
    a: operand(batch, m, k, la, value),
    b: operand(batch, k, n, lb, value),
    out: new Float32Array(batch * m * n).fill(123),
    batch, m, k, n,
  };
}

/** Runs the kernel and the reference on the same problem and returns both outputs as bits. */
function bothBits(kernel: MatmulKernel, p: MatmulProblem & { key?: string }): { got: Uint32Array; want: Uint32Array } {
  let want = p.key === undefined ? undefined : referenceBits.get(p.key);
  if (!want) {
    const expected = new Float32Array(p.out.length);
    referenceMatmul({ ...p, out: expected });
    want = new Uint32Array(expected.buffer);
    if (p.key !== undefined) referenceBits.set(p.key, want);
  }
  kernel.matmul(p);
  return { got: new Uint32Array(p.out.buffer), want };
}

/** The reference's output per generated problem (each kernel runs the same problems; the reference is slow). */
const referenceBits = new Map<string, Uint32Array>();

const { addon } = loadNativeAddon();
const wasmKernels = [createWasmMatmul({ threads: 1 }), createWasmMatmul({ threads: 2 })];
// Every native kernel this CPU runs (avx512, avx2, neon, scalar), on 1 and 2 threads, with the parallel
// threshold the runtime uses (the 2-thread runs split the larger problems below).
const nativeKernels = (addon?.kernels ?? []).flatMap((kernel) => [1, 2].map((threads) => createNativeMatmul(addon!, { kernel, threads })));
const kernels: (MatmulKernel & { threads: number })[] = [...wasmKernels, ...nativeKernels];
afterAll(() => wasmKernels.forEach((k) => k.close()));

it('has the native addon built here (npm run build compiles it with the machine\'s C compiler)', () => {
  expect(addon?.kernels).toContain('scalar');
});

describe.each(kernels.map((kernel) => [`${kernel.name} ${kernel.threads}t`, kernel] as const))('%s', (_name, kernel) => {
  it('matches the reference bit for bit on random shapes, edge tiles, k blocks and a threaded split included', () => {
    const shapes = [[1, 1, 1, 1], [1, 1, 7, 1], [1, 3, 5, 7], [1, 4, 16, 8], [1, 13, 17, 11], [1, 37, 29, 41], [3, 5, 2, 9], [2, 9, 300, 10], [1, 71, 67, 73], [1, 6, 1100, 19], [1, 130, 260, 140]];
    shapes.forEach(([batch, m, k, n], i) => {
      const { got, want } = bothBits(kernel, problem(i + 1, batch, m, k, n));
      expect(got).toEqual(want);
    });
  });

  it('follows operand strides: transposed, offset, broadcast batch', () => {
    const layouts: [Layout, Layout][] = [
      [{ transposed: true }, {}],
      [{}, { transposed: true, offset: 3 }],
      [{ offset: 5 }, { broadcast: true }],
      [{ broadcast: true, transposed: true }, { transposed: true }],
    ];
    layouts.forEach(([la, lb], i) => {
      const { got, want } = bothBits(kernel, problem(100 + i, 3, 19, 23, 13, la, lb));
      expect(got).toEqual(want);
      const large = bothBits(kernel, problem(200 + i, 2, 66, 70, 67, la, lb));
      expect(large.got).toEqual(large.want);
    });
    // A transposed against many B panels (packed, where few panels read it in place), split over threads
    const wide = bothBits(kernel, problem(210, 2, 70, 110, 300, { transposed: true }, {}));
    expect(wide.got).toEqual(wide.want);
  });

  it('matches the reference on batches with short row and column tiles, k blocks, specials and a threaded split', () => {
    // 3 x 67 x 600 x 45 multiply-adds split over threads; 67 rows and 45 columns leave edge tiles, 600 three k blocks
    const layouts: [Layout, Layout][] = [[{ offset: 7 }, { broadcast: true }], [{ transposed: true }, { offset: 2 }]];
    layouts.forEach(([la, lb], i) => {
      const { got, want } = bothBits(kernel, problem(300 + i, 3, 67, 600, 45, la, lb, 0.02));
      expect(got).toEqual(want);
    });
  });

  it('keeps signed zeros, subnormals, infinities and overflow, and writes the canonical NaN', () => {
    for (const [seed, specials] of [[7, 0.3], [8, 0.9], [9, 1]] as const) {
      const p = problem(seed, 2, 11, 6, 21, {}, {}, specials);
      const { got, want } = bothBits(kernel, p);
      expect(got).toEqual(want);
    }
    const overflow = problem(10, 1, 9, 40, 9);
    delete overflow.key; // changed below: no cached reference
    overflow.a.data.fill(3e38);
    overflow.b.data.fill(0.5); // each product is finite, the sum overflows to +Inf
    const { got, want } = bothBits(kernel, overflow);
    expect(got).toEqual(want);
    expect(got[0]).toBe(0x7f800000);
  });

  it('rounds once in the subnormal range and where products cancel', () => {
    const tiny = problem(15, 2, 7, 33, 12);
    delete tiny.key; // changed below: no cached reference
    tiny.a.data.forEach((v, i) => (tiny.a.data[i] = Math.fround(v * 2 ** -70)));
    tiny.b.data.forEach((v, i) => (tiny.b.data[i] = Math.fround(v * 2 ** -60)));
    const subnormal = bothBits(kernel, tiny);
    expect(subnormal.got).toEqual(subnormal.want);
    expect(subnormal.want.some((bits) => (bits & 0x7f800000) === 0 && (bits & 0x7fffff) !== 0)).toBe(true);
    // row i (-1, x_i) against column j (round(x_j^2), x_j): the diagonal is x_i^2 - round(x_i^2), the rounding
    // error of the product, which only a fused multiply-add keeps
    const cancel = problem(16, 1, 8, 2, 8);
    delete cancel.key; // changed below: no cached reference
    for (let i = 0; i < 8; i++) {
      const x = Math.fround(1 + i * 0.1234567);
      cancel.a.data.set([-1, x], i * 2);
      cancel.b.data[i] = Math.fround(x * x);
      cancel.b.data[8 + i] = x;
    }
    const exact = bothBits(kernel, cancel);
    expect(exact.got).toEqual(exact.want);
    expect([0, 9, 18, 27, 36, 45, 54, 63].filter((d) => exact.want[d] !== 0).length).toBeGreaterThan(4);
  });

  it('writes NaN as 0x7fc00000 whatever payload the inputs carry', () => {
    const p = problem(11, 1, 5, 3, 9);
    delete p.key; // changed below: no cached reference
    new Uint32Array(p.a.data.buffer)[0] = 0xffc12345; // a negative NaN with a payload
    new Uint32Array(p.b.data.buffer)[1] = 0x7f800001; // a signalling NaN
    const { got } = bothBits(kernel, p);
    expect(got[0]).toBe(0x7fc00000);
    expect(got[1]).toBe(0x7fc00000);
  });

  it('starts each sum at +0, so sums of -0 products are +0', () => {
    const p = problem(12, 1, 6, 5, 10);
    delete p.key; // changed below: no cached reference
    p.a.data.fill(-0);
    p.b.data.fill(1);
    const { got } = bothBits(kernel, p);
    expect(Array.from(new Set(got))).toEqual([0]);
  });

  it('writes zeros for k = 0 and nothing for an empty output', () => {
    const p = problem(13, 2, 3, 0, 5);
    kernel.matmul(p);
    expect(Array.from(new Set(new Uint32Array(p.out.buffer)))).toEqual([0]);
    kernel.matmul(problem(14, 1, 0, 4, 5));
  });

  it('gives the same bits when the problems alternate between shapes (memory reused and grown)', () => {
    for (const size of [90, 8, 130, 33]) {
      const { got, want } = bothBits(kernel, problem(size, 1, size, size, size));
      expect(got).toEqual(want);
    }
  });
});

it('uses data for which summation order and mul-then-add change the bits, so the tests can fail', () => {
  const p = problem(1, 1, 16, 300, 16);
  const reference = new Float32Array(p.out.length);
  referenceMatmul({ ...p, out: reference });
  let reversedDiffers = 0;
  let unfusedDiffers = 0;
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let reversed = 0;
      let unfused = 0;
      for (let q = 299; q >= 0; q--) reversed = ffma(p.a.data[i * 300 + q], p.b.data[q * 16 + j], reversed);
      for (let q = 0; q < 300; q++) unfused = Math.fround(unfused + Math.fround(p.a.data[i * 300 + q] * p.b.data[q * 16 + j]));
      if (reversed !== reference[i * 16 + j]) reversedDiffers++;
      if (unfused !== reference[i * 16 + j]) unfusedDiffers++;
    }
  }
  expect(reversedDiffers).toBeGreaterThan(100);
  expect(unfusedDiffers).toBeGreaterThan(50);
});

it('finds relaxed_madd fused on this engine (V8 on x86-64 with FMA3 or ARM64), so the WebAssembly kernel runs', () => {
  expect(hasWasmFmaMatmul()).toBe(true);
});

it('refuses an output that shares memory with A, which the native threads read in place while writing rows', () => {
  if (!addon) return;
  const shared = new Float32Array(64 * 64 * 2);
  const a = { data: shared.subarray(0, 64 * 64), offset: 0, strides: [0, 64, 1] as const };
  const b = { data: new Float32Array(64 * 64), offset: 0, strides: [0, 64, 1] as const };
  const kernel = createNativeMatmul(addon, { threads: 2 });
  expect(() => kernel.matmul({ a, b, out: shared.subarray(32 * 64), batch: 1, m: 64, k: 64, n: 64 })).toThrow(/shares memory with A/);
  kernel.matmul({ a, b, out: shared.subarray(64 * 64), batch: 1, m: 64, k: 64, n: 64 }); // adjacent, not shared
});
