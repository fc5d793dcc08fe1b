/** Flags and the config file shared by `mycel swarm start` and `mycel swarm local` (SAPO). */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { FlagError, intFlag, type FlagSpec, type Flags } from '../command.js';
import { UsageError } from '../../platform/errors.js';
import { TASK_NAMES } from '../../data/index.js';
import { HOSTILE_KINDS, type HostileKind } from '../../swarm/sapo-adversary.js';
import { SapoConfigError, SWARM_START_TEMPERATURE, parseSapoConfig, type SapoConfig } from '../../swarm/sapo-config.js';
import { SWARM_MODEL, SWARM_TASKS, pretrainPolicy, type PolicyModel } from '../../swarm/sapo-policy.js';
import { PRESETS } from '../../train/index.js';
import { decodeCheckpoint, encodeCheckpoint, stateHash, type TrainProgram, type TrainState } from '../../train/index.js';

/** Model sizes by name: every node of a swarm may pick its own (tiny: the policy preset's). */
export const SAPO_MODELS: Record<string, PolicyModel> = {
  tiny: SWARM_MODEL,
  small: { contextLength: 32, dModel: 96, layers: 3, heads: 4, mlpHidden: 384 },
  /** For tests: one layer, trains in a blink and learns little. */
  micro: { contextLength: 24, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 },
};

export const SAPO_FLAGS: Record<string, FlagSpec> = {
  config: { type: 'string', value: 'FILE', description: 'Swarm config file (JSON: the flags below as keys, tasks as [{name, config}]); flags override it' },
  tasks: { type: 'string', value: 'LIST', description: `Tasks, as name[:knob=value[;knob=value]] separated by commas. Default: the policy preset's mix, ${SWARM_TASKS.map((t) => `${t.name}:${Object.entries(t.config).map(([k, v]) => `${k}=${v}`).join(';')}`).join(',')}` },
  split: { type: 'string', value: 'I/J', description: 'Own questions I and peers\' questions J trained per round. Default 4/4' },
  completions: { type: 'string', value: 'L', description: 'Completions per question (a GRPO group). Default 4' },
  model: { type: 'string', value: 'SIZE', description: `Policy size: ${Object.keys(SAPO_MODELS).join(', ')}. Default tiny` },
  'pretrain-steps': { type: 'string', value: 'N', description: `Steps of the policy preset's supervised job (the task mix) that make the starting policy (0: untrained). Default ${PRESETS.policy.steps}` },
  seed: { type: 'string', value: 'N', description: 'Seed of the starting policy (nodes with the same seed start alike). Default 1' },
  rounds: { type: 'string', value: 'R', description: 'Stop before round R (default: run until Ctrl-C; swarm local: 5)' },
  'round-ms': { type: 'string', value: 'MS', description: 'Longest a round waits for peers. Default 30000' },
  'reexec': { type: 'string', value: 'F', description: 'Fraction of peers\' questions re-executed from their policy (0..1). Default 0.25' },
  'swarm-id': { type: 'string', value: 'ID', description: 'The swarm\'s name (nodes of one swarm must agree). Default mycel-sapo' },
};

const fileSchema = z.strictObject({
  swarmId: z.string().optional(),
  tasks: z.array(z.strictObject({ name: z.string(), config: z.record(z.string(), z.number()).optional() })).optional(),
  split: z.string().optional(),
  completions: z.number().optional(),
  maxTokens: z.number().optional(),
  temperature: z.number().optional(),
  reexec: z.number().optional(),
  lr: z.number().optional(),
  model: z.string().optional(),
  pretrainSteps: z.number().optional(),
  seed: z.number().optional(),
  rounds: z.number().optional(),
  roundMs: z.number().optional(),
  asks: z.array(z.string()).optional(),
});

export type SapoSettings = { config: SapoConfig; model: PolicyModel; modelName: string; pretrainSteps: number; seed: number; rounds: number | undefined; roundMs: number; asks: string[] | undefined };

export class SapoFlagError extends UsageError {
  override name = 'SapoFlagError';
}

/** A config the user wrote that does not hold is a usage error (exit 2), with the config's own message. */
function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SapoConfigError) throw new SapoFlagError(error.shortMessage, { metaMessages: error.metaMessages });
    throw error;
  }
}

function parseTasks(text: string): { name: string; config: Record<string, number> }[] {
  return text.split(',').filter(Boolean).map((item) => {
    const [name, knobs = ''] = item.split(':');
    const config: Record<string, number> = {};
    for (const kv of knobs.split(';').filter(Boolean)) {
      const [k, v] = kv.split('=');
      if (!k || v === undefined || !Number.isInteger(Number(v))) throw new SapoFlagError(`--tasks: "${kv}" in "${item}" is not knob=whole-number.`, { metaMessages: ['Example: --tasks sorting:length=4,reversal:length=5'] });
      config[k] = Number(v);
    }
    return { name: name.trim(), config };
  });
}

function parseSplit(text: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new FlagError('split', 'I/J with whole numbers, e.g. 4/4', text);
  return [Number(m[1]), Number(m[2])];
}

/** Defaults, then the config file, then the flags; every problem named with its fix. */
export async function sapoSettings(flags: Flags, defaults: { rounds?: number } = {}): Promise<SapoSettings> {
  let file: z.output<typeof fileSchema> = {};
  if (typeof flags.config === 'string') {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(resolve(flags.config), 'utf8'));
    } catch (error) {
      throw new SapoFlagError(`Cannot read the swarm config ${flags.config}: ${(error as Error).message.split('\n')[0]}.`, { metaMessages: ['Give a JSON file, e.g. {"tasks":[{"name":"sorting","config":{"length":4}}],"split":"4/4"}.'] });
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) throw new SapoFlagError(`The swarm config ${flags.config} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}.`, { metaMessages: [`Keys: ${Object.keys(fileSchema.shape).join(', ')}.`] });
    file = parsed.data;
  }
  const [own, external] = parseSplit((flags.split as string | undefined) ?? file.split ?? '4/4');
  const tasks = typeof flags.tasks === 'string' ? parseTasks(flags.tasks) : file.tasks ?? SWARM_TASKS;
  for (const t of tasks) if (!(TASK_NAMES as readonly string[]).includes(t.name)) throw new SapoFlagError(`Unknown task "${t.name}".`, { metaMessages: [`Tasks: ${TASK_NAMES.join(', ')}.`] });
  const reexec = flags.reexec === undefined ? file.reexec : Number(flags.reexec);
  if (reexec !== undefined && !(reexec >= 0 && reexec <= 1)) throw new FlagError('reexec', 'a fraction from 0 to 1', String(flags.reexec));
  const config = asUsage(() => parseSapoConfig({
    swarmId: (flags['swarm-id'] as string | undefined) ?? file.swarmId ?? 'mycel-sapo',
    tasks,
    own,
    external,
    completions: flags.completions === undefined ? file.completions ?? 4 : intFlag(flags, 'completions', 4, 2, 16),
    maxTokens: file.maxTokens ?? 8,
    temperature: file.temperature ?? SWARM_START_TEMPERATURE,
    reexecFraction: reexec ?? 0.25,
    lr: file.lr ?? 1e-3,
  }));
  const modelName = (flags.model as string | undefined) ?? file.model ?? 'tiny';
  const model = Object.hasOwn(SAPO_MODELS, modelName) ? SAPO_MODELS[modelName] : undefined;
  if (!model) throw new FlagError('model', `one of ${Object.keys(SAPO_MODELS).join(', ')}`, modelName);
  const asks = file.asks;
  for (const a of asks ?? []) if (!config.tasks.some((t) => t.name === a)) throw new SapoFlagError(`asks: "${a}" is not one of the swarm's tasks (${config.tasks.map((t) => t.name).join(', ')}).`);
  const rounds = flags.rounds === undefined ? file.rounds ?? defaults.rounds : intFlag(flags, 'rounds', 0, 1, 1_000_000);
  return {
    config,
    model,
    modelName,
    pretrainSteps: flags['pretrain-steps'] === undefined ? file.pretrainSteps ?? PRESETS.policy.steps : intFlag(flags, 'pretrain-steps', PRESETS.policy.steps, 0, 100_000),
    seed: flags.seed === undefined ? file.seed ?? 1 : intFlag(flags, 'seed', 1, 0, 2 ** 31),
    rounds,
    roundMs: flags['round-ms'] === undefined ? file.roundMs ?? 30_000 : intFlag(flags, 'round-ms', 30_000, 100, 3_600_000),
    asks,
  };
}

/**
 * A hostile node on the swarm coordinator (with --rpc): it claims a score its policy did not earn ('inflate-score'),
 * and also withholds that policy, serving no blob and publishing nothing when asked ('withhold-policy'); or it asks
 * for every peer's policy on chain, paying the requests' bonds ('request-policies'); or it lists in its commit a peer's
 * group its GRPO step did not train on, for that peer to prove a use of ('fake-use': the step dispute refutes it).
 */
export const CHAIN_HOSTILE_KINDS = ['inflate-score', 'withhold-policy', 'request-policies', 'fake-use'] as const;

/** The rollout attack --hostile names (undefined for none, or for a chain attack: chainHostileOf). */
export function hostileOf(flags: Flags): HostileKind | undefined {
  const h = flags.hostile as string | undefined;
  if (h === undefined || chainHostileOf(flags)) return undefined;
  if (!(HOSTILE_KINDS as readonly string[]).includes(h)) throw new FlagError('hostile', `one of ${[...HOSTILE_KINDS, ...CHAIN_HOSTILE_KINDS].join(', ')}`, h);
  return h as HostileKind;
}

export function chainHostileOf(flags: Flags): (typeof CHAIN_HOSTILE_KINDS)[number] | undefined {
  return (CHAIN_HOSTILE_KINDS as readonly unknown[]).includes(flags.hostile) ? (flags.hostile as (typeof CHAIN_HOSTILE_KINDS)[number]) : undefined;
}

/** Where a node keeps its pre-trained starting policy: named by the spec's id and the step count. */
export function startFile(sapoDir: string, program: TrainProgram, steps: number): string {
  return join(sapoDir, `start-${program.id.slice(0, 16)}-${steps}.safetensors`);
}

/** The starting policy: read from the data dir, or pre-trained (a pure function of the spec) and kept there. */
export async function startingPolicy(sapoDir: string, program: TrainProgram, s: { pretrainSteps: number; config: SapoConfig }, log: (t: string) => void): Promise<TrainState> {
  const file = startFile(sapoDir, program, s.pretrainSteps);
  try {
    return decodeCheckpoint(await readFile(file), file).state;
  } catch {
    // Not there yet (or unreadable): make it again.
  }
  if (s.pretrainSteps > 0) log(`Pre-training the starting policy (${s.pretrainSteps} steps)...`);
  const state = pretrainPolicy(program, s.pretrainSteps);
  await mkdir(sapoDir, { recursive: true, mode: 0o700 });
  await writeFile(file, encodeCheckpoint(state, { jobId: program.id, spec: program.spec, tokenizer: program.tokenizer.toJSON(), stateHash: stateHash(state) }));
  return state;
}
