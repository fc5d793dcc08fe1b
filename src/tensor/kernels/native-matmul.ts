import type { NativeAddon } from '../../platform/native-addon.js';
import type { MatmulKernel, MatmulProblem, MatOperand } from './matmul-problem.js';

/** Below this many multiply-adds a problem stays on the calling thread (starting threads costs more). */
const MIN_PARALLEL_MACS = 2 ** 22;

/** Throws unless every element of the [batch, rows, cols] operand lies inside its array (the C side trusts it). */
function checkOperand(name: string, { data, offset, strides }: MatOperand, batch: number, rows: number, cols: number): void {
  const extents = [batch, rows, cols];
  let last = offset;
  for (let d = 0; d < 3; d++) {
    if (!Number.isInteger(strides[d]) || strides[d] < 0) throw new RangeError(`native matmul: ${name}'s stride ${strides[d]} is not a non-negative integer`);
    last += (extents[d] - 1) * strides[d];
  }
  if (!Number.isInteger(offset) || offset < 0 || last >= data.length) {
    throw new RangeError(`native matmul: ${name} [${extents.join(', ')}] at offset ${offset} with strides [${strides.join(', ')}] runs past its ${data.length} elements`);
  }
}

export type NativeMatmul = MatmulKernel & { readonly threads: number };

/**
 * The native matmul (native/matmul.c) with one of the addon's kernels: `acc = fma(a, b, acc)` with the CPU's
 * fma instructions, bit-identical to referenceMatmul; output rows split over `threads` threads in C.
 */
export function createNativeMatmul(addon: NativeAddon, { kernel = addon.kernels[0], threads = 1 }: { kernel?: string; threads?: number } = {}): NativeMatmul {
  const index = addon.kernels.indexOf(kernel);
  if (index < 0) throw new Error(`native matmul: this CPU has no ${kernel} kernel (it has ${addon.kernels.join(', ')})`);
  const threadCount = Math.max(1, Math.floor(threads));
  return {
    name: `native-${kernel}`,
    threads: threadCount,
    matmul({ a, b, out, batch, m, k, n }: MatmulProblem): void {
      if (batch * m * n === 0) return;
      if (out.length < batch * m * n) throw new RangeError(`native matmul: the output has ${out.length} elements, not ${batch * m * n}`);
      if (k > 0) {
        checkOperand('A', a, batch, m, k);
        checkOperand('B', b, batch, k, n);
      }
      addon.matmul(
        index,
        a.data, a.offset, a.strides[0], a.strides[1], a.strides[2],
        b.data, b.offset, b.strides[0], b.strides[1], b.strides[2],
        out, batch, m, k, n, threadCount, MIN_PARALLEL_MACS,
      );
    },
  };
}
