/**
 * Ops built from primitives. Each is a fixed composition, so its bits follow from the primitives'
 * and its gradient comes from theirs; the documented order of operations is the code below.
 */
import * as ops from './ops.js';
import { normalizeAxis } from './shape.js';
import { Tensor } from './tensor.js';

/** The same data, cut off from the tape: gradients do not flow through it. */
export function detach(x: Tensor): Tensor {
  return x.requiresGrad ? new Tensor(x.data, x.shape) : x;
}

/** sum along axis (index order from +0), then one float32 division by the axis length. */
export function mean(x: Tensor, axis: number, keepDims = false): Tensor {
  const n = x.shape[normalizeAxis('mean', axis, x.rank)];
  return ops.binary('div', ops.sum(x, axis, keepDims), n);
}

export function relu(x: Tensor): Tensor {
  return ops.binary('maximum', x, 0);
}

/**
 * exp(x - max) / sum(exp(x - max)); the max is a constant for the gradient (it cancels exactly in real
 * arithmetic). Along the last axis this is the softmax primitive (the same bits as the composition
 * below; its gradient is the softmax_grad primitive), along another axis the composition.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  if (normalizeAxis('softmax', axis, x.rank) === x.rank - 1) return ops.softmaxLast(x);
  const shifted = ops.binary('sub', x, detach(ops.max(x, axis, true)));
  const e = ops.unary('exp', shifted);
  return ops.binary('div', e, ops.sum(e, axis, true));
}

/** (x - max) - log(sum(exp(x - max))). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const shifted = ops.binary('sub', x, detach(ops.max(x, axis, true)));
  const logSum = ops.unary('log', ops.sum(ops.unary('exp', shifted), axis, true));
  return ops.binary('sub', shifted, logSum);
}

/**
 * Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) * weight + bias, with the
 * biased variance mean((x - mean)^2), as PyTorch computes it. The normalisation is the layer_norm
 * primitive, whose bits equal the former composition centered = x - mean(x); variance =
 * mean(centered * centered); y = centered * (1 / sqrt(variance + eps)); its gradient is the
 * layer_norm_grad primitive (one documented order, see kernels/reference.ts).
 */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  let y = ops.layerNormLast(x, eps);
  if (weight) y = ops.binary('mul', y, weight);
  if (bias) y = ops.binary('add', y, bias);
  return y;
}

/**
 * Mean negative log-likelihood of int32 `targets` [...] under `logits` [..., C]. With a `mask`
 * (float32, same shape as targets, 1 = counted), the mean is over the counted positions only.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, mask?: Tensor): Tensor {
  const logp = logSoftmax(logits, -1);
  const picked = ops.takeAlong(logp, -1, ops.reshape(targets, [...targets.shape, 1]));
  const nll = ops.unary('neg', ops.reshape(picked, targets.shape));
  const flat = ops.reshape(mask ? ops.binary('mul', nll, mask) : nll, [-1]);
  const total = ops.sum(flat, 0);
  return ops.binary('div', total, mask ? ops.sum(ops.reshape(mask, [-1]), 0) : targets.size);
}
