// `npm run bench -- f32 [--json] [--pairs N (default 1000000)] [--seed N]`: runs N operand pairs (triples for fma) per F32
// operation (half uniform bit patterns, half boundary-heavy) through F32Harness on a local anvil, compares every
// result bit for bit with the TypeScript reference, and prints mismatches (0 expected) and the gas per operation
// (measured inside the contract with gasleft() around each call: no calldata, loop or ABI encoding).
import { startAnvil } from '../src/chain/anvil.js';
import { F32HarnessAbi } from '../src/chain/generated/F32Harness.js';
import {
  BINARY_OPS,
  COMPARE_OPS,
  hex,
  randomPairs,
  randomTriples,
  refBinary,
  refCompare,
  refFma,
  refFromInt32,
  refSqrt,
  refToInt32,
  rng,
  structured,
} from '../test/chain/f32-cases.js';
import { deployHarness, HARNESS_GAS_LIMIT, runBinary, runCompare, runFma, runUnary } from '../test/chain/f32-harness.js';
import { makeReporter } from './report.js';

function flagValue(args: string[], flag: string, fallback: number): number {
  const i = args.indexOf(flag);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer, got "${args[i + 1]}"`);
  return value;
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('Usage: npm run bench -- f32 [--json] [--pairs N (default 1000000)] [--seed N (default 1)]');
    return;
  }
  const report = makeReporter(args);
  const pairs = flagValue(args, '--pairs', 1_000_000);
  const seed = flagValue(args, '--seed', 1);
  const anvil = await startAnvil({ gasLimit: HARNESS_GAS_LIMIT });
  let failed = 0;
  try {
    const harness = await deployHarness(anvil);
    report({ bench: 'f32', what: 'deploy F32Harness', gas: Number(harness.deployGas) });
    const overhead = await harness.publicClient.readContract({ address: harness.address, abi: F32HarnessAbi, functionName: 'gasOverhead' });
    report({ bench: 'f32', what: 'measurement overhead included in gasPerOp', gas: Number(overhead) });

    const check = <T>(op: string, inputs: number[][], got: T[], want: (i: number) => T, gas: bigint, ms: number) => {
      let mismatches = 0;
      for (let i = 0; i < got.length; i++) {
        if (got[i] === want(i)) continue;
        if (mismatches++ < 5) console.error(`f32 ${op} (${inputs[i].map(hex).join(', ')}): contract ${String(got[i])}, reference ${String(want(i))}`);
      }
      failed += mismatches;
      report({ bench: 'f32', op, pairs: got.length, mismatches, gasPerOp: Number(gas) / got.length, seconds: ms / 1000 });
    };

    for (const [k, op] of BINARY_OPS.entries()) {
      const p = randomPairs(rng(seed * 100 + k), pairs);
      const t0 = performance.now();
      const { results, gas } = await runBinary(harness, op, p);
      check(op, p, results, (i) => refBinary(op, p[i][0], p[i][1]), gas, performance.now() - t0);
    }
    for (const [k, op] of COMPARE_OPS.entries()) {
      const p = randomPairs(rng(seed * 100 + 10 + k), pairs);
      const t0 = performance.now();
      const { results, gas } = await runCompare(harness, op, p);
      check(op, p, results, (i) => refCompare(op, p[i][0], p[i][1]), gas, performance.now() - t0);
    }
    {
      const t = randomTriples(rng(seed * 100 + 30), pairs);
      const t0 = performance.now();
      const { results, gas } = await runFma(harness, t);
      check('fma', t, results, (i) => refFma(...t[i]), gas, performance.now() - t0);
    }
    const next = rng(seed * 100 + 20);
    const values = Array.from({ length: pairs }, (_, i) => (i & 1 ? next() : structured(next)));
    const ints = values.map((v) => v | 0);
    const unary: [op: 'sqrt' | 'toInt32' | 'fromInt32', inputs: number[], ref: (x: number) => number][] = [
      ['sqrt', values, refSqrt],
      ['toInt32', values, refToInt32],
      ['fromInt32', ints, refFromInt32],
    ];
    for (const [op, inputs, ref] of unary) {
      const t0 = performance.now();
      const { results, gas } = await runUnary(harness, op, inputs);
      check(op, inputs.map((x) => [x]), results, (i) => ref(inputs[i]), gas, performance.now() - t0);
    }
  } finally {
    await anvil.stop();
  }
  if (failed > 0) {
    console.error(`f32: ${failed} mismatches`);
    process.exitCode = 1;
  }
}
