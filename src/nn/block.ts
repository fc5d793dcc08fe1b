import type { Rng, Tensor } from '../tensor/index.js';
import { causalSelfAttention, type LayerKv } from './attention.js';
import { layerNorm } from './layer-norm.js';
import { mlp } from './mlp.js';
import { joinName, type Module, type Params } from './params.js';

export type BlockConfig = { dModel: number; heads: number; mlpHidden: number };

export type TransformerBlock = Module<[Tensor], Tensor> & {
  /** apply() over x [B, T, C], also returning each row's attention keys and values. */
  prefill(params: Params, x: Tensor): { y: Tensor; kv: LayerKv[] };
  /** One new position per row, x [B, 1, C], against each row's cached keys and values. */
  decode(params: Params, x: Tensor, past: readonly LayerKv[]): { y: Tensor; kv: LayerKv[] };
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
      const { y, kv } = attn.prefill(params, ln1.apply(params, x));
      return { y: feedForward(params, x.add(y)), kv };
    },
    decode(params: Params, x: Tensor, past: readonly LayerKv[]) {
      const { y, kv } = attn.decode(params, ln1.apply(params, x), past);
      return { y: feedForward(params, x.add(y)), kv };
    },
  };
}
