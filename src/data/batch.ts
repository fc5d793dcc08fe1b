/**
 * Token batches for language-model training, deterministic in (seed, step): the batch of a step never
 * depends on which steps ran before it, so a resumed or re-executed step sees the same tokens.
 */
import { Rng } from '../tensor/index.js';
import { SequenceTooLongError, TextTooShortError } from './errors.js';
import { DATA_STREAMS } from './streams.js';
import type { TaskDefinition, TaskExample } from './tasks/task.js';
import type { Tokenizer } from './tokenizer.js';

/** Row b, position t is at b * seqLen + t. targets are inputs shifted left by one; mask weighs each target's loss. */
export type TokenBatch = {
  inputs: Int32Array; // [B*T]
  targets: Int32Array; // [B*T]
  mask: Float32Array; // [B*T], 1 where the target counts in the loss
  shape: [batchSize: number, seqLen: number];
};

export type TaskBatchOptions<C extends Record<string, number>> = {
  task: TaskDefinition<C>;
  config?: Partial<C>;
  tokenizer: Tokenizer;
  seed: number;
  step: number;
  batchSize: number;
  seqLen: number;
};

/** Step s uses examples s*B .. s*B+B-1 of the task's stream: every example is used once, in order. */
export function taskExamplesForStep<C extends Record<string, number>>(
  { task, config, seed, step, batchSize }: Omit<TaskBatchOptions<C>, 'tokenizer' | 'seqLen'>,
): TaskExample[] {
  return Array.from({ length: batchSize }, (_, b) => task.generate(seed, step * batchSize + b, config));
}

/**
 * Each row is [prompt][answer][end] then pad. Only the answer and end tokens count in the loss, so
 * the model learns to answer, not to predict the random prompt.
 */
export function taskBatch<C extends Record<string, number>>(options: TaskBatchOptions<C>): TokenBatch {
  const { tokenizer, batchSize, seqLen } = options;
  const batch = emptyBatch(batchSize, seqLen, tokenizer.padId);
  taskExamplesForStep(options).forEach(({ prompt, answer }, b) => {
    const promptIds = tokenizer.encode(prompt);
    const answerIds = tokenizer.encode(answer);
    const length = promptIds.length + answerIds.length + 1;
    if (length > seqLen + 1) throw new SequenceTooLongError({ tokens: length, seqLen });
    const row = new Int32Array(seqLen + 1).fill(tokenizer.padId);
    row.set(promptIds);
    row.set(answerIds, promptIds.length);
    row[length - 1] = tokenizer.endId;
    const at = b * seqLen;
    batch.inputs.set(row.subarray(0, seqLen), at);
    batch.targets.set(row.subarray(1), at);
    // Target t is token t + 1: answer tokens start at promptIds.length, the end token is length - 1.
    batch.mask.fill(1, at + promptIds.length - 1, at + length - 1);
  });
  return batch;
}

export type TextBatchOptions = { tokens: Int32Array; seed: number; step: number; batchSize: number; seqLen: number };

/** Where the windows of step s start: counter-RNG integers at (seed, text stream, offset s*B). */
export function textWindowStarts({ tokens, seed, step, batchSize, seqLen }: TextBatchOptions): Int32Array {
  if (tokens.length < seqLen + 1) throw new TextTooShortError({ tokens: tokens.length, seqLen });
  const rng = new Rng(seed, DATA_STREAMS.textWindows, step * batchSize);
  return rng.integers([batchSize], 0, tokens.length - seqLen).data as Int32Array;
}

/** B random windows of seqLen + 1 tokens from a tokenized text; every target counts. */
export function textWindowBatch(options: TextBatchOptions): TokenBatch {
  const { tokens, batchSize, seqLen } = options;
  const batch = emptyBatch(batchSize, seqLen, 0);
  textWindowStarts(options).forEach((start, b) => {
    batch.inputs.set(tokens.subarray(start, start + seqLen), b * seqLen);
    batch.targets.set(tokens.subarray(start + 1, start + seqLen + 1), b * seqLen);
  });
  batch.mask.fill(1);
  return batch;
}

function emptyBatch(batchSize: number, seqLen: number, padId: number): TokenBatch {
  const size = batchSize * seqLen;
  return {
    inputs: new Int32Array(size).fill(padId),
    targets: new Int32Array(size).fill(padId),
    mask: new Float32Array(size),
    shape: [batchSize, seqLen],
  };
}
