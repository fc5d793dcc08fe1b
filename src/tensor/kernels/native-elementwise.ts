/**
 * The native addon's elementwise kernels (native/elementwise.c): the same bits as reference.ts, in C loops that the
 * compiler vectorises (the math loop for AVX-512, AVX2 or the baseline, picked at load). Below MIN_NATIVE elements
 * the reference runs instead: a Node-API call and its layout cost more than the JavaScript loop there.
 */
import type { NativeAddon } from '../../platform/native-addon.js';
import type { BinaryOp } from '../op.js';
import { contiguousStrides, type Shape } from '../shape.js';
import type { ElementwiseKernels, MathUnary } from './elementwise.js';
import { referenceAdamw } from './adamw.js';
import * as ref from './reference.js';
import { broadcastStrides } from './strided.js';
import type { MathUnaryOp } from './wasm-math.js';

/** The addon's functions this file calls (absent from an addon built before native/elementwise.c). */
type Native = Required<Pick<NativeAddon, 'binary' | 'where' | 'copy' | 'copyRows' | 'reduce' | 'rowOp' | 'unary' | 'adamw' | 'elementwiseIsa'>>;

const MIN_NATIVE = 64;
const BINARY_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5 };
const UNARY_CODE: Record<MathUnaryOp | 'neg' | 'abs' | 'sqrt', number> = { exp: 0, log: 1, tanh: 2, sigmoid: 3, gelu: 4, gelu_grad: 5, neg: 6, abs: 7, sqrt: 8 };
const ROW = { layerNorm: 0, layerNormGrad: 1, softmax: 2, softmaxGrad: 3 } as const;

/** [rank, ...outShape, ...strides of each input] as native/elementwise.c's get_layout reads it. */
function layout(outShape: Shape, strides: readonly (readonly number[])[]): Int32Array {
  const rank = outShape.length;
  const l = new Int32Array(1 + rank * (1 + strides.length));
  l[0] = rank;
  l.set(outShape, 1);
  strides.forEach((s, k) => l.set(s, 1 + rank * (1 + k)));
  return l;
}

function hasElementwise(addon: NativeAddon): addon is NativeAddon & Native {
  return typeof addon.binary === 'function' && typeof addon.unary === 'function' && typeof addon.rowOp === 'function' && typeof addon.adamw === 'function' && typeof addon.copyRows === 'function';
}

export type NativeElementwise = ElementwiseKernels & { unary: MathUnary; readonly threads: number };

/**
 * The addon's elementwise kernels, or undefined where the addon predates them (rebuild with npm run build).
 * `minNative` (tests: 0) is the size from which the native code runs; the binary, where, math, row and reduction
 * kernels and AdamW split a large tensor's output over `threads` of the addon's pool (the same bits); copies
 * stay on one thread (native/elementwise.c says why).
 */
export function createNativeElementwise(addon: NativeAddon, { minNative = MIN_NATIVE, threads = 1 }: { minNative?: number; threads?: number } = {}): NativeElementwise | undefined {
  if (!hasElementwise(addon)) return undefined;
  const threadCount = Math.max(1, Math.floor(threads));
  const unary: MathUnary = (op, src, dst) => {
    if (src.length < minNative) ref.unary(op, src, dst);
    else addon.unary(UNARY_CODE[op], src, dst, threadCount);
  };
  return {
    name: `native-${addon.elementwiseIsa}`,
    threads: threadCount,
    unary,
    binary(op, a, aShape, b, bShape, out, outShape) {
      if (out.length < minNative) return ref.binary(op, a, aShape, b, bShape, out, outShape);
      addon.binary(BINARY_CODE[op], a, b, out, layout(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]), threadCount);
    },
    where(cond, cShape, a, aShape, b, bShape, out, outShape) {
      if (out.length < minNative) return ref.where(cond, cShape, a, aShape, b, bShape, out, outShape);
      addon.where(cond, a, b, out, layout(outShape, [cShape, aShape, bShape].map((s) => broadcastStrides(s, outShape))), threadCount);
    },
    expand(x, xShape, out, outShape) {
      if (out.length < minNative) return ref.expand(x, xShape, out, outShape);
      addon.copy(x, out, layout(outShape, [broadcastStrides(xShape, outShape)]));
    },
    permute(x, xShape, perm, out) {
      if (out.length < minNative) return ref.permute(x, xShape, perm, out);
      const own = contiguousStrides(xShape);
      addon.copy(x, out, layout(perm.map((p) => xShape[p]), [perm.map((p) => own[p])]));
    },
    reduce(op, x, outer, n, inner, out) {
      if (x.length < minNative) return ref.reduce(op, x, outer, n, inner, out);
      addon.reduce(op === 'max' ? 1 : 0, x, outer, n, inner, out, threadCount);
    },
    layerNorm(x, rows, n, eps, out) {
      if (x.length < minNative) return ref.layerNorm(x, rows, n, eps, out);
      addon.rowOp(ROW.layerNorm, x, x, rows, n, eps, out, threadCount);
    },
    layerNormGrad(x, g, rows, n, eps, out) {
      if (x.length < minNative) return ref.layerNormGrad(x, g, rows, n, eps, out);
      addon.rowOp(ROW.layerNormGrad, x, g, rows, n, eps, out, threadCount);
    },
    softmax(x, rows, n, out, fallbackUnary) {
      if (x.length < minNative) return ref.softmax(x, rows, n, out, (buffer) => fallbackUnary('exp', buffer, buffer));
      addon.rowOp(ROW.softmax, x, x, rows, n, 0, out, threadCount);
    },
    softmaxGrad(y, g, rows, n, out) {
      if (y.length < minNative) return ref.softmaxGrad(y, g, rows, n, out);
      addon.rowOp(ROW.softmaxGrad, y, g, rows, n, 0, out, threadCount);
    },
    basicUnary(op, x, out) {
      if (x.length < minNative) return ref.unary(op, x, out);
      addon.unary(UNARY_CODE[op], x, out, 1);
    },
    slice(x, outer, n, inner, start, end, out) {
      const width = (end - start) * inner;
      if (out.length < minNative) return ref.slice(x, outer, n, inner, start, end, out);
      addon.copyRows(x, start * inner, n * inner, out, 0, width, outer, width);
    },
    concat(xs, outer, ns, inner, out) {
      if (out.length < minNative) return ref.concat(xs, outer, ns, inner, out);
      const total = ns.reduce((a, b) => a + b, 0) * inner;
      let at = 0;
      xs.forEach((x, k) => {
        const width = ns[k] * inner;
        addon.copyRows(x, 0, width, out, at, total, outer, width);
        at += width;
      });
    },
    adamw(p, g, m, v, c, pOut, mOut, vOut) {
      // The C loop assumes its outputs overlap no input and each other (restrict); anything else runs the reference.
      const outs = [pOut.buffer, mOut.buffer, vOut.buffer];
      if (p.length < minNative || new Set(outs).size < 3 || [p, g, m, v].some((x) => outs.includes(x.buffer))) return referenceAdamw(p, g, m, v, c, pOut, mOut, vOut);
      const constants = Float32Array.of(c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.correction1, c.correction2, c.eps, c.decay, c.lr);
      addon.adamw(p, g, m, v, constants, pOut, mOut, vOut, threadCount);
    },
  };
}
