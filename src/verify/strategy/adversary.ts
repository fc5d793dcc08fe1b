/**
 * Cheating step functions, for tests and the benchmark: each is the job's program with one thing
 * changed at step t, run the ordinary way (runJob) so that its run commitment is what a cheater would
 * claim. Op-level cheats change an op's output in place as it is made (withOpHook), so every later op
 * reads the cheat, as it would in a modified runtime; nothing in src/tensor changes.
 */
import { Tensor } from '../../tensor/index.js';
import type { JobProgram, TrainProgram } from '../../train/program.js';
import type { TrainState } from '../../train/state.js';
import { buildProgram } from '../../train/program.js';
import { withOpHook, type OpHook } from './execute.js';

/** The program with step t replaced (steps are numbered from 1: step t turns state t-1 into state t). */
export function cheatAt<P extends JobProgram>(honest: P, t: number, step: P['step']): P {
  return { ...honest, step: (state, batch) => (state.step + 1 === t ? step(state, batch) : honest.step(state, batch)) };
}

/** Step t with `hook` seeing every op's output. */
export const tamperAt = <P extends JobProgram>(honest: P, t: number, hook: OpHook) => cheatAt(honest, t, (state, batch) => withOpHook(hook, () => honest.step(state, batch)));

/** Flips bit `bit` of element `element` of the op output at index `op` of step t (the op that writes a parameter: a consistent liar). */
export const flipOpOutput = <P extends JobProgram>(honest: P, t: number, op: number, element: number, bit: number) =>
  tamperAt(honest, t, (i, _op, _attrs, _inputs, out) => {
    if (i === op) new Int32Array(out.data.buffer, out.data.byteOffset, out.data.length)[element] ^= 1 << bit;
  });

/** Flips a bit of a parameter after step t's update, outside any op (a liar whose ops do not back its state). */
export const flipAfterUpdate = <P extends JobProgram>(honest: P, t: number, name: string, element: number, bit: number) =>
  cheatAt(honest, t, (state, batch) => {
    const result = honest.step(state, batch);
    const p = result.state.params[name];
    const data = new Float32Array(p.data as Float32Array);
    new Int32Array(data.buffer)[element] ^= 1 << bit;
    return { ...result, state: { ...result.state, params: { ...result.state.params, [name]: new Tensor(data, p.shape) } } };
  });

/** exp computed with Math.exp (rounded to float32) instead of the runtime's exp, in every exp op of step t. */
export const mathExp = (honest: TrainProgram, t: number) =>
  tamperAt(honest, t, (_i, op, _attrs, inputs, out) => {
    if (op !== 'exp') return;
    const [src, dst] = [inputs[0].data as Float32Array, out.data as Float32Array];
    for (let k = 0; k < src.length; k++) dst[k] = Math.fround(Math.exp(src[k]));
  });

/** The first sum of step t whose pairwise (tree-order) result differs from the sequential one is summed pairwise. */
export function pairwiseSum(honest: TrainProgram, t: number): TrainProgram {
  return cheatAt(honest, t, (state, batch) => {
    let done = false; // per execution of the step: a program is a pure function of its state
    return withOpHook((_i, op, attrs, inputs, out) => {
      if (op !== 'sum' || done) return;
      const x = inputs[0];
      const axis = attrs.axis as number;
      const n = x.shape[axis];
      const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const src = x.data as Float32Array;
      const dst = out.data as Float32Array;
      const pairwise = (base: number, lo: number, len: number): number =>
        len === 1 ? src[base + lo * inner] : Math.fround(pairwise(base, lo, len >> 1) + pairwise(base, lo + (len >> 1), len - (len >> 1)));
      const next = new Float32Array(dst.length);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) next[o * inner + i] = n === 0 ? 0 : pairwise(o * n * inner + i, 0, n);
      if (next.some((v, k) => !Object.is(v, dst[k]))) {
        dst.set(next);
        done = true;
      }
    }, () => honest.step(state, batch));
  });
}

/** Step t skipped: state t is state t-1 with the counters advanced. */
export const skipStep = (honest: TrainProgram, t: number) =>
  cheatAt(honest, t, (state: TrainState) => ({ state: { step: state.step + 1, params: state.params, opt: { ...state.opt, step: state.opt.step + 1 } }, loss: 0, gradNorm: undefined, lr: 0 }));

/** Step t run with the learning rate scaled by `factor`. */
export function otherLearningRate(honest: TrainProgram, t: number, factor: number): TrainProgram {
  const o = honest.spec.optimizer;
  const cheat = buildProgram({ ...honest.spec, optimizer: { ...o, lr: o.lr * factor } });
  return cheatAt(honest, t, (state, batch) => cheat.step(state, batch));
}
