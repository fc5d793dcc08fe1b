/**
 * Which kernels run the hot ops. Every choice computes the same bits (the differential tests prove
 * it), so this is purely a speed setting: reference kernels are the specification; 'wasm' is
 * WebAssembly SIMD on `threads` threads (what browsers run); 'fast' is the native addon's matmul where it
 * was built (Node), and otherwise the same as 'wasm'.
 */
import { availableCores } from '../platform/cores.js';
import { loadNativeAddon, type NativeLoad } from '../platform/native-addon.js';
import type { MatmulKernel } from './kernels/matmul-problem.js';
import { unary as referenceUnary } from './kernels/reference.js';
import { referenceMatmulKernel } from './kernels/reference-matmul.js';
import { createWasmMath, hasWasmMath, type MathUnaryOp, type WasmMath } from './kernels/wasm-math.js';
import { createNativeMatmul, type NativeMatmul } from './kernels/native-matmul.js';
import { createWasmMatmul, hasWasmFmaMatmul, type WasmMatmul } from './kernels/wasm-matmul.js';

export type KernelConfig = { kernels: 'fast' | 'wasm' | 'reference'; threads: number };

let config: KernelConfig = { kernels: 'fast', threads: availableCores() };
let wasm: WasmMatmul | undefined;
let native: NativeMatmul | undefined;
let nativeLoad: NativeLoad | undefined;

/** Changes the kernel settings for the ops that follow; returns the previous settings. */
export function configureKernels(next: Partial<KernelConfig>): KernelConfig {
  const previous = config;
  config = { ...config, ...next };
  config.threads = Math.max(1, Math.floor(config.threads));
  if (wasm && (config.kernels === 'reference' || wasm.threads !== config.threads)) {
    wasm.close();
    wasm = undefined;
  }
  if (native && native.threads !== config.threads) native = undefined;
  return previous;
}

/**
 * The native addon, loaded once; where it is missing (not built, or not Node), says so once on stderr,
 * naming what to install, unless we are in a browser (which never has it).
 */
function nativeAddon(): NativeLoad {
  if (nativeLoad) return nativeLoad;
  nativeLoad = loadNativeAddon();
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (nativeLoad.why && process?.versions?.node && !nativeLoad.why.startsWith('MYCEL_NATIVE=0')) {
    console.warn(`mycel: matmul runs on WebAssembly, not native code: ${nativeLoad.why}.`);
  }
  return nativeLoad;
}

export function kernelConfig(): KernelConfig {
  return config;
}

/**
 * The matmul kernel for the current settings: 'fast' takes the native addon where it loads. The
 * WebAssembly kernel needs an engine that fuses f32x4.relaxed_madd (a probe decides), and runs on one thread
 * without SharedArrayBuffer (a browser page that is not cross-origin isolated); without it the reference kernel
 * runs, with the same results.
 */
export function matmulKernel(): MatmulKernel {
  if (config.kernels === 'reference') return referenceMatmulKernel;
  if (config.kernels === 'fast') {
    const { addon } = nativeAddon();
    if (addon) return (native ??= createNativeMatmul(addon, { threads: config.threads }));
  }
  if (!hasWasmFmaMatmul()) return referenceMatmulKernel;
  wasm ??= createWasmMatmul({ threads: config.threads });
  return wasm;
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
