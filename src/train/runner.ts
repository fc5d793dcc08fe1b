/**
 * Runs a job to its end, checkpointing every `checkpointEvery` steps (and at steps 0 and T, and at the
 * step where it is stopped), and resumes a run that stopped: it continues from its newest intact
 * checkpoint and ends at the same commitment.
 */
import { encodeCheckpoint, decodeCheckpoint } from './checkpoint.js';
import { runCommitment } from './commitment.js';
import { CorruptCheckpointError, MissingCheckpointError } from './errors.js';
import type { JobProgram, StepResult } from './program.js';
import { pooledSteps } from './pooled-step.js';
import type { ProgramSpec } from './spec.js';
import { createStateHasher } from './state-hasher.js';
import { stateHash, type TrainState } from './state.js';
import type { CheckpointSource, RunRecord, Store } from './store.js';

export type StepReport = StepResult & { hash: string; seconds: number; tokens: number; checkpointed: boolean; hashSeconds: number; checkpointSeconds: number };

export type RunOptions = {
  store: Store;
  /** Stop once this step is done, checkpoint it, and return; running again resumes there. */
  stopAt?: number;
  /** Resume from the checkpoint of this step instead of the newest one; the later steps are done again. */
  fromStep?: number;
  onStep?: (report: StepReport) => void;
  /** Aborting stops the run after the step in progress, which is checkpointed. */
  signal?: AbortSignal;
};

/** A checkpoint the run could not resume from (and left as it was), and why. */
export type SkippedCheckpoint = { step: number; reason: string };

export type RunResult<S extends ProgramSpec = ProgramSpec> = {
  record: RunRecord<S>;
  state: TrainState;
  resumedFrom: number | undefined;
  /** Newer checkpoints passed over because they were corrupt or missing, newest first. */
  skipped: SkippedCheckpoint[];
};

const isCheckpointStep = (program: JobProgram, step: number) =>
  step === 0 || step === program.spec.steps || step % program.spec.checkpointEvery === 0;

export async function runJob<S extends ProgramSpec>(program: JobProgram<S>, { store, stopAt, fromStep, onStep, signal }: RunOptions): Promise<RunResult<S>> {
  const { spec, id } = program;
  let record = await store.readRun<S>(id);
  let state: TrainState;
  let resumedFrom: number | undefined;
  let skipped: SkippedCheckpoint[] = [];
  if (fromStep !== undefined && !record?.checkpoints[String(fromStep)]) {
    throw new MissingCheckpointError(`for step ${fromStep} of run ${id}`, store.dir, checkpointSteps(record));
  }
  const resumed = record ? await newestIntact(store, record, fromStep) : { skipped: [] };
  skipped = resumed.skipped;
  if (record && resumed.state) {
    state = resumed.state;
    resumedFrom = state.step;
    forgetAfter(record, state.step);
    if (skipped.length > 0 || fromStep !== undefined) await store.writeRun(record);
  } else {
    // A new run, or one whose every checkpoint is unusable: step 0 is the spec's own init, made again.
    if (record) resumedFrom = 0;
    state = program.init();
    record = { jobId: id, spec, stepHashes: [stateHash(state)], checkpoints: {} };
    await saveCheckpoint(program, store, record, state, record.stepHashes[0]);
  }
  const end = Math.min(spec.steps, stopAt ?? spec.steps);
  // Step t's state is hashed on a worker while step t + 1 runs; its hash is recorded (and its
  // checkpoint written) once the next step is done. States are never mutated, so this is safe.
  const hasher = createStateHasher();
  type Pending = { result: StepResult; hash: Promise<string>; stepSeconds: number; handOffSeconds: number };
  const finish = async ({ result, hash: hashing, stepSeconds, handOffSeconds }: Pending) => {
    // What hashing costs the run: handing the state to the worker, and waiting for the hash after the next step.
    const waitStart = performance.now();
    const hash = await hashing;
    const hashSeconds = handOffSeconds + (performance.now() - waitStart) / 1000;
    record!.stepHashes.push(hash);
    const checkpointed = isCheckpointStep(program, result.state.step);
    const checkpointStart = performance.now();
    if (checkpointed) await saveCheckpoint(program, store, record!, result.state, hash);
    onStep?.({
      ...result,
      hash,
      seconds: stepSeconds + hashSeconds,
      tokens: program.tokensPerStep,
      checkpointed,
      hashSeconds,
      checkpointSeconds: checkpointed ? (performance.now() - checkpointStart) / 1000 : 0,
    });
  };
  let pending: Pending | undefined;
  const step = pooledSteps(program);
  try {
    while (state.step < end && !signal?.aborted) {
      const start = performance.now();
      const result = step(state);
      const stepSeconds = (performance.now() - start) / 1000;
      if (pending) await finish(pending);
      state = result.state;
      const handOff = performance.now();
      const hash = hasher.hash(state);
      pending = { result, hash, stepSeconds, handOffSeconds: (performance.now() - handOff) / 1000 };
    }
    if (pending) await finish(pending);
  } finally {
    hasher.close();
  }
  if (state.step === spec.steps) {
    record.commitment = runCommitment(record.stepHashes);
    await store.writeRun(record);
  } else if (!record.checkpoints[String(state.step)]) {
    // Stopped (--stop-at, Ctrl-C, SIGTERM) between checkpoints: keep the work done so far.
    await saveCheckpoint(program, store, record, state, record.stepHashes[state.step]);
  }
  return { record, state, resumedFrom, skipped };
}

const checkpointSteps = (record: RunRecord<ProgramSpec> | undefined) => Object.keys(record?.checkpoints ?? {}).map(Number).sort((a, b) => a - b);

/**
 * The state of the newest checkpoint that loads and matches the run's step hash; corrupt or missing
 * ones are passed over and reported, never changed. With `exact`, only that step's checkpoint is
 * tried, and its failure is the caller's error.
 */
async function newestIntact(store: Store, record: RunRecord<ProgramSpec>, exact?: number): Promise<{ state?: TrainState; skipped: SkippedCheckpoint[] }> {
  const skipped: SkippedCheckpoint[] = [];
  for (const step of exact === undefined ? checkpointSteps(record).reverse() : [exact]) {
    try {
      const state = await loadCheckpointState(store, record, step);
      if (record.stepHashes[step] !== undefined && stateHash(state) !== record.stepHashes[step]) {
        throw new CorruptCheckpointError(`of step ${step}`, `its state hash is not the run's step hash h_${step}`);
      }
      return { state, skipped };
    } catch (error) {
      if (exact !== undefined || !(error instanceof CorruptCheckpointError || error instanceof MissingCheckpointError)) throw error;
      skipped.push({ step, reason: error.shortMessage });
    }
  }
  return { skipped };
}

/** Drops what the run recorded after `step`: it is about to be computed again (the objects stay in the store). */
function forgetAfter(record: RunRecord<ProgramSpec>, step: number): void {
  record.stepHashes = record.stepHashes.slice(0, step + 1);
  for (const s of Object.keys(record.checkpoints)) if (Number(s) > step) delete record.checkpoints[s];
  delete record.commitment;
}

async function saveCheckpoint(program: JobProgram, store: Store, record: RunRecord<ProgramSpec>, state: TrainState, hash: string): Promise<void> {
  const bytes = encodeCheckpoint(state, { jobId: program.id, spec: program.spec, ...(program.tokenizer ? { tokenizer: program.tokenizer.toJSON() } : {}), stateHash: hash });
  record.checkpoints[String(state.step)] = await store.putObject(bytes);
  await store.writeRun(record);
}

export async function loadCheckpointState(store: CheckpointSource, record: RunRecord<ProgramSpec>, step: number): Promise<TrainState> {
  const hash = record.checkpoints[String(step)];
  if (!hash) throw new MissingCheckpointError(`for step ${step} of run ${record.jobId}`, store.dir);
  return decodeCheckpoint(await store.getObject(hash), `${hash} (step ${step})`).state;
}

/**
 * Re-executes from the nearest checkpoint at or before `step` and returns the state after `step`
 * steps: what a verifier does to check one step hash without replaying the whole run.
 */
export async function replayToStep(program: JobProgram, store: CheckpointSource, record: RunRecord<ProgramSpec>, step: number): Promise<TrainState> {
  const from = Math.max(...Object.keys(record.checkpoints).map(Number).filter((s) => s <= step));
  if (!Number.isFinite(from)) throw new MissingCheckpointError(`at or before step ${step}`, store.dir);
  let state = await loadCheckpointState(store, record, from);
  while (state.step < step) state = program.step(state).state;
  return state;
}
