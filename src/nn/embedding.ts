import { take, type Rng, type Tensor } from '../tensor/index.js';
import { getParam, joinName, type Module, type Params } from './params.js';

export type EmbeddingConfig = { count: number; dim: number };

/** A lookup table `name.weight` [count, dim] ~ N(0, 0.02) (the anchor's init); ids int32 [...] -> [..., dim]. */
export function embedding(name: string, { count, dim }: EmbeddingConfig): Module<[Tensor], Tensor> {
  const weightName = joinName(name, 'weight');
  return {
    init: (rng: Rng): Params => ({ [weightName]: rng.normal([count, dim], 0, 0.02) }),
    apply: (params: Params, ids: Tensor): Tensor => take(getParam(params, weightName), 0, ids),
  };
}
