import type { Rng, Tensor } from '../tensor/index.js';
import { causalSelfAttention } from './attention.js';
import { layerNorm } from './layer-norm.js';
import { mlp } from './mlp.js';
import { joinName, type Module, type Params } from './params.js';

export type BlockConfig = { dModel: number; heads: number; mlpHidden: number };

/**
 * A pre-norm transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)). Params in the anchor's order:
 * `prefix.ln1`, `prefix.qkv`, `prefix.proj`, `prefix.ln2`, `prefix.fc1`, `prefix.fc2`.
 */
export function transformerBlock(prefix: string, { dModel, heads, mlpHidden }: BlockConfig): Module<[Tensor], Tensor> {
  const ln1 = layerNorm(joinName(prefix, 'ln1'), { dim: dModel });
  const attn = causalSelfAttention(prefix, { dModel, heads });
  const ln2 = layerNorm(joinName(prefix, 'ln2'), { dim: dModel });
  const ff = mlp(prefix, { dModel, hidden: mlpHidden });
  return {
    init: (rng: Rng): Params => ({ ...ln1.init(rng), ...attn.init(rng), ...ln2.init(rng), ...ff.init(rng) }),
    apply(params: Params, x: Tensor): Tensor {
      const h = x.add(attn.apply(params, ln1.apply(params, x))); // (B, T, C)
      return h.add(ff.apply(params, ln2.apply(params, h))); // (B, T, C)
    },
  };
}
