/**
 * The job spec: everything that determines a training run, versioned and validated. Its canonical
 * hash is the job id, so two nodes that hold the same id run the same program, bit for bit.
 */
import { z } from 'zod';
import { TASK_NAMES } from '../data/index.js';
import { createSha256, toHex } from '../platform/sha256.js';
import { SpecError } from './errors.js';

export const SPEC_VERSION = 1;

const whole = (min: number, max = 2 ** 31 - 1) => z.number().int().min(min).max(max);
const rate = z.number().positive().max(10);

const gptModel = z.strictObject({
  kind: z.literal('gpt'),
  contextLength: whole(1, 4096),
  dModel: whole(1, 8192),
  layers: whole(1, 256),
  heads: whole(1, 256),
  mlpHidden: whole(1, 65536),
}).refine((m) => m.dModel % m.heads === 0, {
  // Named here, by its field, rather than found later as a model-building error without a path.
  path: ['heads'],
  error: (issue) => {
    const m = issue.input as { dModel: number; heads: number };
    const fits = Array.from({ length: Math.min(m.dModel, 16) }, (_, i) => i + 1).filter((h) => m.dModel % h === 0);
    return `must divide dModel (${m.dModel}) so every head gets the same width; ${m.heads} does not (try ${fits.join(', ')})`;
  },
});

const schedule = z.strictObject({
  kind: z.literal('warmup-cosine'),
  warmup: whole(0),
  /** The rate at the end, as a fraction of the peak. */
  floor: z.number().min(0).max(1),
});

const adamwOptimizer = z.strictObject({
  kind: z.literal('adamw'),
  lr: rate,
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.95),
  eps: z.number().positive().default(1e-8),
  weightDecay: z.number().min(0).default(0.1),
  clip: z.number().positive().optional(),
  schedule: schedule.optional(),
});

const sgdOptimizer = z.strictObject({
  kind: z.literal('sgd'),
  lr: rate,
  momentum: z.number().min(0).lt(1).default(0.9),
  weightDecay: z.number().min(0).default(0),
  clip: z.number().positive().optional(),
  schedule: schedule.optional(),
});

const taskData = z.strictObject({
  kind: z.literal('task'),
  task: z.enum(TASK_NAMES as [string, ...string[]]),
  config: z.record(z.string(), z.number().int()).default({}),
});

const textData = z.strictObject({
  kind: z.literal('text'),
  /** Where the text is on this machine; not part of the job id (another node keeps it elsewhere). */
  path: z.string(),
  /** SHA-256 of the file's bytes: the text is part of the program, so the spec pins it. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 of the file (mycel train fills it in)'),
  tokenizer: z.union([z.strictObject({ kind: z.literal('char') }), z.strictObject({ kind: z.literal('bpe'), vocabSize: whole(259, 65536) })]),
});

const stateHashHex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex state hash (64 digits)');

/**
 * A job that continues a longer run from a given state instead of the seeded initial parameters: a
 * DiLoCo worker's H inner steps of one round. Its steps are steps `step` + 1 .. `step` + steps of a run
 * of `runSteps` steps: the learning-rate schedule and the data positions are that run's.
 */
const initFrom = z.strictObject({
  /** The hash of the job's state 0 (h_0): the caller hands the state in, and it must hash to this. */
  state: stateHashHex,
  step: whole(0),
  runSteps: whole(1, 100_000_000),
});

/** A slice of the data: step s trains on the data stream's batch s * slots + index (a worker's shard). */
const shard = z.strictObject({ slots: whole(1, 1 << 20), index: whole(0, 1 << 20) }).refine((s) => s.index < s.slots, {
  path: ['index'],
  error: (issue) => `must be below slots (${(issue.input as { slots: number }).slots}): the slots are numbered from 0`,
});

/**
 * An outer merge of low-communication data parallelism (DiLoCo's Nesterov step, NoLoCo's pair update) as
 * a one-step job: its initial state (`init`) holds the outer state and the round's contributions, its
 * step is the merge (train/merge-program.ts).
 */
const outerMerge = z.strictObject({
  mode: z.enum(['diloco', 'noloco']),
  lr: rate,
  momentum: z.number().min(0).lt(1),
});

// init, shard and merge are optional and absent from every ordinary job's spec, so its canonical JSON (its
// job id) is what it was before they existed.
export const jobSpecSchema = z.strictObject({
  version: z.literal(SPEC_VERSION),
  model: gptModel,
  optimizer: z.discriminatedUnion('kind', [adamwOptimizer, sgdOptimizer]),
  data: z.discriminatedUnion('kind', [taskData, textData]),
  steps: whole(1, 100_000_000),
  batchSize: whole(1, 65536),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  checkpointEvery: whole(1),
  init: initFrom.optional(),
  shard: shard.optional(),
  merge: outerMerge.optional(),
}).superRefine((spec, ctx) => {
  if (spec.init && spec.init.step + spec.steps > spec.init.runSteps) {
    ctx.addIssue({ code: 'custom', path: ['steps'], message: `init.step (${spec.init.step}) + steps (${spec.steps}) runs past init.runSteps (${spec.init.runSteps})` });
  }
  if (spec.merge && !spec.init) ctx.addIssue({ code: 'custom', path: ['merge'], message: 'a merge needs init: the state holding the outer state and the contributions' });
  if (spec.merge && spec.steps !== 1) ctx.addIssue({ code: 'custom', path: ['steps'], message: `a merge is one step, got ${spec.steps}` });
});

export type JobSpec = z.output<typeof jobSpecSchema>;

/**
 * What the runner and the verifiers need of any job kind's spec (a GPT job's above, an assistant's in assist/job.ts):
 * its length and checkpoint spacing. The whole spec is recorded with every checkpoint and run record.
 */
export type ProgramSpec = { steps: number; checkpointEvery: number };
export type JobSpecInput = z.input<typeof jobSpecSchema>;

/** Validates a spec; the error lists every problem by field path, with what was expected. */
export function parseJobSpec(input: unknown): JobSpec {
  const result = jobSpecSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(spec)'}: ${issue.message}`);
  throw new SpecError(problems);
}

/** JSON with object keys sorted at every level and no whitespace: one text per spec. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The job id: SHA-256 of the canonical spec, without machine-local fields (a text file's path). */
export function jobId(spec: JobSpec): string {
  const portable = spec.data.kind === 'text' ? { ...spec, data: { ...spec.data, path: undefined } } : spec;
  return toHex(createSha256().update(new TextEncoder().encode(canonicalJson(portable))).digest());
}
