import { Tensor } from '../tensor/index.js';
import { mapParams, type Params } from './params.js';

export type ValueAndGrad = { value: Tensor; grads: Params };

/**
 * Turns a loss function into one that also returns d(loss)/d(params), without touching the tensors it
 * is given: the params are re-wrapped as fresh leaves (same data, which is never mutated), so calling
 * it twice on the same params gives the same result. A parameter the loss does not reach gets a zero
 * gradient. The returned value is detached (the tape can be freed).
 */
export function valueAndGrad<Args extends unknown[]>(
  loss: (params: Params, ...args: Args) => Tensor,
): (params: Params, ...args: Args) => ValueAndGrad {
  return (params, ...args) => {
    const leaves = mapParams(params, (t) => new Tensor(t.data, t.shape).requireGrad());
    const value = loss(leaves, ...args);
    value.backward();
    const grads = mapParams(leaves, (t) => t.grad ?? Tensor.zeros(t.shape));
    return { value: value.detach(), grads };
  };
}
