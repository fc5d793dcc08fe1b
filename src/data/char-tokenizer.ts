/**
 * One token per character (Unicode code point) of a fixed vocabulary; a character outside it is
 * spelled as its UTF-8 bytes with the byte tokens, so every string round-trips.
 */
import { TokenizerFormatError } from './errors.js';
import {
  END_ID,
  FIRST_BYTE_ID,
  FIRST_LEARNED_ID,
  PAD_ID,
  lenientUtf8,
  utf8Encoder,
  type CharTokenizerJson,
  type Tokenizer,
} from './tokenizer.js';

export class CharTokenizer implements Tokenizer {
  readonly kind = 'char';
  readonly padId = PAD_ID;
  readonly endId = END_ID;
  readonly vocabSize: number;
  private readonly idOf = new Map<string, number>();

  /** `chars`: distinct code points, in id order (ids 258, 259, ...). */
  private constructor(readonly chars: readonly string[]) {
    chars.forEach((c, i) => this.idOf.set(c, FIRST_LEARNED_ID + i));
    this.vocabSize = FIRST_LEARNED_ID + chars.length;
  }

  /** The vocabulary is the set of characters of `text`, sorted by code point (so it is the same everywhere). */
  static fromText(text: string): CharTokenizer {
    const chars = [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(chars);
  }

  static fromJSON(json: CharTokenizerJson): CharTokenizer {
    const { chars } = json;
    if (!Array.isArray(chars)) throw new TokenizerFormatError('chars must be an array of characters');
    const seen = new Set<string>();
    for (const c of chars) {
      if (typeof c !== 'string' || [...c].length !== 1) throw new TokenizerFormatError(`${JSON.stringify(c)} is not one character`);
      if (seen.has(c)) throw new TokenizerFormatError(`character ${JSON.stringify(c)} appears twice`);
      seen.add(c);
    }
    return new CharTokenizer([...chars]);
  }

  encode(text: string): Int32Array {
    const ids: number[] = [];
    for (const c of text) {
      const id = this.idOf.get(c);
      if (id !== undefined) ids.push(id);
      else for (const byte of utf8Encoder.encode(c)) ids.push(FIRST_BYTE_ID + byte);
    }
    return Int32Array.from(ids);
  }

  decode(ids: ArrayLike<number>): string {
    let text = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) text += lenientUtf8.decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id >= FIRST_BYTE_ID && id < FIRST_LEARNED_ID) {
        bytes.push(id - FIRST_BYTE_ID);
        continue;
      }
      flush();
      if (id >= FIRST_LEARNED_ID && id < this.vocabSize) text += this.chars[id - FIRST_LEARNED_ID];
    }
    flush();
    return text;
  }

  toJSON(): CharTokenizerJson {
    return { kind: 'char', version: 1, chars: [...this.chars] };
  }
}
