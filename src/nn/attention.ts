import { Tensor, matmul, softmax, where, type Rng } from '../tensor/index.js';
import { ModelConfigError } from './errors.js';
import { linear } from './linear.js';
import { joinName, type Module, type Params } from './params.js';

export type AttentionConfig = { dModel: number; heads: number };

/**
 * A batch's keys and values of one layer: k and v are [B, H, capacity, D] buffers, row b holding its
 * positions 0..length_b - 1 (the rest is zeros and masked out).
 */
export type LayerKv = { k: Float32Array; v: Float32Array };

export type CausalSelfAttention = Module<[Tensor], Tensor> & {
  /** apply() over x [B, T, C] that also returns the keys and values, k and v [B, H, T, D]. */
  prefill(params: Params, x: Tensor): { y: Tensor; k: Tensor; v: Tensor };
  /**
   * One new position per row, x [B, 1, C]: writes row b's key and value at position lengths[b] of kv,
   * then attends over the `capacity` positions with `allowed` (int32 [B, 1, 1, capacity], 1 for
   * positions 0..lengths[b]). Returns y [B, 1, C].
   */
  decode(params: Params, x: Tensor, kv: LayerKv, lengths: Int32Array, allowed: Tensor): Tensor;
};

/**
 * Causal multi-head self-attention, as the anchor's Block: one `qkv` Linear (C -> 3C), scaled dot
 * products per head, a causal mask, softmax, and an output `proj` Linear (C -> C). Params are
 * `prefix.qkv.*` then `prefix.proj.*` (the anchor keeps them directly in the block).
 *
 * The mask writes -Infinity above the diagonal (where(allowed, scores, -Inf)), like torch's
 * masked_fill: the diagonal is always allowed, so each row's max is finite and the masked
 * probabilities are exactly 0, so future tokens cannot change earlier outputs by a single bit.
 *
 * That is also why decode() (a KV cache) gives the bits of apply() at the last position: the query's
 * scores over keys 0..t are the same fma chains, the masked tail of apply()'s row adds exp(-Inf) = +0
 * to the softmax sum and fma(0, v, acc) = acc to the value sum, and every Linear and matmul computes
 * each output row on its own (k ascending from +0), whatever the number of rows around it.
 */
export function causalSelfAttention(prefix: string, { dModel, heads }: AttentionConfig): CausalSelfAttention {
  if (dModel % heads !== 0) throw new ModelConfigError(`attention: dModel ${dModel} is not divisible by heads ${heads}.`);
  const headDim = dModel / heads;
  // torch's `* (1.0 / math.sqrt(D))`: computed in double, applied as a float32 constant.
  const scale = Math.fround(1 / Math.sqrt(headDim));
  const qkv = linear(joinName(prefix, 'qkv'), { inFeatures: dModel, outFeatures: 3 * dModel });
  const proj = linear(joinName(prefix, 'proj'), { inFeatures: dModel, outFeatures: dModel });
  /** q, k, v [B, H, T, D] from x [B, T, C]. */
  const project = (params: Params, x: Tensor): [Tensor, Tensor, Tensor] => {
    const [B, T, C] = x.shape;
    const packed = qkv.apply(params, x); // (B, T, 3C)
    const toHeads = (part: number) =>
      packed
        .slice(2, part * C, (part + 1) * C) // (B, T, C)
        .reshape([B, T, heads, headDim])
        .permute([0, 2, 1, 3]); // (B, H, T, D)
    return [toHeads(0), toHeads(1), toHeads(2)];
  };
  /** softmax(q k^T * scale, masked) v, heads merged: (B, Tq, C) before the output projection. */
  const attend = (q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null): Tensor => {
    const [B, , Tq] = q.shape;
    const scores = matmul(q, k, { transposeB: true }).mul(scale); // (B, H, Tq, Tk)
    const probs = softmax(mask ? where(mask, scores, -Infinity) : scores, -1); // (B, H, Tq, Tk)
    return matmul(probs, v) // (B, H, Tq, D)
      .permute([0, 2, 1, 3]) // (B, Tq, H, D)
      .reshape([B, Tq, dModel]); // (B, Tq, C)
  };
  return {
    init: (rng: Rng): Params => ({ ...qkv.init(rng), ...proj.init(rng) }),
    apply(params: Params, x: Tensor): Tensor {
      const [q, k, v] = project(params, x);
      return proj.apply(params, attend(q, k, v, causalMask(x.shape[1]))); // (B, T, C)
    },
    prefill(params: Params, x: Tensor) {
      const [q, k, v] = project(params, x);
      return { y: proj.apply(params, attend(q, k, v, causalMask(x.shape[1]))), k, v };
    },
    decode(params: Params, x: Tensor, kv: LayerKv, lengths: Int32Array, allowed: Tensor): Tensor {
      const B = x.shape[0];
      const capacity = allowed.shape[3];
      const [q, k, v] = project(params, x); // each (B, H, 1, D)
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < heads; h++) {
          const from = (b * heads + h) * headDim;
          const to = ((b * heads + h) * capacity + lengths[b]) * headDim;
          kv.k.set((k.data as Float32Array).subarray(from, from + headDim), to);
          kv.v.set((v.data as Float32Array).subarray(from, from + headDim), to);
        }
      }
      // Every row attends over the whole buffer; its positions past lengths[b] are masked, so they
      // add exp(-Inf) = +0 to the softmax sum and fma(+0, 0, acc) = acc to the value sum: the bits of
      // attending over its own positions alone. One set of ops serves the whole batch.
      const keys = new Tensor(kv.k, [B, heads, capacity, headDim]);
      const values = new Tensor(kv.v, [B, heads, capacity, headDim]);
      return proj.apply(params, attend(q, keys, values, allowed)); // (B, 1, C)
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
