import type { MatOperand } from './matmul-problem.js';

/**
 * Operand packing for matmul.wat from any strides, element by element (matmul.wasm packs operands whose
 * columns are contiguous itself, faster). Values are copied through Int32 views so that every bit pattern
 * (subnormals, NaN payloads) arrives unchanged.
 */

/** The same elements as Int32 bits. */
export function bitsOf(data: Float32Array): Int32Array {
  return new Int32Array(data.buffer, data.byteOffset, data.length);
}

/**
 * Writes A [batch, m, k] as panels of `mr` rows, k-major (the mr values of one k side by side), so that
 * the kernel splats them with constant offsets; rows past m are zero.
 */
export function packA(a: MatOperand, batch: number, m: number, k: number, mr: number, dst: Int32Array, at: number): void {
  const src = bitsOf(a.data);
  const [sB, sR, sC] = a.strides;
  const panels = Math.ceil(m / mr);
  for (let p = 0; p < batch; p++) {
    for (let panel = 0; panel < panels; panel++, at += mr * k) {
      for (let r = 0; r < mr; r++) {
        const row = panel * mr + r;
        if (row >= m) {
          for (let q = 0, d = at + r; q < k; q++, d += mr) dst[d] = 0;
          continue;
        }
        let s = a.offset + p * sB + row * sR;
        for (let q = 0, d = at + r; q < k; q++, d += mr, s += sC) dst[d] = src[s];
      }
    }
  }
}

/**
 * Writes B [batches, k, n] as panels of `nr` columns, each panel k rows of nr values, so that the kernel
 * reads it sequentially whatever B's strides; columns past n are zero.
 */
export function packB(b: MatOperand, batches: number, k: number, n: number, nr: number, dst: Int32Array, at: number): void {
  const src = bitsOf(b.data);
  const [sB, sR, sC] = b.strides;
  const panels = Math.ceil(n / nr);
  const panelSize = k * nr;
  for (let p = 0; p < batches; p++, at += panels * panelSize) {
    for (let q = 0; q < k; q++) {
      const row = b.offset + p * sB + q * sR;
      for (let panel = 0; panel < panels; panel++) {
        const d = at + panel * panelSize + q * nr;
        const width = Math.min(nr, n - panel * nr);
        let s = row + panel * nr * sC;
        for (let c = 0; c < width; c++, s += sC) dst[d + c] = src[s];
        for (let c = width; c < nr; c++) dst[d + c] = 0;
      }
    }
  }
}
