/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
 * counter-based generator. The 4 words at (key, counter) are a pure function of both, so a value
 * depends only on where it sits in the stream, never on threads or on the order of calls.
 */
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High and low 32 bits of the 64-bit product of two uint32s, from exact 16-bit partial products. */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** One Philox4x32-10 block: writes 4 words for counter (c0..c3) under key (k0, k1) at out[at..at+3]. */
export function philoxBlock(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number, out: Uint32Array, at = 0): void {
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[at] = c0;
  out[at + 1] = c1;
  out[at + 2] = c2;
  out[at + 3] = c3;
}

/** Where random words come from: a seed (the key, < 2^53), a stream (< 2^53) and a word offset in it. */
export type RandomKey = { seed: number; stream: number; offset: number };

const split = (x: number) => [x >>> 0, Math.floor(x / 0x100000000) >>> 0] as const;

/**
 * `count` uint32 words of stream (seed, stream) starting at word `offset`. Word w is word w % 4 of
 * the block whose counter is (w / 4 as 64 bits, stream as 64 bits) under key = seed as 64 bits.
 */
export function randomWords({ seed, stream, offset }: RandomKey, count: number): Uint32Array {
  const [k0, k1] = split(seed);
  const [s0, s1] = split(stream);
  const out = new Uint32Array(count);
  const block = new Uint32Array(4);
  for (let i = 0; i < count; ) {
    const w = offset + i;
    const [b0, b1] = split(Math.floor(w / 4));
    philoxBlock(k0, k1, b0, b1, s0, s1, block);
    for (let j = w % 4; j < 4 && i < count; j++, i++) out[i] = block[j];
  }
  return out;
}

/** floor(word * n / 2^32): an integer in [0, n) for n <= 2^32, biased by less than n / 2^32. */
export function wordBelow(word: number, n: number): number {
  return mulhi(word, n);
}
