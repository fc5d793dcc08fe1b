/**
 * Byte-level BPE: text is UTF-8 bytes (ids 2..257), merged by the trained merges in rank order within
 * each chunk (see bpe-chunks.ts). Any UTF-8 round-trips, since every byte has a token.
 */
import { TokenizerFormatError } from './errors.js';
import { forEachChunk } from './bpe-chunks.js';
import { mergePair, pairKey, trainBpeMerges } from './bpe-train.js';
import {
  END_ID,
  FIRST_BYTE_ID,
  FIRST_LEARNED_ID,
  PAD_ID,
  lenientUtf8,
  utf8Encoder,
  type BpeTokenizerJson,
  type Tokenizer,
} from './tokenizer.js';

/** Encoded chunks are cached; the cache is dropped when full, which changes speed, never the output. */
const CACHE_LIMIT = 1 << 16;

export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe';
  readonly padId = PAD_ID;
  readonly endId = END_ID;
  readonly vocabSize: number;
  private readonly rankOf = new Map<number, number>();
  /** The bytes each id stands for (empty for the specials). */
  private readonly bytesOf: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0)];
  private readonly cache = new Map<string, number[]>();

  private constructor(readonly merges: readonly (readonly [number, number])[]) {
    for (let b = 0; b < 256; b++) this.bytesOf.push(Uint8Array.of(b));
    merges.forEach(([left, right], rank) => {
      this.rankOf.set(pairKey(left, right), rank);
      const bytes = new Uint8Array(this.bytesOf[left].length + this.bytesOf[right].length);
      bytes.set(this.bytesOf[left]);
      bytes.set(this.bytesOf[right], this.bytesOf[left].length);
      this.bytesOf.push(bytes);
    });
    this.vocabSize = FIRST_LEARNED_ID + merges.length;
  }

  /** Trains merges on `text` until the vocabulary has `vocabSize` ids (or the text has no pairs left). */
  static train(text: string | Uint8Array, { vocabSize }: { vocabSize: number }): BpeTokenizer {
    return new BpeTokenizer(trainBpeMerges(text, vocabSize));
  }

  static fromJSON(json: BpeTokenizerJson): BpeTokenizer {
    const { merges } = json;
    if (!Array.isArray(merges)) throw new TokenizerFormatError('merges must be an array of [left, right] id pairs');
    const seen = new Set<number>();
    merges.forEach((merge, rank) => {
      const limit = FIRST_LEARNED_ID + rank;
      const ok = Array.isArray(merge) && merge.length === 2 && merge.every((id) => Number.isInteger(id) && id >= FIRST_BYTE_ID && id < limit);
      if (!ok) throw new TokenizerFormatError(`merge ${rank} must be two ids in ${FIRST_BYTE_ID}..${limit - 1}, got ${JSON.stringify(merge)}`);
      const key = pairKey(merge[0], merge[1]);
      if (seen.has(key)) throw new TokenizerFormatError(`merge ${rank} repeats the pair ${JSON.stringify(merge)}`);
      seen.add(key);
    });
    return new BpeTokenizer(merges.map(([l, r]) => [l, r] as const));
  }

  encode(text: string): Int32Array {
    const bytes = utf8Encoder.encode(text);
    const ids: number[] = [];
    forEachChunk(bytes, (start, end) => {
      for (const id of this.encodeChunk(bytes, start, end)) ids.push(id);
    });
    return Int32Array.from(ids);
  }

  decode(ids: ArrayLike<number>): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const bytes = this.bytesOf[ids[i]];
      if (bytes === undefined) continue;
      parts.push(bytes);
      length += bytes.length;
    }
    const all = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.length;
    }
    return lenientUtf8.decode(all);
  }

  toJSON(): BpeTokenizerJson {
    return { kind: 'bpe', version: 1, merges: this.merges.map(([l, r]) => [l, r]) };
  }

  /** Repeatedly merges the lowest-ranked pair present, which replays the training merges in order. */
  private encodeChunk(bytes: Uint8Array, start: number, end: number): number[] {
    let key = '';
    for (let i = start; i < end; i++) key += String.fromCharCode(bytes[i]);
    const cached = this.cache.get(key);
    if (cached) return cached;
    let word = Array.from(bytes.subarray(start, end), (b) => FIRST_BYTE_ID + b);
    for (;;) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.rankOf.get(pairKey(word[i], word[i + 1]));
        if (rank !== undefined && rank < bestRank) bestRank = rank;
      }
      if (bestRank === Infinity) break;
      const [left, right] = this.merges[bestRank];
      word = mergePair(word, left, right, FIRST_LEARNED_ID + bestRank);
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, word);
    return word;
  }
}
