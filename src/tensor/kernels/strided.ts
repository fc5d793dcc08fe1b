import { contiguousStrides, type Shape } from '../shape.js';

/**
 * Strides that read an input of shape `inShape` at the positions of a broadcast output of shape
 * `outShape`: 0 where the input has size 1 (or is missing), its own contiguous stride elsewhere.
 */
export function broadcastStrides(inShape: Shape, outShape: Shape): number[] {
  const own = contiguousStrides(inShape);
  const shift = outShape.length - inShape.length;
  return outShape.map((d, i) => (i < shift || inShape[i - shift] === 1 ? 0 : own[i - shift]));
}

/**
 * Walks a contiguous output of `outShape` one innermost row at a time, with the matching offsets
 * into up to three strided inputs; `row` gets the row's output offset, the inputs' offsets and the
 * row length. Every kernel that broadcasts uses this one walker, so the element order is row-major.
 */
export function forEachRow(
  outShape: Shape,
  strides: readonly (readonly number[])[],
  row: (out: number, i0: number, i1: number, i2: number, length: number) => void,
): void {
  const rank = outShape.length;
  if (rank === 0) {
    row(0, 0, 0, 0, 1);
    return;
  }
  const length = outShape[rank - 1];
  const rows = outShape.reduce((a, d) => a * d, 1) / (length || 1);
  if (length === 0) return;
  const s0 = strides[0] ?? [];
  const s1 = strides[1] ?? [];
  const s2 = strides[2] ?? [];
  const index = new Array<number>(rank - 1).fill(0);
  let i0 = 0;
  let i1 = 0;
  let i2 = 0;
  for (let r = 0; r < rows; r++) {
    row(r * length, i0, i1, i2, length);
    // Odometer increment over the outer dimensions, updating offsets incrementally.
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      i0 += s0[d] ?? 0;
      i1 += s1[d] ?? 0;
      i2 += s2[d] ?? 0;
      if (index[d] < outShape[d]) break;
      i0 -= (s0[d] ?? 0) * outShape[d];
      i1 -= (s1[d] ?? 0) * outShape[d];
      i2 -= (s2[d] ?? 0) * outShape[d];
      index[d] = 0;
    }
  }
}
