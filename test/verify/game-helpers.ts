/** Shared setup of dispute tests: one honest run of a micro job, and cheating runs beside it. */
import { buildProgram, runCommitment, runJob, type RunRecord, type TrainProgram } from '../../src/train/index.js';
import { playGame, replayParty, rulesOf, type GameResult } from '../../src/verify/index.js';
import { microSpec, tempStore } from '../train/helpers.js';

export const SPEC = microSpec({ steps: 4, checkpointEvery: 2 });
export const honest = buildProgram(SPEC);
export const rules = rulesOf(honest);

export type Run = { program: TrainProgram; record: RunRecord; store: Awaited<ReturnType<typeof tempStore>> };

export async function runOf(program: TrainProgram, edit?: (record: RunRecord) => void): Promise<Run> {
  const store = await tempStore();
  const { record } = await runJob(program, { store });
  if (edit) {
    edit(record);
    record.commitment = runCommitment(record.stepHashes);
  }
  return { program, record, store };
}

/** Plays solver against challenger; the honest side re-executes with the job's program. */
export function dispute(solver: Run, challenger: Run): Promise<GameResult> {
  const party = (run: Run, role: 'solver' | 'challenger', other: Run) =>
    replayParty({ role, program: run.program, reference: honest, store: run.store, record: run.record });
  return playGame(rules, party(solver, 'solver', challenger), party(challenger, 'challenger', solver), {
    solverRoot: solver.record.commitment!,
    challengerRoot: challenger.record.commitment!,
  });
}
