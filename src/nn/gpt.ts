import { ShapeError, Tensor, type Rng } from '../tensor/index.js';
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

export type Gpt = Module<[Tensor], Tensor> & { readonly config: GptConfig };

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
      if (ids.dtype !== 'int32' || ids.rank !== 2 || ids.shape[1] > contextLength || ids.shape[1] < 1) {
        throw new ShapeError('gpt', [ids.shape], `int32 token ids [B, T] with 1 <= T <= ${contextLength} (got ${ids.dtype})`);
      }
      const T = ids.shape[1];
      let x = tok.apply(params, ids).add(pos.apply(params, positions(T))); // (B, T, C) + (T, C)
      for (const block of blocks) x = block.apply(params, x); // (B, T, C)
      return head.apply(params, lnF.apply(params, x)); // (B, T, V)
    },
  };
}

const positionCache = new Map<number, Tensor>();

/** int32 [0, 1, ..., T-1], built once per T. */
function positions(T: number): Tensor {
  let ids = positionCache.get(T);
  if (!ids) positionCache.set(T, (ids = new Tensor(Int32Array.from({ length: T }, (_, i) => i), [T])));
  return ids;
}
