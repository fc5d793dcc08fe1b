/**
 * Generating a rollout's completions: the one place the swarm calls the generator. Every completion of
 * every question goes through one batched KV-cache generation; row b is bit-identical to generating it
 * alone, so a completion is a pure function of (policy, prompt, sampling seed) whatever it was batched
 * with: that is what lets any peer re-execute any subset of it.
 */
import type { Gpt, Params } from '../nn/index.js';
import { generateBatch } from '../train/generate.js'; // not train/index.js (node:fs): a browser tab's worker bundles this file

export type Sampling = { maxTokens: number; temperature: number };

/** For each question (its prompt ids and one seed per completion): its completions, without the end token. */
export function sampleCompletions(model: Gpt, params: Params, questions: readonly { prompt: Int32Array; seeds: readonly number[] }[], { maxTokens, temperature }: Sampling): Int32Array[][] {
  const prompts = questions.flatMap((q) => q.seeds.map(() => q.prompt));
  const seeds = questions.flatMap((q) => q.seeds);
  const rows = prompts.length ? generateBatch(model, params, prompts, { maxTokens, temperature, seeds }) : [];
  let at = 0;
  return questions.map((q) => q.seeds.map(() => rows[at++]));
}
