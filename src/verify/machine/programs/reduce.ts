/**
 * Reductions along one axis of x viewed as [outer, n, inner] (reference.ts's reduce and argmax):
 * output element (o, i) reads x[o, j, i] for j ascending, at o*n*inner + i + j*inner.
 */
import { outerInner } from '../../../tensor/kernels/reference.js';
import { ProgramBuilder, type Value } from '../builder.js';
import { affine, div, type ElementEntry, type ProgramFor } from './entry.js';

function axisWalk(p: ProgramBuilder, entry: ElementEntry): { n: number; inner: number; first: Value } {
  const [, n, inner] = outerInner(entry.inputShapes[0], entry.attrs.axis as number);
  const index = p.index();
  const [o, i] = [div(p, index, inner), inner === 1 ? undefined : p.remu(index, inner)];
  return { n, inner, first: affine(p, i ? [[o, n * inner], [i, 1]] : [[o, n * inner]]) };
}

/** sum: acc = +0, then acc = fadd(acc, x_j). max: acc = -Inf, then acc = fmax(acc, x_j). */
export const reduceProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const { n, inner, first } = axisWalk(p, entry);
  const isSum = entry.op === 'sum';
  const acc = p.variable(isSum ? 0 : 0xff800000);
  p.loop(n, [{ start: first, step: inner }], ([at]) => {
    const x = p.load(0, at);
    if (isSum) p.fadd(acc, x, acc);
    else p.fmax(acc, x, acc);
  });
  return p.halt(acc);
};

/**
 * argmax: best = 0, bestValue = x_0; for j = 1.. while bestValue is not NaN: take j when
 * x_j > bestValue or x_j is NaN. The "while" is a condition on each update, so the loop has a fixed count.
 */
export const argmaxProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const { n, inner, first } = axisWalk(p, entry);
  const best = p.variable(0);
  const bestValue = p.load(0, first);
  const one = p.int(1);
  p.loop(n - 1, [{ start: first, step: inner }, { start: 1, step: 1 }], ([at, j]) => {
    const v = p.load(0, at, inner);
    const vIsNaN = p.ixor(p.feq(v, v), one);
    const take = p.iand(p.ior(p.flt(bestValue, v), vIsNaN), p.feq(bestValue, bestValue));
    p.select(take, j, best, best);
    p.select(take, v, bestValue, bestValue);
  });
  return p.halt(best);
};
