import { ShapeError, sum, type Tensor } from '../tensor/index.js';

/**
 * Cross-entropy is the runtime's crossEntropy(logits [..., C], targets int32 [...], mask?): mean
 * negative log-likelihood, over the positions where mask is 1 when a mask is given.
 */
export { crossEntropy } from '../tensor/index.js';

/**
 * Mean squared error over all elements: the squares (pred - target)^2 summed in row-major order from
 * +0, then one float32 division by the element count (torch's F.mse_loss, reduction="mean").
 */
export function mseLoss(prediction: Tensor, target: Tensor): Tensor {
  if (prediction.shape.length !== target.shape.length || prediction.shape.some((d, i) => d !== target.shape[i])) {
    throw new ShapeError('mseLoss', [prediction.shape, target.shape], 'prediction and target of the same shape');
  }
  const diff = prediction.sub(target);
  return sum(diff.mul(diff).reshape([-1]), 0).div(prediction.size);
}
