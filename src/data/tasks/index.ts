/** The registry of procedural tasks: the default training data, generated, never downloaded. */
import { UnknownTaskError } from '../errors.js';
import { addition } from './addition.js';
import { arithmetic } from './arithmetic.js';
import { brackets } from './brackets.js';
import { copying } from './copying.js';
import { counting } from './counting.js';
import { mix } from './mix.js';
import { modular } from './modular.js';
import { multiplication } from './multiplication.js';
import { parity } from './parity.js';
import { radix } from './radix.js';
import { reversal } from './reversal.js';
import { sorting } from './sorting.js';

export const TASKS = { addition, multiplication, sorting, reversal, copying, parity, brackets, modular, counting, radix, arithmetic, mix };
export type TaskName = keyof typeof TASKS;
export const TASK_NAMES = Object.keys(TASKS) as TaskName[];

/** Looks a task up by a name from outside (a CLI flag, a job spec). */
export function getTask(name: string): (typeof TASKS)[TaskName] {
  if (!Object.hasOwn(TASKS, name)) throw new UnknownTaskError(name, TASK_NAMES);
  return TASKS[name as TaskName];
}

/** The union of every task's characters, sorted: a character tokenizer over it covers all tasks. */
export const TASK_ALPHABET = [...new Set(TASK_NAMES.flatMap((name) => [...TASKS[name].alphabet]))].sort().join('');

export { BEACON_BYTES, beaconExamples, beaconWords } from './beacon-draw.js';
export { defineTask, WordReader, answerText, seedFromDigest, type TaskDefinition, type TaskExample, type Reward, type KnobRanges } from './task.js';
export type { AdditionConfig } from './addition.js';
export type { MultiplicationConfig } from './multiplication.js';
export type { SequenceConfig } from './sequence-task.js';
export type { ParityConfig } from './parity.js';
export type { BracketsConfig } from './brackets.js';
export type { ModularConfig } from './modular.js';
export type { CountingConfig } from './counting.js';
export type { RadixConfig } from './radix.js';
export type { ArithmeticConfig } from './arithmetic.js';
export { MIX_TASKS, type MixConfig } from './mix.js';
