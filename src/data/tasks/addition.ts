import { DATA_STREAMS } from '../streams.js';
import { defineTask, parseCanonical } from './task.js';

export type AdditionConfig = { digits: number };

/** "123+45=" -> "168". Operands are uniform below 10^digits. */
export const addition = defineTask({
  name: 'addition',
  stream: DATA_STREAMS.addition,
  description: 'Add two whole numbers.',
  defaults: { digits: 3 } satisfies AdditionConfig,
  ranges: { digits: [1, 40] },
  alphabet: '0123456789+=',
  wordsPerExample: ({ digits }) => 2 * digits,
  make(words, { digits }) {
    const a = words.number(digits);
    const b = words.number(digits);
    return { prompt: `${a}+${b}=`, answer: String(BigInt(a) + BigInt(b)) };
  },
  parse(prompt) {
    const m = /^(\d+)\+(\d+)=$/.exec(prompt);
    return m ? { a: BigInt(m[1]), b: BigInt(m[2]) } : undefined;
  },
  check: ({ a, b }, answer) => parseCanonical(answer) === a + b,
});
