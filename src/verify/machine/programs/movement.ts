/**
 * Movement ops copy one word: the program computes the source position from the output index (as
 * reference.ts's walkers compute it), loads it and halts with it, bits untouched.
 */
import { outerInner } from '../../../tensor/kernels/reference.js';
import { contiguousStrides } from '../../../tensor/shape.js';
import { ProgramBuilder, type Value } from '../builder.js';
import { addressOf, affine, broadcastSource, split, type ElementEntry, type ProgramFor } from './entry.js';

function copyFrom(p: ProgramBuilder, input: number, at: Value, offset = 0) {
  return p.halt(p.load(input, at, offset));
}

/** Same data, another shape. */
export const reshapeProgram: ProgramFor = () => {
  const p = new ProgramBuilder();
  return copyFrom(p, 0, p.index());
};

/** Output axis i is input axis perm[i]. */
export const permuteProgram: ProgramFor = (entry) => {
  const own = contiguousStrides(entry.inputShapes[0]);
  const perm = entry.attrs.perm as readonly number[];
  const p = new ProgramBuilder();
  return copyFrom(p, 0, addressOf(p, p.index(), entry.outputShape, perm.map((axis) => own[axis])));
};

export const expandProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  return copyFrom(p, 0, broadcastSource(p, p.index(), entry.inputShapes[0], entry.outputShape));
};

/** The output element as (o, c, i) of [outer, width, inner] along the axis. */
function alongAxis(p: ProgramBuilder, entry: ElementEntry): { o: Value; c: Value; i: Value; inner: number } {
  const [, width, inner] = outerInner(entry.outputShape, entry.attrs.axis as number);
  const { o, j: c, i } = split(p, p.index(), width, inner);
  return { o, c, i, inner };
}

/** Input position (o * n + start + c) * inner + i. */
export const sliceProgram: ProgramFor = (entry) => {
  const [, n] = outerInner(entry.inputShapes[0], entry.attrs.axis as number);
  const p = new ProgramBuilder();
  const { o, c, i, inner } = alongAxis(p, entry);
  return copyFrom(p, 0, affine(p, [[o, n * inner], [c, inner], [i, 1]]), (entry.attrs.start as number) * inner);
};

/**
 * Position c along the axis lies in the input k with start_k <= c < start_k + n_k, at (o * n_k + c -
 * start_k) * inner + i. Every input is loaded, each at its own position when it holds c and at its
 * first word otherwise (an address outside it would fault), and selects keep the one that holds c.
 */
export const concatProgram: ProgramFor = (entry) => {
  const axis = entry.attrs.axis as number;
  const p = new ProgramBuilder();
  const { o, c, i, inner } = alongAxis(p, entry);
  const within = affine(p, [[c, inner], [i, 1]]);
  let value: Value | undefined;
  let start = 0;
  entry.inputShapes.forEach((shape, k) => {
    const [outer, n] = outerInner(shape, axis);
    const end = start + n;
    if (outer * n * inner > 0) {
      const holds = p.iand(p.ile(start, c), p.ilt(c, end));
      // Position `start * inner` with the load's offset -start * inner is word 0.
      const at = p.select(holds, affine(p, [[o, n * inner], [within, 1]]), p.int(start * inner));
      const word = p.load(k, at, -start * inner);
      value = value ? p.select(holds, word, value) : word;
    }
    start = end;
  });
  return p.halt(value ?? p.int(0));
};
