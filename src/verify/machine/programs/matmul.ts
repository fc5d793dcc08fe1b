/**
 * reference-matmul.ts for one output element (p, i, j): acc = +0, then for q ascending
 * acc = ffma(a[p, i, q], b[p, q, j], acc), with the operand strides ops.ts's matmul passes
 * (transposed operands are read in place; a plain matrix is shared by every batch).
 */
import { ProgramBuilder } from '../builder.js';
import { affine, split, type ProgramFor } from './entry.js';

/** [batch stride, row stride, col stride] of an operand stored [..., rows, cols]. */
function strides(shape: readonly number[], transposed: boolean): { batch: number; row: number; col: number } {
  const [rows, cols] = shape.slice(-2);
  const batch = shape.length > 2 ? rows * cols : 0;
  return transposed ? { batch, row: 1, col: cols } : { batch, row: cols, col: 1 };
}

export const matmulProgram: ProgramFor = (entry) => {
  const [aShape, bShape] = entry.inputShapes;
  const transposeA = entry.attrs.transposeA === true;
  const transposeB = entry.attrs.transposeB === true;
  const [m, n] = entry.outputShape.slice(-2);
  const k = transposeA ? aShape[aShape.length - 2] : aShape[aShape.length - 1];
  const a = strides(aShape, transposeA);
  const b = strides(bShape, transposeB);
  const p = new ProgramBuilder();
  const { o: batch, j: i, i: j } = split(p, p.index(), m, n);
  const aStart = affine(p, [[batch, a.batch], [i, a.row]]);
  const bStart = affine(p, [[batch, b.batch], [j, b.col]]);
  const acc = p.variable(0);
  p.loop(k, [{ start: aStart, step: a.col }, { start: bStart, step: b.row }], ([at, bt]) => {
    p.ffma(p.load(0, at), p.load(1, bt), acc, acc);
  });
  return p.halt(acc);
};
