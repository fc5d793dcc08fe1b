/**
 * The two programs of a DiLoCo / NoLoCo round as jobs, so the dispute game that referees training jobs
 * referees them too, unchanged:
 * - a worker's H inner steps of round r are the run's job continued from the round's start state (spec
 *   `init`: the round's outer parameters and a fresh AdamW state, at step r * H of the run) on the
 *   worker's slice of the data (spec `shard`); its run commitment is what the worker stands behind;
 * - the outer merge is a one-step job (spec `merge`) whose initial state holds the outer state and the
 *   round's contributions (merge-program.ts).
 * Both give the same bits as the swarm's own functions (runInnerSteps, outerMerge): they are those functions.
 */
import { innerStart, type Contribution, type DilocoMode, type OuterState } from './diloco-program.js';
import { runCommitment } from './commitment.js';
import { mergeInputState, mergeResultState, outerOfMergeState } from './merge-program.js';
import type { OuterHyper } from './outer.js';
import { buildProgram, type TrainProgram } from './program.js';
import { jobId, parseJobSpec, type JobSpec } from './spec.js';
import { stateHash, type TrainState } from './state.js';

export type InnerJobInput = {
  /** The round's outer state (its round r). */
  outer: OuterState;
  innerSteps: number;
  slots: number;
  worker: number;
};

/** The state a worker's inner-step job starts from: the round's start state (innerStart), as step 0. */
export function innerJobStart(base: TrainProgram, { outer, innerSteps }: Pick<InnerJobInput, 'outer' | 'innerSteps'>): TrainState {
  return { ...innerStart(base, outer, innerSteps), step: 0 };
}

/**
 * Worker `worker`'s H inner steps of round r as a job of `base` (the run's program, whose spec's steps are
 * the run's inner steps per worker): steps r*H+1 .. r*H+H of the run, on batches s * slots + worker.
 */
export function innerStepJob(base: TrainProgram, o: InnerJobInput): TrainProgram {
  const start = innerJobStart(base, o);
  const spec = parseJobSpec({
    ...base.spec,
    steps: o.innerSteps,
    checkpointEvery: Math.min(base.spec.checkpointEvery, o.innerSteps),
    init: { state: stateHash(start), step: o.outer.round * o.innerSteps, runSteps: base.spec.steps },
    shard: { slots: o.slots, index: o.worker },
  });
  return buildProgram(spec, { base, init: start });
}

export type MergeJobInput = { mode: DilocoMode; hyper: OuterHyper; outer: OuterState; contributions: readonly Contribution[] };

function mergeSpec(base: JobSpec, { mode, hyper, outer, contributions }: MergeJobInput): { spec: JobSpec; start: TrainState; h0: string } {
  const start = mergeInputState(outer, contributions);
  const h0 = stateHash(start);
  const spec = parseJobSpec({
    ...base,
    steps: 1,
    checkpointEvery: 1,
    init: { state: h0, step: 0, runSteps: 1 },
    merge: { mode, lr: hyper.lr, momentum: hyper.momentum },
  });
  return { spec, start, h0 };
}

/** The outer merge of a round (for NoLoCo: one worker's, over its group) as a one-step job of `base`. */
export function mergeJob(base: TrainProgram, input: MergeJobInput): TrainProgram {
  const { spec, start } = mergeSpec(base.spec, input);
  return buildProgram(spec, { base, init: start });
}

/**
 * What a closer claims about its merge, as the game would referee it: the merge job's id and the run commitment
 * of its one step, given the merge's result `next` (so the merge is not computed twice).
 */
export function mergeClaim(base: TrainProgram, input: MergeJobInput, next: OuterState): { job: string; run: string } {
  const { spec, start, h0 } = mergeSpec(base.spec, input);
  return { job: jobId(spec), run: runCommitment([h0, stateHash(mergeResultState(start, next))]) };
}

/** The outer state a merge job's final state (h_1) holds. */
export const mergedOuter = outerOfMergeState;
