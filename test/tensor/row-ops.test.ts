// The fused row primitives against the compositions they replaced: forward bits must be identical.
import { afterAll, describe, expect, it } from 'vitest';
import * as T from '../../src/tensor/index.js';
import { Rng, Tensor, configureKernels } from '../../src/tensor/index.js';
import { fromBits } from '../../src/tensor/f32.js';

/** The former composite layerNorm (no affine), primitive by primitive. */
function compositeLayerNorm(x: Tensor, eps: number): Tensor {
  const centered = T.binary('sub', x, T.mean(x, -1, true));
  const variance = T.mean(T.binary('mul', centered, centered), -1, true);
  const inverseStd = T.binary('div', 1, T.unary('sqrt', T.binary('add', variance, eps)));
  return T.binary('mul', centered, inverseStd);
}

/** The former composite softmax, primitive by primitive. */
function compositeSoftmax(x: Tensor): Tensor {
  const shifted = T.binary('sub', x, T.detach(T.max(x, -1, true)));
  const e = T.unary('exp', shifted);
  return T.binary('div', e, T.sum(e, -1, true));
}

const SPECIAL = [0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x3f800000, 0xbf800000, 0x33800000];

/** Random rows at several scales and lengths, rows with special values, constant rows. */
function inputs(): Tensor[] {
  const rng = new Rng(5);
  const out: Tensor[] = [];
  for (const n of [1, 2, 3, 7, 64, 128, 129, 333]) {
    for (const scale of [1e-3, 1, 30, 1e4]) out.push(rng.normal([5, n], 0.5 * scale, scale));
  }
  const special = Float32Array.from({ length: 96 }, (_, i) => (i % 3 === 0 ? fromBits(SPECIAL[(i / 3) % SPECIAL.length]) : Math.fround(Math.sin(i) * 10)));
  out.push(new Tensor(special, [12, 8]), new Tensor(special.slice().reverse(), [8, 12]), new Tensor(new Float32Array(16).fill(-2.25), [4, 4]));
  out.push(rng.normal([2, 3, 4, 16]));
  return out;
}

const bits = (t: Tensor) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size));

describe('fused row primitives', () => {
  afterAll(() => void configureKernels({ kernels: 'fast', threads: 2 }));

  it('layer_norm has the bits of the composition it replaced', () => {
    for (const x of inputs()) {
      for (const eps of [1e-5, 0.1, 0]) expect(bits(T.layerNormLast(x, eps)), `${x.shape} eps ${eps}`).toEqual(bits(compositeLayerNorm(x, eps)));
    }
  });

  it('layer_norm_grad is close to autograd through the composition (its bits differ: one fused order)', () => {
    const rng = new Rng(9);
    const x = rng.normal([16, 128], 0.3, 2);
    const g = rng.normal([16, 128]);
    const xc = new Tensor(x.data, x.shape).requireGrad();
    T.backward(compositeLayerNorm(xc, 1e-5), g);
    const fused = T.layerNormGrad(x, g, 1e-5).data;
    fused.forEach((v, i) => expect(Math.abs(v - xc.grad!.data[i])).toBeLessThan(1e-4 * (1 + Math.abs(v))));
  });

  it('softmax has the bits of the composition it replaced, with reference and fast (wasm exp) kernels', () => {
    const masked = new Tensor(Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 64 > i >> 6 ? -Infinity : Math.fround(Math.cos(i) * 8))), [64, 64]);
    for (const kernels of ['reference', 'fast'] as const) {
      configureKernels({ kernels, threads: 1 });
      for (const x of [...inputs(), masked]) expect(bits(T.softmaxLast(x)), `${kernels} ${x.shape}`).toEqual(bits(compositeSoftmax(x)));
    }
  });

  it('softmax_grad is close to autograd through the composition (its bits differ: one fused order)', () => {
    const rng = new Rng(10);
    const x = rng.normal([16, 128], 0, 3);
    const g = rng.normal([16, 128]);
    const xc = new Tensor(x.data, x.shape).requireGrad();
    T.backward(compositeSoftmax(xc), g);
    const fused = T.softmaxGrad(T.softmaxLast(x), g).data;
    fused.forEach((v, i) => expect(Math.abs(v - xc.grad!.data[i])).toBeLessThan(1e-5));
  });

  it('softmax along another axis stays the composition, with the same bits as the last-axis primitive', () => {
    const x = new Rng(4).normal([6, 9]);
    expect(bits(T.softmax(x, 0))).toEqual(bits(T.transpose(T.softmaxLast(T.transpose(x)))));
  });
});
