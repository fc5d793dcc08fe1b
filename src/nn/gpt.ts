import { ShapeError, Tensor, type Rng } from '../tensor/index.js';
import type { LayerKv } from './attention.js';
import { transformerBlock } from './block.js';
import { embedding } from './embedding.js';
import { ModelConfigError } from './errors.js';
import { layerNorm } from './layer-norm.js';
import { linear } from './linear.js';
import type { Module, Params } from './params.js';

export type GptConfig = {
  vocabSize: number;
  /** Longest sequence; the learned position table has this many rows. */
  contextLength: number;
  dModel: number;
  layers: number;
  heads: number;
  mlpHidden: number;
};

/** The anchor's sizes (torch_anchor.py GPT_CONFIGS); add the vocabulary of your tokenizer. */
export const GPT_PRESETS = {
  /** 818,176 parameters with vocab 65: trains on a CPU in minutes. */
  'gpt-tiny': { contextLength: 64, dModel: 128, layers: 4, heads: 4, mlpHidden: 512 },
  /** 4,805,120 parameters with vocab 65. */
  'gpt-small': { contextLength: 128, dModel: 256, layers: 6, heads: 8, mlpHidden: 1024 },
} as const satisfies Record<string, Omit<GptConfig, 'vocabSize'>>;

/**
 * A batch's KV cache, a working buffer that prefill and decode write in place: row b holds
 * lengths[b] positions, and every layer's keys and values as [B, H, contextLength, D] buffers.
 */
export type KvCache = { readonly rows: number; readonly lengths: Int32Array; readonly layers: readonly LayerKv[] };

export type Gpt = Module<[Tensor], Tensor> & {
  readonly config: GptConfig;
  /** An empty cache for `rows` sequences (every length 0). */
  newCache(rows: number): KvCache;
  /**
   * Runs ids int32 [G, T] (T <= contextLength) as apply() does, writes sequence g's keys and values
   * into every cache row of rows[g] (their length becomes T; rows sharing a prompt share its prefill),
   * and returns the logits of the last position, [G, V].
   */
  prefill(params: Params, ids: Tensor, cache: KvCache, rows: readonly (readonly number[])[]): Tensor;
  /**
   * One new token per cache row: ids int32 [B], B = cache.rows, row b at position lengths[b] (the
   * lengths may differ). Returns the logits [B, V], row b bit-identical to apply() over its whole
   * sequence at the last position, and advances every length by one. A row that already holds
   * contextLength positions cannot grow: the learned position table ends there.
   */
  decode(params: Params, ids: Tensor, cache: KvCache): Tensor;
};

/**
 * A character/token GPT as the anchor's CharGPT: token + learned position embeddings, `layers`
 * pre-norm blocks, a final LayerNorm and an output head without bias, untied from the token table.
 * apply(params, ids int32 [B, T]) -> logits [B, T, vocabSize], T <= contextLength.
 * Params (the anchor's state_dict names and order): tok.weight, pos.weight, blocks.{i}.{ln1, qkv,
 * proj, ln2, fc1, fc2}.{weight, bias}, ln_f.{weight, bias}, head.weight.
 */
export function gpt(config: GptConfig): Gpt {
  const { vocabSize, contextLength, dModel, layers, heads, mlpHidden } = config;
  for (const [key, value] of Object.entries(config)) {
    if (!Number.isInteger(value) || value < 1) throw new ModelConfigError(`gpt: ${key} must be a whole number >= 1, got ${value}.`);
  }
  const tok = embedding('tok', { count: vocabSize, dim: dModel });
  const pos = embedding('pos', { count: contextLength, dim: dModel });
  const blocks = Array.from({ length: layers }, (_, i) => transformerBlock(`blocks.${i}`, { dModel, heads, mlpHidden }));
  const lnF = layerNorm('ln_f', { dim: dModel });
  const head = linear('head', { inFeatures: dModel, outFeatures: vocabSize, bias: false });
  const headDim = dModel / heads;
  return {
    config: { ...config },
    init(rng: Rng): Params {
      let params: Params = { ...tok.init(rng), ...pos.init(rng) };
      for (const block of blocks) params = { ...params, ...block.init(rng) };
      return { ...params, ...lnF.init(rng), ...head.init(rng) };
    },
    apply(params: Params, ids: Tensor): Tensor {
      let x = embed(params, ids); // (B, T, C)
      for (const block of blocks) x = block.apply(params, x); // (B, T, C)
      return head.apply(params, lnF.apply(params, x)); // (B, T, V)
    },
    newCache(rows: number): KvCache {
      const size = rows * contextLength * dModel;
      return { rows, lengths: new Int32Array(rows), layers: blocks.map(() => ({ k: new Float32Array(size), v: new Float32Array(size) })) };
    },
    prefill(params: Params, ids: Tensor, cache: KvCache, rows: readonly (readonly number[])[]): Tensor {
      let x = embed(params, ids); // (G, T, C)
      const [G, T] = ids.shape;
      if (rows.length !== G || rows.flat().some((r) => !(Number.isInteger(r) && r >= 0 && r < cache.rows))) {
        throw new ModelConfigError(`gpt.prefill: ${G} sequences need ${G} lists of cache rows in 0..${cache.rows - 1}, got ${JSON.stringify(rows)}.`);
      }
      blocks.forEach((block, l) => {
        const out = block.prefill(params, x);
        x = out.y;
        for (const [buffer, kv] of [[cache.layers[l].k, out.k], [cache.layers[l].v, out.v]] as const) {
          const source = kv.data as Float32Array; // (G, H, T, D) into (B, H, contextLength, D)
          rows.forEach((group, g) => {
            for (const row of group) {
              for (let h = 0; h < heads; h++) buffer.set(source.subarray((g * heads + h) * T * headDim, (g * heads + h + 1) * T * headDim), (row * heads + h) * contextLength * headDim);
            }
          });
        }
      });
      for (const row of rows.flat()) cache.lengths[row] = T;
      // Rows are independent in LayerNorm and the head, so the last position alone has apply()'s bits.
      const last = x.slice(1, T - 1, T); // (G, 1, C)
      return head.apply(params, lnF.apply(params, last)).reshape([G, vocabSize]); // (G, V)
    },
    decode(params: Params, ids: Tensor, cache: KvCache): Tensor {
      const B = cache.rows;
      if (ids.dtype !== 'int32' || ids.rank !== 1 || ids.shape[0] !== B) {
        throw new ShapeError('gpt.decode', [ids.shape], `int32 token ids [${B}], one per cache row (got ${ids.dtype})`);
      }
      const full = cache.lengths.findIndex((n) => n >= contextLength);
      if (full >= 0) {
        throw new ModelConfigError(`gpt.decode: cache row ${full} already holds contextLength = ${contextLength} positions, the end of the position table; continue with a full forward over the last ${contextLength} tokens.`);
      }
      const allowed = new Int32Array(B * contextLength); // (B, 1, 1, capacity): positions 0..length_b
      cache.lengths.forEach((n, b) => allowed.fill(1, b * contextLength, b * contextLength + n + 1));
      const mask = new Tensor(allowed, [B, 1, 1, contextLength]);
      let x = tok.apply(params, ids.reshape([B, 1])).add(pos.apply(params, new Tensor(cache.lengths.slice(), [B, 1]))); // (B, 1, C)
      blocks.forEach((block, l) => (x = block.decode(params, x, cache.layers[l], cache.lengths, mask)));
      for (let b = 0; b < B; b++) cache.lengths[b] += 1;
      return head.apply(params, lnF.apply(params, x)).reshape([B, vocabSize]); // (B, V)
    },
  };

  /** Token plus position embeddings of ids [B, T] at positions 0..T-1. */
  function embed(params: Params, ids: Tensor): Tensor {
    if (ids.dtype !== 'int32' || ids.rank !== 2 || ids.shape[1] > contextLength || ids.shape[1] < 1) {
      throw new ShapeError('gpt', [ids.shape], `int32 token ids [B, T] with 1 <= T <= ${contextLength} (got ${ids.dtype})`);
    }
    return tok.apply(params, ids).add(pos.apply(params, positions(ids.shape[1]))); // (B, T, C) + (T, C)
  }
}

/** A new cache of the rows `keep` of `cache`, in that order (to drop finished rows from a batch). */
export function keepCacheRows(cache: KvCache, keep: readonly number[]): KvCache {
  const layers = cache.layers.map(({ k, v }) => {
    const perRow = k.length / cache.rows; // H * contextLength * D
    const pick = (buffer: Float32Array) => {
      const out = new Float32Array(keep.length * perRow);
      keep.forEach((row, i) => out.set(buffer.subarray(row * perRow, (row + 1) * perRow), i * perRow));
      return out;
    };
    return { k: pick(k), v: pick(v) };
  });
  return { rows: keep.length, lengths: Int32Array.from(keep, (row) => cache.lengths[row]), layers };
}

const positionCache = new Map<number, Tensor>();

/** int32 [0, 1, ..., T-1], built once per T. */
function positions(T: number): Tensor {
  let ids = positionCache.get(T);
  if (!ids) positionCache.set(T, (ids = new Tensor(Int32Array.from({ length: T }, (_, i) => i), [T])));
  return ids;
}
