/**
 * The native kernels addon (native/matmul.c, native/sha256.c and native/elementwise.c, built by scripts/build-native.mjs into native/build/). Node
 * only: in a browser, or where the addon was not built, loadNativeAddon says why and the runtime uses
 * WebAssembly. Node's modules are looked up at run time, so a browser bundle never imports them.
 */

/** What native/matmul.c, native/sha256.c and native/elementwise.c export. */
export type NativeAddon = {
  // native/elementwise.c (absent from an addon built before it): src/tensor/kernels/native-elementwise.ts calls these.
  /** The instruction set its math loop was compiled for on this CPU (avx512, avx2, baseline). */
  readonly elementwiseIsa?: string;
  /** out = a (op 0..5: add sub mul div maximum minimum) b through layout [rank, outShape, aStrides, bStrides]; split over threads. */
  binary?(op: number, a: Float32Array, b: Float32Array, out: Float32Array, layout: Int32Array, threads: number): void;
  /** out = bits of a where cond != 0, else of b; layout [rank, outShape, condStrides, aStrides, bStrides]; split over threads. */
  where?(cond: Int32Array, a: Float32Array | Int32Array, b: Float32Array | Int32Array, out: Float32Array | Int32Array, layout: Int32Array, threads: number): void;
  /** out = the bits of x through layout [rank, outShape, xStrides] (permute, expand). */
  copy?(x: Float32Array | Int32Array, out: Float32Array | Int32Array, layout: Int32Array): void;
  /** out[outOffset + r outStride + i] = x[xOffset + r xStride + i] (bits) for r < rows, i < width. */
  copyRows?(x: Float32Array | Int32Array, xOffset: number, xStride: number, out: Float32Array | Int32Array, outOffset: number, outStride: number, rows: number, width: number): void;
  /** sum (isMax 0) or max (1) over the middle axis of x [outer, n, inner]; split over threads. */
  reduce?(isMax: number, x: Float32Array, outer: number, n: number, inner: number, out: Float32Array, threads: number): void;
  /** kind 0..3: layer_norm(x), layer_norm_grad(x, g), softmax(x), softmax_grad(y = x, g), rows of n, split over threads. */
  rowOp?(kind: number, x: Float32Array, g: Float32Array, rows: number, n: number, eps: number, out: Float32Array, threads: number): void;
  /** out = f(x) for f 0..8: exp log tanh sigmoid gelu gelu_grad neg abs sqrt; out may be x; split over threads. */
  unary?(op: number, x: Float32Array, out: Float32Array, threads: number): void;
  /** AdamW's fused update (src/tensor/kernels/adamw.ts); constants: b1, 1-b1, b2, 1-b2, c1, c2, eps, decay, lr. */
  adamw?(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, constants: Float32Array, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array, threads: number): void;
  /** native/sha256.c's implementations this CPU runs, fastest first (sha-ni, portable); absent from an addon built before it. */
  readonly sha256Impls?: readonly string[];
  /** out[32 i ..] = SHA-256(0x00 || chunk i of data), chunks of `chunk` bytes, the last possibly shorter. */
  sha256Leaves?(impl: number, data: Uint8Array, chunk: number, out: Uint8Array): void;
  /** out[32 i ..] = SHA-256(0x01 || pairs[64 i .. 64 i + 64]) for i < count; out may be pairs. */
  sha256Nodes?(impl: number, pairs: Uint8Array, count: number, out: Uint8Array): void;
  /** The kernels this CPU runs, fastest first (e.g. avx512, avx2, scalar). */
  readonly kernels: readonly string[];
  matmul(
    kernel: number,
    aData: Float32Array, aOffset: number, aBatchStride: number, aRowStride: number, aColStride: number,
    bData: Float32Array, bOffset: number, bBatchStride: number, bRowStride: number, bColStride: number,
    out: Float32Array, batch: number, m: number, k: number, n: number, threads: number, minParallelMacs: number,
  ): void;
};

export const NATIVE_ADDON_PATH = 'native/build/mycel_native.node';
/** Written by the build when it could not compile the addon: { reason, fix }. */
export const NATIVE_STATUS_PATH = 'native/build/status.json';

type NodeModules = {
  fs: { existsSync(path: string): boolean; readFileSync(path: string, encoding: 'utf8'): string };
  path: { dirname(path: string): string; join(...parts: string[]): string };
  url: { fileURLToPath(url: string): string };
  module: { createRequire(from: string): (id: string) => unknown };
};

function nodeModules(): NodeModules | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = process?.getBuiltinModule;
  if (!get) return undefined;
  return { fs: get('node:fs'), path: get('node:path'), url: get('node:url'), module: get('node:module') } as NodeModules;
}

export type NativeLoad = { addon: NativeAddon; why?: undefined } | { addon?: undefined; why: string };

/**
 * Loads the addon from the package this file belongs to (the nearest folder above it that holds
 * native/build, so it works from src/, dist/ and a bundle inside the repository), or from the file that
 * MYCEL_NATIVE_ADDON names (a cross-built addon: the ARM64 tests). MYCEL_NATIVE=0 turns it off.
 */
export function loadNativeAddon(): NativeLoad {
  const node = nodeModules();
  if (!node) return { why: 'native kernels exist only in Node' };
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  if (env.MYCEL_NATIVE === '0') return { why: 'MYCEL_NATIVE=0 turned the native kernels off' };
  if (env.MYCEL_NATIVE_ADDON) {
    try {
      return { addon: node.module.createRequire(import.meta.url)(env.MYCEL_NATIVE_ADDON) as NativeAddon };
    } catch (error) {
      return { why: `MYCEL_NATIVE_ADDON=${env.MYCEL_NATIVE_ADDON} does not load (${(error as Error).message.split('\n')[0]})` };
    }
  }
  if (!import.meta.url.startsWith('file:')) return { why: 'this build of mycel is not loaded from files' };
  const { fs, path } = node;
  let dir = path.dirname(node.url.fileURLToPath(import.meta.url));
  for (let up = 0; up < 8; up++, dir = path.dirname(dir)) {
    const addonFile = path.join(dir, NATIVE_ADDON_PATH);
    if (fs.existsSync(addonFile)) {
      try {
        return { addon: node.module.createRequire(import.meta.url)(addonFile) as NativeAddon };
      } catch (error) {
        return { why: `${addonFile} does not load (${(error as Error).message.split('\n')[0]}); rebuild it with npm run build` };
      }
    }
    const statusFile = path.join(dir, NATIVE_STATUS_PATH);
    if (fs.existsSync(statusFile)) {
      try {
        const { reason, fix } = JSON.parse(fs.readFileSync(statusFile, 'utf8')) as { reason: string; fix: string };
        return { why: `the native kernels were not built: ${reason}; ${fix}` };
      } catch {
        break;
      }
    }
  }
  return { why: 'the native kernels were not built; install a C compiler (Debian: apt-get install gcc) and run npm run build' };
}
