import { WASM_MODULES } from './wasm-modules.js';

/** The functions of math.ts that math.wat runs on f32x4 lanes ('gelu_grad' is geluGrad). */
export type MathUnaryOp = 'exp' | 'log' | 'tanh' | 'sigmoid' | 'gelu' | 'gelu_grad';

/**
 * Elements per block: the module's single 64 KiB page. Elementwise work is memory-bound, so one block
 * that stays in L1/L2 and a copy in and out cost little beside the ~100 flops per element.
 */
const BLOCK = 16384;

type MathExports = Record<MathUnaryOp, (ptr: number, end: number) => void> & { memory: WebAssembly.Memory };

let bytes: Uint8Array<ArrayBuffer> | undefined;
let compiled: WebAssembly.Module | undefined;

function mathBytes(): Uint8Array<ArrayBuffer> {
  bytes ??= Uint8Array.from(atob(WASM_MODULES.math), (c) => c.charCodeAt(0));
  return bytes;
}

/** Whether this engine runs math.wasm (WebAssembly with fixed-width SIMD). */
export function hasWasmMath(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(mathBytes());
}

export type WasmMath = {
  /** dst[i] = op(src[i]) for i < src.length, the bits of math.ts's function with NaNs canonical; dst may be src. */
  unary(op: MathUnaryOp, src: Float32Array, dst: Float32Array): void;
};

/** math.wasm, one instance (own memory) per call: bit-identical to the scalar functions in math.ts. */
export function createWasmMath(): WasmMath {
  compiled ??= new WebAssembly.Module(mathBytes());
  const exports = new WebAssembly.Instance(compiled, {}).exports as MathExports;
  // The memory never grows, so this view stays valid.
  const block = new Float32Array(exports.memory.buffer, 0, BLOCK);
  return {
    unary(op, src, dst) {
      if (dst.length < src.length) {
        throw new RangeError(`unary ${op}: dst has ${dst.length} elements but src has ${src.length}; pass a dst at least as long as src.`);
      }
      const kernel = exports[op];
      const n = src.length;
      for (let start = 0; start < n; start += BLOCK) {
        const count = Math.min(BLOCK, n - start);
        // Same-type TypedArray.set copies bytes, so the canonical NaNs written by the kernel survive.
        block.set(src.subarray(start, start + count));
        // The last vector is padded with whatever the block held: computed, then not copied out.
        kernel(0, ((count + 3) & ~3) * 4);
        dst.set(count === BLOCK ? block : block.subarray(0, count), start);
      }
    },
  };
}
