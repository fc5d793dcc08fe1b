/**
 * Runs a job to its end, checkpointing every `checkpointEvery` steps (and at steps 0 and T), and
 * resumes a run that stopped: it continues from the last checkpoint and ends at the same commitment.
 */
import { encodeCheckpoint, decodeCheckpoint } from './checkpoint.js';
import { runCommitment } from './commitment.js';
import { MissingCheckpointError } from './errors.js';
import type { StepResult, TrainProgram } from './program.js';
import { createStateHasher } from './state-hasher.js';
import { stateHash, type TrainState } from './state.js';
import type { RunRecord, Store } from './store.js';

export type StepReport = StepResult & { hash: string; seconds: number; tokens: number; checkpointed: boolean; hashSeconds: number; checkpointSeconds: number };

export type RunOptions = {
  store: Store;
  /** Stop after this step (exclusive), as a crash would; the run resumes later. */
  stopAt?: number;
  onStep?: (report: StepReport) => void;
  signal?: AbortSignal;
};

export type RunResult = { record: RunRecord; state: TrainState; resumedFrom: number | undefined };

const isCheckpointStep = (program: TrainProgram, step: number) =>
  step === 0 || step === program.spec.steps || step % program.spec.checkpointEvery === 0;

export async function runJob(program: TrainProgram, { store, stopAt, onStep, signal }: RunOptions): Promise<RunResult> {
  const { spec, id } = program;
  let record = await store.readRun(id);
  let state: TrainState;
  let resumedFrom: number | undefined;
  if (record && Object.keys(record.checkpoints).length > 0) {
    const last = Math.max(...Object.keys(record.checkpoints).map(Number));
    state = await loadCheckpointState(store, record, last);
    record.stepHashes = record.stepHashes.slice(0, last + 1);
    resumedFrom = last;
  } else {
    state = program.init();
    record = { jobId: id, spec, stepHashes: [stateHash(state)], checkpoints: {} };
    await saveCheckpoint(program, store, record, state, record.stepHashes[0]);
  }
  const end = Math.min(spec.steps, stopAt ?? spec.steps);
  const [B, T] = [spec.batchSize, spec.model.contextLength];
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
      tokens: B * T,
      checkpointed,
      hashSeconds,
      checkpointSeconds: checkpointed ? (performance.now() - checkpointStart) / 1000 : 0,
    });
  };
  let pending: Pending | undefined;
  try {
    while (state.step < end && !signal?.aborted) {
      const start = performance.now();
      const result = program.step(state);
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
  }
  return { record, state, resumedFrom };
}

async function saveCheckpoint(program: TrainProgram, store: Store, record: RunRecord, state: TrainState, hash: string): Promise<void> {
  const bytes = encodeCheckpoint(state, { jobId: program.id, spec: program.spec, tokenizer: program.tokenizer.toJSON(), stateHash: hash });
  record.checkpoints[String(state.step)] = await store.putObject(bytes);
  await store.writeRun(record);
}

export async function loadCheckpointState(store: Store, record: RunRecord, step: number): Promise<TrainState> {
  const hash = record.checkpoints[String(step)];
  if (!hash) throw new MissingCheckpointError(`for step ${step} of run ${record.jobId}`, store.dir);
  return decodeCheckpoint(await store.getObject(hash), `${hash} (step ${step})`).state;
}

/**
 * Re-executes from the nearest checkpoint at or before `step` and returns the state after `step`
 * steps: what a verifier does to check one step hash without replaying the whole run.
 */
export async function replayToStep(program: TrainProgram, store: Store, record: RunRecord, step: number): Promise<TrainState> {
  const from = Math.max(...Object.keys(record.checkpoints).map(Number).filter((s) => s <= step));
  if (!Number.isFinite(from)) throw new MissingCheckpointError(`at or before step ${step}`, store.dir);
  let state = await loadCheckpointState(store, record, from);
  while (state.step < step) state = program.step(state).state;
  return state;
}
