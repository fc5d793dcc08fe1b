/**
 * Gathers load the index word, then the element it points at (address arithmetic in the program,
 * since indices are data). Scatters loop over every source position that could land on this output
 * element, in reference.ts's order, adding the ones whose index matches: acc = +0, then
 * acc = hit ? fadd(acc, src) : acc.
 */
import { outerInner } from '../../../tensor/kernels/reference.js';
import { sizeOf } from '../../../tensor/shape.js';
import { ProgramBuilder } from '../builder.js';
import type { ElementEntry, ProgramFor } from './entry.js';

const SOURCE = 0;
const INDEX = 1;

/** Output element (o, j, i) of [outer, m, inner], where m is the extent that replaces the axis. */
function split(index: number, m: number, inner: number): { o: number; j: number; i: number } {
  return { o: Math.floor(index / (m * inner)), j: Math.floor(index / inner) % m, i: index % inner };
}

function axisOf(entry: ElementEntry): number {
  return entry.attrs.axis as number;
}

/** out[o, j, i] = x[o, index[j], i], index flat with m elements. */
export const takeProgram: ProgramFor = (entry, index) => {
  const [, n, inner] = outerInner(entry.inputShapes[SOURCE], axisOf(entry));
  const { o, j, i } = split(index, sizeOf(entry.inputShapes[INDEX]), inner);
  const p = new ProgramBuilder();
  const row = p.loadAt(INDEX, j);
  return p.halt(p.load(SOURCE, p.imul(row, inner), o * n * inner + i));
};

/** out[o, j, i] = x[o, index[o, j, i], i]. */
export const takeAlongProgram: ProgramFor = (entry, index) => {
  const [, n, inner] = outerInner(entry.inputShapes[SOURCE], axisOf(entry));
  const { o, i } = split(index, entry.inputShapes[INDEX][axisOf(entry)], inner);
  const p = new ProgramBuilder();
  const row = p.loadAt(INDEX, index);
  return p.halt(p.load(SOURCE, p.imul(row, inner), o * n * inner + i));
};

/** out[o, r, i] = sum over j ascending with index[j] == r of src[o, j, i]; src is [outer, m, inner]. */
export const scatterAddProgram: ProgramFor = (entry, index) => {
  const inner = sizeOf(entry.outputShape.slice(axisOf(entry) + 1));
  const m = sizeOf(entry.inputShapes[INDEX]);
  const { o, j: r, i } = split(index, entry.attrs.size as number, inner);
  const p = new ProgramBuilder();
  const acc = p.variable(0);
  const target = p.int(r);
  p.loop(m, [{ start: o * m * inner + i, step: inner }, { start: 0, step: 1 }], ([from, j]) => {
    const hit = p.ieq(p.load(INDEX, j), target);
    p.select(hit, p.fadd(acc, p.load(SOURCE, from)), acc, acc);
  });
  return p.halt(acc);
};

/** out[o, r, i] = sum over j ascending with index[o, j, i] == r of src[o, j, i]; src and index are [outer, m, inner]. */
export const scatterAddAlongProgram: ProgramFor = (entry, index) => {
  const [, m, inner] = outerInner(entry.inputShapes[SOURCE], axisOf(entry));
  const { o, j: r, i } = split(index, entry.attrs.size as number, inner);
  const p = new ProgramBuilder();
  const acc = p.variable(0);
  const target = p.int(r);
  p.loop(m, [{ start: o * m * inner + i, step: inner }], ([at]) => {
    const hit = p.ieq(p.load(INDEX, at), target);
    p.select(hit, p.fadd(acc, p.load(SOURCE, at)), acc, acc);
  });
  return p.halt(acc);
};
