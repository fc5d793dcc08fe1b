/**
 * Which kernels run the hot ops. Every choice computes the same bits (the differential tests prove
 * it), so this is purely a speed setting: reference kernels are the specification; 'wasm' is
 * WebAssembly SIMD on `threads` threads (what browsers run); 'fast' is the native addon's matmul,
 * elementwise, row and math kernels where it was built (Node), and otherwise the same as 'wasm'.
 */
import { availableCores } from '../platform/cores.js';
import { loadNativeAddon, type NativeLoad } from '../platform/native-addon.js';
import type { MatmulKernel } from './kernels/matmul-problem.js';
import { unary as referenceUnary } from './kernels/reference.js';
import { referenceMatmulKernel } from './kernels/reference-matmul.js';
import { createWasmMath, hasWasmMath, type MathUnaryOp, type WasmMath } from './kernels/wasm-math.js';
import { createNativeMatmul, type NativeMatmul } from './kernels/native-matmul.js';
import { referenceElementwise, type ElementwiseKernels } from './kernels/elementwise.js';
import { createNativeElementwise, type NativeElementwise } from './kernels/native-elementwise.js';
import { createWasmMatmul, hasWasmFmaMatmul, type WasmMatmul } from './kernels/wasm-matmul.js';

export type KernelConfig = { kernels: 'fast' | 'wasm' | 'reference'; threads: number };

let config: KernelConfig = { kernels: 'fast', threads: availableCores() };
let wasm: WasmMatmul | undefined;
let native: NativeMatmul | undefined;
let nativeLoad: NativeLoad | undefined;
/** The addon's elementwise kernels; null once found missing (an addon built before native/elementwise.c). */
let nativeElementwise: NativeElementwise | null | undefined;

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
  if (nativeElementwise && nativeElementwise.threads !== config.threads) nativeElementwise = undefined;
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
    console.warn(`mycel: matmul and the elementwise ops run on WebAssembly and JavaScript, not native code: ${nativeLoad.why}.`);
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

/** The native addon's elementwise kernels under 'fast', where the addon has them. */
function fastElementwise(): NativeElementwise | undefined {
  if (config.kernels !== 'fast') return undefined;
  if (nativeElementwise === undefined) {
    const { addon } = nativeAddon();
    nativeElementwise = (addon && createNativeElementwise(addon, { threads: config.threads })) ?? null;
  }
  return nativeElementwise ?? undefined;
}

/**
 * The kernels of the elementwise, movement, reduction and row ops: the native addon's under 'fast' where it
 * loads, otherwise the reference (JavaScript), with the same results.
 */
export function elementwiseKernels(): ElementwiseKernels {
  return fastElementwise() ?? referenceElementwise;
}

/** AdamW's fused update of one parameter tensor (kernels/adamw.ts) on the current kernels: native or the JavaScript loop. */
export const adamwKernel: ElementwiseKernels['adamw'] = (p, g, m, v, c, pOut, mOut, vOut) =>
  elementwiseKernels().adamw(p, g, m, v, c, pOut, mOut, vOut);

/**
 * The kernel for exp, log, tanh, sigmoid and gelu under the current settings: the native addon's under
 * 'fast' where it loads; else WebAssembly SIMD (one thread; the work is memory-bound) where the engine has
 * it, otherwise the scalar reference, with the same results.
 */
export function unaryKernel(): UnaryKernel {
  if (config.kernels === 'reference') return referenceUnary;
  const native = fastElementwise();
  if (native) return native.unary;
  wasmMathAvailable ??= hasWasmMath();
  return wasmMathAvailable ? fastUnary : referenceUnary;
}
