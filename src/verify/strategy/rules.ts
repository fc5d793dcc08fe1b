/** The public rules of a job's disputes, derived from its program (spec) alone. */
import { toHex } from '../../platform/sha256.js';
import { stateHash } from '../../train/state.js';
import type { JobProgram } from '../../train/program.js';
import { batchCommitment } from '../game/commitments.js';
import type { StepStructure } from '../game/structure.js';
import type { Rules } from '../game/types.js';
import { stepStructure } from './execute.js';

/** `clock`: each party's chess clock per dispute, in the ticks of the game's clock (playGame: one per move). */
export function rulesOf(program: JobProgram, { clock = 100 }: { clock?: number } = {}): Rules {
  const structures = new Map<number, StepStructure>();
  return {
    jobId: program.id,
    steps: program.spec.steps,
    h0: stateHash(program.init()),
    clock,
    structure(t) {
      let s = structures.get(t);
      if (!s) structures.set(t, (s = stepStructure(program, t)));
      return s;
    },
    batchCommitment: (t) => batchCommitment(program.batch(t - 1)),
  };
}

export const hexBatchCommitment = (program: JobProgram, t: number) => toHex(batchCommitment(program.batch(t - 1)));
