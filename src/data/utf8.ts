/**
 * Strict UTF-8: decode bytes or say exactly where they stop being UTF-8. TextDecoder's fatal mode
 * rejects bad input but does not say where, so a small validator finds the offset for the error.
 */
import { InvalidUtf8Error } from './errors.js';

const strict = new TextDecoder('utf-8', { fatal: true });

/**
 * The byte offset of the first invalid sequence (Unicode 3.9 table 3-7: no overlongs, no surrogates,
 * nothing above U+10FFFF, no truncated sequences), or -1 when all of `bytes` is valid UTF-8.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let i = 0; i < n; ) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let low = 0x80; // the allowed range of the second byte, narrowed to exclude overlongs and surrogates
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > n) return i;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
    for (let k = 2; k < length; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += length;
  }
  return -1;
}

/** Decodes UTF-8 (a leading byte-order mark is dropped), or throws InvalidUtf8Error naming the offset. */
export function decodeUtf8Strict(bytes: Uint8Array, source = 'The input'): string {
  try {
    return strict.decode(bytes);
  } catch {
    const offset = Math.max(0, firstInvalidUtf8Offset(bytes));
    let line = 1;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
    throw new InvalidUtf8Error({ source, offset, line });
  }
}
