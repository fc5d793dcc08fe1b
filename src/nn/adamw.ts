import { Tensor, adamwKernel, constant, isTracing, noGrad } from '../tensor/index.js';
import { getParam, mapParams, prefixed, type Params } from './params.js';
import type { OptState, Optimizer } from './optimizer.js';

export type AdamWConfig = {
  /** The anchor's gpt-tiny rate. */
  lr: number;
  /** PyTorch's default. */
  beta1?: number;
  /** 0.95 as the anchor and nanoGPT: steadier than 0.999 for small-batch transformer training. */
  beta2?: number;
  /** PyTorch's default. */
  eps?: number;
  /** 0.1 as the anchor, applied to every parameter (biases and LayerNorm too, as the anchor does). */
  weightDecay?: number;
};

const f32 = Math.fround;

/**
 * AdamW (Loshchilov & Hutter), PyTorch's formula with decoupled weight decay. Per parameter, in
 * canonical order, each line one float32 op per element in the order written:
 *   p  = p * (1 - lr*wd)                    the factor rounded to float32 once: f32(1 - f32(lr * wd))
 *   m  = (b1 * m) + ((1 - b1) * g)
 *   v  = (b2 * v) + ((1 - b2) * (g * g))
 *   mh = m / (1 - b1^t);  vh = v / (1 - b2^t)
 *   p  = p - lr * (mh / (sqrt(vh) + eps))
 * Constants are float32: 1 - b1 is f32(1 - f32(b1)). b1^t and b2^t are float32 state tensors
 * (`beta1Power`, `beta2Power`, starting at 1) multiplied by b1, b2 once per step, so bias correction
 * needs no Math.pow (which is not the same on every engine). Moments: `m.<name>`, `v.<name>`.
 *
 * Untraced (a training run), each parameter's update is one fused kernel (tensor/kernels/adamw.ts) with the same bits;
 * traced (the dispute game re-executing a step), it is these primitive ops, so the game bisects over them.
 */
export function adamw({ lr, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weightDecay = 0.1 }: AdamWConfig): Optimizer {
  const oneMinusBeta1 = f32(1 - f32(beta1));
  const oneMinusBeta2 = f32(1 - f32(beta2));
  return {
    init: (params) => ({
      step: 0,
      tensors: {
        ...prefixed('m', mapParams(params, (p) => Tensor.zeros(p.shape))),
        ...prefixed('v', mapParams(params, (p) => Tensor.zeros(p.shape))),
        beta1Power: Tensor.scalar(1),
        beta2Power: Tensor.scalar(1),
      },
    }),
    update: (params, grads, state, stepLr = lr) =>
      noGrad(() => {
        const beta1Power = getParam(state.tensors, 'beta1Power').mul(beta1); // b1^t
        const beta2Power = getParam(state.tensors, 'beta2Power').mul(beta2); // b2^t
        const correction1 = constant(1).sub(beta1Power);
        const correction2 = constant(1).sub(beta2Power);
        const decay = f32(1 - f32(f32(stepLr) * f32(weightDecay)));
        const m: Params = {};
        const v: Params = {};
        const fused = !isTracing();
        const constants = { beta1: f32(beta1), oneMinusBeta1, beta2: f32(beta2), oneMinusBeta2, correction1: correction1.data[0], correction2: correction2.data[0], eps: f32(eps), decay, lr: f32(stepLr) };
        const next = mapParams(params, (p, name) => {
          const g = getParam(grads, name);
          const m0 = getParam(state.tensors, `m.${name}`);
          const v0 = getParam(state.tensors, `v.${name}`);
          if (fused) {
            const [p1, m1, v1] = [Tensor.empty(p.shape), Tensor.empty(p.shape), Tensor.empty(p.shape)];
            adamwKernel(p.data as Float32Array, g.data as Float32Array, m0.data as Float32Array, v0.data as Float32Array, constants, p1.data as Float32Array, m1.data as Float32Array, v1.data as Float32Array);
            m[name] = m1;
            v[name] = v1;
            return p1;
          }
          const m1 = m0.mul(beta1).add(g.mul(oneMinusBeta1));
          const v1 = v0.mul(beta2).add(g.mul(g).mul(oneMinusBeta2));
          m[name] = m1;
          v[name] = v1;
          const step = m1.div(correction1).div(v1.div(correction2).sqrt().add(eps));
          return p.mul(decay).sub(step.mul(stepLr));
        });
        const tensors = { ...prefixed('m', m), ...prefixed('v', v), beta1Power, beta2Power };
        return { params: next, state: { step: state.step + 1, tensors } };
      }),
  };
}
