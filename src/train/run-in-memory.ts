/**
 * A whole run in memory, for a runtime with no file system (a browser tab's worker) and for benchmarks: the same
 * program, steps and state hashes as runJob, hence the same run commitment, without the hashing thread. With a
 * MemoryStore it keeps runJob's checkpoints (steps 0, T and every checkpointEvery) there, so that a party in a
 * dispute can re-execute any step from the one before it (replayToStep) as a Node party does from its file store.
 */
import { sha256, toHex } from '../platform/sha256.js';
import { encodeCheckpoint } from './checkpoint.js';
import { runCommitment } from './commitment.js';
import { MissingCheckpointError } from './errors.js';
import type { JobProgram } from './program.js';
import { pooledSteps } from './pooled-step.js';
import type { ProgramSpec } from './spec.js';
import { stateHash, type TrainState } from './state.js';
import type { CheckpointSource, RunRecord } from './store.js';

export type InMemoryStep = { step: number; steps: number; loss: number; seconds: number; tokens: number };
export type InMemoryRun = { stepHashes: string[]; commitment: string; seconds: number; tokens: number; tokensPerS: number };

/** Checkpoint objects by their SHA-256, as the file store keeps them; a run's checkpoints are a few states of a small job. */
export class MemoryStore implements CheckpointSource {
  readonly dir = '(memory)';
  private readonly objects = new Map<string, Uint8Array>();

  putObject(bytes: Uint8Array): string {
    const hash = toHex(sha256(bytes));
    this.objects.set(hash, bytes);
    return hash;
  }

  async getObject(hash: string): Promise<Uint8Array> {
    const bytes = this.objects.get(hash);
    if (!bytes) throw new MissingCheckpointError(hash, this.dir);
    return bytes;
  }
}

/**
 * Trains every step of `program`; `seconds` counts the steps and their state hashes (what a solver must do). With
 * `store`, also returns the run record (its checkpoints in that store), as runJob leaves it in a file store.
 */
export function runInMemory(program: JobProgram, onStep?: (s: InMemoryStep) => void): InMemoryRun;
export function runInMemory<S extends ProgramSpec>(program: JobProgram<S>, onStep: ((s: InMemoryStep) => void) | undefined, store: MemoryStore): InMemoryRun & { record: RunRecord<S> };
export function runInMemory<S extends ProgramSpec>(program: JobProgram<S>, onStep?: (s: InMemoryStep) => void, store?: MemoryStore): InMemoryRun & { record?: RunRecord<S> } {
  const { spec } = program;
  let state = program.init();
  const stepHashes = [stateHash(state)];
  const checkpoints: Record<string, string> = {};
  const keep = (s: TrainState, hash: string) => {
    if (store && (s.step === 0 || s.step === spec.steps || s.step % spec.checkpointEvery === 0)) {
      checkpoints[String(s.step)] = store.putObject(encodeCheckpoint(s, { jobId: program.id, spec, ...(program.tokenizer ? { tokenizer: program.tokenizer.toJSON() } : {}), stateHash: hash }));
    }
  };
  keep(state, stepHashes[0]);
  const { tokensPerStep } = program;
  let seconds = 0;
  const step = pooledSteps(program);
  for (let t = 1; t <= spec.steps; t++) {
    const started = performance.now();
    const r = step(state);
    state = r.state;
    stepHashes.push(stateHash(state));
    const took = (performance.now() - started) / 1000;
    seconds += took;
    keep(state, stepHashes[t]);
    onStep?.({ step: t, steps: spec.steps, loss: r.loss, seconds: took, tokens: tokensPerStep });
  }
  const tokens = tokensPerStep * spec.steps;
  const commitment = runCommitment(stepHashes);
  const run = { stepHashes, commitment, seconds, tokens, tokensPerS: tokens / seconds };
  return store ? { ...run, record: { jobId: program.id, spec, stepHashes, checkpoints, commitment } } : run;
}
