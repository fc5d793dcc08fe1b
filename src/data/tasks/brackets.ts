import { DATA_STREAMS } from '../streams.js';
import { defineTask, type WordReader } from './task.js';

export type BracketsConfig = { pairs: number; kinds: number };

const OPEN = '([{';
const CLOSE = ')]}';

function isBalanced(text: string): boolean {
  const stack: string[] = [];
  for (const c of text) {
    const open = OPEN.indexOf(c);
    if (open >= 0) stack.push(CLOSE[open]);
    else if (stack.pop() !== c) return false;
  }
  return stack.length === 0;
}

/** A balanced string of `pairs` pairs: a random walk that opens while there is room to close again. */
function balanced(words: WordReader, pairs: number, kinds: number): string {
  const stack: string[] = [];
  let out = '';
  for (let remaining = 2 * pairs; remaining > 0; remaining--) {
    const mayOpen = stack.length + 1 < remaining;
    const coin = words.below(2);
    const kind = words.below(kinds);
    if (stack.length === 0 || (mayOpen && coin === 0)) {
      out += OPEN[kind];
      stack.push(CLOSE[kind]);
    } else out += stack.pop();
  }
  return out;
}

/**
 * "b:([])=" -> "1", "b:([)]=" -> "0". Half the examples are balanced; the others are a balanced
 * string with one bracket replaced by another, which always unbalances it, so both answers are common.
 */
export const brackets = defineTask({
  name: 'brackets',
  stream: DATA_STREAMS.brackets,
  description: 'Say whether a string of brackets is balanced (1) or not (0).',
  defaults: { pairs: 4, kinds: 2 } satisfies BracketsConfig,
  ranges: { pairs: [1, 32], kinds: [1, 3] },
  alphabet: '()[]{}01b:=',
  wordsPerExample: ({ pairs }) => 1 + 4 * pairs + 2,
  make(words, { pairs, kinds }) {
    const keep = words.below(2) === 1;
    let text = balanced(words, pairs, kinds);
    if (!keep) {
      const at = words.below(text.length);
      const others = [...OPEN.slice(0, kinds), ...CLOSE.slice(0, kinds)].filter((c) => c !== text[at]);
      text = text.slice(0, at) + others[words.below(others.length)] + text.slice(at + 1);
    }
    return { prompt: `b:${text}=`, answer: isBalanced(text) ? '1' : '0' };
  },
  parse: (prompt) => /^b:([()[\]{}]+)=$/.exec(prompt)?.[1],
  check: (text, answer) => answer === (isBalanced(text) ? '1' : '0'),
});
