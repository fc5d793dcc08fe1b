/**
 * Byte-level BPE training. Each merge takes the adjacent pair with the highest count, ties going to
 * the smallest (left id, right id), so the merges are a pure function of the text. Pair counts are
 * kept incrementally over the distinct chunks (each with its frequency) and the best pair comes from
 * a lazy max-heap, so one merge costs only the chunks that contain its pair.
 */
import { TokenizerConfigError } from './errors.js';
import { forEachChunk } from './bpe-chunks.js';
import { FIRST_BYTE_ID, FIRST_LEARNED_ID, utf8Encoder } from './tokenizer.js';

/** Pairs are keyed as left * 2^16 + right, so key order is (left, right) order; ids stay below 2^16. */
export const MAX_BPE_VOCAB = 1 << 16;
export const pairKey = (left: number, right: number) => left * MAX_BPE_VOCAB + right;

/** The merges (left id, right id) for a vocabulary of `vocabSize` ids; fewer when the text runs out of pairs. */
export function trainBpeMerges(text: string | Uint8Array, vocabSize: number): [number, number][] {
  if (!Number.isInteger(vocabSize) || vocabSize < FIRST_LEARNED_ID || vocabSize > MAX_BPE_VOCAB) {
    throw new TokenizerConfigError('vocabSize', vocabSize, `a whole number in ${FIRST_LEARNED_ID}..${MAX_BPE_VOCAB}`);
  }
  const { words, freqs } = distinctChunks(typeof text === 'string' ? utf8Encoder.encode(text) : text);
  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const touched = new Set<number>();
  const add = (word: number[], w: number, delta: number) => {
    for (let i = 0; i + 1 < word.length; i++) {
      const key = pairKey(word[i], word[i + 1]);
      const count = (counts.get(key) ?? 0) + delta;
      touched.add(key);
      if (count === 0) {
        counts.delete(key);
        where.delete(key);
      } else {
        counts.set(key, count);
        if (delta > 0) (where.get(key) ?? where.set(key, new Set()).get(key)!).add(w);
      }
    }
  };
  words.forEach((word, w) => add(word, w, freqs[w]));
  const heap = new PairHeap();
  for (const [key, count] of counts) heap.push(count, key);
  touched.clear();

  const merges: [number, number][] = [];
  while (FIRST_LEARNED_ID + merges.length < vocabSize) {
    const best = heap.popCurrent(counts);
    if (best === undefined) break;
    const left = Math.floor(best / MAX_BPE_VOCAB);
    const right = best % MAX_BPE_VOCAB;
    const id = FIRST_LEARNED_ID + merges.length;
    merges.push([left, right]);
    for (const w of [...where.get(best)!]) {
      add(words[w], w, -freqs[w]);
      words[w] = mergePair(words[w], left, right, id);
      add(words[w], w, freqs[w]);
    }
    for (const key of touched) {
      const count = counts.get(key);
      if (count !== undefined) heap.push(count, key);
    }
    touched.clear();
  }
  return merges;
}

/** Replaces each (left, right), scanning left to right, with `id`. */
export function mergePair(word: number[], left: number, right: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < word.length; i++) {
    if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
      out.push(id);
      i++;
    } else out.push(word[i]);
  }
  return out;
}

/** The distinct chunks of the text as byte-token ids, with how often each occurs. */
function distinctChunks(bytes: Uint8Array): { words: number[][]; freqs: number[] } {
  const index = new Map<string, number>();
  const words: number[][] = [];
  const freqs: number[] = [];
  forEachChunk(bytes, (start, end) => {
    let key = '';
    for (let i = start; i < end; i++) key += String.fromCharCode(bytes[i]);
    const w = index.get(key);
    if (w !== undefined) {
      freqs[w]++;
      return;
    }
    index.set(key, words.length);
    words.push(Array.from(bytes.subarray(start, end), (b) => FIRST_BYTE_ID + b));
    freqs.push(1);
  });
  return { words, freqs };
}

/**
 * Max-heap of (count, pair key): higher count first, then smaller key. Entries go stale when a count
 * changes (a fresh entry is pushed then); popCurrent skips entries that no longer match `counts`.
 */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  popCurrent(current: Map<number, number>): number | undefined {
    while (this.counts.length > 0) {
      const count = this.counts[0];
      const key = this.keys[0];
      this.removeTop();
      if (current.get(key) === count) return key;
    }
    return undefined;
  }

  private removeTop(): void {
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < last && this.before(l, top)) top = l;
      if (r < last && this.before(r, top)) top = r;
      if (top === i) return;
      this.swap(i, top);
      i = top;
    }
  }

  private before(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
}
