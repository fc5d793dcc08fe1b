import { constant, noGrad, sum } from '../tensor/index.js';
import { mapParams, type Params } from './params.js';

/** torch.nn.utils.clip_grad_norm_'s guard against dividing by a zero norm. */
const NORM_EPS = 1e-6;

/**
 * Scales all gradients together so their global L2 norm is at most maxNorm. The norm is
 * sqrt(total), total = ((0 + s_0) + s_1) + ..., s_i = the sum of g_i * g_i in row-major order, over
 * gradients in canonical order (torch instead takes the norm of per-tensor norms: same value in
 * real arithmetic, other rounding). Every gradient is multiplied by min(maxNorm / (norm + 1e-6), 1),
 * also when that is 1, so the op sequence does not depend on the data.
 * Returns the norm before clipping and the scaled gradients.
 */
export function clipGradNorm(grads: Params, maxNorm: number): { norm: number; grads: Params } {
  return noGrad(() => {
    let total = constant(0);
    for (const g of Object.values(grads)) total = total.add(sum(g.mul(g).reshape([-1]), 0));
    const norm = total.sqrt();
    const coefficient = constant(maxNorm).div(norm.add(NORM_EPS)).minimum(1);
    return { norm: norm.item(), grads: mapParams(grads, (g) => g.mul(coefficient)) };
  });
}
