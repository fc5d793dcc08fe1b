/**
 * Which kernels run the hot ops. Every choice computes the same bits (the differential tests prove
 * it), so this is purely a speed setting: reference kernels are the specification, fast kernels are
 * WebAssembly SIMD on `threads` threads.
 */
import { availableCores } from '../platform/cores.js';
import { hasSharedMemory } from '../platform/threads.js';
import type { MatmulKernel } from './kernels/matmul-problem.js';
import { referenceMatmulKernel } from './kernels/reference-matmul.js';
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
