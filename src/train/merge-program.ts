/**
 * The outer merge of a DiLoCo / NoLoCo round as the step of a one-step job (spec.merge), so the dispute
 * game referees it as it referees a training step: its ops are the runtime's (sub, add, div, mul), traced
 * and bisected down to one element and one instruction. The job's initial state holds every input of the
 * merge, so its h_0 commits them: the outer parameters as `params.<name>`, and as optimizer tensors the outer
 * momentum `momentum.<name>`, then each contribution in worker order, its pseudo-gradient
 * `delta.<worker>.<name>` and (NoLoCo) the outer parameters it started from `outer.<worker>.<name>`. The
 * optimizer step is the round. The step is outerMerge itself, so the job's result is the merge's bits.
 */
import { getParam, prefixed, type Params } from '../nn/index.js';
import { outerMerge, type Contribution, type DilocoMode, type OuterState } from './diloco-program.js';
import type { OuterHyper } from './outer.js';
import type { TrainState } from './state.js';

/** The merge job's state 0: the outer state and the contributions (sorted by worker), as one state. */
export function mergeInputState(outer: OuterState, contributions: readonly Contribution[]): TrainState {
  const tensors: Params = { ...prefixed('momentum', outer.momentum) };
  for (const c of [...contributions].sort((a, b) => a.worker - b.worker)) {
    Object.assign(tensors, prefixed(`delta.${c.worker}`, c.delta));
    if (c.outer) Object.assign(tensors, prefixed(`outer.${c.worker}`, c.outer));
  }
  return { step: 0, params: outer.params, opt: { step: outer.round, tensors } };
}

/** The outer state a merge job's state holds (after its step: the merge's result). */
export function outerOfMergeState(state: TrainState): OuterState {
  const momentum: Params = {};
  for (const name of Object.keys(state.params)) momentum[name] = getParam(state.opt.tensors, `momentum.${name}`);
  return { round: state.opt.step, params: state.params, momentum };
}

/** The contributions a merge job's state holds, in the order they are stored (sorted by worker). */
export function contributionsOfMergeState(state: TrainState): Contribution[] {
  const byWorker = new Map<number, Contribution>();
  for (const [key, t] of Object.entries(state.opt.tensors)) {
    const m = /^(delta|outer)\.(\d+)\.(.+)$/.exec(key);
    if (!m) continue;
    const worker = Number(m[2]);
    const c = byWorker.get(worker) ?? { worker, delta: {} };
    if (m[1] === 'delta') c.delta[m[3]] = t;
    else (c.outer ??= {})[m[3]] = t;
    byWorker.set(worker, c);
  }
  return [...byWorker.values()];
}

/**
 * The merge step: outerMerge on the state's inputs. The contributions are carried into the next state as
 * they were (the same tensors, so the step program binds them to h_0's leaves), the outer parameters and
 * momentum are replaced by the merge's, and the optimizer step (the round) advances by one.
 */
export function mergeStep({ mode, lr, momentum }: { mode: DilocoMode } & { lr: number; momentum: number }): (state: TrainState) => TrainState {
  const hyper: OuterHyper = { lr, momentum };
  return (state) => mergeResultState(state, outerMerge(mode, outerOfMergeState(state), contributionsOfMergeState(state), hyper));
}

/** The state after a merge step from `state` whose merge gave `next`: the new outer state, the contributions carried. */
export function mergeResultState(state: TrainState, next: OuterState): TrainState {
  const carried = Object.fromEntries(Object.entries(state.opt.tensors).filter(([key]) => !key.startsWith('momentum.')));
  return { step: state.step + 1, params: next.params, opt: { step: next.round, tensors: { ...prefixed('momentum', next.momentum), ...carried } } };
}
