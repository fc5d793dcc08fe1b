// contracts/F32.sol against the TypeScript reference (Math.fround, src/tensor/f32.ts), bit pattern for bit
// pattern, on a real anvil through batched eth_calls. MYCEL_LONG=1 adds 1,000,000 random pairs per operation
// (triples for fma).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractFunctionRevertedError, BaseError } from 'viem';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { F32HarnessAbi } from '../../src/chain/generated/F32Harness.js';
import {
  BINARY_OPS,
  COMPARE_OPS,
  binaryCases,
  fmaCases,
  fromInt32Cases,
  hex,
  randomPairs,
  randomTriples,
  refFma,
  refBinary,
  refCompare,
  refFromInt32,
  refSqrt,
  refToInt32,
  rng,
  sqrtCases,
  structured,
  toInt32Cases,
} from './f32-cases.js';
import { deployHarness, HARNESS_GAS_LIMIT, runBinary, runCompare, runFma, runUnary, type Harness } from './f32-harness.js';

const MIN_CASES = 5000;
const LONG = process.env.MYCEL_LONG === '1';
const LONG_PAIRS = 1_000_000;

let anvil: Anvil;
let harness: Harness;

beforeAll(async () => {
  anvil = await startAnvil({ gasLimit: HARNESS_GAS_LIMIT });
  harness = await deployHarness(anvil);
});
afterAll(async () => {
  await anvil?.stop();
});

/** The first few mismatches, readable: an empty list passes. */
function mismatches<T>(inputs: unknown[][], got: T[], want: (i: number) => T, show: (v: T) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < got.length && out.length < 10; i++) {
    const w = want(i);
    if (got[i] !== w) out.push(`(${inputs[i].map((x) => hex(x as number)).join(', ')}): contract ${show(got[i])}, reference ${show(w)}`);
  }
  return out;
}

describe('F32 binary operations match Math.fround bit for bit', () => {
  BINARY_OPS.forEach((op, k) => {
    it(`${op}`, async () => {
      const pairs = binaryCases(op, 1000 + k);
      expect(pairs.length).toBeGreaterThanOrEqual(MIN_CASES);
      const { results } = await runBinary(harness, op, pairs);
      expect(results.length).toBe(pairs.length);
      expect(mismatches(pairs, results, (i) => refBinary(op, pairs[i][0], pairs[i][1]), hex)).toEqual([]);
    });
  });
});

describe('F32 fma is a * b + c rounded once, as the runtime\'s ffma', () => {
  it('matches on edges, cancellation, ties only one rounding resolves, integer sums, range ends and random triples', async () => {
    const triples = fmaCases(1500);
    expect(triples.length).toBeGreaterThanOrEqual(MIN_CASES);
    const { results } = await runFma(harness, triples);
    expect(results.length).toBe(triples.length);
    expect(mismatches(triples, results, (i) => refFma(...triples[i]), hex)).toEqual([]);
  });
});

describe('F32 comparisons follow IEEE 754 (NaN compares false, -0 == +0)', () => {
  COMPARE_OPS.forEach((op, k) => {
    it(`${op}`, async () => {
      const pairs = binaryCases(op, 2000 + k);
      expect(pairs.length).toBeGreaterThanOrEqual(MIN_CASES);
      const { results } = await runCompare(harness, op, pairs);
      expect(mismatches(pairs, results, (i) => refCompare(op, pairs[i][0], pairs[i][1]), String)).toEqual([]);
    });
  });
});

describe('F32 unary operations and conversions', () => {
  it('sqrt matches Math.fround(Math.sqrt) (negatives -> NaN, sqrt(-0) = -0)', async () => {
    const values = sqrtCases(3000);
    expect(values.length).toBeGreaterThanOrEqual(MIN_CASES);
    const { results } = await runUnary(harness, 'sqrt', values);
    expect(mismatches(values.map((v) => [v]), results, (i) => refSqrt(values[i]), hex)).toEqual([]);
  });

  it('toInt32 truncates toward zero and saturates (NaN -> 0)', async () => {
    const values = toInt32Cases(3001);
    expect(values.length).toBeGreaterThanOrEqual(MIN_CASES);
    const { results } = await runUnary(harness, 'toInt32', values);
    expect(mismatches(values.map((v) => [v]), results, (i) => refToInt32(values[i]), String)).toEqual([]);
  });

  it('fromInt32 rounds to nearest even', async () => {
    const values = fromInt32Cases(3002);
    expect(values.length).toBeGreaterThanOrEqual(MIN_CASES);
    const { results } = await runUnary(harness, 'fromInt32', values);
    expect(mismatches(values.map((v) => [v]), results, (i) => refFromInt32(values[i]), hex)).toEqual([]);
  });

  it('toInt32Strict returns in-range values and reverts with F32ToInt32OutOfRange otherwise', async () => {
    const read = (bits: number) =>
      harness.publicClient.readContract({ address: harness.address, abi: F32HarnessAbi, functionName: 'toInt32Strict', args: [bits] });
    expect(await read(0xcf000000)).toBe(-2147483648); // -2^31 fits
    expect(await read(0x4effffff)).toBe(2147483520);
    expect(await read(0xbfbfffff)).toBe(-1); // -1.49999... truncates to -1
    for (const bits of [0x4f000000, 0xcf000001, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001]) {
      const error = await read(bits).then(() => undefined, (e: unknown) => e);
      expect(error, hex(bits)).toBeInstanceOf(BaseError);
      const revert = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError;
      expect(revert?.data?.errorName, hex(bits)).toBe('F32ToInt32OutOfRange');
      expect(revert?.data?.args, hex(bits)).toEqual([bits]);
    }
  });

  it('the single-value entry points agree with the batches', async () => {
    const read = (functionName: 'add' | 'mul' | 'div', a: number, b: number) =>
      harness.publicClient.readContract({ address: harness.address, abi: F32HarnessAbi, functionName, args: [a, b] });
    expect(hex(await read('add', 0x3f800000, 0x33800000))).toBe('0x3f800000'); // 1 + 2^-24: tie to even
    expect(hex(await read('add', 0x3f800001, 0x33800000))).toBe('0x3f800002'); // odd: tie rounds up
    expect(hex(await read('mul', 0x7f7fffff, 0x40000000))).toBe('0x7f800000'); // overflow
    expect(hex(await read('div', 0x00000001, 0x40000000))).toBe('0x00000000'); // 2^-150: tie to 0
    expect(hex(await read('div', 0x00000003, 0x40000000))).toBe('0x00000002'); // 1.5 ulp: tie to even
  });
});

describe.skipIf(!LONG)('F32 long run (MYCEL_LONG=1): 1,000,000 random pairs per operation', () => {
  const pairs = (seed: number) => randomPairs(rng(seed), LONG_PAIRS);
  BINARY_OPS.forEach((op, k) => {
    it(`${op}`, { timeout: 600_000 }, async () => {
      const p = pairs(5000 + k);
      const { results } = await runBinary(harness, op, p);
      expect(mismatches(p, results, (i) => refBinary(op, p[i][0], p[i][1]), hex)).toEqual([]);
    });
  });
  COMPARE_OPS.forEach((op, k) => {
    it(`${op}`, { timeout: 600_000 }, async () => {
      const p = pairs(6000 + k);
      const { results } = await runCompare(harness, op, p);
      expect(mismatches(p, results, (i) => refCompare(op, p[i][0], p[i][1]), String)).toEqual([]);
    });
  });
  it('fma', { timeout: 1_200_000 }, async () => {
    const t = randomTriples(rng(8000), LONG_PAIRS);
    const { results } = await runFma(harness, t);
    expect(mismatches(t, results, (i) => refFma(...t[i]), hex)).toEqual([]);
  });
  it('sqrt, toInt32, fromInt32', { timeout: 600_000 }, async () => {
    const next = rng(7000);
    const values = Array.from({ length: LONG_PAIRS }, (_, i) => (i & 1 ? next() : structured(next)));
    const show = (v: number) => [v];
    expect(mismatches(values.map(show), (await runUnary(harness, 'sqrt', values)).results, (i) => refSqrt(values[i]), hex)).toEqual([]);
    expect(mismatches(values.map(show), (await runUnary(harness, 'toInt32', values)).results, (i) => refToInt32(values[i]), String)).toEqual([]);
    const ints = values.map((v) => v | 0);
    expect(mismatches(ints.map(show), (await runUnary(harness, 'fromInt32', ints)).results, (i) => refFromInt32(ints[i]), hex)).toEqual([]);
  });
});
