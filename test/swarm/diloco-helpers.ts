// A DiLoCo run small enough for tests: 4 worker slots, 2 inner steps per round, 3 rounds of a 1-layer GPT;
// and the disputes over its inner-step and merge jobs.
import { buildProgram, type TrainProgram } from '../../src/train/index.js';
import { DILOCO_OUTER } from '../../src/train/outer.js';
import { contributionOf, type Contribution, type DilocoMode } from '../../src/train/diloco-program.js';
import { innerStepJob } from '../../src/train/diloco-jobs.js';
import type { SimOptions, WorkerState } from '../../src/swarm/diloco-sim.js';
import { playGame, replayParty, rulesOf, type GameResult } from '../../src/verify/index.js';
import type { Run } from '../verify/game-helpers.js';
import { microSpec } from '../train/helpers.js';

export function microRun(mode: DilocoMode, overrides: Partial<SimOptions> = {}): SimOptions {
  const program = buildProgram(microSpec({ steps: 6 }));
  return { program, batch: program.batch, mode, innerSteps: 2, slots: 4, rounds: 3, hyper: DILOCO_OUTER, seed: program.spec.seed, ...overrides };
}

/** Every worker's contribution to a round, each computed by running its inner-step job (2 inner steps of 4 slots). */
export function innerJobContributions(base: TrainProgram, workers: ReadonlyMap<number, WorkerState>, mode: DilocoMode): Contribution[] {
  return [...workers.entries()].map(([w, s]) => {
    const job = innerStepJob(base, { ...s, innerSteps: 2, slots: 4, worker: w });
    let state = job.init();
    for (let k = 0; k < 2; k++) state = job.step(state).state;
    return contributionOf(w, s.outer, state.params, mode);
  });
}

/** The game between two runs of `job` (the honest program); each side replays with its own program. */
export function disputeJob(job: TrainProgram, solver: Run, challenger: Run): Promise<GameResult> {
  const party = (run: Run, role: 'solver' | 'challenger') => replayParty({ role, program: run.program, reference: job, store: run.store, record: run.record });
  return playGame(rulesOf(job), party(solver, 'solver'), party(challenger, 'challenger'), { solverRoot: solver.record.commitment!, challengerRoot: challenger.record.commitment! });
}

/** The op of step t that writes state tensor `name` (where a consistent liar changes it). */
export function writerOf(job: TrainProgram, t: number, name: string): number {
  const source = rulesOf(job).structure(t).stateOutputs.find((s) => s.name === name)!.source;
  if (source.kind !== 'op') throw new Error(`${name} is not written by an op`);
  return source.index;
}
