// ffma (src/tensor/f32.ts), the runtime's fused multiply-add, against an exact BigInt oracle that shares none of
// its method: the exact a * b + c as an integer multiple of 2^-298, rounded once to float32 by integer arithmetic.
// The cases are F32.sol's (test/chain/f32-cases.ts): edges, cancellation, ties only one rounding resolves, ranges.
import { describe, expect, it } from 'vitest';
import { CANONICAL_NAN_BITS, bitsOf, ffma, fromBits } from '../../src/tensor/f32.js';
import { fmaCases, hex, randomTriples, rng } from '../chain/f32-cases.js';

/** value = sign * m * 2^(e - 150), e >= 1 (subnormals: e = 1, no hidden bit). */
function unpack(bits: number): { negative: boolean; m: bigint; e: number } {
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  return { negative: bits >>> 31 === 1, m: BigInt(exponent === 0 ? mantissa : mantissa | 0x800000), e: exponent || 1 };
}

/** The correctly rounded float32 bits of a * b + c (a, b, c bit patterns), NaN canonical. */
function exactFma(a: number, b: number, c: number): number {
  const [x, y, z] = [fromBits(a), fromBits(b), fromBits(c)];
  if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) {
    const r = x * y + z; // IEEE special-value rules hold in float64 as in float32
    return r !== r ? CANONICAL_NAN_BITS : bitsOf(r);
  }
  const pa = unpack(a);
  const pb = unpack(b);
  const pc = unpack(c);
  // exact sum as n 2^-298: the product is ma mb 2^(ea + eb - 300), c is mc 2^(ec - 150)
  const product = pa.m * pb.m * (1n << BigInt(pa.e + pb.e - 2));
  const addend = pc.m << BigInt(pc.e + 148);
  const n = (pa.negative !== pb.negative ? -product : product) + (pc.negative ? -addend : addend);
  if (n === 0n) {
    const productNegative = pa.negative !== pb.negative;
    // exact zero: -0 only when both terms are -0 (round to nearest)
    return product === 0n && addend === 0n && productNegative && pc.negative ? 0x80000000 : 0;
  }
  const negative = n < 0n;
  const magnitude = negative ? -n : n;
  const length = magnitude.toString(2).length;
  const drop = Math.max(length - 24, 149); // keep 24 bits, but never below 2^-149
  const kept = magnitude >> BigInt(drop);
  const rest = magnitude - (kept << BigInt(drop));
  const half = 1n << BigInt(drop - 1);
  const rounded = rest > half || (rest === half && (kept & 1n) === 1n) ? kept + 1n : kept;
  const value = Math.fround(Number(rounded) * 2 ** (drop - 298)); // exact, or infinity past the range
  return bitsOf(negative ? -value : value);
}

const ours = (a: number, b: number, c: number): number => {
  const r = ffma(fromBits(a), fromBits(b), fromBits(c));
  return r !== r ? CANONICAL_NAN_BITS : bitsOf(r);
};

function mismatches(triples: [number, number, number][]): string[] {
  const out: string[] = [];
  for (const [a, b, c] of triples) {
    const got = ours(a, b, c);
    const want = exactFma(a, b, c);
    if (got !== want && out.length < 10) out.push(`fma(${hex(a)}, ${hex(b)}, ${hex(c)}): ffma ${hex(got)}, exact ${hex(want)}`);
  }
  return out;
}

describe('ffma is IEEE fusedMultiplyAdd on float32', () => {
  it('matches the exact oracle on edges, cancellation, ties, integer sums, range ends and random triples', () => {
    const triples = [...fmaCases(41, 20_000), ...randomTriples(rng(42), 20_000)];
    expect(triples.length).toBeGreaterThan(40_000);
    expect(mismatches(triples)).toEqual([]);
  });

  it('rounds once: a tie of the product broken by a tiny addend, and the product error recovered exactly', () => {
    // (1 + 2^-23)(1 + 2^-23) = 1 + 2^-22 + 2^-46: mul-then-add drops the 2^-46
    const x = 1 + 2 ** -23;
    expect(ffma(x, x, -(1 + 2 ** -22))).toBe(2 ** -46);
    expect(Math.fround(Math.fround(x * x) - (1 + 2 ** -22))).toBe(0);
    // the DEPENDENCIES.md probe: a = b = 1 + 2^-12, c = -(1 + 2^-11) gives 2^-24 fused, 0 unfused
    expect(ffma(1 + 2 ** -12, 1 + 2 ** -12, -(1 + 2 ** -11))).toBe(2 ** -24);
    // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 is a tie (down, to even); a tiny addend, lost in a float64 sum, breaks it up
    expect(ffma(1 + 2 ** -12, 1 + 2 ** -12, 2 ** -60)).toBe(1 + 2 ** -11 + 2 ** -23);
    expect(ffma(1 + 2 ** -12, 1 + 2 ** -12, 0)).toBe(1 + 2 ** -11);
  });

  it('keeps signed zeros, subnormals, infinities and NaN', () => {
    expect(Object.is(ffma(-0, 1, -0), -0)).toBe(true);
    expect(Object.is(ffma(-0, 1, 0), 0)).toBe(true);
    expect(Object.is(ffma(1, 1, -1), 0)).toBe(true);
    expect(Object.is(ffma(-(2 ** -100), 2 ** -100, 0), -0)).toBe(true); // underflow keeps the product's sign
    expect(ffma(2 ** -75, 2 ** -74, 0)).toBe(2 ** -149);
    expect(ffma(Infinity, 0, 1)).toBeNaN();
    expect(ffma(Infinity, 1, -Infinity)).toBeNaN();
    expect(ffma(3e38, 2, -3e38)).toBe(Math.fround(3e38)); // the intermediate product does not overflow
    expect(ffma(NaN, 0, 1)).toBeNaN();
  });
});
