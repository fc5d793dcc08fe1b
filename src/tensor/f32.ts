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
