import type { Attrs, Op } from './op.js';
import { hashTensor } from './hash.js';
import type { Tensor } from './tensor.js';
import type { DType } from './dtype.js';

/** A tensor as a trace names it: its number in order of first appearance, and its canonical hash. */
export type TracedTensor = { id: number; dtype: DType; shape: readonly number[]; hash: string };

/** One primitive op invocation, in execution order. */
export type TraceEntry = {
  index: number;
  op: Op;
  attrs: Attrs;
  inputs: TracedTensor[];
  output: TracedTensor;
};

/**
 * Records every primitive op invocation while active. Tensors are renumbered from 0 in order of
 * first appearance, so two runs of the same program give the same trace whatever else the process
 * did before. Hashes are computed once per tensor (tensor data never changes after it is written).
 */
export class TraceRecorder {
  readonly entries: TraceEntry[] = [];
  private readonly seen = new Map<Tensor, TracedTensor>();

  record(op: Op, attrs: Attrs, inputs: readonly Tensor[], output: Tensor): void {
    this.entries.push({
      index: this.entries.length,
      op,
      attrs,
      inputs: inputs.map((t) => this.name(t)),
      output: this.name(output),
    });
  }

  private name(t: Tensor): TracedTensor {
    let named = this.seen.get(t);
    if (!named) {
      named = { id: this.seen.size, dtype: t.dtype, shape: t.shape, hash: hashTensor(t) };
      this.seen.set(t, named);
    }
    return named;
  }
}

let active: TraceRecorder | null = null;

export function activeRecorder(): TraceRecorder | null {
  return active;
}

/**
 * Whether a trace records the primitive ops now. A fused kernel (kernels/adamw.ts) may stand in for a composite of
 * primitive ops, with the same bits, only where none does: the dispute game and its adversaries see every primitive op.
 */
export function isTracing(): boolean {
  return active !== null;
}

/** Runs `fn` under a fresh recorder and returns its result with the ordered list of primitive ops. */
export function trace<T>(fn: () => T): { result: T; entries: TraceEntry[] } {
  const previous = active;
  const recorder = new TraceRecorder();
  active = recorder;
  try {
    const result = fn();
    return { result, entries: recorder.entries };
  } finally {
    active = previous;
  }
}
