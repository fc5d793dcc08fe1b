// `npm run bench -- math [--json] [--stride N] [--size N]`: for each deterministic float32 function in
// src/tensor/math.ts, the throughput of its array version and, for exp, log, tanh, sigmoid, gelu and
// gelu_grad (geluGrad), of the WebAssembly SIMD kernel (math.wat, same bits), beside a plain loop of the
// engine's Math.* function
// over the same input in the same run (the anchor; Math.* is fast but implementation-defined), and its
// ulp-error distribution against a float64 reference over every Nth float32 bit pattern.
import { performance } from 'node:perf_hooks';
import {
  cospi,
  cospiArray,
  exp,
  expArray,
  gelu,
  geluArray,
  geluGrad,
  geluGradArray,
  log,
  logArray,
  sigmoid,
  sigmoidArray,
  sinpi,
  sinpiArray,
  tanh,
  tanhArray,
} from '../src/tensor/math.js';
import { createWasmMath, type MathUnaryOp } from '../src/tensor/kernels/wasm-math.js';
import { makeReporter } from './report.js';

// ---- float64 references (fine outside src/: their float64 error is ~2^-29 of a float32 ulp) ----------

function sigmoid64(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** sin(πx) in float64 with the argument reduced exactly to |r| <= 1/2 first. */
function sinpi64(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? -1 : 1;
  const a = Math.abs(x);
  let r = a - 2 * Math.round(a / 2); // exact for float32 a: r in [-1, 1]
  if (r > 0.5) r = 1 - r;
  else if (r < -0.5) r = -1 - r;
  return sign * Math.sin(Math.PI * r);
}

/** cos(πx) in float64, as sin(π(1/2 - r)) where that is more accurate. */
function cospi64(x: number): number {
  const a = Math.abs(x);
  let r = a - 2 * Math.round(a / 2); // in [-1, 1]
  r = Math.abs(r); // cos is even
  if (r > 0.5) return -cospi64(1 - r);
  return r <= 0.25 ? Math.cos(Math.PI * r) : Math.sin(Math.PI * (0.5 - r));
}

/** gelu (tanh form) in float64, as x * sigmoid(2u) == 0.5x(1 + tanh u), which does not cancel for x < 0. */
function gelu64(x: number): number {
  if (x === -Infinity) return -0;
  const u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
  return x * sigmoid64(2 * u);
}

/**
 * d/dx of gelu's formula in float64: s + x s (1 - s) 2c (1 + 3a x^2), s = sigmoid(2u), with 1 - s as
 * sigmoid(-2u) (no cancellation); the limits 1 at +Inf and 0 at -Inf.
 */
export function geluGrad64(x: number): number {
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  const c = Math.sqrt(2 / Math.PI);
  const u = c * (x + 0.044715 * x * x * x);
  const s = sigmoid64(2 * u);
  const ds = s * sigmoid64(-2 * u);
  return ds === 0 ? s : s + x * ds * 2 * c * (1 + 3 * 0.044715 * x * x);
}

export interface MathCase {
  name: string;
  ours: (x: number) => number;
  oursArray: (src: Float32Array, dst: Float32Array) => void;
  reference: (x: number) => number;
  /** The engine's Math.* loop used as the speed anchor. */
  anchor: string;
  anchorFn: (x: number) => number;
  /** Whether a 1-ulp bound is promised (gelu's accuracy is that of its composition). */
  bounded: boolean;
  /** Whether math.wat has a SIMD kernel for it. */
  wasm: boolean;
}

export const MATH_CASES: readonly MathCase[] = [
  { name: 'exp', ours: exp, oursArray: expArray, reference: Math.exp, anchor: 'Math.exp', anchorFn: Math.exp, bounded: true, wasm: true },
  { name: 'log', ours: log, oursArray: logArray, reference: Math.log, anchor: 'Math.log', anchorFn: Math.log, bounded: true, wasm: true },
  { name: 'tanh', ours: tanh, oursArray: tanhArray, reference: Math.tanh, anchor: 'Math.tanh', anchorFn: Math.tanh, bounded: true, wasm: true },
  { name: 'sigmoid', ours: sigmoid, oursArray: sigmoidArray, reference: sigmoid64, anchor: '1/(1+Math.exp(-x))', anchorFn: (x) => 1 / (1 + Math.exp(-x)), bounded: true, wasm: true },
  { name: 'gelu', ours: gelu, oursArray: geluArray, reference: gelu64, anchor: 'Math.tanh form', anchorFn: (x) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))), bounded: false, wasm: true },
  {
    name: 'gelu_grad', ours: geluGrad, oursArray: geluGradArray, reference: geluGrad64, anchor: 'Math.tanh form',
    anchorFn: (x) => {
      const t = Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 0.134145 * x * x);
    },
    bounded: false, wasm: true,
  },
  { name: 'sinpi', ours: sinpi, oursArray: sinpiArray, reference: sinpi64, anchor: 'Math.sin(PI*x)', anchorFn: (x) => Math.sin(Math.PI * x), bounded: true, wasm: false },
  { name: 'cospi', ours: cospi, oursArray: cospiArray, reference: cospi64, anchor: 'Math.cos(PI*x)', anchorFn: (x) => Math.cos(Math.PI * x), bounded: true, wasm: false },
];

// ---- ulp error ----------------------------------------------------------------------------------------

const TWO_POW_128 = 2 ** 128;

/** The float32 ulp at a float64 value: the spacing of float32s in its binade (2^104 beyond the range). */
export function ulpF32(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  if (a >= TWO_POW_128) return 2 ** 104;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  return 2 ** (e - 23);
}

/**
 * |ours - exact| / ulp_f32(exact), in float64 (<= 0.5 means correctly rounded). NaN must match NaN. An
 * infinite result where the correctly rounded one is infinite too counts as 0.5; otherwise it counts as
 * ±2^128 (the first value that rounds to it), so a premature overflow within the bound passes.
 */
export function ulpError(ours: number, exact: number): number {
  if (exact !== exact || ours !== ours) return exact !== exact && ours !== ours ? 0 : Infinity;
  if (ours === exact) return 0;
  if (exact === Infinity || exact === -Infinity) return Infinity;
  if ((ours === Infinity || ours === -Infinity) && ours === Math.fround(exact)) return 0.5; // correct overflow
  const oursFinite = ours === Infinity ? TWO_POW_128 : ours === -Infinity ? -TWO_POW_128 : ours;
  return Math.abs(oursFinite - exact) / ulpF32(exact);
}

/** Every `stride`th float32 bit pattern from `offset`, as float32 values (NaNs included). */
export function strideSample(stride: number, offset = 0): Float32Array {
  const count = Math.floor((2 ** 32 - 1 - offset) / stride) + 1;
  const bits = new Uint32Array(count);
  for (let i = 0; i < count; i++) bits[i] = offset + i * stride;
  return new Float32Array(bits.buffer);
}

export interface UlpStats {
  samples: number;
  exact: number;
  withinHalf: number;
  withinOne: number;
  overOne: number;
  maxUlp: number;
  worstInput: number;
}

export function measureUlp(c: MathCase, inputs: Float32Array): UlpStats {
  const stats: UlpStats = { samples: inputs.length, exact: 0, withinHalf: 0, withinOne: 0, overOne: 0, maxUlp: 0, worstInput: 0 };
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    const err = ulpError(c.ours(x), c.reference(x));
    if (err === 0) stats.exact++;
    else if (err <= 0.5) stats.withinHalf++;
    else if (err <= 1) stats.withinOne++;
    else stats.overOne++;
    if (err > stats.maxUlp) {
      stats.maxUlp = err;
      stats.worstInput = x;
    }
  }
  return stats;
}

// ---- throughput ---------------------------------------------------------------------------------------

function bestMelemPerSecond(size: number, repeats: number, body: () => void): number {
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    body();
    best = Math.min(best, performance.now() - start);
  }
  return size / best / 1e3;
}

function flagValue(args: readonly string[], flag: string, fallback: number): number {
  const i = args.indexOf(flag);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${flag} needs a positive integer, got "${args[i + 1] ?? ''}". Example: --stride 257`);
    process.exit(2);
  }
  return value;
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('Usage: npm run bench -- math [--json] [--stride N (default 1021)] [--size N (default 1048576)]');
    return;
  }
  const report = makeReporter(args);
  const stride = flagValue(args, '--stride', 1021);
  const size = flagValue(args, '--size', 1 << 20);
  const sample = strideSample(stride);

  // Throughput input: uniform in [-10, 10] (where every function does its full work), fixed seed.
  const input = new Float32Array(size);
  let state = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    input[i] = Math.fround((state / 2 ** 32) * 20 - 10);
  }
  const positive = input.map(Math.abs);
  const output = new Float32Array(size);
  const wasmMath = createWasmMath();

  for (const c of MATH_CASES) {
    const src = c.name === 'log' ? positive : input;
    const ours = bestMelemPerSecond(size, 7, () => c.oursArray(src, output));
    const wasm = c.wasm ? bestMelemPerSecond(size, 7, () => wasmMath.unary(c.name as MathUnaryOp, src, output)) : undefined;
    const anchorFn = c.anchorFn;
    const anchor = bestMelemPerSecond(size, 7, () => {
      for (let i = 0; i < size; i++) output[i] = anchorFn(src[i]);
    });
    const stats = measureUlp(c, sample);
    report({
      fn: c.name,
      melemPerS: ours,
      ...(wasm === undefined ? {} : { wasmMelemPerS: wasm }),
      anchor: c.anchor,
      anchorMelemPerS: anchor,
      ratio: ours / anchor,
      ...(wasm === undefined ? {} : { wasmRatio: wasm / anchor }),
      stride,
      samples: stats.samples,
      ulp0: stats.exact,
      ulpHalf: stats.withinHalf,
      ulpOne: stats.withinOne,
      ulpOver: stats.overOne,
      maxUlp: stats.maxUlp,
      worstInput: stats.worstInput,
      bound: c.bounded ? '1 ulp' : 'none (composition)',
    });
  }
}
