/**
 * Splits UTF-8 bytes into the chunks BPE merges stay inside (GPT-2 style: " word", " 123", " ?!",
 * whitespace). Classes are decided on bytes, not with \p{L} regexes, because Unicode property tables
 * change between JavaScript engines and a tokenizer must cut the same way on every machine.
 * Bytes >= 0x80 (all of non-ASCII UTF-8) count as letters, so a multi-byte character is never split.
 */
const SPACE = 0;
const LETTER = 1;
const DIGIT = 2;
const OTHER = 3;

/** Longer runs (a file without spaces, CJK text) are cut, so encoding one chunk stays cheap. */
const MAX_CHUNK_BYTES = 64;

const CLASS = new Uint8Array(256).fill(OTHER);
for (let b = 0; b < 256; b++) {
  if (b === 0x20 || (b >= 0x09 && b <= 0x0d)) CLASS[b] = SPACE;
  else if ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b >= 0x80) CLASS[b] = LETTER;
  else if (b >= 0x30 && b <= 0x39) CLASS[b] = DIGIT;
}

/** Calls `chunk(start, end)` for consecutive chunks that cover `bytes` exactly, in order. */
export function forEachChunk(bytes: Uint8Array, chunk: (start: number, end: number) => void): void {
  forEachRun(bytes, (start, end) => {
    for (let s = start; s < end; s += MAX_CHUNK_BYTES) chunk(s, Math.min(end, s + MAX_CHUNK_BYTES));
  });
}

function forEachRun(bytes: Uint8Array, chunk: (start: number, end: number) => void): void {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    if (CLASS[bytes[i]] !== SPACE) {
      const end = runEnd(bytes, i);
      chunk(i, end);
      i = end;
      continue;
    }
    let j = i;
    while (j < n && CLASS[bytes[j]] === SPACE) j++;
    if (j < n && bytes[j - 1] === 0x20) {
      // A single space before a word belongs to the word (" the"), as in GPT-2.
      if (j - 1 > i) chunk(i, j - 1);
      const end = runEnd(bytes, j);
      chunk(j - 1, end);
      i = end;
    } else {
      chunk(i, j);
      i = j;
    }
  }
}

/** End of the run of same-class (non-space) bytes starting at `i`. */
function runEnd(bytes: Uint8Array, i: number): number {
  const cls = CLASS[bytes[i]];
  while (i < bytes.length && CLASS[bytes[i]] === cls) i++;
  return i;
}
