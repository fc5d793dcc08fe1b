/**
 * AdamW's update of one parameter tensor in one pass. nn/adamw.ts states the formula and runs it as primitive ops
 * where a trace watches them (the dispute game); this loop runs the same float32 ops on each element in the same
 * order, each rounded once with Math.fround (f32.ts: one + - * / or sqrt of float32 values so rounded is the
 * correctly rounded float32 result), so its results are the composite's bits (test/tensor/adamw-kernel.test.ts). It
 * reads p, g, m, v once and writes p, m, v once, where the composite runs 13 ops that each write a whole tensor.
 * native/elementwise.c has the same loop in C (the 'fast' kernels: backend.ts's adamwKernel).
 */
import { canonicalizeNaNs, f32 } from '../f32.js';

/** The update's constants, each a float32 value as the composite's scalar operands hold it. */
export type AdamWConstants = {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** 1 - beta1^t and 1 - beta2^t. */
  correction1: number;
  correction2: number;
  eps: number;
  /** 1 - lr * weightDecay. */
  decay: number;
  lr: number;
};

export function referenceAdamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: AdamWConstants, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array): void {
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, correction1, correction2, eps, decay, lr } = c;
  let nan = false;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const m1 = f32(f32(m[i] * beta1) + f32(gi * oneMinusBeta1));
    const v1 = f32(f32(v[i] * beta2) + f32(f32(gi * gi) * oneMinusBeta2));
    const step = f32(f32(m1 / correction1) / f32(f32(Math.sqrt(f32(v1 / correction2))) + eps));
    const p1 = f32(f32(p[i] * decay) - f32(step * lr));
    mOut[i] = m1;
    vOut[i] = v1;
    pOut[i] = p1;
    nan ||= p1 !== p1 || m1 !== m1 || v1 !== v1;
  }
  if (nan) for (const out of [pOut, mOut, vOut]) canonicalizeNaNs(out);
}
