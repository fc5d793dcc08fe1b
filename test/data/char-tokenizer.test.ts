import { describe, expect, it } from 'vitest';
import { CharTokenizer, FIRST_BYTE_ID, FIRST_LEARNED_ID, TASK_ALPHABET, TokenizerFormatError, tokenizerFromJSON } from '../../src/data/index.js';
import { TRICKY_STRINGS } from './text.js';

describe('CharTokenizer', () => {
  const tokenizer = CharTokenizer.fromText('hello world');

  it('has pad, end, 256 byte tokens, then the sorted distinct characters', () => {
    expect(tokenizer.chars).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(tokenizer.vocabSize).toBe(FIRST_LEARNED_ID + 8);
    expect([tokenizer.padId, tokenizer.endId]).toEqual([0, 1]);
    expect(Array.from(tokenizer.encode('hell'))).toEqual([3, 2, 4, 4].map((i) => FIRST_LEARNED_ID + i));
  });

  it.each(TRICKY_STRINGS)('round-trips %j, spelling unknown characters in bytes', (text) => {
    const ids = tokenizer.encode(text);
    expect(tokenizer.decode(ids)).toBe(text);
    expect(ids.every((id) => id >= FIRST_BYTE_ID && id < tokenizer.vocabSize)).toBe(true);
  });

  it('uses byte fallback exactly for characters outside the vocabulary', () => {
    expect(Array.from(tokenizer.encode('é'))).toEqual([0xc3, 0xa9].map((b) => FIRST_BYTE_ID + b));
    const emoji = CharTokenizer.fromText('a🎉');
    expect(emoji.encode('🎉')).toHaveLength(1);
    expect(emoji.decode(emoji.encode('a🎉a'))).toBe('a🎉a');
  });

  it('skips specials when decoding, and turns invalid sampled bytes into U+FFFD', () => {
    const ids = [...tokenizer.encode('he'), tokenizer.endId, tokenizer.padId];
    expect(tokenizer.decode(ids)).toBe('he');
    expect(tokenizer.decode([FIRST_BYTE_ID + 0xff])).toBe('\ufffd');
  });

  it('serialises to JSON and back', () => {
    const tasks = CharTokenizer.fromText(TASK_ALPHABET);
    const copy = tokenizerFromJSON(JSON.parse(JSON.stringify(tasks)));
    expect(copy.toJSON()).toEqual(tasks.toJSON());
    expect(Array.from(copy.encode('12+34=46'))).toEqual(Array.from(tasks.encode('12+34=46')));
  });

  it('rejects malformed JSON with TokenizerFormatError', () => {
    expect(() => tokenizerFromJSON({ kind: 'char', version: 1, chars: ['ab'] })).toThrow(TokenizerFormatError);
    expect(() => tokenizerFromJSON({ kind: 'char', version: 1, chars: ['a', 'a'] })).toThrow(/twice/);
    expect(() => tokenizerFromJSON({ kind: 'char', version: 2, chars: [] })).toThrow(/version/);
    expect(() => tokenizerFromJSON({ kind: 'wordpiece', version: 1 })).toThrow(/unknown kind/);
    expect(() => tokenizerFromJSON(null)).toThrow(TokenizerFormatError);
  });
});
