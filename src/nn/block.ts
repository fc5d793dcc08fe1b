import type { Rng, Tensor } from '../tensor/index.js';
import { causalSelfAttention, type LayerKv } from './attention.js';
import { layerNorm } from './layer-norm.js';
import { mlp } from './mlp.js';
import { joinName, type Module, type Params } from './params.js';

export type BlockConfig = { dModel: number; heads: number; mlpHidden: number };

export type TransformerBlock = Module<[Tensor], Tensor> & {
  /** apply() over x [B, T, C], also returning the attention's keys and values [B, H, T, D]. */
  prefill(params: Params, x: Tensor): { y: Tensor; k: Tensor; v: Tensor };
  /** One new position per row, x [B, 1, C], against the cached keys and values (causalSelfAttention's decode). */
  decode(params: Params, x: Tensor, kv: LayerKv, lengths: Int32Array, allowed: Tensor): Tensor;
};

/**
 * A pre-norm transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)). Params in the anchor's order:
 * `prefix.ln1`, `prefix.qkv`, `prefix.proj`, `prefix.ln2`, `prefix.fc1`, `prefix.fc2`.
 */
export function transformerBlock(prefix: string, { dModel, heads, mlpHidden }: BlockConfig): TransformerBlock {
  const ln1 = layerNorm(joinName(prefix, 'ln1'), { dim: dModel });
  const attn = causalSelfAttention(prefix, { dModel, heads });
  const ln2 = layerNorm(joinName(prefix, 'ln2'), { dim: dModel });
  const ff = mlp(prefix, { dModel, hidden: mlpHidden });
  const feedForward = (params: Params, h: Tensor) => h.add(ff.apply(params, ln2.apply(params, h))); // (B, T, C)
  return {
    init: (rng: Rng): Params => ({ ...ln1.init(rng), ...attn.init(rng), ...ln2.init(rng), ...ff.init(rng) }),
    apply(params: Params, x: Tensor): Tensor {
      return feedForward(params, x.add(attn.apply(params, ln1.apply(params, x))));
    },
    prefill(params: Params, x: Tensor) {
      const { y, k, v } = attn.prefill(params, ln1.apply(params, x));
      return { y: feedForward(params, x.add(y)), k, v };
    },
    decode(params: Params, x: Tensor, kv: LayerKv, lengths: Int32Array, allowed: Tensor): Tensor {
      return feedForward(params, x.add(attn.decode(params, ln1.apply(params, x), kv, lengths, allowed)));
    },
  };
}
