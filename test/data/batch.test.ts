import { describe, expect, it } from 'vitest';
import {
  CharTokenizer,
  SequenceTooLongError,
  TASKS,
  TASK_ALPHABET,
  TextTooShortError,
  taskBatch,
  taskExamplesForStep,
  textWindowBatch,
  textWindowStarts,
} from '../../src/data/index.js';
import { englishLikeText } from './text.js';

const tokenizer = CharTokenizer.fromText(TASK_ALPHABET);
const options = { task: TASKS.addition, tokenizer, seed: 3, batchSize: 4, seqLen: 16 };

describe('taskBatch', () => {
  it('has [B*T] arrays; targets are inputs shifted by one; the mask covers exactly answer + end', () => {
    const batch = taskBatch({ ...options, step: 2 });
    expect(batch.shape).toEqual([4, 16]);
    for (const array of [batch.inputs, batch.targets, batch.mask]) expect(array).toHaveLength(64);
    const examples = taskExamplesForStep({ ...options, step: 2 });
    examples.forEach(({ prompt, answer }, b) => {
      const row = (a: ArrayLike<number>) => Array.from(a).slice(b * 16, b * 16 + 16);
      const inputs = row(batch.inputs);
      const targets = row(batch.targets);
      const mask = row(batch.mask);
      expect(tokenizer.decode(inputs)).toBe(prompt + answer);
      expect(targets.slice(0, 15)).toEqual(inputs.slice(1));
      const answerTargets = targets.filter((_, t) => mask[t] === 1);
      expect(tokenizer.decode(answerTargets)).toBe(answer);
      expect(answerTargets.at(-1)).toBe(tokenizer.endId);
      expect(mask.filter((m) => m === 1)).toHaveLength(answer.length + 1);
      expect(inputs.slice(prompt.length + answer.length + 1).every((id) => id === tokenizer.padId)).toBe(true);
    });
  });

  it('step s holds examples s*B .. s*B+B-1, whatever ran before', () => {
    const examples = taskExamplesForStep({ ...options, step: 5 });
    expect(examples).toEqual([20, 21, 22, 23].map((i) => TASKS.addition.generate(3, i)));
    const first = taskBatch({ ...options, step: 5 });
    taskBatch({ ...options, step: 0 });
    expect(taskBatch({ ...options, step: 5 })).toEqual(first);
    expect(taskBatch({ ...options, step: 6 }).inputs).not.toEqual(first.inputs);
  });

  it('passes the task config through, and says when an example does not fit', () => {
    const wide = taskBatch({ ...options, step: 0, config: { digits: 5 }, seqLen: 20 });
    expect(tokenizer.decode(wide.inputs.subarray(0, 20))).toMatch(/^\d+\+\d+=\d+$/);
    expect(() => taskBatch({ ...options, step: 0, config: { digits: 9 } })).toThrow(SequenceTooLongError);
  });
});

describe('textWindowBatch', () => {
  const tokens = CharTokenizer.fromText('').encode(englishLikeText(300));
  const text = { tokens, seed: 9, batchSize: 8, seqLen: 32 };

  it('cuts windows of T+1 tokens: inputs and targets shifted by one, all masked in', () => {
    const batch = textWindowBatch({ ...text, step: 0 });
    const starts = textWindowStarts({ ...text, step: 0 });
    expect(batch.shape).toEqual([8, 32]);
    starts.forEach((start, b) => {
      expect(start).toBeGreaterThanOrEqual(0);
      expect(start + 33).toBeLessThanOrEqual(tokens.length);
      expect(Array.from(batch.inputs.subarray(b * 32, b * 32 + 32))).toEqual(Array.from(tokens.subarray(start, start + 32)));
      expect(Array.from(batch.targets.subarray(b * 32, b * 32 + 32))).toEqual(Array.from(tokens.subarray(start + 1, start + 33)));
    });
    expect(batch.mask.every((m) => m === 1)).toBe(true);
  });

  it('is a function of (seed, step) only', () => {
    const a = textWindowStarts({ ...text, step: 7 });
    textWindowStarts({ ...text, step: 1 });
    expect(textWindowStarts({ ...text, step: 7 })).toEqual(a);
    expect(textWindowStarts({ ...text, step: 8 })).not.toEqual(a);
    expect(textWindowStarts({ ...text, step: 7, seed: 10 })).not.toEqual(a);
  });

  it('rejects a text shorter than one window', () => {
    expect(() => textWindowBatch({ ...text, tokens: tokens.subarray(0, 32), step: 0 })).toThrow(TextTooShortError);
  });
});
