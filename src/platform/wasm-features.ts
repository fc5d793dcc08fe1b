/**
 * WebAssembly features that an engine may have behind a flag. Node 20's V8 (11.3) implements relaxed SIMD
 * but only validates it with --experimental-wasm-relaxed-simd; V8 flags are per process, so setting the flag
 * once, before compiling, also covers the worker threads that receive the compiled module. Node 22+ and
 * current browsers have relaxed SIMD by default; elsewhere this does nothing.
 */
export function enableRelaxedSimd(): void {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = process?.getBuiltinModule?.('node:v8') as { setFlagsFromString(flags: string): void } | undefined;
  v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
}
