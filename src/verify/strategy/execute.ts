/**
 * Re-executes one training step with every primitive op's tensors in hand: what a party needs to
 * answer the step, op and element levels. Runs the step under the tensor trace (src/tensor/trace.ts)
 * and replaces the recorder's `record` on that one recorder instance, so it keeps the tensors (the
 * trace itself keeps only hashes) and so adversaries can tamper with an op's output in place, before
 * later ops read it (withOpHook). Nothing in src/tensor changes.
 */
import type { TokenBatch } from '../../data/index.js';
import { activeRecorder, type TraceRecorder } from '../../tensor/trace.js';
import type { Attrs, Op } from '../../tensor/op.js';
import { trace, type Tensor } from '../../tensor/index.js';
import { toHex } from '../../platform/sha256.js';
import { leafHash, merkleRoot, type Hash } from '../../train/merkle.js';
import { stateDigest, stateTensors, type TrainState } from '../../train/state.js';
import { tensorCommitment } from '../../train/tensor-commitment.js';
import type { JobProgram } from '../../train/program.js';
import { BATCH_NAMES, batchShape } from '../game/commitments.js';
import type { InputSource, OpStructure, StepStructure } from '../game/structure.js';

/** Sees (and may change in place) every primitive op's output as it is made. */
export type OpHook = (index: number, op: Op, attrs: Attrs, inputs: readonly Tensor[], output: Tensor) => void;

export type RecordedOp = { op: Op; attrs: Attrs; inputs: readonly Tensor[]; output: Tensor };

let hooks: OpHook[] | null = null;
let opCount = 0;

/**
 * Runs fn with `hook` called on every primitive op. Nests: an inner hook (an adversary's tamper)
 * runs before the outer ones (the recorder), all under one trace.
 */
export function withOpHook<T>(hook: OpHook, fn: () => T): T {
  if (hooks) {
    hooks.unshift(hook);
    try {
      return fn();
    } finally {
      hooks.splice(hooks.indexOf(hook), 1);
    }
  }
  return trace(() => {
    const recorder = activeRecorder() as TraceRecorder;
    hooks = [hook];
    opCount = 0;
    recorder.record = (op, attrs, inputs, output) => {
      const index = opCount++;
      for (const h of hooks ?? []) h(index, op, attrs, inputs, output);
    };
    try {
      return fn();
    } finally {
      hooks = null;
    }
  }).result;
}

/** One executed step: its ops with their tensors, the output commitments and the step tree. */
export type StepExecution = {
  t: number;
  before: TrainState;
  after: TrainState;
  batch: TokenBatch;
  ops: RecordedOp[];
  structure: StepStructure;
  /** tensorCommitment of each op's output. */
  commitments: Hash[];
  /** Step-tree leaves: leafHash(commitment) per op, then leafHash(h_t). */
  leaves: Hash[];
  root: Hash;
  hashAfter: string;
};

/** The names of a state's tensors in state-tree order (leaf k+1 is names[k]; leaf 0 is the header). */
export function stateTensorNames(state: TrainState): string[] {
  return stateTensors(state).map(([name]) => name);
}

export function stateTensor(state: TrainState, name: string): Tensor {
  const [group, ...rest] = name.split('.');
  const key = rest.join('.');
  return group === 'params' ? state.params[key] : state.opt.tensors[key];
}

/** Runs `program.step` on `before` (the step t = before.step + 1) and records its ops and its step program. */
function recordStep(program: JobProgram, before: TrainState) {
  const batch = program.batch(before.step);
  const ops: RecordedOp[] = [];
  const after = withOpHook((_i, op, attrs, inputs, output) => ops.push({ op, attrs, inputs: [...inputs], output }), () => program.step(before, batch).state);
  return { batch, ops, after, structure: structureOf(before, after, batch, ops) };
}

/** Runs `program.step` on `before` (the step t = before.step + 1) and records everything. */
export function executeStep(program: JobProgram, before: TrainState): StepExecution {
  const { batch, ops, after, structure } = recordStep(program, before);
  const commitments = ops.map((r) => tensorCommitment(r.output.dtype, r.output.shape, r.output.data));
  const digestAfter = stateDigest(after);
  const leaves = [...commitments.map((c) => leafHash(c)), leafHash(digestAfter)];
  return { t: before.step + 1, before, after, batch, ops, structure, commitments, leaves, root: merkleRoot(leaves), hashAfter: toHex(digestAfter) };
}

/**
 * The step program of step t, derived from the spec alone: the step is traced from the initial
 * state with the step counter set to t-1 (the op sequence does not depend on the values).
 */
export function stepStructure(program: JobProgram, t: number): StepStructure {
  const init = program.init();
  // The optimizer step counts on from the initial state's (0, or a continued run's: a DiLoCo inner-step job).
  const before = { ...init, step: t - 1, opt: { ...init.opt, step: init.opt.step + t - 1 } };
  // Not executeStep: the step program needs no commitment of the op outputs, which cost more than the step itself.
  return recordStep(program, before).structure;
}

function structureOf(before: TrainState, after: TrainState, batch: TokenBatch, ops: RecordedOp[]): StepStructure {
  const producer = new Map<Tensor, number>();
  const producerByData = new Map<unknown, number>();
  const names = stateTensorNames(before);
  const stateByData = new Map<unknown, { name: string; leaf: number }>();
  names.forEach((name, k) => stateByData.set(stateTensor(before, name).data, { name, leaf: k + 1 }));
  const batchByData = new Map<unknown, { name: string; leaf: number }>();
  BATCH_NAMES.forEach((name, leaf) => batchByData.set(batch[name], { name, leaf }));

  const sourceOf = (t: Tensor): InputSource => {
    const index = producer.get(t);
    if (index !== undefined) return { kind: 'op', index };
    // detach() wraps an op's output buffer in a new tensor outside any op: still that op's output.
    const shared = producerByData.get(t.data);
    if (shared !== undefined && ops[shared].output.shape.join() === t.shape.join()) return { kind: 'op', index: shared };
    const state = stateByData.get(t.data);
    if (state) return { kind: 'state', ...state };
    const b = batchByData.get(t.data);
    if (b) {
      const expected = batchShape(batch, b.name as (typeof BATCH_NAMES)[number]);
      if (expected.join() === t.shape.join()) return { kind: 'batch', ...b };
    }
    return { kind: 'constant', commitment: toHex(tensorCommitment(t.dtype, t.shape, t.data)) };
  };

  const lastForward = ops.reduce((last, r, i) => (r.output.requiresGrad ? i : last), -1);
  let firstOptimizer = ops.length;
  const labels: string[] = [];
  const structured: OpStructure[] = ops.map((r, i) => {
    const inputs = r.inputs.map((t) => ({ dtype: t.dtype, shape: t.shape, source: sourceOf(t) }));
    producer.set(r.output, i);
    producerByData.set(r.output.data, i);
    const stateInput = inputs.find((x) => x.source.kind === 'state')?.source as { name: string } | undefined;
    if (stateInput?.name.startsWith('opt.') && firstOptimizer === ops.length) firstOptimizer = i;
    const fromOps = inputs.map((x) => (x.source.kind === 'op' ? x.source.index : -1)).filter((j) => j >= 0);
    labels.push(stateInput?.name ?? (fromOps.length ? labels[Math.max(...fromOps)] : inputs.find((x) => x.source.kind === 'batch') ? 'batch' : ''));
    return { op: r.op, attrs: r.attrs, inputs, output: { dtype: r.output.dtype, shape: r.output.shape }, name: '' };
  });
  structured.forEach((s, i) => {
    // A step without a backward pass (an outer merge, an evaluation) has no phases to tell apart.
    const phase = lastForward < 0 ? '' : i <= lastForward ? 'forward ' : i >= firstOptimizer ? 'optimizer ' : 'backward ';
    s.name = `${phase}${s.op}${labels[i] ? ` (from ${labels[i]})` : ''}`;
  });
  const stateOutputs = stateTensorNames(after).map((name) => {
    const t = stateTensor(after, name);
    const source = sourceOf(t);
    if (source.kind === 'op') structured[source.index].name = `${structured[source.index].name.split(' (')[0]} -> ${name}`;
    return { name, source };
  });
  return { t: before.step + 1, ops: structured, stateOutputs, stateLeafCount: names.length + 1 };
}
