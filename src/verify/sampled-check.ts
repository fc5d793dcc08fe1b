/**
 * A sampled check of a committed run (the verifier role's `sample` policy; sampling.ts says what it buys): for each
 * sampled step t, the state at the committer's nearest checkpoint before t (c <= t-1, checked against its committed
 * h_c) is replayed up to t, and every step hash on the way is compared with the committed one. A differing h_s,
 * reached from an agreeing h_{s-1}, is a step the committer did not compute honestly: the verifier then re-executes
 * in full and challenges (the dispute game needs its own whole run). What it cannot see: a cheat at a step it did not
 * replay. Each sampled step costs t - c steps, so the checkpoints the committer publishes bound the cost.
 */
// Not train/index.js: it pulls in the file store (node:fs), and the browser node's worker bundles verify/.
import type { JobProgram } from '../train/program.js';
import { stateHash, type TrainState } from '../train/state.js';

export type SampledCheck =
  | { agrees: true; executed: number; replayed: number[] }
  | { agrees: false; executed: number; replayed: number[]; step: number; committed: string; computed: string };

/**
 * `stepHashes`: the committed h_0..h_T (checked against the run root by the caller); `checkpoints`: the steps whose
 * committed state `loadState` can give (step 0 is the spec's init and always available); `loadState(c)` must return
 * a state whose hash is h_c or throw.
 */
export async function checkSampledSteps(
  program: JobProgram,
  stepHashes: readonly string[],
  sampled: readonly number[],
  checkpoints: readonly number[],
  loadState: (step: number) => Promise<TrainState>,
  signal?: AbortSignal,
): Promise<SampledCheck> {
  const starts = [...new Set([0, ...checkpoints])].sort((a, b) => a - b);
  const replayed = new Set<number>();
  let executed = 0;
  let state: TrainState | undefined;
  for (const t of [...sampled].sort((a, b) => a - b)) {
    const from = starts.filter((c) => c <= t - 1).at(-1)!;
    if (!state || state.step > t - 1 || state.step < from) {
      state = from === 0 ? program.init() : await loadState(from);
      const computed = stateHash(state);
      if (computed !== stepHashes[from]) return { agrees: false, executed, replayed: [...replayed], step: from, committed: stepHashes[from], computed };
    }
    while (state.step < t) {
      signal?.throwIfAborted();
      state = program.step(state).state;
      executed++;
      replayed.add(state.step);
      const computed = stateHash(state);
      if (computed !== stepHashes[state.step]) return { agrees: false, executed, replayed: [...replayed], step: state.step, committed: stepHashes[state.step], computed };
    }
  }
  return { agrees: true, executed, replayed: [...replayed].sort((a, b) => a - b) };
}
