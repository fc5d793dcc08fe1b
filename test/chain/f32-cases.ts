/**
 * The TypeScript reference for contracts/F32.sol and the operand generators shared by test/chain/f32.test.ts and
 * bench/f32.ts. Operands and results are uint32 bit patterns; every NaN result is the canonical 0x7fc00000.
 */
import { CANONICAL_NAN_BITS, bitsOf, ffma, fmax, fmin, fromBits } from '../../src/tensor/f32.js';

export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'min', 'max'] as const; // F32Harness.Binary order
export const COMPARE_OPS = ['eq', 'lt', 'le'] as const; // F32Harness.Compare order
export type BinaryOp = (typeof BINARY_OPS)[number];
export type CompareOp = (typeof COMPARE_OPS)[number];

const canonical = (x: number): number => (x !== x ? CANONICAL_NAN_BITS : bitsOf(x));

export function refBinary(op: BinaryOp, a: number, b: number): number {
  const x = fromBits(a);
  const y = fromBits(b);
  switch (op) {
    case 'add': return canonical(Math.fround(x + y));
    case 'sub': return canonical(Math.fround(x - y));
    case 'mul': return canonical(Math.fround(x * y));
    case 'div': return canonical(Math.fround(x / y));
    case 'min': return canonical(fmin(x, y));
    case 'max': return canonical(fmax(x, y));
  }
}

export function refCompare(op: CompareOp, a: number, b: number): boolean {
  const x = fromBits(a);
  const y = fromBits(b);
  return op === 'eq' ? x === y : op === 'lt' ? x < y : x <= y;
}

/** fma(a, b, c) with the runtime's ffma (src/tensor/f32.ts), NaN canonical. */
export const refFma = (a: number, b: number, c: number): number => canonical(ffma(fromBits(a), fromBits(b), fromBits(c)));

export const refSqrt = (a: number): number => canonical(Math.fround(Math.sqrt(fromBits(a))));

/** Saturating truncation (F32.toInt32): NaN -> 0, >= 2^31 -> 2^31 - 1, < -2^31 -> -2^31. */
export function refToInt32(a: number): number {
  const x = fromBits(a);
  if (x !== x) return 0;
  if (x >= 2147483648) return 2147483647;
  if (x <= -2147483649) return -2147483648;
  return Math.trunc(x) | 0;
}

export const refFromInt32 = (n: number): number => bitsOf(Math.fround(n));

/** Whether F32.toInt32Strict accepts the value (the tensor runtime's cast rule). */
export const toInt32InRange = (a: number): boolean => {
  const x = fromBits(a);
  return x > -2147483649 && x < 2147483648;
};

/** A small seeded PRNG (mulberry32) so a failing case reproduces. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const SIGN = 0x80000000;
const pack = (sign: number, exponent: number, mantissa: number): number =>
  ((sign ? SIGN : 0) | ((exponent & 0xff) << 23) | (mantissa & 0x7fffff)) >>> 0;

/** Every class, both signs: zeros, subnormals, normals at the edges, infinities, NaNs with payloads. */
export const EDGE_VALUES: number[] = (() => {
  const magnitudes = [
    0x00000000, // 0
    0x00000001, // smallest subnormal
    0x00000002, 0x00000003,
    0x00400000, // half the subnormal range
    0x007fffff, // largest subnormal
    0x00800000, // smallest normal
    0x00800001, 0x00ffffff,
    0x33800000, // 2^-24
    0x34000000, // 2^-23
    0x3effffff, 0x3f000000, // just below 0.5, 0.5
    0x3f7fffff, 0x3f800000, 0x3f800001, // around 1
    0x3fc00000, // 1.5
    0x3fffffff, 0x40000000, 0x40400000, // 2 - ulp, 2, 3
    0x4b000000, 0x4b7fffff, 0x4b800000, 0x4b800001, // 2^23, 2^24 - 1, 2^24, 2^24 + 2
    0x4effffff, 0x4f000000, 0x4f000001, // around 2^31
    0x7f000000, 0x7f7ffffe, 0x7f7fffff, // large, largest finite
    0x7f800000, // infinity
    0x7f800001, // signalling NaN, smallest payload
    0x7fa00000, 0x7fc00000, 0x7fc00001, 0x7fffffff, // NaNs
  ];
  return magnitudes.flatMap((m) => [m, (m | SIGN) >>> 0]);
})();

/** All ordered pairs of edge values. */
export function edgePairs(): [number, number][] {
  return EDGE_VALUES.flatMap((a) => EDGE_VALUES.map((b): [number, number] => [a, b]));
}

/** A value from a structured distribution: exponents and mantissas at the boundaries far more often than uniform. */
export function structured(next: () => number): number {
  const r = next();
  const exponents = [0, 0, 1, 2, 23, 24, 25, 103, 126, 127, 128, 150, 151, 230, 253, 254, 254, 255];
  const exponent = r % 4 === 0 ? next() & 0xff : exponents[next() % exponents.length];
  const mantissas = [0, 1, 2, 0x7fffff, 0x7ffffe, 0x400000, 0x400001, 0x3fffff, next() & 0x7fffff, next() & 0xff, (next() & 0xff) << 15];
  const mantissa = (r >>> 2) % 3 === 0 ? next() & 0x7fffff : mantissas[next() % mantissas.length];
  return pack(r & 0x80000000, exponent, mantissa);
}

/** A finite nonzero value whose biased exponent is `exponent` (clamped to 0..254). */
function withExponent(next: () => number, exponent: number): number {
  return pack(next() & SIGN, Math.max(0, Math.min(254, exponent)), next() & 0x7fffff);
}

/** Pairs whose exponents differ by `delta` in -40..40 (0..2 and > 24 included), random signs. */
export function exponentDeltaPairs(next: () => number, count: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const delta = (i % 81) - 40;
    const ea = 1 + (next() % 254);
    pairs.push([withExponent(next, ea), withExponent(next, ea + delta)]);
  }
  return pairs;
}

/** a + b (and a - (-b)) lands exactly halfway between two floats: b's bits below a's ulp are 100...0. */
export function additionTiePairs(next: () => number, count: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const d = 1 + (i % 24); // b's exponent is ea - d
    const ea = d + 1 + (next() % (254 - d));
    const a = pack(next() & SIGN, ea, next() & 0x7fffff);
    const low = d === 24 ? 0 : (((next() << d) | (1 << (d - 1))) & 0x7fffff) >>> 0;
    const b = pack(next() & SIGN, ea - d, d === 24 ? 0 : low);
    pairs.push(i & 1 ? [b, a] : [a, b]);
  }
  return pairs;
}

/** Odd u, v whose product has exactly 25 bits: u 2^p * v 2^q is a tie; scaled across normal, subnormal, overflow. */
export function multiplicationTiePairs(next: () => number, count: number): [number, number][] {
  const pairs: [number, number][] = [];
  while (pairs.length < count) {
    const lu = 2 + (next() % 22);
    const u = ((next() & ((1 << (lu - 1)) - 1)) | (1 << (lu - 1)) | 1) >>> 0;
    const lv = 26 - lu;
    const v = ((next() & ((1 << (lv - 1)) - 1)) | (1 << (lv - 1)) | 1) >>> 0;
    if (lv > 24 || u * v < 2 ** 24 || u * v >= 2 ** 25) continue; // exactly 25 bits, odd
    // the product u v 2^(p+q): pick p+q so the result lands anywhere from underflow to overflow
    const sum = -175 + (next() % 280);
    const p = Math.max(-149, Math.min(104, Math.floor(sum / 2) + ((next() % 21) - 10)));
    const q = sum - p;
    if (q < -149 || q > 104) continue;
    const x = u * 2 ** p;
    const y = v * 2 ** q;
    if (Math.fround(x) !== x || Math.fround(y) !== y) continue;
    pairs.push([(bitsOf(x) | (next() & SIGN)) >>> 0, (bitsOf(y) | (next() & SIGN)) >>> 0]);
  }
  return pairs;
}

/** a / 2^k and a * 2^-k: exact unless the result is subnormal, where ties and underflow to 0 happen. */
export function powerOfTwoPairs(next: () => number, count: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const a = i & 1 ? pack(next() & SIGN, next() % 4, next() & 0x7fffff) : withExponent(next, 1 + (next() % 60));
    const k = next() % 40;
    pairs.push([a, (bitsOf(2 ** (i & 2 ? k : -k)) | (next() & SIGN)) >>> 0]);
  }
  return pairs;
}

/** x and -x (cancellation to +0), x and x. */
export function cancellationPairs(next: () => number, count: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    const x = i & 1 ? next() : structured(next);
    pairs.push([x, i % 3 === 0 ? x : (x ^ SIGN) >>> 0]);
  }
  return pairs;
}

export function randomPairs(next: () => number, count: number): [number, number][] {
  return Array.from({ length: count }, (_, i): [number, number] =>
    i & 1 ? [next(), next()] : [structured(next), structured(next)],
  );
}

/** The operand pairs for one binary op or comparison: edges, constructed ties and boundaries, random. */
export function binaryCases(op: BinaryOp | CompareOp, seed: number, random = 2500): [number, number][] {
  const next = rng(seed);
  const pairs = [...edgePairs(), ...exponentDeltaPairs(next, 810), ...cancellationPairs(next, 300), ...randomPairs(next, random)];
  if (op === 'add' || op === 'sub') pairs.push(...additionTiePairs(next, 1200));
  if (op === 'mul' || op === 'div') pairs.push(...multiplicationTiePairs(next, 800), ...powerOfTwoPairs(next, 800));
  if (op === 'div') pairs.push(...multiplicationTiePairs(next, 400).map(([x, y]): [number, number] => [refBinary('mul', x, y), y]));
  return pairs;
}

/** The odd roots t of t^2 = -c (mod 2^26), c = 7 mod 8 (so -c is an odd square mod 2^26), by Hensel lifting. */
function oddRootsOfMinus(c: number): number[] {
  const target = 2 ** 26 - c;
  let x = 1n;
  for (let k = 3; k < 26; k++) {
    // x^2 = target (mod 2^k); fix bit k-1 so that it also holds mod 2^(k+1)
    if ((x * x - BigInt(target)) % (1n << BigInt(k + 1)) !== 0n) x += 1n << BigInt(k - 1);
  }
  const roots = [Number(x), 2 ** 26 - Number(x), (Number(x) + 2 ** 25) % 2 ** 26, (2 ** 26 - Number(x) + 2 ** 25) % 2 ** 26];
  return roots.filter((t) => t >= 2 ** 24 && t < 2 ** 25 && (BigInt(t) * BigInt(t) + BigInt(c)) % (1n << 26n) === 0n);
}

/**
 * Hard cases for sqrt: x = (t^2 + c) / 2^26 * 4^j with t odd of 25 bits and small c, so sqrt(x) lies just above
 * the midpoint t between two floats (relative distance ~c 2^-51): a missing sticky bit rounds these wrongly.
 */
export function sqrtHardCases(): number[] {
  const values: number[] = [];
  for (let c = 7; c < 256; c += 8) {
    for (const t of oddRootsOfMinus(c)) {
      const m = Number((BigInt(t) * BigInt(t) + BigInt(c)) >> 26n); // < 2^24, exact
      for (const j of [-70, -64, -40, -10, -1, 0, 1, 12, 50, 58]) values.push(bitsOf(Math.fround(m * 4 ** j)));
    }
  }
  return values;
}

/** Operands for sqrt: edges, perfect squares, near-midpoint results, subnormals, negatives, random. */
export function sqrtCases(seed: number, random = 4000): number[] {
  const next = rng(seed);
  const values = [...EDGE_VALUES, ...sqrtHardCases()];
  for (let i = 1; i < 1000; i++) values.push(bitsOf(Math.fround(i * i)), bitsOf(Math.fround(i * i + 1)), bitsOf(Math.fround((i * i) / 4096)));
  for (let i = 0; i < random; i++) values.push(i & 1 ? next() : structured(next));
  for (let i = 0; i < 500; i++) values.push(pack(0, next() % 2, next() & 0x7fffff));
  return values;
}

/** Operands for toInt32: around 0, +-1, +-2^24 and +-2^31, integers, fractions, random. */
export function toInt32Cases(seed: number, random = 3500): number[] {
  const next = rng(seed);
  const values = [...EDGE_VALUES];
  for (let e = 120; e <= 160; e++) for (let j = 0; j < 40; j++) values.push(pack(next() & SIGN, e, j < 4 ? [0, 1, 0x7fffff, 0x400000][j] : next()));
  for (let i = 0; i < random; i++) values.push(i & 1 ? next() : structured(next));
  return values;
}

/** Operands for fromInt32: 0, +-1, around +-2^24 (ties), extremes, random widths. */
export function fromInt32Cases(seed: number, random = 4800): number[] {
  const next = rng(seed);
  const values = [0, 1, -1, 2147483647, -2147483648, -2147483647, 16777215, 16777216, 16777217, 16777219, -16777217, -16777219, 33554435, 2147483520, 2147483584, 2147483583];
  for (let i = 0; i < random; i++) {
    const width = 1 + (next() % 32);
    const n = next() >>> (32 - width);
    values.push((next() & 1 ? -n : n) | 0);
  }
  for (let k = 25; k <= 31; k++) {
    for (let j = 0; j < 60; j++) {
      // halfway cases: low (k - 24) bits are 100...0
      const ulp = 2 ** (k - 24);
      const n = (2 ** (k - 1) + (next() % 2 ** 23) * ulp + ulp / 2) | 0;
      values.push(j & 1 ? -n | 0 : n);
    }
  }
  return values;
}

export const hex = (bits: number): string => `0x${(bits >>> 0).toString(16).padStart(8, '0')}`;

export type Triple = [number, number, number];

/** Triples of edge values: every (a, b) of a spread of edges with several addends. */
function edgeTriples(next: () => number, count: number): Triple[] {
  const e = EDGE_VALUES;
  return Array.from({ length: count }, (): Triple => [e[next() % e.length], e[next() % e.length], e[next() % e.length]]);
}

/** c = -round(a b), nudged by 0 or one ulp: the result is the product's rounding error (cancellation, exact). */
function fmaCancellationTriples(next: () => number, count: number): Triple[] {
  const triples: Triple[] = [];
  for (let i = 0; i < count; i++) {
    const a = withExponent(next, 100 + (next() % 55));
    const b = withExponent(next, 100 + (next() % 55));
    const product = refBinary('mul', a, b);
    const c = (((product ^ SIGN) >>> 0) + [0, 1, -1][i % 3]) >>> 0;
    triples.push([a, b, (product & 0x7fffffff) === 0 || product === CANONICAL_NAN_BITS ? next() : c]);
  }
  return triples;
}

/** Products of tie-shaped (25-bit) significands plus a tiny addend of either sign: only a fused rounding gets them. */
function fmaTieTriples(next: () => number, count: number): Triple[] {
  return multiplicationTiePairs(next, count).map(([a, b], i): Triple => {
    const productExponent = ((refBinary('mul', a, b) >>> 23) & 0xff) || 1;
    const tiny = i % 4 === 0 ? 0 : withExponent(next, productExponent - 30 - (next() % 60));
    return [a, b, (tiny | (next() & SIGN)) >>> 0];
  });
}

/** Small-integer products plus integers up to 2^24, scaled by a power of two: sums tie often, across all ranges. */
function fmaIntegerTriples(next: () => number, count: number): Triple[] {
  const triples: Triple[] = [];
  while (triples.length < count) {
    const scale = [-149, -140, -120, -60, 0, 0, 20, 76, 90, 100][next() % 10];
    const u = (next() % 4096) * (next() & 1 ? -1 : 1);
    const v = next() % 4096;
    const w = (next() % 2 ** 24) * (next() & 1 ? -1 : 1);
    const split = scale < 0 ? Math.max(scale, -149) : 0;
    const a = Math.fround(u * 2 ** split);
    const b = Math.fround(v * 2 ** (scale - split));
    const c = Math.fround(w * 2 ** scale);
    if (a !== u * 2 ** split || b !== v * 2 ** (scale - split) || c !== w * 2 ** scale) continue;
    triples.push([bitsOf(a), bitsOf(b), bitsOf(c)]);
  }
  return triples;
}

/** Products and addends near the largest finite value (overflow) and near the smallest subnormal (underflow). */
function fmaRangeTriples(next: () => number, count: number): Triple[] {
  return Array.from({ length: count }, (_, i): Triple => {
    const high = i & 1;
    const ea = high ? 127 + (next() % 128) : 1 + (next() % 60);
    const eb = high ? 254 - ea + 127 + (next() % 3) - 1 : 127 - 149 - ea + 127 + 24 + (next() % 48) - 24;
    const ec = high ? 250 + (next() % 5) : next() % 3;
    return [withExponent(next, ea), withExponent(next, eb), withExponent(next, ec)];
  });
}

export function randomTriples(next: () => number, count: number): Triple[] {
  return Array.from({ length: count }, (_, i): Triple =>
    i & 1 ? [next(), next(), next()] : [structured(next), structured(next), structured(next)],
  );
}

/** The operand triples for fma: edges, cancellation, ties only a single rounding resolves, integers, range ends, random. */
export function fmaCases(seed: number, random = 1500): Triple[] {
  const next = rng(seed);
  return [
    ...edgeTriples(next, 1000),
    ...fmaCancellationTriples(next, 600),
    ...fmaTieTriples(next, 800),
    ...fmaIntegerTriples(next, 800),
    ...fmaRangeTriples(next, 600),
    ...randomTriples(next, random),
  ];
}
