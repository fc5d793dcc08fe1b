/**
 * What every tokenizer shares. Both kinds use one id layout, so a model's special and byte rows mean
 * the same thing whichever tokenizer trained it:
 *   0 = pad, 1 = end, 2..257 = the bytes 0x00..0xFF, 258.. = the tokenizer's own tokens.
 */
export const PAD_ID = 0;
export const END_ID = 1;
export const FIRST_BYTE_ID = 2;
export const FIRST_LEARNED_ID = FIRST_BYTE_ID + 256;

export type CharTokenizerJson = { kind: 'char'; version: 1; chars: string[] };
export type BpeTokenizerJson = { kind: 'bpe'; version: 1; merges: [number, number][] };
export type TokenizerJson = CharTokenizerJson | BpeTokenizerJson;

export interface Tokenizer {
  readonly kind: TokenizerJson['kind'];
  /** Number of ids, specials and bytes included: the model's embedding rows. */
  readonly vocabSize: number;
  readonly padId: number;
  readonly endId: number;
  /** Never emits pad or end: those are added by whoever frames the sequence. */
  encode(text: string): Int32Array;
  /**
   * Inverse of encode for any well-formed string (a lone surrogate is encoded as U+FFFD, as by
   * TextEncoder). Specials carry no text and are skipped, as are ids outside the vocabulary; byte
   * tokens that do not form UTF-8 (a model may sample them) decode to U+FFFD.
   */
  decode(ids: ArrayLike<number>): string;
  toJSON(): TokenizerJson;
}

/** Decodes byte runs; not fatal because a model may sample bytes that are not UTF-8 (they become U+FFFD). */
export const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });
export const utf8Encoder = new TextEncoder();
