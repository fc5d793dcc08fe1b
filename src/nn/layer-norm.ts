import { Tensor, layerNorm as normalize, type Rng } from '../tensor/index.js';
import { getParam, joinName, type Module, type Params } from './params.js';

export type LayerNormConfig = {
  dim: number;
  /** torch.nn.LayerNorm's default. */
  eps?: number;
};

/** Normalises the last axis, then scales by `name.weight` [dim] (ones) and shifts by `name.bias` [dim] (zeros). */
export function layerNorm(name: string, { dim, eps = 1e-5 }: LayerNormConfig): Module<[Tensor], Tensor> {
  const weightName = joinName(name, 'weight');
  const biasName = joinName(name, 'bias');
  return {
    init: (_rng: Rng): Params => ({ [weightName]: Tensor.full([dim], 1), [biasName]: Tensor.zeros([dim]) }),
    apply: (params: Params, x: Tensor): Tensor => normalize(x, getParam(params, weightName), getParam(params, biasName), eps),
  };
}
