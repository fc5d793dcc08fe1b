/**
 * Scalar float32 semantics shared by every kernel. JavaScript computes in float64; a single + - * / or
 * sqrt of two float32 values rounded once to float32 (Math.fround) is the correctly rounded float32
 * result, so `f32(a + b)` is IEEE binary32 addition. Chains of operations need f32() after each one.
 */
export const f32 = Math.fround;

/** The one NaN that mycel writes: the canonical quiet NaN. */
export const CANONICAL_NAN_BITS = 0x7fc00000;

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The binary32 bit pattern of a float32 value (NaN payloads are whatever the engine produced). */
export function bitsOf(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0];
}

export function fromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0];
}

/**
 * Rewrites every NaN in `data` to the canonical NaN, through an integer view: engines may store any
 * NaN payload through a Float32Array, so a value-level write cannot promise the bits.
 */
export function canonicalizeNaNs(data: Float32Array): void {
  let bits: Int32Array | undefined;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== v) {
      bits ??= new Int32Array(data.buffer, data.byteOffset, data.length);
      bits[i] = CANONICAL_NAN_BITS;
    }
  }
}

/** IEEE 754-2019 maximum (as WebAssembly f32.max): NaN if either is NaN; -0 < +0. */
export function fmax(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  if (a === 0 && b === 0) return Object.is(a, -0) ? b : a;
  return a > b ? a : b;
}

/** IEEE 754-2019 minimum (as WebAssembly f32.min): NaN if either is NaN; -0 < +0. */
export function fmin(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  if (a === 0 && b === 0) return Object.is(a, -0) ? a : b;
  return a < b ? a : b;
}

/** The largest finite float32 plus half an ulp: the exact sums from here up round to infinity. */
const OVERFLOW_THRESHOLD = 2 ** 128 - 2 ** 103;

/**
 * IEEE 754 fusedMultiplyAdd on binary32 values: a * b + c rounded once to float32 (round to nearest,
 * ties to even), as a hardware fma computes it. Exact emulation in float64: the product of two float32
 * values is exact in float64 (48 significant bits); p + c is rounded once to float64 as s, with the exact
 * error e (TwoSum). Rounding s to float32 is correct unless s lies exactly on a float32 rounding boundary
 * (a midpoint between two float32 values, or the overflow threshold) while the exact sum is off it by e:
 * then the exact sum lies on e's side of the boundary and rounds to the neighbour on that side. This is
 * what rounding the sum to odd before the one float32 rounding achieves, without bit manipulation.
 * A NaN result is NaN (its bits are the caller's business).
 */
export function ffma(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = Math.fround(s);
  if (r === s || s !== s) return r;
  if (s === Infinity || s === -Infinity) return s;
  // TwoSum (Knuth): s + e = p + c exactly; neither overflows for float32 operands.
  const bv = s - p;
  const e = (p - (s - bv)) + (c - bv);
  if (e === 0) return r;
  if (r === Infinity || r === -Infinity) {
    // s rounded to infinity; only s exactly at the threshold with the exact sum below it rounds to the largest finite.
    const max = s > 0 ? 3.4028234663852886e38 : -3.4028234663852886e38;
    return Math.abs(s) === OVERFLOW_THRESHOLD && (e > 0) !== (s > 0) ? max : r;
  }
  // s is a midpoint iff its mirror image across r is a float32 (then the two neighbours are r and t).
  const t = 2 * s - r;
  if (Math.fround(t) !== t) return r;
  return e > 0 ? Math.max(r, t) : Math.min(r, t);
}
