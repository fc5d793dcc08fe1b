/**
 * Movement ops copy one word: the program loads the source position (computed when the program is
 * built, as reference.ts's walkers compute it) and halts with it, bits untouched.
 */
import { outerInner } from '../../../tensor/kernels/reference.js';
import { contiguousStrides } from '../../../tensor/shape.js';
import { ProgramBuilder } from '../builder.js';
import { broadcastSource, unravel, type ElementEntry, type ProgramFor } from './entry.js';

function copyFrom(input: number, at: number) {
  const p = new ProgramBuilder();
  return p.halt(p.loadAt(input, at));
}

/** Same data, another shape. */
export const reshapeProgram: ProgramFor = (_, index) => copyFrom(0, index);

/** Output axis i is input axis perm[i]. */
export const permuteProgram: ProgramFor = (entry, index) => {
  const own = contiguousStrides(entry.inputShapes[0]);
  const perm = entry.attrs.perm as readonly number[];
  return copyFrom(0, unravel(index, entry.outputShape).reduce((at, c, i) => at + c * own[perm[i]], 0));
};

export const expandProgram: ProgramFor = (entry, index) => copyFrom(0, broadcastSource(index, entry.inputShapes[0], entry.outputShape));

/** Output element (o, c, i) of [outer, end - start, inner] along the axis. */
function alongAxis(entry: ElementEntry, index: number): { o: number; c: number; i: number } {
  const axis = entry.attrs.axis as number;
  const [, width, inner] = outerInner(entry.outputShape, axis);
  return { o: Math.floor(index / (width * inner)), c: Math.floor(index / inner) % width, i: index % inner };
}

export const sliceProgram: ProgramFor = (entry, index) => {
  const [, n, inner] = outerInner(entry.inputShapes[0], entry.attrs.axis as number);
  const { o, c, i } = alongAxis(entry, index);
  return copyFrom(0, (o * n + (entry.attrs.start as number) + c) * inner + i);
};

/** The input that holds position c along the axis, and c's position within it. */
export const concatProgram: ProgramFor = (entry, index) => {
  const axis = entry.attrs.axis as number;
  const { o, c, i } = alongAxis(entry, index);
  let offset = c;
  for (let k = 0; k < entry.inputShapes.length; k++) {
    const [, n, inner] = outerInner(entry.inputShapes[k], axis);
    if (offset < n) return copyFrom(k, (o * n + offset) * inner + i);
    offset -= n;
  }
  throw new RangeError(`concat: output position ${index} is past the inputs`);
};
