/**
 * Deterministic text generation: greedy, or sampled with the counter RNG so that (checkpoint, prompt,
 * seed) always gives the same text. Each new token re-runs the model on the last contextLength tokens.
 */
import type { Tokenizer } from '../data/index.js';
import type { Gpt, Params } from '../nn/index.js';
import { Rng, Tensor, noGrad, softmax } from '../tensor/index.js';

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

export function generate(model: Gpt, params: Params, tokenizer: Tokenizer, prompt: string, options: GenerateOptions): string {
  return tokenizer.decode(generateIds(model, params, tokenizer, tokenizer.encode(prompt), options));
}

export function generateIds(model: Gpt, params: Params, tokenizer: Tokenizer, prompt: Int32Array, { maxTokens, temperature = 0, seed = 0, stopAtEnd = true }: GenerateOptions): Int32Array {
  const context = model.config.contextLength;
  const ids = Array.from(prompt);
  const out: number[] = [];
  const rng = new Rng(seed, SAMPLE_STREAM);
  noGrad(() => {
    for (let i = 0; i < maxTokens; i++) {
      const window = ids.slice(-context);
      const logits = model.apply(params, new Tensor(Int32Array.from(window), [1, window.length])); // (1, T, V)
      const last = logits.slice(1, window.length - 1, window.length).reshape([tokenizer.vocabSize]);
      const next = temperature === 0 ? last.argmax(0).item() : sample(last, temperature, rng);
      if (stopAtEnd && next === tokenizer.endId) break;
      ids.push(next);
      out.push(next);
    }
  });
  return Int32Array.from(out);
}

/** The first index whose running float32 probability sum exceeds a uniform draw. */
function sample(logits: Tensor, temperature: number, rng: Rng): number {
  const p = softmax(logits.div(temperature), 0).data;
  const u = rng.uniform([1]).item();
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    acc = Math.fround(acc + p[i]);
    if (u < acc) return i;
  }
  return p.length - 1;
}
