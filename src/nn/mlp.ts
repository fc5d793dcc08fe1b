import type { Rng, Tensor } from '../tensor/index.js';
import { linear } from './linear.js';
import { joinName, type Module, type Params } from './params.js';

export type MlpConfig = { dModel: number; hidden: number };

/** The transformer's feed-forward part: `prefix.fc1` (C -> hidden), GELU (tanh form), `prefix.fc2` (hidden -> C). */
export function mlp(prefix: string, { dModel, hidden }: MlpConfig): Module<[Tensor], Tensor> {
  const fc1 = linear(joinName(prefix, 'fc1'), { inFeatures: dModel, outFeatures: hidden });
  const fc2 = linear(joinName(prefix, 'fc2'), { inFeatures: hidden, outFeatures: dModel });
  return {
    init: (rng: Rng): Params => ({ ...fc1.init(rng), ...fc2.init(rng) }),
    // The runtime's gelu is the tanh form, as F.gelu(approximate="tanh") in the anchor.
    apply: (params: Params, x: Tensor): Tensor => fc2.apply(params, fc1.apply(params, x).gelu()), // (B, T, C)
  };
}
