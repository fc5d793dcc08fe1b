import { Tensor, matmul, softmax, where, type Rng } from '../tensor/index.js';
import { ModelConfigError } from './errors.js';
import { linear } from './linear.js';
import { joinName, type Module, type Params } from './params.js';

export type AttentionConfig = { dModel: number; heads: number };

/**
 * Causal multi-head self-attention, as the anchor's Block: one `qkv` Linear (C -> 3C), scaled dot
 * products per head, a causal mask, softmax, and an output `proj` Linear (C -> C). Params are
 * `prefix.qkv.*` then `prefix.proj.*` (the anchor keeps them directly in the block).
 *
 * The mask writes -Infinity above the diagonal (where(allowed, scores, -Inf)), like torch's
 * masked_fill: the diagonal is always allowed, so each row's max is finite and the masked
 * probabilities are exactly 0, so future tokens cannot change earlier outputs by a single bit.
 */
export function causalSelfAttention(prefix: string, { dModel, heads }: AttentionConfig): Module<[Tensor], Tensor> {
  if (dModel % heads !== 0) throw new ModelConfigError(`attention: dModel ${dModel} is not divisible by heads ${heads}.`);
  const headDim = dModel / heads;
  // torch's `* (1.0 / math.sqrt(D))`: computed in double, applied as a float32 constant.
  const scale = Math.fround(1 / Math.sqrt(headDim));
  const qkv = linear(joinName(prefix, 'qkv'), { inFeatures: dModel, outFeatures: 3 * dModel });
  const proj = linear(joinName(prefix, 'proj'), { inFeatures: dModel, outFeatures: dModel });
  return {
    init: (rng: Rng): Params => ({ ...qkv.init(rng), ...proj.init(rng) }),
    apply(params: Params, x: Tensor): Tensor {
      const [B, T, C] = x.shape;
      const packed = qkv.apply(params, x); // (B, T, 3C)
      const toHeads = (part: number) =>
        packed
          .slice(2, part * C, (part + 1) * C) // (B, T, C)
          .reshape([B, T, heads, headDim])
          .permute([0, 2, 1, 3]); // (B, H, T, D)
      const [q, k, v] = [toHeads(0), toHeads(1), toHeads(2)];
      const scores = matmul(q, k, { transposeB: true }).mul(scale); // (B, H, T, T)
      const probs = softmax(where(causalMask(T), scores, -Infinity), -1); // (B, H, T, T)
      const y = matmul(probs, v) // (B, H, T, D)
        .permute([0, 2, 1, 3]) // (B, T, H, D)
        .reshape([B, T, C]); // (B, T, C)
      return proj.apply(params, y); // (B, T, C)
    },
  };
}

const masks = new Map<number, Tensor>();

/** int32 [T, T], 1 where key j <= query i (allowed), 0 above the diagonal; a constant, built once per T. */
function causalMask(T: number): Tensor {
  let mask = masks.get(T);
  if (!mask) {
    const data = new Int32Array(T * T);
    for (let i = 0; i < T; i++) data.fill(1, i * T, i * T + i + 1);
    mask = new Tensor(data, [T, T]);
    masks.set(T, mask);
  }
  return mask;
}
