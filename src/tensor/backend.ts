/**
 * Which kernels run the hot ops. Every choice computes the same bits (the differential tests prove
 * it), so this is purely a speed setting: reference kernels are the specification, fast kernels are
 * WebAssembly SIMD on `threads` threads.
 */
import { availableCores } from '../platform/cores.js';
import { hasSharedMemory } from '../platform/threads.js';
import type { MatmulKernel } from './kernels/matmul-problem.js';
import { unary as referenceUnary } from './kernels/reference.js';
import { referenceMatmulKernel } from './kernels/reference-matmul.js';
import { createWasmMath, hasWasmMath, type MathUnaryOp, type WasmMath } from './kernels/wasm-math.js';
import { createWasmMatmul, type WasmMatmul } from './kernels/wasm-matmul.js';

export type KernelConfig = { kernels: 'fast' | 'reference'; threads: number };

let config: KernelConfig = { kernels: 'fast', threads: availableCores() };
let fast: WasmMatmul | undefined;

/** Changes the kernel settings for the ops that follow; returns the previous settings. */
export function configureKernels(next: Partial<KernelConfig>): KernelConfig {
  const previous = config;
  config = { ...config, ...next };
  config.threads = Math.max(1, Math.floor(config.threads));
  if (fast && (config.kernels !== 'fast' || fast.threads !== config.threads)) {
    fast.close();
    fast = undefined;
  }
  return previous;
}

export function kernelConfig(): KernelConfig {
  return config;
}

/**
 * The matmul kernel for the current settings. The fast kernel needs SharedArrayBuffer (a browser page
 * must be cross-origin isolated); without it the reference kernel runs, with the same results.
 */
export function matmulKernel(): MatmulKernel {
  if (config.kernels === 'reference' || !hasSharedMemory()) return referenceMatmulKernel;
  fast ??= createWasmMatmul({ threads: config.threads });
  return fast;
}

/** dst[i] = op(src[i]) with math.ts's bits and canonical NaNs; dst may be src. */
export type UnaryKernel = (op: MathUnaryOp, src: Float32Array, dst: Float32Array) => void;

/** Below this many elements the scalar loop beats the copies into and out of wasm memory. */
const MIN_WASM_UNARY = 64;

let wasmMath: WasmMath | undefined;
let wasmMathAvailable: boolean | undefined;

const fastUnary: UnaryKernel = (op, src, dst) => {
  if (src.length < MIN_WASM_UNARY) referenceUnary(op, src, dst);
  else (wasmMath ??= createWasmMath()).unary(op, src, dst);
};

/**
 * The kernel for exp, log, tanh, sigmoid and gelu under the current settings: WebAssembly SIMD (one
 * thread; the work is memory-bound) where the engine has it, otherwise the scalar reference, with the
 * same results.
 */
export function unaryKernel(): UnaryKernel {
  if (config.kernels === 'reference') return referenceUnary;
  wasmMathAvailable ??= hasWasmMath();
  return wasmMathAvailable ? fastUnary : referenceUnary;
}
