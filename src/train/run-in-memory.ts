/**
 * A whole run in memory, for a runtime with no file system (a browser tab's worker) and for benchmarks: the same
 * program, steps and state hashes as runJob, hence the same run commitment, without checkpoints or the hashing thread.
 */
import { runCommitment } from './commitment.js';
import type { TrainProgram } from './program.js';
import { stateHash } from './state.js';

export type InMemoryStep = { step: number; steps: number; loss: number; seconds: number; tokens: number };
export type InMemoryRun = { stepHashes: string[]; commitment: string; seconds: number; tokens: number; tokensPerS: number };

/** Trains every step of `program`; `seconds` counts the steps and their state hashes (what a solver must do). */
export function runInMemory(program: TrainProgram, onStep?: (s: InMemoryStep) => void): InMemoryRun {
  const { spec } = program;
  let state = program.init();
  const stepHashes = [stateHash(state)];
  const tokensPerStep = spec.batchSize * spec.model.contextLength;
  let seconds = 0;
  for (let t = 1; t <= spec.steps; t++) {
    const started = performance.now();
    const r = program.step(state);
    state = r.state;
    stepHashes.push(stateHash(state));
    const took = (performance.now() - started) / 1000;
    seconds += took;
    onStep?.({ step: t, steps: spec.steps, loss: r.loss, seconds: took, tokens: tokensPerStep });
  }
  const tokens = tokensPerStep * spec.steps;
  return { stepHashes, commitment: runCommitment(stepHashes), seconds, tokens, tokensPerS: tokens / seconds };
}
