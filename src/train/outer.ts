/**
 * The outer optimizers of low-communication data parallelism, as pure float32 tensor functions. Each
 * visits parameters in canonical order and each line below is one float32 op per element, in the order
 * written, so every worker that holds the same inputs computes the same bits.
 *
 * The pseudo-gradient of a worker is Δ = φ − θ: the outer parameters it started the round from minus
 * its parameters after H inner steps (it points uphill, like a gradient).
 */
import { mapParams, getParam, type Params } from '../nn/index.js';
import { Tensor, noGrad } from '../tensor/index.js';

export type OuterHyper = { lr: number; momentum: number };

/** DiLoCo's outer optimizer (arXiv 2311.08105, section 3): Nesterov SGD, lr 0.7, momentum 0.9. */
export const DILOCO_OUTER: OuterHyper = { lr: 0.7, momentum: 0.9 };
/**
 * NoLoCo's (arXiv 2506.10911) outer rate and momentum: lr 0.7, momentum 0.5, the values of gensyn-ai/noloco's
 * own NoLoCo runs (its reddit and C4 noloco_mean_* configs: SparseOptimizerC, groups of 2, 50 local steps),
 * not its builder's defaults (momentum 0.9). On the bench's model (K = 8, H = 50, 500 steps a worker) momentum 0.9
 * ends 20.1% above synchronous training and 0.5 ends 11.0% (DiLoCo: 9.3%). Our reading: with a partner's pull in the same
 * momentum buffer, 0.9 carries each round's pull toward the pair's mean into the next rounds, past it.
 */
export const NOLOCO_OUTER: OuterHyper = { lr: 0.7, momentum: 0.5 };

/**
 * The element-wise mean of several parameter sets, given in the caller's fixed order (sorted by worker):
 * sum = ((0 + x_0) + x_1) + ... then sum / n. Never reassociated, so the order is part of the result.
 */
export function meanParams(sets: readonly Params[]): Params {
  if (sets.length === 0) throw new RangeError('the mean of no parameter sets');
  return noGrad(() =>
    mapParams(sets[0], (first, name) => {
      let sum = Tensor.zeros(first.shape);
      for (const set of sets) sum = sum.add(getParam(set, name));
      return sum.div(sets.length);
    }),
  );
}

/** φ − θ for every parameter: what a worker's inner steps moved, as a gradient. */
export function pseudoGradient(outer: Params, inner: Params): Params {
  return noGrad(() => mapParams(outer, (p, name) => p.sub(getParam(inner, name))));
}

/**
 * One step of SGD with Nesterov momentum on gradient g, PyTorch's formula (torch.optim.SGD, nesterov=True,
 * no dampening), as DiLoCo uses it:
 *   v = (μ * v) + g
 *   p = p − (lr * (g + (μ * v)))
 */
export function nesterovStep(params: Params, momentum: Params, grad: Params, { lr, momentum: mu }: OuterHyper): { params: Params; momentum: Params } {
  return noGrad(() => {
    const nextMomentum = mapParams(momentum, (v, name) => v.mul(mu).add(getParam(grad, name)));
    const next = mapParams(params, (p, name) => {
      const g = getParam(grad, name);
      return p.sub(g.add(getParam(nextMomentum, name).mul(mu)).mul(lr));
    });
    return { params: next, momentum: nextMomentum };
  });
}

/**
 * NoLoCo's outer step for one worker i of a group G (its partner and itself), gensyn-ai/noloco's
 * `outer_step` (sparse_optimizer_c.py), which is the paper's update with β = γ = lr:
 *   d = (μ * m) − (lr * mean_G(Δ)) + (lr * (mean_G(φ) − φ_i))     (left to right)
 *   m = d;  φ_i = φ_i + d
 * The first term is heavy-ball momentum, the second the group's mean pseudo-gradient, the third pulls
 * the worker's outer weights toward the group's mean (so replicas drift together without an all-reduce).
 * `deltas` and `outers` are the group's, in the same fixed order (sorted by worker), the worker included.
 */
export function nolocoStep(
  own: { params: Params; momentum: Params },
  group: { deltas: readonly Params[]; outers: readonly Params[] },
  { lr, momentum: mu }: OuterHyper,
): { params: Params; momentum: Params } {
  const meanDelta = meanParams(group.deltas);
  const meanOuter = meanParams(group.outers);
  return noGrad(() => {
    const nextMomentum = mapParams(own.momentum, (m, name) => {
      const phi = getParam(own.params, name);
      return m.mul(mu).sub(getParam(meanDelta, name).mul(lr)).add(getParam(meanOuter, name).sub(phi).mul(lr));
    });
    const next = mapParams(own.params, (p, name) => p.add(getParam(nextMomentum, name)));
    return { params: next, momentum: nextMomentum };
  });
}

/** Zeros shaped like `params` (a fresh momentum buffer). */
export function zerosLike(params: Params): Params {
  return mapParams(params, (p) => Tensor.zeros(p.shape));
}
