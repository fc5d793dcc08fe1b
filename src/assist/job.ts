/**
 * An assistant-training job for the market: its spec names a person's dataset blob (by CID, and the address that
 * signed it), the model to start from (a new one from the seed, or a base model blob by CID to fine-tune), optionally
 * a replay dataset blob (episodes of the base model's data, learned beside the person's) and the training settings.
 * Its program is the app's own fine-tuning (fine-tune.ts fineTuneSteps, over assistSteps), so a job's model is the
 * one the person's machine trains from the same blobs and settings, and the runner, the step hashes, the run
 * commitment, the verifiers and the dispute game work on it as on a GPT job.
 * The spec's canonical JSON hashes to its job id, as a GPT spec's does; the two kinds are told apart by `kind`,
 * which a GPT spec does not have (so the ids of GPT jobs are what they were). Node only (the dataset's CID).
 */
import { z } from 'zod';
import { createSha256, toHex } from '../platform/sha256.js';
import type { JobProgram } from '../train/program.js';
import { canonicalJson } from '../train/spec.js';
import { SpecError } from '../train/errors.js';
import type { TrainState } from '../train/state.js';
import { defineApp, type AppSpec } from './app.js';
import { blobCid, DatasetError, unpackDataset } from './dataset.js';
import { featureCount } from './features.js';
import { decodeModel, initModel, type AssistModel } from './model.js';
import type { Episode } from './episode.js';
import { fineTuneSteps, type FineTuneSettings } from './fine-tune.js';
import { examplesOf } from './train.js';

const whole = (min: number, max = 2 ** 31 - 1) => z.number().int().min(min).max(max);
const cid = z.string().regex(/^b[a-z2-7]{20,200}$/, 'a blob CID (base32, as `mycel blob put` prints it)');

export const assistJobSpecSchema = z.strictObject({
  version: z.literal(1),
  kind: z.literal('assist'),
  app: z.strictObject({ grid: z.tuple([whole(1, 64), whole(1, 64), whole(1, 64)]), values: whole(2, 255) }),
  model: z.strictObject({ goalHidden: whole(1, 4096), humanHidden: whole(1, 4096) }),
  /** The person's dataset blob, and the address whose signature it must carry (dataset.ts). */
  data: z.strictObject({ kind: z.literal('dataset'), cid, signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'the signer\'s 0x address') }),
  /** Fine-tune this model blob (encodeModel's format), with a fresh optimizer; absent: a new model from `seed`. */
  base: z.strictObject({ cid }).optional(),
  /** Episodes learned beside the person's (fine-tune.ts): a dataset blob, signed by whoever packed it. */
  replay: z.strictObject({ kind: z.literal('dataset'), cid }).optional(),
  /** eps: Adam's epsilon (absent: 1e-8, as specs before it had; their ids are unchanged). */
  optimizer: z.strictObject({ kind: z.literal('adam'), lr: z.number().positive().max(10), eps: z.number().positive().max(1).optional() }),
  steps: whole(1, 1_000_000),
  batchSize: whole(1, 4096),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  checkpointEvery: whole(1),
});

export type AssistJobSpec = z.output<typeof assistJobSpecSchema>;
export type AssistJobSpecInput = z.input<typeof assistJobSpecSchema>;

export const isAssistJobSpec = (spec: unknown): boolean => (spec as { kind?: unknown } | null)?.kind === 'assist';

/** Validates an assistant job's spec; the error lists every problem by field path. */
export function parseAssistJobSpec(input: unknown): AssistJobSpec {
  const result = assistJobSpecSchema.safeParse(input);
  if (result.success) return result.data;
  throw new SpecError(result.error.issues.map((issue) => `${issue.path.join('.') || '(spec)'}: ${issue.message}`));
}

/** The job id: SHA-256 of the canonical spec (as a GPT job's, train/spec.ts jobId). */
export const assistJobId = (spec: AssistJobSpec): string => toHex(createSha256().update(new TextEncoder().encode(canonicalJson(spec))).digest());

/** Adam's epsilon when a spec names none. */
export const DEFAULT_EPS = 1e-8;

/** The blobs the program is built from, by CID: the dataset, the base model when fine-tuning, the replay if any. */
export const assistJobBlobs = (spec: AssistJobSpec): string[] => [spec.data.cid, ...(spec.base ? [spec.base.cid] : []), ...(spec.replay ? [spec.replay.cid] : [])];

/** What a blob of the spec is, for messages. */
export const assistBlobRole = (spec: AssistJobSpec, cid: string): string => (cid === spec.data.cid ? 'dataset' : cid === spec.base?.cid ? 'base model' : 'replay dataset');

/** The fine-tuning settings a spec names (fine-tune.ts): a run of them here commits what the job commits. */
export const fineTuneSettingsOf = (spec: AssistJobSpec): FineTuneSettings => ({ seed: spec.seed, steps: spec.steps, batch: spec.batchSize, lr: spec.optimizer.lr, eps: spec.optimizer.eps ?? DEFAULT_EPS });

/**
 * The spec of a job that fine-tunes the model blob `base` on a person's dataset beside a replay dataset, with the
 * settings the app's own "Learn" uses: one definition of the run for both.
 */
export function fineTuneJobSpec(o: { model: AssistModel; dataset: { cid: string; signer: string }; base: string; replay?: string; settings: FineTuneSettings; checkpointEvery?: number }): AssistJobSpec {
  const { model, settings: s } = o;
  return parseAssistJobSpec({
    version: 1, kind: 'assist', app: { grid: model.app.grid, values: model.app.values }, model: model.config,
    data: { kind: 'dataset', cid: o.dataset.cid, signer: o.dataset.signer }, base: { cid: o.base }, ...(o.replay ? { replay: { kind: 'dataset', cid: o.replay } } : {}),
    optimizer: { kind: 'adam', lr: s.lr, eps: s.eps }, steps: s.steps, batchSize: s.batch, seed: s.seed,
    checkpointEvery: o.checkpointEvery ?? Math.max(1, Math.ceil(s.steps / 4)),
  });
}

export type AssistJobProgram = JobProgram<AssistJobSpec> & {
  app: AppSpec;
  /** The assistant a state of this job's run holds (its final state: the trained model). */
  modelOf(state: TrainState): AssistModel;
};

/**
 * The job's program, from its spec and the blobs it names (`blobs.get(cid)`: bytes received as that CID). The
 * dataset must have its CID, be signed by the spec's signer and hold episodes of the spec's app with an action of the
 * person; a base model must have its CID and the spec's app and widths. Anything else is a DatasetError or SpecError
 * naming what is wrong, before any step runs.
 */
export function buildAssistJob(spec: AssistJobSpec, blobs: ReadonlyMap<string, Uint8Array>): AssistJobProgram {
  const app = defineApp({ grid: spec.app.grid, values: spec.app.values });
  const bytes = blobs.get(spec.data.cid);
  if (!bytes) throw new DatasetError(`dataset ${spec.data.cid} was not handed in (fetch it by its CID first)`);
  const { signer, episodes } = unpackDataset(spec.data.cid, bytes);
  if (signer.toLowerCase() !== spec.data.signer.toLowerCase()) throw new DatasetError(`it is signed by ${signer}, and the job names ${spec.data.signer}`);
  const mine = episodesOfApp(episodes, app);
  if (examplesOf(mine).length === 0) throw new DatasetError('its episodes hold no action of the person to learn from');
  const replay = spec.replay ? replayOf(spec.replay.cid, app, blobs) : [];
  const config = { goalHidden: spec.model.goalHidden, humanHidden: spec.model.humanHidden };
  const base = spec.base ? baseModel(spec, app, blobs) : initModel(app, spec.seed, config);
  const steps = fineTuneSteps(app, base, mine, replay, fineTuneSettingsOf(spec));
  return { ...steps, spec, id: assistJobId(spec), app, modelOf: (state) => ({ app, config, params: state.params }) };
}

function episodesOfApp(episodes: { id: string; episode: Episode }[], app: AppSpec): Episode[] {
  const other = episodes.find(({ episode: e }) => e.app.grid.join() !== app.grid.join() || e.app.values !== app.values);
  if (other) throw new DatasetError(`episode ${other.id} is of a ${other.episode.app.grid.join('x')} grid with ${other.episode.app.values} values, and the job's app is ${app.grid.join('x')} with ${app.values}`);
  return episodes.map((e) => e.episode);
}

function replayOf(cid: string, app: AppSpec, blobs: ReadonlyMap<string, Uint8Array>): Episode[] {
  const bytes = blobs.get(cid);
  if (!bytes) throw new DatasetError(`the replay dataset ${cid} was not handed in (fetch it by its CID first)`);
  return episodesOfApp(unpackDataset(cid, bytes).episodes, app);
}

function baseModel(spec: AssistJobSpec, app: AppSpec, blobs: ReadonlyMap<string, Uint8Array>): AssistModel {
  const { cid: want } = spec.base!;
  const bytes = blobs.get(want);
  if (!bytes) throw new SpecError([`base.cid: the base model ${want} was not handed in (fetch it by its CID first)`]);
  const actual = blobCid(bytes);
  if (actual !== want) throw new SpecError([`base.cid: the base model's bytes have the CID ${actual}, not ${want}`]);
  const model = decodeModel(bytes);
  if (model.app.grid.join() !== app.grid.join() || model.app.values !== app.values) throw new SpecError([`base.cid: the base model is for a ${model.app.grid.join('x')} grid with ${model.app.values} values, not the job's app`]);
  if (model.config.goalHidden !== spec.model.goalHidden || model.config.humanHidden !== spec.model.humanHidden) {
    throw new SpecError([`model: the base model's widths are goalHidden ${model.config.goalHidden}, humanHidden ${model.config.humanHidden}; the spec must give the same`]);
  }
  return { ...model, app };
}

/**
 * Bytes a run of the job needs at its peak, in float32 words counted as train/memory.ts counts a GPT's: parameters,
 * gradients, Adam's two moments and the updated parameters; the step's features and the activations of both heads
 * (kept for the backward pass) with their gradients.
 */
export function estimateAssistMemory(spec: AssistJobSpec): { bytes: number; breakdown: string } {
  const app = { grid: spec.app.grid, values: spec.app.values } as const;
  const F = featureCount(app);
  const { goalHidden: G, humanHidden: H } = spec.model;
  const V = spec.app.values;
  const params = F * G + G + G * V + V + F * H + H + H + 1;
  const rows = spec.batchSize * spec.app.grid[0] * spec.app.grid[1] * spec.app.grid[2];
  const activations = rows * (F + 2 * G + 3 * V + 2 * H + 2);
  const words = 5 * params + 2 * activations;
  const mib = (w: number) => `${((4 * w) / 2 ** 20).toFixed(1)} MiB`;
  return { bytes: 4 * words, breakdown: `parameters ${params.toLocaleString('en')} (${mib(params)}); state, gradients and Adam moments ${mib(5 * params)}; features and activations with their gradients ${mib(2 * activations)}` };
}
