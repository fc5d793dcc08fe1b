import { Tensor, noGrad } from '../tensor/index.js';
import { getParam, mapParams, prefixed, type Params } from './params.js';
import type { OptState, Optimizer } from './optimizer.js';

export type SgdConfig = {
  lr: number;
  /** 0.9, as the anchor's MLP benchmark. */
  momentum?: number;
  /** L2 penalty added to the gradient (torch.optim.SGD's weight_decay); off by default, as there. */
  weightDecay?: number;
};

/**
 * SGD with momentum, torch.optim.SGD's formula (dampening 0, no Nesterov), each step one float32 op
 * in this order:
 *   g = g + wd * p            (only when weightDecay != 0)
 *   buf = momentum * buf + g  (buf starts at zero, so step 1 gives buf = g as in torch)
 *   p = p - lr * buf
 * State tensors: `momentum.<name>`.
 */
export function sgd({ lr, momentum = 0.9, weightDecay = 0 }: SgdConfig): Optimizer {
  return {
    init: (params) => ({ step: 0, tensors: prefixed('momentum', mapParams(params, (p) => Tensor.zeros(p.shape))) }),
    update: (params, grads, state, stepLr = lr) =>
      noGrad(() => {
        const tensors: Params = {};
        const next = mapParams(params, (p, name) => {
          let g = getParam(grads, name);
          if (weightDecay !== 0) g = g.add(p.mul(weightDecay));
          const buf = getParam(state.tensors, `momentum.${name}`).mul(momentum).add(g);
          tensors[`momentum.${name}`] = buf;
          return p.sub(buf.mul(stepLr));
        });
        return { params: next, state: { step: state.step + 1, tensors } };
      }),
  };
}
