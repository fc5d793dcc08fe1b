/**
 * Deterministic text generation: greedy, or sampled with the counter RNG, so that (checkpoint, prompt,
 * seed) always gives the same tokens. A KV cache keeps each step to one new position per row, and a
 * batch runs many rows at once; neither changes a bit of any row (see generateBatch).
 */
import { END_ID, type Tokenizer } from '../data/index.js';
import type { Gpt, KvCache, Params } from '../nn/index.js';
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
};

export function generate(model: Gpt, params: Params, tokenizer: Tokenizer, prompt: string, options: GenerateOptions): string {
  return tokenizer.decode(generateIds(model, params, tokenizer, tokenizer.encode(prompt), options));
}

/** The completion of one prompt: generateBatch with one row (the tokenizer's end id is END_ID). */
export function generateIds(model: Gpt, params: Params, tokenizer: Tokenizer, prompt: Int32Array, { maxTokens, temperature = 0, seed = 0, stopAtEnd = true }: GenerateOptions): Int32Array {
  if (tokenizer.endId !== END_ID) throw new GenerationInputError(`the tokenizer's end id is ${tokenizer.endId}, generation stops at END_ID = ${END_ID}`);
  return generateBatch(model, params, [prompt], { maxTokens, temperature, seeds: [seed], stopAtEnd })[0];
}

/** One row of a batch: its tokens so far, its sampler and, while the window allows, its KV cache. */
type Row = { ids: number[]; out: number[]; rng: Rng; cache: KvCache | null; logits: Tensor | null };

/**
 * Completions of many prompts at once. Row b's output is bit-identical to generateIds(prompts[b],
 * seeds[b]) whatever else is in the batch: rows never interact (every Linear and matmul computes
 * each row on its own, attention runs per row on the row's own cache, each row samples from its own
 * Rng), so a rollout is recomputable from (policy, prompt, seed) alone. The logits at each step are
 * those of model.apply over the last contextLength tokens, bit for bit.
 *
 * Where the context window limits generation: while prompt + generated tokens fit in contextLength,
 * each step feeds one token per row through gpt.decode. Past it, the learned position table has no
 * row for the next position and every position of the window shifts by one, so no cache applies: each
 * further token of that row costs a full forward over its last contextLength tokens (the sliding
 * window of the first generateIds, kept so that long generations give the same tokens).
 */
export function generateBatch(model: Gpt, params: Params, prompts: readonly Int32Array[], { maxTokens, temperature = 0, seeds, stopAtEnd = true }: GenerateBatchOptions): Int32Array[] {
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
  const rows: Row[] = prompts.map((p, b) => ({ ids: Array.from(p), out: [], rng: new Rng(seeds[b], SAMPLE_STREAM), cache: null, logits: null }));
  if (maxTokens === 0) return rows.map(() => new Int32Array(0));
  noGrad(() => {
    prefill(model, params, rows);
    let active = rows;
    for (let i = 0; i < maxTokens && active.length > 0; i++) {
      const next = active.map((row) => pick(row, temperature));
      const going: Row[] = [];
      active.forEach((row, b) => {
        if (stopAtEnd && next[b] === END_ID) return;
        row.ids.push(next[b]);
        row.out.push(next[b]);
        going.push(row);
      });
      active = going;
      if (i + 1 < maxTokens) advance(model, params, active, context);
    }
  });
  return rows.map((row) => Int32Array.from(row.out));
}

/**
 * The logits after each row's prompt. Rows with the same prompt share one prefill (the same bits, and
 * caches are never modified in place); prompts of one length run as one batch. A prompt longer than
 * the window runs its last contextLength tokens and gets no cache.
 */
function prefill(model: Gpt, params: Params, rows: readonly Row[]): void {
  const context = model.config.contextLength;
  const byLength = new Map<number, Map<string, Row[]>>();
  for (const row of rows) {
    const window = row.ids.slice(-context);
    const same = byLength.get(window.length) ?? new Map<string, Row[]>();
    byLength.set(window.length, same);
    const key = window.join(',');
    same.set(key, [...(same.get(key) ?? []), row]);
  }
  for (const [T, same] of byLength) {
    const groups = [...same.values()];
    const ids = new Int32Array(groups.length * T);
    groups.forEach((group, g) => ids.set(group[0].ids.slice(-T), g * T));
    const { logits, caches } = model.prefill(params, new Tensor(ids, [groups.length, T]));
    groups.forEach((group, g) => {
      const rowLogits = groups.length === 1 ? logits : logits.slice(0, g, g + 1);
      for (const row of group) {
        row.logits = rowLogits;
        row.cache = row.ids.length <= context ? caches[g] : null;
      }
    });
  }
}

/** Feeds each row's newest token: one decode step for the rows whose window still grows, a full window forward for the others. */
function advance(model: Gpt, params: Params, rows: readonly Row[], context: number): void {
  const cached = rows.filter((row) => row.cache !== null && row.cache.length < context);
  const decoded = new Set(cached);
  if (cached.length > 0) {
    const ids = Int32Array.from(cached, (row) => row.ids[row.ids.length - 1]);
    const { logits, caches } = model.decode(params, new Tensor(ids, [cached.length]), cached.map((row) => row.cache!));
    cached.forEach((row, b) => {
      row.cache = caches[b];
      row.logits = cached.length === 1 ? logits : logits.slice(0, b, b + 1);
    });
  }
  for (const row of rows) {
    if (decoded.has(row)) continue;
    row.cache = null;
    const window = row.ids.slice(-context);
    const logits = model.apply(params, new Tensor(Int32Array.from(window), [1, window.length])); // (1, T, V)
    row.logits = logits.slice(1, window.length - 1, window.length).reshape([1, model.config.vocabSize]);
  }
}

/** The next token of a row from its logits [1, V]: the argmax at temperature 0, else a sample. */
function pick(row: Row, temperature: number): number {
  const logits = row.logits!;
  if (temperature === 0) return argmax(logits, -1).data[0];
  return sample(softmax(logits.div(temperature), -1).data, row.rng.uniform([1]).data[0]);
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
