import { DATA_STREAMS } from '../streams.js';
import { defineTask } from './task.js';

export type ArithmeticConfig = { terms: number; digits: number };

const OPS = ['+', '-', '*'] as const;

/** The value of a + - * expression of whole numbers with the usual precedence (* before + and -). */
function evaluate(numbers: readonly bigint[], ops: readonly string[]): bigint {
  let total = 0n;
  let sign = 1n;
  let product = numbers[0];
  ops.forEach((op, i) => {
    if (op === '*') {
      product *= numbers[i + 1];
      return;
    }
    total += sign * product;
    sign = op === '+' ? 1n : -1n;
    product = numbers[i + 1];
  });
  return total + sign * product;
}

/**
 * "3+4*2-5=" -> "6": several steps of +, - and *, with * binding first; the answer may be negative
 * ("-12"). Operands are uniform below 10^digits, operators uniform.
 */
export const arithmetic = defineTask({
  name: 'arithmetic',
  stream: DATA_STREAMS.arithmetic,
  description: 'Evaluate a chain of +, - and * (multiplication first).',
  defaults: { terms: 3, digits: 1 } satisfies ArithmeticConfig,
  ranges: { terms: [2, 8], digits: [1, 6] },
  alphabet: '0123456789+-*=',
  wordsPerExample: ({ terms, digits }) => terms * digits + terms - 1,
  make(words, { terms, digits }) {
    const numbers = [words.number(digits)];
    const ops: string[] = [];
    for (let i = 1; i < terms; i++) {
      ops.push(OPS[words.below(OPS.length)]);
      numbers.push(words.number(digits));
    }
    const prompt = numbers.map((n, i) => (i === 0 ? n : ops[i - 1] + n)).join('') + '=';
    return { prompt, answer: String(evaluate(numbers.map(BigInt), ops)) };
  },
  parse(prompt) {
    if (!/^\d+(?:[-+*]\d+)+=$/.test(prompt)) return undefined;
    const body = prompt.slice(0, -1);
    return { numbers: body.split(/[-+*]/).map(BigInt), ops: body.replace(/\d+/g, '').split('') };
  },
  check: ({ numbers, ops }, answer) => /^(0|-?[1-9]\d*)$/.test(answer) && BigInt(answer) === evaluate(numbers, ops),
});
