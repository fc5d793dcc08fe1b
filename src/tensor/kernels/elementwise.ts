/**
 * The kernels of the elementwise, movement, reduction and row ops and of the fused AdamW, as one set the backend picks (backend.ts):
 * the reference (reference.ts, the specification) or the native addon's (native-elementwise.ts), which computes
 * the same bits (test/tensor/native-elementwise.test.ts). Signatures are reference.ts's.
 */
import type { BinaryOp } from '../op.js';
import type { Storage } from '../dtype.js';
import type { Shape } from '../shape.js';
import { referenceAdamw, type AdamWConstants } from './adamw.js';
import * as ref from './reference.js';
import type { MathUnaryOp } from './wasm-math.js';

export type ElementwiseKernels = {
  readonly name: string;
  binary(op: BinaryOp, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape, out: Float32Array, outShape: Shape): void;
  where(cond: Int32Array, cShape: Shape, a: Storage, aShape: Shape, b: Storage, bShape: Shape, out: Storage, outShape: Shape): void;
  expand(x: Storage, xShape: Shape, out: Storage, outShape: Shape): void;
  permute(x: Storage, xShape: Shape, perm: readonly number[], out: Storage): void;
  reduce(op: 'sum' | 'max', x: Float32Array, outer: number, n: number, inner: number, out: Float32Array): void;
  layerNorm(x: Float32Array, rows: number, n: number, eps: number, out: Float32Array): void;
  layerNormGrad(x: Float32Array, g: Float32Array, rows: number, n: number, eps: number, out: Float32Array): void;
  /** softmax's exp runs on `unary` (the same bits on every kernel). */
  softmax(x: Float32Array, rows: number, n: number, out: Float32Array, unary: MathUnary): void;
  softmaxGrad(y: Float32Array, g: Float32Array, rows: number, n: number, out: Float32Array): void;
  /** neg, abs and sqrt (IEEE's, one rounding; the math functions are the backend's unary kernel). */
  basicUnary(op: 'neg' | 'abs' | 'sqrt', x: Float32Array, out: Float32Array): void;
  slice(x: Storage, outer: number, n: number, inner: number, start: number, end: number, out: Storage): void;
  concat(xs: readonly Storage[], outer: number, ns: readonly number[], inner: number, out: Storage): void;
  /** AdamW's fused update of one parameter tensor (adamw.ts). */
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, c: AdamWConstants, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array): void;
};

/** dst[i] = op(src[i]) with math.ts's bits and canonical NaNs; dst may be src. */
export type MathUnary = (op: MathUnaryOp, src: Float32Array, dst: Float32Array) => void;

export const referenceElementwise: ElementwiseKernels = {
  name: 'reference',
  binary: ref.binary,
  where: ref.where,
  expand: ref.expand,
  permute: ref.permute,
  reduce: ref.reduce,
  layerNorm: ref.layerNorm,
  layerNormGrad: ref.layerNormGrad,
  softmax: (x, rows, n, out, unary) => ref.softmax(x, rows, n, out, (buffer) => unary('exp', buffer, buffer)),
  softmaxGrad: ref.softmaxGrad,
  adamw: referenceAdamw,
  basicUnary: ref.unary,
  slice: ref.slice,
  concat: ref.concat,
};
