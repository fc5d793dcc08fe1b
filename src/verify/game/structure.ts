/**
 * The step program: the op structure of one training step (op kind, attributes, shapes, input
 * wiring), what every level below the run level plays over. It is a function of (spec, t) only: the
 * op sequence does not depend on the data, and the attributes only on the step number (a const op
 * carries the step's learning rate). Anyone derives it (strategy/execute.ts: stepStructure).
 */
import type { DType } from '../../tensor/dtype.js';
import type { Attrs, Op } from '../../tensor/op.js';

/**
 * Where an op's input comes from, and so what its tensor commitment is proven against:
 *   op       an earlier op of the same step: its leaf in the step tree (agreed: left of the first difference)
 *   state    a tensor of the state before the step: its leaf in the state tree of h_{t-1} (agreed at run level)
 *   batch    inputs / targets / mask of the step's batch: its leaf in the batch tree (computed from (spec, t))
 *   constant a tensor made outside any op and not state or batch (cached position ids, seed gradients):
 *            recomputable from the spec, so its commitment is part of the step program itself
 */
export type InputSource =
  | { kind: 'op'; index: number }
  | { kind: 'state'; name: string; leaf: number }
  | { kind: 'batch'; name: string; leaf: number }
  | { kind: 'constant'; commitment: string };

export type OpStructure = {
  op: Op;
  attrs: Attrs;
  inputs: { dtype: DType; shape: readonly number[]; source: InputSource }[];
  output: { dtype: DType; shape: readonly number[] };
  /** A readable place in the model: phase and the nearest state tensor it derives from. */
  name: string;
};

export type StepStructure = {
  /** The step this program computes: state t-1 -> state t. */
  t: number;
  ops: OpStructure[];
  /** The tensors of state t in state-tree order (after the header): the op output (or state t-1 tensor) each is. */
  stateOutputs: { name: string; source: InputSource }[];
  /** Number of leaves of a state tree (header + tensors). */
  stateLeafCount: number;
};

/** Leaves of the step tree: one per op output, then h_t. */
export const stepLeafCount = (s: StepStructure) => s.ops.length + 1;
