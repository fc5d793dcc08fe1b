/**
 * AdamW's fused kernel (tensor/kernels/adamw.ts, what a training run uses) against its composite of primitive ops
 * (what the dispute game traces): the same bits of p, m and v on random shapes, values that include NaN, ±Inf, ±0,
 * subnormals and extremes, and any step, rate, betas, eps and decay. And that a trace still sees the primitive ops.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { adamw } from '../../src/nn/index.js';
import type { OptState, Params } from '../../src/nn/index.js';
import { Tensor, trace } from '../../src/tensor/index.js';

const bits = (t: Tensor) => [...new Uint32Array((t.data as Float32Array).slice().buffer)];

const special = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1.17e-38, 3.4e38, -3.4e38, 1, -1];
const value = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...special) }, { weight: 6, arbitrary: fc.float({ noNaN: true, min: -10, max: 10 }) }, { weight: 2, arbitrary: fc.float() });
const values = (n: number) => fc.array(value, { minLength: n, maxLength: n });

const caseOf = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }))
  .chain(([rows, cols]) => {
    const n = rows * cols;
    return fc.record({
      shape: fc.constant([rows, cols]),
      p: values(n),
      g: values(n),
      m: values(n),
      v: fc.array(fc.oneof(fc.float({ min: 0, max: 100, noNaN: true }), fc.constantFrom(...special)), { minLength: n, maxLength: n }),
      step: fc.integer({ min: 0, max: 50 }),
      lr: fc.oneof(fc.constantFrom(3e-4, 1e-3, 0), fc.double({ min: 1e-6, max: 1, noNaN: true })),
      beta1: fc.constantFrom(0.9, 0.8, 0),
      beta2: fc.constantFrom(0.95, 0.999, 0.5),
      eps: fc.constantFrom(1e-8, 1e-6, 0),
      weightDecay: fc.constantFrom(0.1, 0, 0.01),
    });
  });

describe('AdamW: fused kernel and composite', () => {
  test('the same bits of parameters and moments', () => {
    fc.assert(
      fc.property(caseOf, (c) => {
        const tensor = (xs: number[]) => Tensor.from(new Float32Array(xs), c.shape);
        const params: Params = { w: tensor(c.p) };
        const grads: Params = { w: tensor(c.g) };
        const beta1Power = Math.fround(Math.fround(c.beta1) ** c.step);
        const beta2Power = Math.fround(Math.fround(c.beta2) ** c.step);
        const state: OptState = { step: c.step, tensors: { 'm.w': tensor(c.m), 'v.w': tensor(c.v), beta1Power: Tensor.scalar(beta1Power), beta2Power: Tensor.scalar(beta2Power) } };
        const opt = adamw({ lr: c.lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay });
        const fused = opt.update(params, grads, state);
        const traced = trace(() => opt.update(params, grads, state));
        expect(traced.entries.length).toBeGreaterThan(13); // traced: the primitive ops ran
        const composite = traced.result;
        expect(bits(fused.params.w)).toEqual(bits(composite.params.w));
        expect(bits(fused.state.tensors['m.w'])).toEqual(bits(composite.state.tensors['m.w']));
        expect(bits(fused.state.tensors['v.w'])).toEqual(bits(composite.state.tensors['v.w']));
      }),
      { numRuns: process.env.MYCEL_LONG ? 20_000 : 500 },
    );
  });
});
