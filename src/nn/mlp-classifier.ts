import type { Rng, Tensor } from '../tensor/index.js';
import { ModelConfigError } from './errors.js';
import { linear } from './linear.js';
import type { Module, Params } from './params.js';

export type MlpClassifierConfig = {
  /** Layer widths from input to classes, e.g. [784, 256, 256, 10] (the anchor's mlp-mnist-like). */
  sizes: readonly number[];
};

/**
 * Linear layers with ReLU between them (none after the last), as the anchor's nn.Sequential(Linear,
 * ReLU, Linear, ReLU, Linear). Names follow that Sequential's state_dict: layer i is `{2i}.weight`,
 * `{2i}.bias` (the ReLUs take the odd indices). Init is torch.nn.Linear's default, U(±1/sqrt(fan_in))
 * for weights and biases, which the anchor keeps for this model.
 * apply(params, x [N, sizes[0]]) -> logits [N, classes].
 */
export function mlpClassifier({ sizes }: MlpClassifierConfig): Module<[Tensor], Tensor> {
  if (sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new ModelConfigError(`mlpClassifier: sizes must be at least two whole numbers >= 1, got [${sizes.join(', ')}].`);
  }
  const layers = sizes.slice(1).map((out, i) => linear(String(2 * i), { inFeatures: sizes[i], outFeatures: out, init: 'fan-in' }));
  return {
    init(rng: Rng): Params {
      let params: Params = {};
      for (const layer of layers) params = { ...params, ...layer.init(rng) };
      return params;
    },
    apply(params: Params, x: Tensor): Tensor {
      let h = x; // (N, sizes[0])
      layers.forEach((layer, i) => {
        h = layer.apply(params, h); // (N, sizes[i + 1])
        if (i < layers.length - 1) h = h.relu();
      });
      return h; // (N, classes)
    },
  };
}
