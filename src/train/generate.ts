/**
 * Deterministic text generation: greedy, or sampled with the counter RNG, so that (checkpoint, prompt,
 * seed) always gives the same tokens. A KV cache keeps each step to one new position per row, and a
 * batch runs many rows at once; neither changes a bit of any row (see generateBatch).
 */
import { END_ID, type Tokenizer } from '../data/index.js';
import { keepCacheRows, type Gpt, type KvCache, type Params } from '../nn/index.js';
import { Rng, Tensor, argmax, noGrad, softmax } from '../tensor/index.js';
import { GenerationInputError } from './errors.js';

/** The RNG stream that sampling draws from (one word per generated token). */
export const SAMPLE_STREAM = 2;

export type GenerateOptions = {
  maxTokens: number;
  /** 0 picks the most likely token; otherwise logits are divided by it before sampling. */
  temperature?: number;
  seed?: number;
  /** Stop at the tokenizer's end token (default true). */
  stopAtEnd?: boolean;
};

export type GenerateBatchOptions = {
  maxTokens: number;
  /** 0 picks the most likely token; otherwise logits are divided by it before sampling. */
  temperature?: number;
  /** One sampling seed per prompt: row b draws from Rng(seeds[b], SAMPLE_STREAM), one word per token. */
  seeds: readonly number[];
  /** Stop a row at the end token (END_ID, the same in every tokenizer; default true). */
  stopAtEnd?: boolean;
  /** Rows run at once (a memory bound; no effect on the tokens). Default: as many as a 64 MiB KV cache holds. */
  maxRows?: number;
};

export function generate(model: Gpt, params: Params, tokenizer: Tokenizer, prompt: string, options: GenerateOptions): string {
  return tokenizer.decode(generateIds(model, params, tokenizer, tokenizer.encode(prompt), options));
}

/** The completion of one prompt: generateBatch with one row (the tokenizer's end id is END_ID). */
export function generateIds(model: Gpt, params: Params, tokenizer: Tokenizer, prompt: Int32Array, { maxTokens, temperature = 0, seed = 0, stopAtEnd = true }: GenerateOptions): Int32Array {
  if (tokenizer.endId !== END_ID) throw new GenerationInputError(`the tokenizer's end id is ${tokenizer.endId}, generation stops at END_ID = ${END_ID}`);
  return generateBatch(model, params, [prompt], { maxTokens, temperature, seeds: [seed], stopAtEnd })[0];
}

/** The most float32s a batch's KV cache holds at once (64 MiB): 256 rows of gpt-tiny, 42 of gpt-small. */
const CACHE_FLOATS = 2 ** 24;

/** One row of a batch: its tokens so far, its sampler, and where its next logits are. */
type Row = { ids: number[]; out: number[]; rng: Rng; logits: Tensor | null; at: number };

/**
 * Completions of many prompts at once. Row b's output is bit-identical to generateIds(prompts[b],
 * seeds[b]) whatever else is in the batch: rows never interact (every Linear and matmul computes
 * each row on its own, a row's attention sees only its own cached positions, the others being
 * masked to exact zeros, and each row samples from its own Rng), so a rollout is recomputable from
 * (policy, prompt, seed) alone. The logits at each step are those of model.apply over the last
 * contextLength tokens, bit for bit.
 *
 * Where the context window limits generation: while prompt + generated tokens fit in contextLength,
 * each step feeds one token per row through gpt.decode, on a KV cache of contextLength positions.
 * Past it, the learned position table has no row for the next position and every position of the
 * window shifts by one, so no cache applies: each further token of that row costs a full forward over
 * its last contextLength tokens (the sliding window of the first generateIds, kept so that long
 * generations give the same tokens).
 */
export function generateBatch(model: Gpt, params: Params, prompts: readonly Int32Array[], { maxTokens, temperature = 0, seeds, stopAtEnd = true, maxRows }: GenerateBatchOptions): Int32Array[] {
  const context = model.config.contextLength;
  const vocab = model.config.vocabSize;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new GenerationInputError(`maxTokens must be a whole number >= 0, got ${maxTokens}`);
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new GenerationInputError(`temperature must be a finite number >= 0, got ${temperature}`);
  if (seeds.length !== prompts.length) throw new GenerationInputError(`${prompts.length} prompts need ${prompts.length} seeds, got ${seeds.length}`);
  prompts.forEach((p, b) => {
    if (p.length === 0) throw new GenerationInputError(`prompt ${b} is empty; a prompt needs at least one token`);
    const bad = p.findIndex((id) => id < 0 || id >= vocab);
    if (bad >= 0) throw new GenerationInputError(`prompt ${b} has token id ${p[bad]} at position ${bad}, outside the model's vocabulary 0..${vocab - 1}`);
  });
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 1)) throw new GenerationInputError(`maxRows must be a whole number >= 1, got ${maxRows}`);
  // Rows never interact, so a large batch runs in chunks whose KV cache stays under CACHE_FLOATS.
  const { layers, dModel } = model.config;
  const chunk = maxRows ?? Math.max(1, Math.floor(CACHE_FLOATS / (2 * layers * context * dModel)));
  if (prompts.length > chunk) {
    const out: Int32Array[] = [];
    for (let start = 0; start < prompts.length; start += chunk) {
      out.push(...generateBatch(model, params, prompts.slice(start, start + chunk), { maxTokens, temperature, seeds: seeds.slice(start, start + chunk), stopAtEnd, maxRows: chunk }));
    }
    return out;
  }
  const rows: Row[] = prompts.map((p, b) => ({ ids: Array.from(p), out: [], rng: new Rng(seeds[b], SAMPLE_STREAM), logits: null, at: 0 }));
  if (maxTokens === 0) return rows.map(() => new Int32Array(0));
  noGrad(() => {
    // Rows whose prompt fits the window get a cache row each; longer prompts run windowed from the start.
    let cached = rows.filter((row) => row.ids.length <= context);
    let cache = model.newCache(cached.length);
    prefill(model, params, cached, cache);
    for (const row of rows) if (row.ids.length > context) windowed(model, params, row);
    let active = rows;
    for (let i = 0; i < maxTokens && active.length > 0; i++) {
      const next = pick(active, temperature);
      active = active.filter((row, b) => {
        if (stopAtEnd && next[b] === END_ID) return false;
        row.ids.push(next[b]);
        row.out.push(next[b]);
        return true;
      });
      if (i + 1 === maxTokens) break;
      // Finished rows, and rows whose window is full, leave the cache.
      const going = new Set(active);
      const keep = cached.flatMap((row, slot) => (going.has(row) && row.ids.length <= context ? [slot] : []));
      if (keep.length < cached.length) {
        cache = keepCacheRows(cache, keep);
        cached = keep.map((slot) => cached[slot]);
      }
      if (cached.length > 0) {
        const logits = model.decode(params, new Tensor(Int32Array.from(cached, (row) => row.ids[row.ids.length - 1]), [cached.length]), cache);
        cached.forEach((row, slot) => Object.assign(row, { logits, at: slot }));
      }
      const inCache = new Set(cached);
      for (const row of active) if (!inCache.has(row)) windowed(model, params, row);
    }
  });
  return rows.map((row) => Int32Array.from(row.out));
}

/**
 * The logits after each cached row's prompt. Prompts of one length run as one batch, and rows with
 * the same prompt share one prefill (the same bits).
 */
function prefill(model: Gpt, params: Params, rows: readonly Row[], cache: KvCache): void {
  const byLength = new Map<number, Map<string, number[]>>();
  rows.forEach((row, slot) => {
    const same = byLength.get(row.ids.length) ?? new Map<string, number[]>();
    byLength.set(row.ids.length, same);
    const key = row.ids.join(',');
    same.set(key, [...(same.get(key) ?? []), slot]);
  });
  for (const [T, same] of byLength) {
    const groups = [...same.values()];
    const ids = new Int32Array(groups.length * T);
    groups.forEach((slots, g) => ids.set(rows[slots[0]].ids, g * T));
    const logits = model.prefill(params, new Tensor(ids, [groups.length, T]), cache, groups);
    groups.forEach((slots, g) => slots.forEach((slot) => Object.assign(rows[slot], { logits, at: g })));
  }
}

/** A row past the window: the logits of a full forward over its last contextLength tokens. */
function windowed(model: Gpt, params: Params, row: Row): void {
  const window = row.ids.slice(-model.config.contextLength);
  const logits = model.apply(params, new Tensor(Int32Array.from(window), [1, window.length])); // (1, T, V)
  row.logits = logits.slice(1, window.length - 1, window.length).reshape([1, model.config.vocabSize]);
  row.at = 0;
}

/**
 * Each row's next token from its logits: the argmax at temperature 0, else a sample with one uniform
 * draw of the row's Rng. Rows sharing a logits tensor [n, V] share one argmax or softmax over it (both
 * work row by row, so a row's bits do not depend on the others).
 */
function pick(rows: readonly Row[], temperature: number): number[] {
  const done = new Map<Tensor, Float32Array | Int32Array>();
  return rows.map((row) => {
    const logits = row.logits!;
    let out = done.get(logits);
    if (!out) done.set(logits, (out = temperature === 0 ? argmax(logits, -1).data : softmax(logits.div(temperature), -1).data));
    if (temperature === 0) return out[row.at];
    const V = logits.shape[1];
    return sample(out.subarray(row.at * V, (row.at + 1) * V), row.rng.uniform([1]).data[0]);
  });
}
/** The first index whose running float32 probability sum exceeds a uniform draw u in [0, 1). */
function sample(p: ArrayLike<number>, u: number): number {
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    acc = Math.fround(acc + p[i]);
    if (u < acc) return i;
  }
  return p.length - 1;
}
