/**
 * What this browser gives the runtime: SharedArrayBuffer (the page must be cross-origin isolated; the node serves it
 * with COOP and COEP) for the kernels' worker threads, and WebAssembly SIMD for the kernels themselves.
 * Without SharedArrayBuffer the SIMD kernels run on one thread; without SIMD the reference kernels run on one thread.
 * The bits are the same either way, only the speed differs.
 */
export type Caps = { sharedMemory: boolean; crossOriginIsolated: boolean; simd: boolean; cores: number; kernels: 'fast' | 'reference'; threads: number; missing: string[] };

// The smallest module that uses a v128 (the probe wasm-feature-detect uses): (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Kernel threads a tab uses at most: it shares the machine with the person's other tabs. */
const MAX_THREADS = 4;

export function detectCaps(): Caps {
  const sharedMemory = typeof SharedArrayBuffer !== 'undefined';
  const isolated = globalThis.crossOriginIsolated === true;
  const simd = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  const cores = navigator.hardwareConcurrency || 1;
  const missing = [
    ...(sharedMemory ? [] : [`SharedArrayBuffer (the page is ${isolated ? '' : 'not '}cross-origin isolated)`]),
    ...(simd ? [] : ['WebAssembly SIMD']),
  ];
  // Without SharedArrayBuffer the SIMD kernels still run, on one thread; without SIMD the reference kernels do.
  return { sharedMemory, crossOriginIsolated: isolated, simd, cores, kernels: simd ? 'fast' : 'reference', threads: sharedMemory && simd ? Math.max(1, Math.min(MAX_THREADS, cores)) : 1, missing };
}
