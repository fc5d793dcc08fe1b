import type { Op } from '../../tensor/op.js';
import { sizeOf } from '../../tensor/shape.js';
import type { TraceEntry } from '../../tensor/trace.js';
import { ElementProgramError } from './errors.js';
import type { Program } from './isa.js';
import { binaryProgram, castProgram, compareProgram, constProgram, unaryProgram, whereProgram } from './programs/elementwise.js';
import type { ElementEntry, ProgramFor } from './programs/entry.js';
import { takeAlongProgram, takeProgram, scatterAddAlongProgram, scatterAddProgram } from './programs/indexing.js';
import { matmulProgram } from './programs/matmul.js';
import { concatProgram, expandProgram, permuteProgram, reshapeProgram, sliceProgram } from './programs/movement.js';
import { argmaxProgram, reduceProgram } from './programs/reduce.js';
import { layerNormGradProgram, layerNormProgram, softmaxGradProgram, softmaxProgram } from './programs/rows.js';

export type { ElementEntry } from './programs/entry.js';

/** One row per primitive of src/tensor/op.ts. */
const PROGRAMS: Record<Op, ProgramFor> = {
  neg: unaryProgram, abs: unaryProgram, sqrt: unaryProgram, exp: unaryProgram,
  log: unaryProgram, tanh: unaryProgram, sigmoid: unaryProgram, gelu: unaryProgram, gelu_grad: unaryProgram,
  add: binaryProgram, sub: binaryProgram, mul: binaryProgram, div: binaryProgram, maximum: binaryProgram, minimum: binaryProgram,
  eq: compareProgram, lt: compareProgram, le: compareProgram,
  sum: reduceProgram, max: reduceProgram, argmax: argmaxProgram,
  reshape: reshapeProgram, permute: permuteProgram, expand: expandProgram, slice: sliceProgram, concat: concatProgram,
  take: takeProgram, scatter_add: scatterAddProgram, take_along: takeAlongProgram, scatter_add_along: scatterAddAlongProgram,
  layer_norm: layerNormProgram, layer_norm_grad: layerNormGradProgram, softmax: softmaxProgram, softmax_grad: softmaxGradProgram,
  where: whereProgram, cast: castProgram, matmul: matmulProgram, const: constProgram,
};

/**
 * The one program of an op invocation: run from initialState(i), with memory = the op's inputs in
 * order, it halts with output element i. It depends only on the op, its attributes and the shapes,
 * so both parties and the referee derive the same program, and a job commits it once per op.
 */
export function programOf(entry: ElementEntry): Program {
  const build = PROGRAMS[entry.op];
  if (!build) throw new ElementProgramError(entry.op, 'the op is not a primitive of src/tensor/op.ts');
  return build(entry);
}

/**
 * programOf(entry) (or `program`, a caller's copy of it), after checking that `outputIndex` is one
 * of the op's output elements: what element `outputIndex` runs, from initialState(outputIndex).
 */
export function elementProgram(entry: ElementEntry, outputIndex: number, program?: Program): { program: Program } {
  const size = sizeOf(entry.outputShape);
  if (!Number.isInteger(outputIndex) || outputIndex < 0 || outputIndex >= size) {
    throw new ElementProgramError(entry.op, `output index ${outputIndex} is outside 0..${size - 1}`);
  }
  return { program: program ?? programOf(entry) };
}

/** The ElementEntry of a recorded trace entry. */
export function elementEntryOf(entry: TraceEntry): ElementEntry {
  return {
    op: entry.op,
    attrs: entry.attrs,
    inputShapes: entry.inputs.map((t) => t.shape),
    inputDtypes: entry.inputs.map((t) => t.dtype),
    outputShape: entry.output.shape,
  };
}
