/**
 * The shared rules of a SAPO swarm: every node of one swarm runs with the same config (tasks, the I/J
 * split, completions per question, sampling), since receivers regenerate questions and recompute
 * rewards from it. What may differ per node (model size, the tasks it asks, non-IID) lives in
 * SapoNodeOptions.
 */
import { z } from 'zod';
import { TASK_NAMES, getTask, type TaskDefinition } from '../data/index.js';
import { MycelError } from '../platform/errors.js';

const whole = (min: number, max: number) => z.number().int().min(min).max(max);

export const sapoConfigSchema = z.strictObject({
  /** Names the swarm; part of every round's beacon, so two swarms never share task seeds. */
  swarmId: z.string().min(1).max(64).default('mycel-sapo'),
  tasks: z
    .array(z.strictObject({ name: z.enum(TASK_NAMES as [string, ...string[]]), config: z.record(z.string(), z.number().int()).default({}) }))
    .min(1)
    .max(16),
  /** I: the node's own questions per round (it publishes all of them). */
  own: whole(0, 32).default(4),
  /** J: peers' questions a node trains on per round (sampled among the accepted ones). */
  external: whole(0, 32).default(4),
  /** L: completions per question (a GRPO group). */
  completions: whole(2, 16).default(4),
  maxTokens: whole(1, 64).default(8),
  /** Sampling temperature (> 0: GRPO needs varied completions). `mycel swarm start` samples at SWARM_START_TEMPERATURE unless told. */
  temperature: z.number().positive().max(4).default(1),
  /** The fraction of each peer's questions whose generations are re-executed from the peer's policy. */
  reexecFraction: z.number().min(0).max(1).default(0.25),
  /** The GRPO step's learning rate (the policy's own optimizer, at a constant rate). */
  lr: z.number().positive().max(1).default(1e-3),
  /** Clipped ratio bounds: 1 - epsLow .. 1 + epsHigh (DAPO's clip-higher). */
  epsLow: z.number().min(0).max(1).default(0.2),
  epsHigh: z.number().min(0).max(10).default(0.28),
});

/**
 * The temperature `mycel swarm start` samples at unless told. A coordinator referees rollouts at the temperature it
 * was deployed for, so the swarm configs deployed for `mycel swarm start` nodes (mycel chain deploy --swarm, mycel
 * devnet --swarm-nodes) use this one too.
 */
export const SWARM_START_TEMPERATURE = 0.5;

export type SapoConfig = z.output<typeof sapoConfigSchema>;
export type SapoConfigInput = z.input<typeof sapoConfigSchema>;

export class SapoConfigError extends MycelError {
  override name = 'SapoConfigError';
  constructor(problems: string[]) {
    super(`The swarm config is invalid: ${problems.join('; ')}.`, {
      metaMessages: ['Fix the config file or flags; `mycel swarm start --help` lists each setting and its range.'],
    });
  }
}

export function parseSapoConfig(input: unknown): SapoConfig {
  const result = sapoConfigSchema.safeParse(input);
  if (!result.success) throw new SapoConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`));
  const config = result.data;
  const problems: string[] = [];
  for (const t of config.tasks) {
    try {
      (getTask(t.name) as TaskDefinition).resolve(t.config);
    } catch (error) {
      problems.push((error as Error).message.split('\n')[0]);
    }
  }
  if (config.own + config.external === 0) problems.push('own + external: a node must train on at least one question per round');
  if (problems.length) throw new SapoConfigError(problems);
  return config;
}

/** A swarm task by name, with its config from the swarm's rules; undefined when the swarm does not run it. */
export function swarmTask(config: SapoConfig, name: string): { task: TaskDefinition; config: Record<string, number> } | undefined {
  const entry = config.tasks.find((t) => t.name === name);
  return entry && { task: getTask(entry.name) as TaskDefinition, config: entry.config };
}
