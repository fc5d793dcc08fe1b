/**
 * The primitive ops on tensors: each checks its operands (errors name the op, the shapes and what
 * was expected), runs its kernel, and records itself on the trace and the autograd tape. Everything
 * built on top (composite.ts, nn/) calls only these.
 */
import type { DType } from './dtype.js';
import { DTypeError, IndexRangeError, NonFiniteError, ShapeError } from './errors.js';
import { elementwiseKernels, matmulKernel, unaryKernel } from './backend.js';
import * as ref from './kernels/reference.js';
import type { Attrs, BinaryOp, CompareOp, Op, UnaryOp } from './op.js';
import { broadcastShapes, normalizeAxis, sameShape, sizeOf, type Shape } from './shape.js';
import { isGradEnabled } from './tape.js';
import { Tensor } from './tensor.js';
import { activeRecorder } from './trace.js';

export type TensorLike = Tensor | number;

/** Records a finished op on the trace and, when gradients flow through it, on the tape. */
function finish(op: Op, attrs: Attrs, inputs: readonly Tensor[], out: Tensor): Tensor {
  activeRecorder()?.record(op, attrs, inputs, out);
  if (isGradEnabled() && out.dtype === 'float32' && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, attrs, inputs };
  }
  return out;
}

/** A number becomes a float32 scalar constant (recorded in the trace as a `const` op). */
export function constant(value: number, dtype: DType = 'float32'): Tensor {
  return finish('const', { value: dtype === 'float32' ? Math.fround(value) : value | 0, dtype }, [], Tensor.scalar(value, dtype));
}

const toTensor = (x: TensorLike): Tensor => (typeof x === 'number' ? constant(x) : x);

function expectFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new DTypeError(op, t.dtype, 'float32');
}

function expectInt(op: string, t: Tensor, what: string): void {
  if (t.dtype !== 'int32') throw new DTypeError(op, t.dtype, `int32 ${what}`);
}

// --- elementwise -----------------------------------------------------------------------------

export function unary(op: UnaryOp, x: Tensor): Tensor {
  expectFloat(op, x);
  const out = Tensor.empty(x.shape);
  const [src, dst] = [x.data as Float32Array, out.data as Float32Array];
  if (op === 'neg' || op === 'abs' || op === 'sqrt') elementwiseKernels().basicUnary(op, src, dst);
  else unaryKernel()(op, src, dst);
  return finish(op, {}, [x], out);
}

export function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = [toTensor(a), toTensor(b)];
  expectFloat(op, x, y);
  const shape = broadcastShapes(op, x.shape, y.shape);
  const out = Tensor.empty(shape);
  elementwiseKernels().binary(op, x.data as Float32Array, x.shape, y.data as Float32Array, y.shape, out.data as Float32Array, shape);
  return finish(op, {}, [x, y], out);
}

/** 1 where the comparison holds, else 0, as int32. Operands must have the same dtype. */
export function compare(op: CompareOp, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = [toTensor(a), toTensor(b)];
  if (x.dtype !== y.dtype) throw new DTypeError(op, y.dtype, `${x.dtype}, like the first operand`);
  const shape = broadcastShapes(op, x.shape, y.shape);
  const out = Tensor.empty(shape, 'int32');
  ref.compare(op, x.data, x.shape, y.data, y.shape, out.data as Int32Array, shape);
  return finish(op, {}, [x, y], out);
}

/** cond ? a : b elementwise, broadcast; cond is int32 (nonzero = true). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = [toTensor(a), toTensor(b)];
  expectInt('where', cond, 'condition');
  if (x.dtype !== y.dtype) throw new DTypeError('where', y.dtype, `${x.dtype}, like the first branch`);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  const out = Tensor.empty(shape, x.dtype);
  elementwiseKernels().where(cond.data as Int32Array, cond.shape, x.data, x.shape, y.data, y.shape, out.data, shape);
  return finish('where', {}, [cond, x, y], out);
}

/** float32 -> int32 truncates toward zero (the input must be finite and in range); int32 -> float32 rounds to nearest even. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  if (dtype === 'int32' && x.dtype === 'float32') {
    x.data.forEach((v, i) => {
      if (!(v > -2147483649 && v < 2147483648)) throw new NonFiniteError('cast to int32', v, `element ${i}`);
    });
  }
  const out = Tensor.empty(x.shape, dtype);
  ref.cast(x.data, out.data);
  return finish('cast', { dtype }, [x], out);
}

// --- reductions ------------------------------------------------------------------------------

function reduceShape(shape: Shape, axis: number, keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

/** Sum along one axis, in index order from +0. */
export function sum(x: Tensor, axis: number, keepDims = false): Tensor {
  return reduceOp('sum', x, axis, keepDims);
}

/** Maximum along one axis (NaN propagates; -0 < +0). */
export function max(x: Tensor, axis: number, keepDims = false): Tensor {
  return reduceOp('max', x, axis, keepDims);
}

function reduceOp(op: 'sum' | 'max', x: Tensor, axis: number, keepDims: boolean): Tensor {
  expectFloat(op, x);
  const a = normalizeAxis(op, axis, x.rank);
  const [outer, n, inner] = ref.outerInner(x.shape, a);
  const out = Tensor.empty(reduceShape(x.shape, a, keepDims));
  elementwiseKernels().reduce(op, x.data as Float32Array, outer, n, inner, out.data as Float32Array);
  return finish(op, { axis: a, keepDims }, [x], out);
}

/** Index of the first maximum along one axis, as int32. */
export function argmax(x: Tensor, axis: number, keepDims = false): Tensor {
  expectFloat('argmax', x);
  const a = normalizeAxis('argmax', axis, x.rank);
  const [outer, n, inner] = ref.outerInner(x.shape, a);
  if (n === 0) throw new ShapeError('argmax', [x.shape], `a non-empty axis ${a}`);
  const out = Tensor.empty(reduceShape(x.shape, a, keepDims), 'int32');
  ref.argmax(x.data as Float32Array, outer, n, inner, out.data as Int32Array);
  return finish('argmax', { axis: a, keepDims }, [x], out);
}

// --- movement --------------------------------------------------------------------------------

/** Same data, another shape of the same size; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length === 1 && sizeOf(known) > 0 ? x.size / sizeOf(known) : undefined;
  const target = shape.map((d) => (d === -1 ? (inferred ?? -1) : d));
  if (!target.every((d) => Number.isInteger(d) && d >= 0) || sizeOf(target) !== x.size) {
    throw new ShapeError('reshape', [x.shape, shape], `a shape with ${x.size} elements (at most one -1)`);
  }
  return finish('reshape', { shape: target }, [x], new Tensor(x.data, target));
}

/** Reorders axes: output axis i is input axis perm[i]. Copies the data. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const axes = perm.map((p) => normalizeAxis('permute', p, x.rank));
  if (axes.length !== x.rank || new Set(axes).size !== x.rank) {
    throw new ShapeError('permute', [x.shape], `a permutation of 0..${x.rank - 1}, got [${perm.join(', ')}]`);
  }
  const out = Tensor.empty(axes.map((p) => x.shape[p]), x.dtype);
  elementwiseKernels().permute(x.data, x.shape, axes, out.data);
  return finish('permute', { perm: axes }, [x], out);
}

/** Swaps two axes (by default the last two). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = x.shape.map((_, i) => i);
  const [i, j] = [normalizeAxis('transpose', a, x.rank), normalizeAxis('transpose', b, x.rank)];
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/** Copies x broadcast to `shape` (NumPy rules). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(target, shape)) throw new ShapeError('expand', [x.shape, shape], 'a shape that x broadcasts to');
  if (sameShape(x.shape, shape)) return x;
  const out = Tensor.empty(shape, x.dtype);
  elementwiseKernels().expand(x.data, x.shape, out.data, shape);
  return finish('expand', { shape: [...shape] }, [x], out);
}

/** x[..., start:end, ...] along one axis (a copy). */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = normalizeAxis('slice', axis, x.rank);
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= x.shape[a])) {
    throw new ShapeError('slice', [x.shape], `0 <= start <= end <= ${x.shape[a]} on axis ${a}, got ${start}..${end}`);
  }
  const [outer, n, inner] = ref.outerInner(x.shape, a);
  const out = Tensor.empty(x.shape.map((d, i) => (i === a ? end - start : d)), x.dtype);
  elementwiseKernels().slice(x.data, outer, n, inner, start, end, out.data);
  return finish('slice', { axis: a, start, end }, [x], out);
}

/** Joins tensors along an existing axis; all other dimensions must match. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new ShapeError('concat', [], 'at least one tensor');
  const first = xs[0];
  const a = normalizeAxis('concat', axis, first.rank);
  for (const x of xs) {
    if (x.dtype !== first.dtype) throw new DTypeError('concat', x.dtype, first.dtype);
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError('concat', xs.map((t) => t.shape), `equal sizes on every axis but ${a}`);
    }
  }
  const ns = xs.map((x) => x.shape[a]);
  const [outer, , inner] = ref.outerInner(first.shape, a);
  const out = Tensor.empty(first.shape.map((d, i) => (i === a ? ns.reduce((s, k) => s + k, 0) : d)), first.dtype);
  elementwiseKernels().concat(xs.map((x) => x.data), outer, ns, inner, out.data);
  return finish('concat', { axis: a }, xs, out);
}

// --- indexing --------------------------------------------------------------------------------

function checkIndices(op: string, index: Tensor, size: number): void {
  expectInt(op, index, 'indices');
  const data = index.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < 0 || data[i] >= size) throw new IndexRangeError(op, data[i], size, `position ${i} of the index tensor`);
  }
}

/**
 * NumPy take (index_select): out has x's shape with axis replaced by index's shape.
 * Embedding lookup is take(table [V, D], 0, ids [B, T]) -> [B, T, D].
 */
export function take(x: Tensor, axis: number, index: Tensor): Tensor {
  const a = normalizeAxis('take', axis, x.rank);
  checkIndices('take', index, x.shape[a]);
  const [outer, n, inner] = ref.outerInner(x.shape, a);
  const out = Tensor.empty([...x.shape.slice(0, a), ...index.shape, ...x.shape.slice(a + 1)], x.dtype);
  ref.take(x.data, outer, n, inner, index.data as Int32Array, out.data);
  return finish('take', { axis: a }, [x, index], out);
}

/**
 * The adjoint of take: zeros with `size` along axis, then src slices added at their indices, in
 * index order (so repeated indices sum in a fixed order).
 */
export function scatterAdd(src: Tensor, axis: number, index: Tensor, size: number): Tensor {
  expectFloat('scatter_add', src);
  const a = normalizeAxis('scatter_add', axis, src.rank - index.rank + 1);
  checkIndices('scatter_add', index, size);
  const lead = src.shape.slice(0, a);
  const tail = src.shape.slice(a + index.rank);
  if (!sameShape(src.shape.slice(a, a + index.rank), index.shape)) {
    throw new ShapeError('scatter_add', [src.shape, index.shape], `src dimensions ${a}.. equal to the index shape`);
  }
  const out = Tensor.empty([...lead, size, ...tail]);
  ref.scatterAdd(src.data as Float32Array, sizeOf(lead), size, sizeOf(tail), index.data as Int32Array, out.data as Float32Array);
  return finish('scatter_add', { axis: a, size }, [src, index], out);
}

/** take_along_axis: index has x's rank and shape except along axis; out has index's shape. */
export function takeAlong(x: Tensor, axis: number, index: Tensor): Tensor {
  const a = normalizeAxis('take_along', axis, x.rank);
  checkAlong('take_along', x.shape, index, a);
  checkIndices('take_along', index, x.shape[a]);
  const [outer, n, inner] = ref.outerInner(x.shape, a);
  const out = Tensor.empty(index.shape, x.dtype);
  ref.takeAlong(x.data, outer, n, inner, index.data as Int32Array, index.shape[a], out.data);
  return finish('take_along', { axis: a }, [x, index], out);
}

/** The adjoint of takeAlong: zeros with `size` along axis, src added at index, row-major order. */
export function scatterAddAlong(src: Tensor, axis: number, index: Tensor, size: number): Tensor {
  expectFloat('scatter_add_along', src);
  const a = normalizeAxis('scatter_add_along', axis, src.rank);
  if (!sameShape(src.shape, index.shape)) throw new ShapeError('scatter_add_along', [src.shape, index.shape], 'equal shapes');
  checkIndices('scatter_add_along', index, size);
  const [outer, m, inner] = ref.outerInner(src.shape, a);
  const out = Tensor.empty(src.shape.map((d, i) => (i === a ? size : d)));
  ref.scatterAddAlong(src.data as Float32Array, outer, m, inner, index.data as Int32Array, size, out.data as Float32Array);
  return finish('scatter_add_along', { axis: a, size }, [src, index], out);
}

function checkAlong(op: string, shape: Shape, index: Tensor, axis: number): void {
  if (index.rank !== shape.length || index.shape.some((d, i) => i !== axis && d !== shape[i])) {
    throw new ShapeError(op, [shape, index.shape], `an index of the same rank and sizes except on axis ${axis}`);
  }
}

// --- row ops (last axis) ----------------------------------------------------------------------

/** [rows, n] of x's last axis; a scalar has no last axis. */
function rowsOf(op: string, x: Tensor): [rows: number, n: number] {
  expectFloat(op, x);
  if (x.rank === 0) throw new ShapeError(op, [x.shape], 'a tensor of rank 1 or more');
  return [sizeOf(x.shape.slice(0, -1)), x.shape[x.rank - 1]];
}

function expectSameShape(op: string, a: Tensor, b: Tensor): void {
  expectFloat(op, b);
  if (!sameShape(a.shape, b.shape)) throw new ShapeError(op, [a.shape, b.shape], 'equal shapes');
}

/**
 * Layer normalisation of the last axis without affine: (x - mean) / sqrt(var + eps) with the biased
 * variance, in the order of reference.ts's layerNorm (the same bits as the composition it replaces).
 * eps is rounded to float32.
 */
export function layerNormLast(x: Tensor, eps = 1e-5): Tensor {
  const [rows, n] = rowsOf('layer_norm', x);
  const e = Math.fround(eps);
  const out = Tensor.empty(x.shape);
  elementwiseKernels().layerNorm(x.data as Float32Array, rows, n, e, out.data as Float32Array);
  return finish('layer_norm', { eps: e }, [x], out);
}

/** d(layer_norm)/dx applied to the upstream gradient g (same shape as x): reference.ts's layerNormGrad. */
export function layerNormGrad(x: Tensor, g: Tensor, eps = 1e-5): Tensor {
  const [rows, n] = rowsOf('layer_norm_grad', x);
  expectSameShape('layer_norm_grad', x, g);
  const e = Math.fround(eps);
  const out = Tensor.empty(x.shape);
  elementwiseKernels().layerNormGrad(x.data as Float32Array, g.data as Float32Array, rows, n, e, out.data as Float32Array);
  return finish('layer_norm_grad', { eps: e }, [x, g], out);
}

/**
 * Softmax along the last axis: exp(x - max) / sum(exp(x - max)), reference.ts's softmax (the bits of
 * the composition it replaces). exp runs on the backend's unary kernel (the same bits).
 */
export function softmaxLast(x: Tensor): Tensor {
  const [rows, n] = rowsOf('softmax', x);
  const out = Tensor.empty(x.shape);
  elementwiseKernels().softmax(x.data as Float32Array, rows, n, out.data as Float32Array, unaryKernel());
  return finish('softmax', {}, [x], out);
}

/** d(softmax)/dx applied to the upstream gradient g, from the softmax output y: reference.ts's softmaxGrad. */
export function softmaxGrad(y: Tensor, g: Tensor): Tensor {
  const [rows, n] = rowsOf('softmax_grad', y);
  expectSameShape('softmax_grad', y, g);
  const out = Tensor.empty(y.shape);
  elementwiseKernels().softmaxGrad(y.data as Float32Array, g.data as Float32Array, rows, n, out.data as Float32Array);
  return finish('softmax_grad', {}, [y, g], out);
}

// --- matmul ----------------------------------------------------------------------------------

export type MatmulOptions = { transposeA?: boolean; transposeB?: boolean };

/**
 * Batched matrix product [..., m, k] x [..., k, n] -> [..., m, n]. Batch dimensions must be equal,
 * or one operand is a plain matrix shared by every batch. transposeA/B read an operand stored as
 * [..., k, m] / [..., n, k] without copying it (backward passes use this).
 */
export function matmul(a: Tensor, b: Tensor, { transposeA = false, transposeB = false }: MatmulOptions = {}): Tensor {
  expectFloat('matmul', a, b);
  if (a.rank < 2 || b.rank < 2) throw new ShapeError('matmul', [a.shape, b.shape], 'operands of rank 2 or more');
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transposeA ? [ac, ar] : [ar, ac];
  const [k2, n] = transposeB ? [bc, br] : [br, bc];
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchShape = aBatch.length >= bBatch.length ? aBatch : bBatch;
  const batchesFit = sameShape(aBatch, bBatch) || aBatch.length === 0 || bBatch.length === 0;
  if (k !== k2 || !batchesFit) {
    throw new ShapeError('matmul', [a.shape, b.shape], `[..., m, k] x [..., k, n] with equal batch dimensions or a plain matrix${transposeA || transposeB ? ` (transposeA=${transposeA}, transposeB=${transposeB})` : ''}`);
  }
  const batch = sizeOf(batchShape);
  const out = Tensor.empty([...batchShape, m, n]);
  const strides = (rows: number, cols: number, batched: boolean, transposed: boolean) =>
    [batched ? rows * cols : 0, transposed ? 1 : cols, transposed ? cols : 1] as const;
  matmulKernel().matmul({
    a: { data: a.data as Float32Array, offset: 0, strides: strides(ar, ac, aBatch.length > 0, transposeA) },
    b: { data: b.data as Float32Array, offset: 0, strides: strides(br, bc, bBatch.length > 0, transposeB) },
    out: out.data as Float32Array,
    batch,
    m,
    k,
    n,
  });
  return finish('matmul', { transposeA, transposeB }, [a, b], out);
}

