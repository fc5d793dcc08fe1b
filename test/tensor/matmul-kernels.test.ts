import { afterAll, describe, expect, it } from 'vitest';
import type { MatmulKernel, MatmulProblem, MatOperand } from '../../src/tensor/kernels/matmul-problem.js';
import { referenceMatmul } from '../../src/tensor/kernels/reference-matmul.js';
import { createWasmMatmul } from '../../src/tensor/kernels/wasm-matmul.js';

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

function problem(seed: number, batch: number, m: number, k: number, n: number, la: Layout = {}, lb: Layout = {}, specials = 0): MatmulProblem {
  const random = seeded(seed);
  const value = () => (random() < specials ? SPECIALS[Math.floor(random() * SPECIALS.length)] : (random() - 0.5) * 4);
  return {
    a: operand(batch, m, k, la, value),
    b: operand(batch, k, n, lb, value),
    out: new Float32Array(batch * m * n).fill(123),
    batch, m, k, n,
  };
}

/** Runs the kernel and the reference on the same problem and returns both outputs as bits. */
function bothBits(kernel: MatmulKernel, p: MatmulProblem): { got: Uint32Array; want: Uint32Array } {
  const expected = new Float32Array(p.out.length);
  referenceMatmul({ ...p, out: expected });
  kernel.matmul(p);
  return { got: new Uint32Array(p.out.buffer), want: new Uint32Array(expected.buffer) };
}

const kernels = [createWasmMatmul({ threads: 1 }), createWasmMatmul({ threads: 2 })];
afterAll(() => kernels.forEach((k) => k.close()));

describe.each(kernels.map((kernel) => [kernel.name, kernel] as const))('%s', (_name, kernel) => {
  it('matches the reference bit for bit on random shapes, edge tiles and k blocks included', () => {
    const shapes = [[1, 1, 1, 1], [1, 1, 7, 1], [1, 3, 5, 7], [1, 4, 16, 8], [1, 13, 17, 11], [1, 37, 29, 41], [3, 5, 2, 9], [2, 9, 300, 10], [1, 71, 67, 73], [1, 6, 1100, 19]];
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
  });

  it('keeps signed zeros, subnormals, infinities and overflow, and writes the canonical NaN', () => {
    for (const [seed, specials] of [[7, 0.3], [8, 0.9], [9, 1]] as const) {
      const p = problem(seed, 2, 11, 6, 21, {}, {}, specials);
      const { got, want } = bothBits(kernel, p);
      expect(got).toEqual(want);
    }
    const overflow = problem(10, 1, 9, 40, 9);
    overflow.a.data.fill(3e38);
    overflow.b.data.fill(0.5); // each product is finite, the sum overflows to +Inf
    const { got, want } = bothBits(kernel, overflow);
    expect(got).toEqual(want);
    expect(got[0]).toBe(0x7f800000);
  });

  it('writes NaN as 0x7fc00000 whatever payload the inputs carry', () => {
    const p = problem(11, 1, 5, 3, 9);
    new Uint32Array(p.a.data.buffer)[0] = 0xffc12345; // a negative NaN with a payload
    new Uint32Array(p.b.data.buffer)[1] = 0x7f800001; // a signalling NaN
    const { got } = bothBits(kernel, p);
    expect(got[0]).toBe(0x7fc00000);
    expect(got[1]).toBe(0x7fc00000);
  });

  it('starts each sum at +0, so sums of -0 products are +0', () => {
    const p = problem(12, 1, 6, 5, 10);
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

it('uses data for which summation order and fused multiply-add change the bits, so the tests can fail', () => {
  const p = problem(1, 1, 16, 300, 16);
  const reference = new Float32Array(p.out.length);
  referenceMatmul({ ...p, out: reference });
  let reversedDiffers = 0;
  let fusedDiffers = 0;
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let reversed = 0;
      let fused = 0;
      for (let q = 299; q >= 0; q--) reversed = Math.fround(reversed + Math.fround(p.a.data[i * 300 + q] * p.b.data[q * 16 + j]));
      for (let q = 0; q < 300; q++) fused = Math.fround(fused + p.a.data[i * 300 + q] * p.b.data[q * 16 + j]);
      if (reversed !== reference[i * 16 + j]) reversedDiffers++;
      if (fused !== reference[i * 16 + j]) fusedDiffers++;
    }
  }
  expect(reversedDiffers).toBeGreaterThan(100);
  expect(fusedDiffers).toBeGreaterThan(50);
});
