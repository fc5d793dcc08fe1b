/**
 * Gathers load the index word, then the element it points at (address arithmetic in the program,
 * since indices are data). Scatters loop over every source position that could land on this output
 * element, in reference.ts's order, adding the ones whose index matches: acc = +0, then
 * acc = hit ? fadd(acc, src) : acc.
 */
import { outerInner } from '../../../tensor/kernels/reference.js';
import { sizeOf } from '../../../tensor/shape.js';
import { ProgramBuilder } from '../builder.js';
import { affine, split, type ElementEntry, type ProgramFor } from './entry.js';

const SOURCE = 0;
const INDEX = 1;

function axisOf(entry: ElementEntry): number {
  return entry.attrs.axis as number;
}

/** out[o, j, i] = x[o, index[j], i], index flat with m elements. */
export const takeProgram: ProgramFor = (entry) => {
  const [, n, inner] = outerInner(entry.inputShapes[SOURCE], axisOf(entry));
  const p = new ProgramBuilder();
  const { o, j, i } = split(p, p.index(), sizeOf(entry.inputShapes[INDEX]), inner);
  const row = p.load(INDEX, j);
  return p.halt(p.load(SOURCE, affine(p, [[row, inner], [o, n * inner], [i, 1]])));
};

/** out[o, j, i] = x[o, index[o, j, i], i]. */
export const takeAlongProgram: ProgramFor = (entry) => {
  const [, n, inner] = outerInner(entry.inputShapes[SOURCE], axisOf(entry));
  const p = new ProgramBuilder();
  const { o, i } = split(p, p.index(), entry.inputShapes[INDEX][axisOf(entry)], inner);
  const row = p.load(INDEX, p.index());
  return p.halt(p.load(SOURCE, affine(p, [[row, inner], [o, n * inner], [i, 1]])));
};

/** out[o, r, i] = sum over j ascending with index[j] == r of src[o, j, i]; src is [outer, m, inner]. */
export const scatterAddProgram: ProgramFor = (entry) => {
  const inner = sizeOf(entry.outputShape.slice(axisOf(entry) + 1));
  const m = sizeOf(entry.inputShapes[INDEX]);
  const p = new ProgramBuilder();
  const { o, j: target, i } = split(p, p.index(), entry.attrs.size as number, inner);
  const first = affine(p, [[o, m * inner], [i, 1]]);
  const acc = p.variable(0);
  p.loop(m, [{ start: first, step: inner }, { start: 0, step: 1 }], ([from, j]) => {
    const hit = p.ieq(p.load(INDEX, j), target);
    p.select(hit, p.fadd(acc, p.load(SOURCE, from)), acc, acc);
  });
  return p.halt(acc);
};

/** out[o, r, i] = sum over j ascending with index[o, j, i] == r of src[o, j, i]; src and index are [outer, m, inner]. */
export const scatterAddAlongProgram: ProgramFor = (entry) => {
  const [, m, inner] = outerInner(entry.inputShapes[SOURCE], axisOf(entry));
  const p = new ProgramBuilder();
  const { o, j: target, i } = split(p, p.index(), entry.attrs.size as number, inner);
  const first = affine(p, [[o, m * inner], [i, 1]]);
  const acc = p.variable(0);
  p.loop(m, [{ start: first, step: inner }], ([at]) => {
    const hit = p.ieq(p.load(INDEX, at), target);
    p.select(hit, p.fadd(acc, p.load(SOURCE, at)), acc, acc);
  });
  return p.halt(acc);
};
