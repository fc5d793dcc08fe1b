import { DATA_STREAMS } from '../streams.js';
import { defineTask } from './task.js';

export type RadixConfig = { digits: number; maxBase: number };

/**
 * Bases stop at 10 so that every numeral is written with the digits 0-9: a letter digit would add
 * characters to TASK_ALPHABET, and so change every task job's character tokenizer and its bits.
 */
const MAX_BASE = 10;

/** `value` written in `base` (2..10), most significant digit first. */
function toBase(value: bigint, base: number): string {
  return value.toString(base);
}

/** A canonical numeral of `base` (no leading zeros, digits below base) as a bigint; undefined otherwise. */
function fromBase(text: string, base: number): bigint | undefined {
  if (!/^(0|[1-9]\d*)$/.test(text)) return undefined;
  let value = 0n;
  for (const c of text) {
    const d = c.charCodeAt(0) - 48;
    if (d >= base) return undefined;
    value = value * BigInt(base) + BigInt(d);
  }
  return value;
}

/**
 * "[2]1011:[7]=" -> "14": the number written in the first base, rewritten in the second. The value is
 * uniform below 10^digits; both bases are uniform in 2..maxBase and differ.
 */
export const radix = defineTask({
  name: 'radix',
  stream: DATA_STREAMS.radix,
  description: 'Rewrite a whole number from one base to another (bases 2 to 10).',
  defaults: { digits: 3, maxBase: MAX_BASE } satisfies RadixConfig,
  ranges: { digits: [1, 30], maxBase: [3, MAX_BASE] },
  alphabet: '0123456789[]:=',
  wordsPerExample: ({ digits }) => digits + 2,
  make(words, { digits, maxBase }) {
    const value = BigInt(words.number(digits));
    const from = 2 + words.below(maxBase - 1);
    const other = 2 + words.below(maxBase - 2); // 2..maxBase without `from`
    const to = other >= from ? other + 1 : other;
    return { prompt: `[${from}]${toBase(value, from)}:[${to}]=`, answer: toBase(value, to) };
  },
  parse(prompt) {
    const m = /^\[(\d+)\](\d+):\[(\d+)\]=$/.exec(prompt);
    if (!m) return undefined;
    const [from, to] = [Number(m[1]), Number(m[3])];
    if (![from, to].every((b) => b >= 2 && b <= MAX_BASE)) return undefined;
    const value = fromBase(m[2], from);
    return value === undefined ? undefined : { value, to };
  },
  check: ({ value, to }, answer) => fromBase(answer, to) === value,
});
