import { DATA_STREAMS } from '../streams.js';
import { defineTask, parseCanonical } from './task.js';

export type CountingConfig = { length: number; symbols: number };

const countOf = (digit: string, sequence: string) => BigInt([...sequence].filter((d) => d === digit).length);

/** "n1:31415=" -> "2": how many times the digit after 'n' occurs in the sequence. */
export const counting = defineTask({
  name: 'counting',
  stream: DATA_STREAMS.counting,
  description: 'Count the occurrences of a digit in a sequence.',
  defaults: { length: 8, symbols: 4 } satisfies CountingConfig,
  ranges: { length: [1, 64], symbols: [2, 10] },
  alphabet: '0123456789n:=',
  wordsPerExample: ({ length }) => length + 1,
  make(words, { length, symbols }) {
    const digit = words.digits(1, symbols);
    const sequence = words.digits(length, symbols);
    return { prompt: `n${digit}:${sequence}=`, answer: String(countOf(digit, sequence)) };
  },
  parse(prompt) {
    const m = /^n(\d):(\d+)=$/.exec(prompt);
    return m ? { digit: m[1], sequence: m[2] } : undefined;
  },
  check: ({ digit, sequence }, answer) => parseCanonical(answer) === countOf(digit, sequence),
});
