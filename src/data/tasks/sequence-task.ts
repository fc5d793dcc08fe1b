/** The shape shared by sorting, reversal and copying: "<tag>:<digits>=" -> a string of digits. */
import { defineTask, type TaskDefinition } from './task.js';

export type SequenceConfig = { length: number; symbols: number };

export function defineSequenceTask(spec: {
  name: string;
  tag: string;
  stream: number;
  description: string;
  answer(sequence: string): string;
  check(sequence: string, answer: string): boolean;
}): TaskDefinition<SequenceConfig> {
  const pattern = new RegExp(`^${spec.tag}:(\\d+)=$`);
  return defineTask({
    name: spec.name,
    stream: spec.stream,
    description: spec.description,
    defaults: { length: 5, symbols: 10 } satisfies SequenceConfig,
    ranges: { length: [1, 64], symbols: [2, 10] },
    alphabet: `0123456789${spec.tag}:=`,
    wordsPerExample: ({ length }) => length,
    make(words, { length, symbols }) {
      const sequence = words.digits(length, symbols);
      return { prompt: `${spec.tag}:${sequence}=`, answer: spec.answer(sequence) };
    },
    parse: (prompt) => pattern.exec(prompt)?.[1],
    check: (sequence, answer) => spec.check(sequence, answer),
  });
}
