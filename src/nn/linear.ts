import { Tensor, matmul, type Rng } from '../tensor/index.js';
import { getParam, joinName, type Module, type Params } from './params.js';

export type LinearConfig = {
  inFeatures: number;
  outFeatures: number;
  /** true as in torch.nn.Linear; the GPT's output head has none (as the anchor's). */
  bias?: boolean;
  /**
   * 'normal': weight ~ N(0, 0.02), bias 0, as the GPT anchor initialises every Linear.
   * 'fan-in': weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)), torch.nn.Linear's default init, which
   * the anchor's MLP classifier keeps.
   */
  init?: 'normal' | 'fan-in';
};

/** The std of the anchor's (and GPT-2's) normal init. */
const NORMAL_INIT_STD = 0.02;

/**
 * y = x W^T + b, with W stored [out, in] as in PyTorch, so weights load from torch checkpoints as they
 * are. Params: `name.weight` [out, in] (drawn first), then `name.bias` [out].
 */
export function linear(name: string, { inFeatures, outFeatures, bias = true, init = 'normal' }: LinearConfig): Module<[Tensor], Tensor> {
  const weightName = joinName(name, 'weight');
  const biasName = joinName(name, 'bias');
  return {
    init(rng: Rng): Params {
      const bound = 1 / Math.sqrt(inFeatures);
      const params: Params = {
        [weightName]: init === 'normal' ? rng.normal([outFeatures, inFeatures], 0, NORMAL_INIT_STD) : rng.uniform([outFeatures, inFeatures], -bound, bound),
      };
      if (bias) params[biasName] = init === 'normal' ? Tensor.zeros([outFeatures]) : rng.uniform([outFeatures], -bound, bound);
      return params;
    },
    apply(params: Params, x: Tensor): Tensor {
      // x [..., in] -> [N, in]: one matmul over all rows, so the weight gradient is one product with
      // k = N (rather than a per-batch product and a sum over the batch).
      const rows = x.rank === 2 ? x : x.reshape([-1, inFeatures]); // (N, in)
      let y = matmul(rows, getParam(params, weightName), { transposeB: true }); // (N, out)
      if (bias) y = y.add(getParam(params, biasName));
      return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), outFeatures]); // (..., out)
    },
  };
}
