/**
 * Exact-match accuracy on a procedural task: greedy answers to held-out prompts, each checked by the
 * task's verifier (which recomputes the answer from the prompt).
 */
import { getTask, type TaskDefinition } from '../data/index.js';
import type { Params } from '../nn/index.js';
import { generate } from './generate.js';
import type { TrainProgram } from './program.js';

/** Held-out prompts come from another seed's stream, so they are not the training examples. */
export const EVAL_SEED_OFFSET = 1_000_003;

export type EvalResult = { examples: number; correct: number; accuracy: number; samples: { prompt: string; completion: string; reward: number }[] };

export function evaluateTask(program: TrainProgram, params: Params, examples: number, onProgress?: (done: number) => void): EvalResult {
  const data = program.spec.data;
  if (data.kind !== 'task') throw new TypeError('exact-match evaluation needs a task job');
  const task = getTask(data.task) as TaskDefinition;
  const seed = program.spec.seed + EVAL_SEED_OFFSET;
  let correct = 0;
  const samples: EvalResult['samples'] = [];
  for (let i = 0; i < examples; i++) {
    const { prompt, answer } = task.generate(seed, i, data.config);
    const completion = generate(program.model, params, program.tokenizer, prompt, { maxTokens: answer.length + 2 });
    const reward = task.verify(prompt, completion);
    correct += reward;
    if (samples.length < 5) samples.push({ prompt, completion, reward });
    onProgress?.(i + 1);
  }
  return { examples, correct, accuracy: correct / examples, samples };
}
