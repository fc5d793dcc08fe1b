import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/index.js';
import { adamw, clipGradNorm, crossEntropy, mseLoss, sgd, warmupCosine, type Params } from '../../src/nn/index.js';

const scalars = (values: number[]) => Tensor.from(values);

describe('AdamW', () => {
  it('matches a float64 hand computation of PyTorch\'s formula within float32 tolerance', () => {
    const [lr, b1, b2, eps, wd] = [0.01, 0.9, 0.95, 1e-8, 0.1];
    const optimizer = adamw({ lr, beta1: b1, beta2: b2, eps, weightDecay: wd });
    const gradsByStep = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.3], [-0.2, 0.0, 1.5]];
    let params: Params = { w: scalars([0.5, -1.5, 2]) };
    let state = optimizer.init(params);
    const p = [0.5, -1.5, 2], m = [0, 0, 0], v = [0, 0, 0];
    gradsByStep.forEach((g, t) => {
      ({ params, state } = optimizer.update(params, { w: scalars(g) }, state));
      for (let i = 0; i < 3; i++) {
        p[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const mHat = m[i] / (1 - b1 ** (t + 1));
        const vHat = v[i] / (1 - b2 ** (t + 1));
        p[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
      params.w.data.forEach((x, i) => expect(Math.abs(x - p[i])).toBeLessThan(2e-6 * Math.max(1, Math.abs(p[i]))));
      state.tensors['m.w'].data.forEach((x, i) => expect(x).toBeCloseTo(m[i], 6));
    });
    expect(state.step).toBe(3);
    expect(state.tensors.beta1Power.item()).toBe(Math.fround(Math.fround(Math.fround(0.9) * Math.fround(0.9)) * Math.fround(0.9)));
    expect(Object.keys(state.tensors)).toEqual(['m.w', 'v.w', 'beta1Power', 'beta2Power']);
  });

  it('does not mutate the params, grads or state it is given', () => {
    const optimizer = adamw({ lr: 0.1 });
    const params = { w: scalars([1, 2]) };
    const state = optimizer.init(params);
    const next = optimizer.update(params, { w: scalars([1, 1]) }, state);
    expect(params.w.toArray()).toEqual([1, 2]);
    expect(state.tensors['m.w'].toArray()).toEqual([0, 0]);
    expect(state.step).toBe(0);
    expect(next.params.w.toArray()).not.toEqual([1, 2]);
  });
});

describe('SGD with momentum', () => {
  it('follows torch.optim.SGD: buf = momentum * buf + g, p = p - lr * buf', () => {
    const optimizer = sgd({ lr: 0.5, momentum: 0.9 });
    let params: Params = { w: scalars([1]) };
    let state = optimizer.init(params);
    ({ params, state } = optimizer.update(params, { w: scalars([2]) }, state));
    expect(params.w.item()).toBe(0); // 1 - 0.5 * 2
    ({ params, state } = optimizer.update(params, { w: scalars([1]) }, state));
    const buf = Math.fround(Math.fround(Math.fround(0.9) * 2) + 1);
    expect(state.tensors['momentum.w'].item()).toBe(buf);
    expect(params.w.item()).toBe(Math.fround(0 - Math.fround(buf * 0.5)));
  });
});

describe('clipGradNorm', () => {
  it('scales all gradients by maxNorm / norm when the global norm is larger', () => {
    const { norm, grads } = clipGradNorm({ a: scalars([3, 0]), b: scalars([4]) }, 1);
    expect(norm).toBe(5);
    expect(grads.a.data[0]).toBeCloseTo(0.6, 6);
    expect(grads.b.data[0]).toBeCloseTo(0.8, 6);
    expect(Object.keys(grads)).toEqual(['a', 'b']);
  });

  it('leaves gradients bit-identical when the norm is within the limit', () => {
    const { norm, grads } = clipGradNorm({ a: scalars([0.3, -0.4]) }, 1);
    expect(norm).toBe(Math.fround(Math.sqrt(Math.fround(Math.fround(0.09) + Math.fround(0.16)))));
    expect(grads.a.toArray()).toEqual(scalars([0.3, -0.4]).toArray());
  });
});

describe('warmupCosine', () => {
  const schedule = warmupCosine({ warmup: 10, total: 110, peak: 1e-3, floor: 1e-4 });

  it('warms up linearly, reaching the peak at the last warmup step', () => {
    expect(schedule(0)).toBe(Math.fround(Math.fround(1e-3) * Math.fround(0.1)));
    expect(schedule(9)).toBe(Math.fround(1e-3));
  });

  it('follows half a cosine from the peak to the floor, then stays at the floor', () => {
    expect(schedule(10)).toBe(Math.fround(1e-3));
    expect(schedule(60)).toBeCloseTo(5.5e-4, 9);
    expect(schedule(35)).toBeCloseTo(1e-4 + 0.9e-3 * 0.5 * (1 + Math.cos(Math.PI / 4)), 9);
    expect(schedule(110)).toBe(Math.fround(1e-4));
    expect(schedule(1000)).toBe(Math.fround(1e-4));
    for (let s = 10; s < 110; s++) expect(schedule(s + 1)).toBeLessThanOrEqual(schedule(s));
  });

  it('returns float32 values', () => {
    for (let s = 0; s < 120; s += 7) expect(Math.fround(schedule(s))).toBe(schedule(s));
  });
});

describe('mseLoss', () => {
  it('is the mean of squared differences', () => {
    expect(mseLoss(Tensor.from([1, 2, 3, 4], [2, 2]), Tensor.from([1, 0, 3, 0], [2, 2])).item()).toBe(5);
    expect(() => mseLoss(Tensor.from([1, 2]), Tensor.from([1, 2, 3]))).toThrow(/same shape/);
  });
});

describe('crossEntropy with a mask', () => {
  it('averages only over the positions where the mask is 1', () => {
    const logits = Tensor.from([2, 0, 0, 0, 5, 0, 9, -9, 3], [3, 3]);
    const targets = Tensor.from([0, 1, 1], [3], 'int32');
    const lse = (row: number[]) => Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
    const nll = [lse([2, 0, 0]) - 2, lse([0, 5, 0]) - 5];
    const masked = crossEntropy(logits, targets, Tensor.from([1, 1, 0])).item();
    expect(masked).toBeCloseTo((nll[0] + nll[1]) / 2, 5);
    expect(crossEntropy(logits, targets).item()).toBeGreaterThan(masked); // the third row (target -9) dominates
  });
});
