/**
 * Fine-tuning an assistant on one person: the one program the app's "Learn from my episodes", the bench's learned
 * model and an assist job on the market (job.ts) all run. A model trained on the network for a person is then the
 * model the person's own machine would train from the same episodes, replay and settings: the same step hashes and
 * run commitment, bit for bit.
 *
 * The examples are the person's episodes, repeated to about as many as the replayed ones, then the replay (episodes
 * of the data the base model learned from, so that a dozen houses of one person shift the model towards them without
 * it forgetting the rest). Both lists are taken in the order of their episode ids, duplicates dropped: a dataset blob
 * holds its episodes in that order (dataset.ts), so the order in which a person saved them cannot change the bits.
 */
import type { AppSpec } from './app.js';
import { encodeEpisode, type Episode } from './episode.js';
import type { AssistModel } from './model.js';
import { assistSteps, examplesOf, runAssistSteps, type AssistSteps, type TrainResult } from './train.js';

/** What a fine-tuning run is, beside the model it starts from and the episodes: a job's spec carries the same. */
export type FineTuneSettings = {
  seed: number;
  steps: number;
  /** States per step. */
  batch: number;
  lr: number;
  /** Adam's epsilon (see ExperimentOptions.fineTuneEps for why fine-tuning takes a large one). */
  eps: number;
};

const byId = (episodes: readonly Episode[]): Episode[] => {
  const ids = new Map(episodes.map((e) => [encodeEpisode(e).id, e] as const));
  return [...ids.keys()].sort().map((id) => ids.get(id)!);
};

/** The episodes a fine-tuning run learns from: the person's (by id), repeated to about as many as the replay's, then the replay (by id). */
export function fineTuneSet(mine: readonly Episode[], replay: readonly Episode[]): Episode[] {
  const person = byId(mine);
  const replayed = byId(replay);
  if (person.length === 0) return replayed;
  const copies = Math.max(1, Math.round(replayed.length / person.length));
  return [...Array.from({ length: copies }, () => person).flat(), ...replayed];
}

/** The run's steps (what a market job runs, its verifiers re-execute and its dispute game bisects). */
export function fineTuneSteps(app: AppSpec, base: AssistModel, mine: readonly Episode[], replay: readonly Episode[], s: FineTuneSettings): AssistSteps {
  return assistSteps(app, examplesOf(fineTuneSet(mine, replay)), { seed: s.seed, steps: s.steps, batch: s.batch, lr: s.lr, eps: s.eps, base });
}

/** Runs it here: the model and the step hashes a job of the same episodes, replay, base and settings commits. */
export function fineTune(app: AppSpec, base: AssistModel, mine: readonly Episode[], replay: readonly Episode[], s: FineTuneSettings, onStep?: (step: number, loss: number) => void): TrainResult {
  return runAssistSteps(app, base.config, fineTuneSteps(app, base, mine, replay, s), s.steps, onStep);
}
