import { Tensor, concat, matmul, softmax, where, type Rng } from '../tensor/index.js';
import { ModelConfigError } from './errors.js';
import { linear } from './linear.js';
import { joinName, type Module, type Params } from './params.js';

export type AttentionConfig = { dModel: number; heads: number };

/** One sequence's keys and values of one attention layer so far: each [1, H, t, D]. */
export type LayerKv = { k: Tensor; v: Tensor };

export type CausalSelfAttention = Module<[Tensor], Tensor> & {
  /** apply() over x [B, T, C] that also returns each row's keys and values (the start of a KV cache). */
  prefill(params: Params, x: Tensor): { y: Tensor; kv: LayerKv[] };
  /**
   * One new position per row: x [B, 1, C], row b attending to past[b] (its own keys and values) and
   * itself. Returns y [B, 1, C] and each row's cache extended by one position.
   */
  decode(params: Params, x: Tensor, past: readonly LayerKv[]): { y: Tensor; kv: LayerKv[] };
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
  const rows = (t: Tensor, B: number) => Array.from({ length: B }, (_, b) => (B === 1 ? t : t.slice(0, b, b + 1)));
  return {
    init: (rng: Rng): Params => ({ ...qkv.init(rng), ...proj.init(rng) }),
    apply(params: Params, x: Tensor): Tensor {
      const [q, k, v] = project(params, x);
      return proj.apply(params, attend(q, k, v, causalMask(x.shape[1]))); // (B, T, C)
    },
    prefill(params: Params, x: Tensor) {
      const [q, k, v] = project(params, x);
      const [ks, vs] = [rows(k, x.shape[0]), rows(v, x.shape[0])];
      return { y: proj.apply(params, attend(q, k, v, causalMask(x.shape[1]))), kv: ks.map((kb, b) => ({ k: kb, v: vs[b] })) };
    },
    decode(params: Params, x: Tensor, past: readonly LayerKv[]) {
      const B = x.shape[0];
      if (x.rank !== 3 || x.shape[1] !== 1 || past.length !== B) throw new ModelConfigError(`attention decode: expected x [B, 1, C] and one cache per row, got x [${x.shape}] and ${past.length} caches.`);
      const [q, k, v] = project(params, x); // each (B, H, 1, D)
      const [qs, ks, vs] = [rows(q, B), rows(k, B), rows(v, B)];
      // Rows have caches of different lengths, so each attends on its own (the projections above and
      // below run on all rows at once).
      const kv = past.map((p, b) => ({ k: concat([p.k, ks[b]], 2), v: concat([p.v, vs[b]], 2) }));
      const ys = kv.map(({ k: kb, v: vb }, b) => attend(qs[b], kb, vb, null)); // each (1, 1, C)
      return { y: proj.apply(params, B === 1 ? ys[0] : concat(ys, 0)), kv };
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
