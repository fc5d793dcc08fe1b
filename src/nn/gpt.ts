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

/** One sequence's KV cache: `length` positions so far, and every layer's keys and values [1, H, length, D]. */
export type KvCache = { readonly length: number; readonly layers: readonly LayerKv[] };

export type Gpt = Module<[Tensor], Tensor> & {
  readonly config: GptConfig;
  /**
   * Runs ids int32 [B, T] (T <= contextLength) as apply() does and returns the logits of the last
   * position, [B, vocabSize], with one KV cache per row.
   */
  prefill(params: Params, ids: Tensor): { logits: Tensor; caches: KvCache[] };
  /**
   * One new token per row: ids int32 [B], row b at position caches[b].length (each row its own
   * cache, lengths may differ). Returns the logits [B, vocabSize], bit-identical to apply() over the
   * row's whole sequence at its last position, and the caches extended by one position. A cache
   * that already holds contextLength positions cannot grow: the learned position table ends there.
   */
  decode(params: Params, ids: Tensor, caches: readonly KvCache[]): { logits: Tensor; caches: KvCache[] };
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
    prefill(params: Params, ids: Tensor) {
      let x = embed(params, ids); // (B, T, C)
      const [B, T] = ids.shape;
      const perLayer: LayerKv[][] = [];
      for (const block of blocks) {
        const out = block.prefill(params, x);
        x = out.y;
        perLayer.push(out.kv);
      }
      // Rows are independent in LayerNorm and the head, so the last position alone has apply()'s bits.
      const last = x.slice(1, T - 1, T); // (B, 1, C)
      const logits = head.apply(params, lnF.apply(params, last)).reshape([B, vocabSize]); // (B, V)
      return { logits, caches: Array.from({ length: B }, (_, b) => ({ length: T, layers: perLayer.map((kv) => kv[b]) })) };
    },
    decode(params: Params, ids: Tensor, caches: readonly KvCache[]) {
      const B = caches.length;
      if (ids.dtype !== 'int32' || ids.rank !== 1 || ids.shape[0] !== B || B === 0) {
        throw new ShapeError('gpt.decode', [ids.shape], `int32 token ids [B] with one KV cache per row (${B} caches, got ${ids.dtype})`);
      }
      const full = caches.findIndex((c) => c.length >= contextLength);
      if (full >= 0) {
        throw new ModelConfigError(`gpt.decode: row ${full}'s cache already holds contextLength = ${contextLength} positions, the end of the position table; continue with a full forward over the last ${contextLength} tokens.`);
      }
      const at = new Tensor(Int32Array.from(caches, (c) => c.length), [B, 1]);
      let x = tok.apply(params, ids.reshape([B, 1])).add(pos.apply(params, at)); // (B, 1, C)
      const perLayer: LayerKv[][] = [];
      blocks.forEach((block, l) => {
        const out = block.decode(params, x, caches.map((c) => c.layers[l]));
        x = out.y;
        perLayer.push(out.kv);
      });
      const logits = head.apply(params, lnF.apply(params, x)).reshape([B, vocabSize]); // (B, V)
      return { logits, caches: caches.map((c, b) => ({ length: c.length + 1, layers: perLayer.map((kv) => kv[b]) })) };
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

const positionCache = new Map<number, Tensor>();

/** int32 [0, 1, ..., T-1], built once per T. */
function positions(T: number): Tensor {
  let ids = positionCache.get(T);
  if (!ids) positionCache.set(T, (ids = new Tensor(Int32Array.from({ length: T }, (_, i) => i), [T])));
  return ids;
}
