import type { DType } from '../../../tensor/dtype.js';
import type { Attrs, Op } from '../../../tensor/op.js';
import { broadcastStrides } from '../../../tensor/kernels/strided.js';
import type { Shape } from '../../../tensor/shape.js';
import type { Program } from '../isa.js';

/** An op invocation as the trace records it: what an element program depends on (never the data). */
export type ElementEntry = {
  readonly op: Op;
  readonly attrs: Attrs;
  readonly inputShapes: readonly Shape[];
  readonly inputDtypes: readonly DType[];
  readonly outputShape: Shape;
};

/** Builds the program that computes output element `index` of `entry`, reading the inputs as memory. */
export type ProgramFor = (entry: ElementEntry, index: number) => Program;

/** The row-major coordinates of flat position `index` in `shape`. */
export function unravel(index: number, shape: Shape): number[] {
  const coords = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    coords[i] = index % shape[i];
    index = Math.floor(index / shape[i]);
  }
  return coords;
}

/** The flat position in an input of `inShape` that broadcast output position `index` reads. */
export function broadcastSource(index: number, inShape: Shape, outShape: Shape): number {
  const strides = broadcastStrides(inShape, outShape);
  return unravel(index, outShape).reduce((at, c, i) => at + c * strides[i], 0);
}
