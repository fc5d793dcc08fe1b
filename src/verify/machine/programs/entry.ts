import type { DType } from '../../../tensor/dtype.js';
import type { Attrs, Op } from '../../../tensor/op.js';
import { broadcastStrides } from '../../../tensor/kernels/strided.js';
import type { Shape } from '../../../tensor/shape.js';
import type { ProgramBuilder, Value } from '../builder.js';
import type { Program } from '../isa.js';

/** An op invocation as the trace records it: what an element program depends on (never the data). */
export type ElementEntry = {
  readonly op: Op;
  readonly attrs: Attrs;
  readonly inputShapes: readonly Shape[];
  readonly inputDtypes: readonly DType[];
  readonly outputShape: Shape;
};

/** Builds the one program of `entry` that computes any output element from its index (ProgramBuilder.index()). */
export type ProgramFor = (entry: ElementEntry) => Program;

/** x / d (unsigned), with no instruction when d is 1. */
export function div(p: ProgramBuilder, x: Value, d: number): Value {
  return d === 1 ? x : p.divu(x, d);
}

/** x % d (unsigned), with no instruction when x is known to be below d. */
export function rem(p: ProgramBuilder, x: Value, d: number, below = false): Value {
  return below ? x : p.remu(x, d);
}

/** sum of value * coefficient, skipping zero coefficients and multiplying only by coefficients other than 1. */
export function affine(p: ProgramBuilder, terms: readonly (readonly [Value, number])[]): Value {
  let sum: Value | undefined;
  for (const [x, k] of terms) {
    if (k === 0) continue;
    const term = k === 1 ? x : p.imul(x, k);
    sum = sum ? p.iadd(sum, term) : term;
  }
  return sum ?? p.int(0);
}

/**
 * The address sum over axes of coordinate * strides[axis], where the coordinates are those of flat
 * position `index` in `shape` (row-major), computed by the program with divu/remu by each extent.
 */
export function addressOf(p: ProgramBuilder, index: Value, shape: Shape, strides: readonly number[]): Value {
  const used = shape.map((n, i) => n !== 1 && strides[i] !== 0);
  const first = used.indexOf(true);
  const terms: [Value, number][] = [];
  let rest = index;
  for (let i = shape.length - 1; i >= first && first >= 0; i--) {
    if (used[i]) terms.push([rem(p, rest, shape[i], i === 0), strides[i]]);
    if (i > first) rest = div(p, rest, shape[i]);
  }
  return affine(p, terms);
}

/** The flat position in an input of `inShape` that broadcast output position `index` reads. */
export function broadcastSource(p: ProgramBuilder, index: Value, inShape: Shape, outShape: Shape): Value {
  const strides = broadcastStrides(inShape, outShape);
  const same = inShape.length === outShape.length && inShape.every((n, i) => n === outShape[i]);
  return same ? index : addressOf(p, index, outShape, strides);
}

/** Position `index` of a tensor viewed as [outer, m, inner], as the coordinates (o, j, i). */
export function split(p: ProgramBuilder, index: Value, m: number, inner: number): { o: Value; j: Value; i: Value } {
  const rows = div(p, index, inner);
  return { o: div(p, rows, m), j: rem(p, rows, m), i: inner === 1 ? p.int(0) : p.remu(index, inner) };
}
