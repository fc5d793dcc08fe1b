import { DATA_STREAMS } from '../streams.js';
import { defineTask } from './task.js';

export type ParityConfig = { length: number };

const parityOf = (bits: string) => String([...bits].filter((b) => b === '1').length % 2);

/** "p:10110=" -> "1": whether the number of ones is odd. */
export const parity = defineTask({
  name: 'parity',
  stream: DATA_STREAMS.parity,
  description: 'Say whether a bit string has an odd number of ones (1) or an even number (0).',
  defaults: { length: 8 } satisfies ParityConfig,
  ranges: { length: [1, 64] },
  alphabet: '01p:=',
  wordsPerExample: ({ length }) => length,
  make(words, { length }) {
    const bits = words.digits(length, 2);
    return { prompt: `p:${bits}=`, answer: parityOf(bits) };
  },
  parse: (prompt) => /^p:([01]+)=$/.exec(prompt)?.[1],
  check: (bits, answer) => answer === parityOf(bits),
});
