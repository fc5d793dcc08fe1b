import { describe, expect, it } from 'vitest';
import { BpeTokenizer, FIRST_LEARNED_ID, TokenizerConfigError, TokenizerFormatError, tokenizerFromJSON } from '../../src/data/index.js';
import { forEachChunk } from '../../src/data/bpe-chunks.js';
import { englishLikeText, TRICKY_STRINGS } from './text.js';

/** The definition, run naively: recount every pair before each merge. */
function naiveMerges(text: string, vocabSize: number): [number, number][] {
  const bytes = new TextEncoder().encode(text);
  const words: number[][] = [];
  forEachChunk(bytes, (s, e) => words.push(Array.from(bytes.subarray(s, e), (b) => b + 2)));
  const merges: [number, number][] = [];
  while (FIRST_LEARNED_ID + merges.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) counts.set(`${w[i]},${w[i + 1]}`, (counts.get(`${w[i]},${w[i + 1]}`) ?? 0) + 1);
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [key, count] of counts) {
      const pair = key.split(',').map(Number) as [number, number];
      const smaller = best === undefined || pair[0] < best[0] || (pair[0] === best[0] && pair[1] < best[1]);
      if (count > bestCount || (count === bestCount && smaller)) [best, bestCount] = [pair, count];
    }
    if (!best) break;
    const id = FIRST_LEARNED_ID + merges.length;
    merges.push(best);
    for (const w of words) {
      for (let i = 0; i + 1 < w.length; i++) if (w[i] === best[0] && w[i + 1] === best[1]) w.splice(i, 2, id);
    }
  }
  return merges;
}

describe('BPE', () => {
  const corpus = englishLikeText(4000);
  const tokenizer = BpeTokenizer.train(corpus, { vocabSize: 400 });

  it('chooses the same merges as the naive definition (highest count, then smallest pair)', () => {
    const small = englishLikeText(600, 7) + ' aaaa bbbb abab';
    expect(BpeTokenizer.train(small, { vocabSize: 330 }).merges).toEqual(naiveMerges(small, 330));
  });

  it('is deterministic: training twice gives the same merges', () => {
    expect(BpeTokenizer.train(corpus, { vocabSize: 400 }).merges).toEqual(tokenizer.merges);
    expect(tokenizer.vocabSize).toBe(400);
  });

  it('compresses English-like text to fewer tokens than bytes', () => {
    const heldOut = englishLikeText(2000, 2);
    const ids = tokenizer.encode(heldOut);
    expect(ids.length).toBeLessThan(new TextEncoder().encode(heldOut).length / 2.5);
    expect(tokenizer.decode(ids)).toBe(heldOut);
  });

  it.each(TRICKY_STRINGS)('round-trips %j', (text) => {
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });

  it('stops early when the text runs out of pairs', () => {
    expect(BpeTokenizer.train('abab', { vocabSize: 1000 }).merges).toEqual([[0x61 + 2, 0x62 + 2], [FIRST_LEARNED_ID, FIRST_LEARNED_ID]]);
    expect(BpeTokenizer.train('', { vocabSize: 300 }).vocabSize).toBe(FIRST_LEARNED_ID);
  });

  it('rejects a vocabulary size out of range', () => {
    expect(() => BpeTokenizer.train(corpus, { vocabSize: 100 })).toThrow(TokenizerConfigError);
    expect(() => BpeTokenizer.train(corpus, { vocabSize: 70_000 })).toThrow(TokenizerConfigError);
  });

  it('serialises to JSON and back, and rejects bad merges', () => {
    const copy = tokenizerFromJSON(JSON.parse(JSON.stringify(tokenizer)));
    expect(copy.toJSON()).toEqual(tokenizer.toJSON());
    expect(Array.from(copy.encode(corpus.slice(0, 500)))).toEqual(Array.from(tokenizer.encode(corpus.slice(0, 500))));
    expect(() => tokenizerFromJSON({ kind: 'bpe', version: 1, merges: [[2, FIRST_LEARNED_ID]] })).toThrow(TokenizerFormatError);
    expect(() => tokenizerFromJSON({ kind: 'bpe', version: 1, merges: [[2, 3], [2, 3]] })).toThrow(/repeats/);
  });
});
