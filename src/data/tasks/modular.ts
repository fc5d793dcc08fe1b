import { DATA_STREAMS } from '../streams.js';
import { defineTask, parseCanonical } from './task.js';

export type ModularConfig = { modulus: number };

const OPS = ['+', '-', '*'] as const;
type Op = (typeof OPS)[number];

/** (a op b) mod m in [0, m), for residues a, b. */
function evaluate(a: bigint, op: Op, b: bigint, m: bigint): bigint {
  const raw = op === '+' ? a + b : op === '-' ? a - b : a * b;
  return ((raw % m) + m) % m;
}

/** "(5*6)%7=" -> "2": +, - or * of two residues, reduced mod m into 0..m-1. */
export const modular = defineTask({
  name: 'modular',
  stream: DATA_STREAMS.modular,
  description: 'Add, subtract or multiply two residues modulo m.',
  defaults: { modulus: 7 } satisfies ModularConfig,
  ranges: { modulus: [2, 1_000_000] },
  alphabet: '0123456789+-*%()=',
  wordsPerExample: () => 3,
  make(words, { modulus }) {
    const a = words.below(modulus);
    const op = OPS[words.below(OPS.length)];
    const b = words.below(modulus);
    const m = BigInt(modulus);
    return { prompt: `(${a}${op}${b})%${modulus}=`, answer: String(evaluate(BigInt(a), op, BigInt(b), m)) };
  },
  parse(prompt) {
    const m = /^\((\d+)([-+*])(\d+)\)%(\d+)=$/.exec(prompt);
    if (!m || BigInt(m[4]) === 0n) return undefined;
    return { a: BigInt(m[1]), op: m[2] as Op, b: BigInt(m[3]), m: BigInt(m[4]) };
  },
  check: ({ a, op, b, m }, answer) => parseCanonical(answer) === evaluate(a, op, b, m),
});
