/** Element programs of the elementwise ops: one load per input, at the broadcast position of the output index. */
import type { BinaryOp, CompareOp, UnaryOp } from '../../../tensor/op.js';
import { bitsOf } from '../../../tensor/f32.js';
import { ProgramBuilder, type Value } from '../builder.js';
import * as math from '../math.js';
import { broadcastSource, type ProgramFor } from './entry.js';

/** Unary ops as reference.ts's unary() computes them, then canonicalizeNaNs (a NaN math.ts passed through keeps its payload). */
const UNARY: Record<UnaryOp, (p: ProgramBuilder, x: Value) => Value> = {
  neg: (p, x) => p.fneg(x),
  // |x| = max(x, -x): the same bits as Math.abs for every x, +0 for ±0, canonical for NaN.
  abs: (p, x) => p.fmax(x, p.fneg(x)),
  sqrt: (p, x) => p.fsqrt(x),
  exp: (p, x) => canonical(p, math.exp(p, x)),
  log: (p, x) => canonical(p, math.log(p, x)),
  tanh: (p, x) => canonical(p, math.tanh(p, x)),
  sigmoid: (p, x) => canonical(p, math.sigmoid(p, x)),
  gelu: (p, x) => canonical(p, math.gelu(p, x)),
  gelu_grad: (p, x) => canonical(p, math.geluGrad(p, x)),
};

/** canonicalizeNaNs for one value: fmax(y, y) is y for every non-NaN y (-0 included), the canonical NaN otherwise. */
function canonical(p: ProgramBuilder, y: Value): Value {
  return p.fmax(y, y);
}

export const unaryProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  return p.halt(UNARY[entry.op as UnaryOp](p, p.load(0, p.index())));
};

const BINARY: Record<BinaryOp, (p: ProgramBuilder, a: Value, b: Value) => Value> = {
  add: (p, a, b) => p.fadd(a, b),
  sub: (p, a, b) => p.fsub(a, b),
  mul: (p, a, b) => p.fmul(a, b),
  div: (p, a, b) => p.fdiv(a, b),
  maximum: (p, a, b) => p.fmax(a, b),
  minimum: (p, a, b) => p.fmin(a, b),
};

/** Loads the broadcast operands of the output element, one per input. */
function loadOperands(p: ProgramBuilder, entry: Parameters<ProgramFor>[0]): Value[] {
  return entry.inputShapes.map((shape, k) => p.load(k, broadcastSource(p, p.index(), shape, entry.outputShape)));
}

export const binaryProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const [a, b] = loadOperands(p, entry);
  return p.halt(BINARY[entry.op as BinaryOp](p, a, b));
};

export const compareProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const [a, b] = loadOperands(p, entry);
  const float = entry.inputDtypes[0] === 'float32';
  const op = entry.op as CompareOp;
  if (op === 'eq') return p.halt(float ? p.feq(a, b) : p.ieq(a, b));
  if (op === 'lt') return p.halt(float ? p.flt(a, b) : p.ilt(a, b));
  return p.halt(float ? p.fle(a, b) : p.ile(a, b));
};

/** cond != 0 ? a : b, copying bits (reference.ts's where). */
export const whereProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const [cond, a, b] = loadOperands(p, entry);
  return p.halt(p.select(cond, a, b));
};

/** float32 -> int32 truncates (the runtime refuses values out of range), int32 -> float32 rounds; same dtype copies. */
export const castProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const x = p.load(0, p.index());
  const [from, to] = [entry.inputDtypes[0], entry.attrs.dtype];
  if (from === to) return p.halt(x);
  return p.halt(to === 'int32' ? p.ftoi(x) : p.itof(x));
};

/** The recorded value: a float32 (attrs.value is already rounded) or an int32. */
export const constProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const value = entry.attrs.value as number;
  return p.halt(entry.attrs.dtype === 'int32' ? p.int(value | 0) : p.int(value !== value ? 0x7fc00000 : bitsOf(value)));
};
