/**
 * Exact-match accuracy on a procedural task: greedy answers to held-out prompts, each checked by the
 * task's verifier (which recomputes the answer from the prompt).
 */
import { getTask, type TaskDefinition } from '../data/index.js';
import type { Params } from '../nn/index.js';
import { generateBatch } from './generate.js';
import type { TrainProgram } from './program.js';

/** Held-out prompts come from another seed's stream, so they are not the training examples. */
export const EVAL_SEED_OFFSET = 1_000_003;

/** Prompts generated together (one batch of generateBatch). */
const EVAL_BATCH = 64;

export type EvalResult = { examples: number; correct: number; accuracy: number; samples: { prompt: string; completion: string; reward: number }[] };

/**
 * Each prompt gets answer.length + 2 greedy tokens. They are generated EVAL_BATCH at a time with the
 * longest budget of the batch and cut to their own: a row's first n tokens do not depend on how many
 * follow, nor on the other rows, so each completion is the one generating it alone would give.
 */
export function evaluateTask(program: TrainProgram, params: Params, examples: number, onProgress?: (done: number) => void): EvalResult {
  const data = program.spec.data;
  if (data.kind !== 'task') throw new TypeError('exact-match evaluation needs a task job');
  const task = getTask(data.task) as TaskDefinition;
  const seed = program.spec.seed + EVAL_SEED_OFFSET;
  const { tokenizer, model } = program;
  let correct = 0;
  const samples: EvalResult['samples'] = [];
  for (let start = 0; start < examples; start += EVAL_BATCH) {
    const chunk = Array.from({ length: Math.min(EVAL_BATCH, examples - start) }, (_, i) => task.generate(seed, start + i, data.config));
    const budgets = chunk.map(({ answer }) => answer.length + 2);
    const prompts = chunk.map(({ prompt }) => tokenizer.encode(prompt));
    const outputs = generateBatch(model, params, prompts, { maxTokens: Math.max(...budgets), seeds: prompts.map(() => 0) });
    chunk.forEach(({ prompt }, i) => {
      const completion = tokenizer.decode(outputs[i].subarray(0, budgets[i]));
      const reward = task.verify(prompt, completion);
      correct += reward;
      if (samples.length < 5) samples.push({ prompt, completion, reward });
    });
    onProgress?.(start + chunk.length);
  }
  return { examples, correct, accuracy: correct / examples, samples };
}
