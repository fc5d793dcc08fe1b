import { TaskPromptError } from '../errors.js';
import { DATA_STREAMS } from '../streams.js';
import { addition } from './addition.js';
import { arithmetic } from './arithmetic.js';
import { modular } from './modular.js';
import { radix } from './radix.js';
import { defineTask, type TaskDefinition } from './task.js';

export type MixConfig = { tasks: number };

/**
 * The RL swarm's tasks, each at a size a small policy can sometimes answer (the starting point's
 * pre-training and the swarm's rounds draw from the same list). Bit i of the `tasks` knob enables
 * entry i, so a node that sees only some tasks (a non-IID swarm) is one knob away.
 */
export const MIX_TASKS = [
  { task: addition as TaskDefinition, config: { digits: 2 } },
  { task: arithmetic as TaskDefinition, config: { terms: 3, digits: 1 } },
  { task: radix as TaskDefinition, config: { digits: 2, maxBase: 10 } },
  { task: modular as TaskDefinition, config: { modulus: 10 } },
] as const;

const ALL = 2 ** MIX_TASKS.length - 1;

/**
 * An example of one of MIX_TASKS: a word picks the task (uniform among the enabled ones) and two more
 * a 53-bit seed, whose example 0 of that task it is. The reward is the chosen task's verifier, found
 * from the prompt's form (each task's prompts have their own; an "a+b=" prompt is both addition and
 * 2-term arithmetic, which agree on its answer).
 */
export const mix = defineTask({
  name: 'mix',
  stream: DATA_STREAMS.mix,
  description: `One of ${MIX_TASKS.map(({ task }) => task.name).join(', ')} (bit i of "tasks" enables the i-th).`,
  defaults: { tasks: ALL } satisfies MixConfig,
  ranges: { tasks: [1, ALL] },
  alphabet: [...new Set(MIX_TASKS.flatMap(({ task }) => [...task.alphabet]))].sort().join(''),
  wordsPerExample: () => 3,
  make(words, { tasks }) {
    const enabled = MIX_TASKS.filter((_, i) => (tasks >> i) & 1);
    const { task, config } = enabled[words.below(enabled.length)];
    const seed = words.below(2 ** 21) * 2 ** 21 + words.below(2 ** 21); // 42 bits, exact in float64
    return task.generate(seed, 0, config);
  },
  parse(prompt) {
    const entry = MIX_TASKS.find(({ task }) => accepts(task, prompt));
    return entry && { task: entry.task, prompt };
  },
  check: ({ task, prompt }, answer) => task.verify(prompt, answer) === 1,
});

/** Whether `prompt` is one of the task's prompts (its verifier can score it). */
function accepts(task: TaskDefinition, prompt: string): boolean {
  try {
    task.verify(prompt, '');
    return true;
  } catch (error) {
    if (error instanceof TaskPromptError) return false;
    throw error;
  }
}
