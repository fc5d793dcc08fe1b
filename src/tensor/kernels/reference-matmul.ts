import { CANONICAL_NAN_BITS, ffma } from '../f32.js';
import type { MatmulKernel, MatmulProblem } from './matmul-problem.js';

/**
 * The specification of matmul: for every output element, acc starts at +0 and, for k ascending,
 * acc = fma(a, b, acc), the IEEE fused multiply-add rounded once to float32 (f32.ts's ffma, an exact
 * emulation). No reassociation. A NaN result is written as the canonical NaN.
 */
export function referenceMatmul({ a, b, out, batch, m, k, n }: MatmulProblem): void {
  const outBits = new Int32Array(out.buffer, out.byteOffset, out.length);
  const [aB, aR, aC] = a.strides;
  const [bB, bR, bC] = b.strides;
  for (let p = 0; p < batch; p++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        let ai = a.offset + p * aB + i * aR;
        let bi = b.offset + p * bB + j * bC;
        for (let q = 0; q < k; q++, ai += aC, bi += bR) acc = ffma(a.data[ai], b.data[bi], acc);
        const o = (p * m + i) * n + j;
        if (acc !== acc) outBits[o] = CANONICAL_NAN_BITS;
        else out[o] = acc;
      }
    }
  }
}

export const referenceMatmulKernel: MatmulKernel = { name: 'reference', matmul: referenceMatmul };
