/** English-like test text, generated (the tests must not depend on any data file). */
import { randomWords } from '../../src/tensor/index.js';

const WORDS = 'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there their one all we can has more will if when who so no what said about out up them into some could time then than other its only new two may first these also after any most over'.split(' ');

export function englishLikeText(words: number, seed = 1): string {
  const draws = randomWords({ seed, stream: 99, offset: 0 }, words);
  let text = '';
  for (let i = 0; i < words; i++) {
    const word = WORDS[draws[i] % WORDS.length];
    text += i === 0 ? 'The' : draws[i] % 11 === 0 ? `. ${word[0].toUpperCase()}${word.slice(1)}` : ` ${word}`;
    if (draws[i] % 97 === 0) text += '.\n';
  }
  return text + '.\n';
}

/** Strings that stress round trips: empty, emoji (astral, ZWJ), CJK, combining marks, controls, a BOM. */
export const TRICKY_STRINGS = [
  '',
  'plain ASCII',
  '👩‍👩‍👧 family 🎉',
  '中文字符と日本語の文章、한국어',
  'e\u0301 combining, \u00a0nbsp, tabs\t\tand\r\nnewlines',
  '\ufeffstarts with a BOM',
  '\u0000\u0001 control bytes \u007f',
  '    leading spaces and trailing   ',
  'x'.repeat(300),
];
