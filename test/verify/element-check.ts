/** Runs recorded ops through the runtime and checks every output element against its element program. */
import { vi } from 'vitest';
import { trace, type Tensor } from '../../src/tensor/index.js';
import type { Attrs, Op } from '../../src/tensor/op.js';
import { TraceRecorder } from '../../src/tensor/trace.js';
import { programOf, run } from '../../src/verify/machine/index.js';

export type Recorded = { op: Op; attrs: Attrs; inputs: readonly Tensor[]; output: Tensor };

/** Every primitive `fn` runs, with its tensors (the trace itself keeps only hashes). */
export function record(fn: () => unknown): Recorded[] {
  const spy = vi.spyOn(TraceRecorder.prototype, 'record');
  try {
    trace(fn);
    return spy.mock.calls.map(([op, attrs, inputs, output]) => ({ op, attrs, inputs, output }));
  } finally {
    spy.mockRestore();
  }
}

export const wordsOf = (t: Tensor) => (t.data instanceof Int32Array ? t.data : new Int32Array(t.data.buffer, t.data.byteOffset, t.data.length));

const hex = (w: number) => `0x${(w >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Runs the op's one program from initialState(i) for every output element i (every `stride`-th, and
 * the last, when the output is larger than `sample`): mismatches as readable lines (empty when every
 * element agrees), and the steps executed per element.
 */
export function checkElements(r: Recorded, sample = 20000): { mismatches: string[]; steps: number[] } {
  const entry = {
    op: r.op,
    attrs: r.attrs,
    inputShapes: r.inputs.map((t) => t.shape),
    inputDtypes: r.inputs.map((t) => t.dtype),
    outputShape: r.output.shape,
  };
  const memory = r.inputs.map(wordsOf);
  const expected = wordsOf(r.output);
  const program = programOf(entry);
  const mismatches: string[] = [];
  const steps: number[] = [];
  const stride = Math.max(1, Math.floor(expected.length / sample));
  const indices = Array.from({ length: Math.ceil(expected.length / stride) }, (_, k) => k * stride);
  if (expected.length > 0 && indices[indices.length - 1] !== expected.length - 1) indices.push(expected.length - 1);
  for (const i of indices) {
    const result = run(program, memory, i);
    steps.push(result.steps);
    if (result.result !== expected[i] && mismatches.length < 5) {
      const inputs = r.inputs.length && r.inputs[0].size === expected.length ? ` (input ${hex(memory[0][i])})` : '';
      mismatches.push(`${r.op} ${JSON.stringify(r.attrs)} [${r.inputs.map((t) => t.shape.join('x')).join(', ')}] element ${i}${inputs}: machine ${hex(result.result)}, runtime ${hex(expected[i])}`);
    }
  }
  return { mismatches, steps };
}
