/**
 * The starting policy of a swarm node: the `policy` preset (train/presets.ts), a GPT of the runtime
 * pre-trained with the supervised task-mix program to a modest accuracy, since RL needs a policy that
 * is sometimes right. A swarm may change its size, seed, step count or learning rate; its data is the
 * mix restricted to the swarm's tasks that the mix has. And its held-out accuracy per task, greedy, on
 * prompts no round asks.
 */
import { MIX_TASKS, getTask, type TaskDefinition } from '../data/index.js';
import { PRESETS, buildProgram, generateBatch, parseJobSpec, type JobSpec, type TrainProgram, type TrainState } from '../train/index.js';
import type { SapoConfig } from './sapo-config.js';

export type PolicyModel = { contextLength: number; dModel: number; layers: number; heads: number; mlpHidden: number };

/** The preset's model (~110k parameters with the task vocabulary): what a swarm runs unless told otherwise. */
export const SWARM_MODEL: PolicyModel = (({ kind: _kind, ...m }) => m)(PRESETS.policy.model);

/** The swarm's default tasks: the mix's, each at the size the preset pre-trains on. */
export const SWARM_TASKS: { name: string; config: Record<string, number> }[] = MIX_TASKS.map(({ task, config }) => ({ name: task.name, config: { ...config } }));

/** Held-out prompts are example i of this seed's Philox stream (a round's questions come from SHA-256 words, rollout-seeds.ts). */
export const HELDOUT_SEED = 2 ** 50 + 12;

/** The mix's `tasks` knob for a swarm: bit i for each of the mix's tasks the swarm runs (all of them if none). */
export function mixTasksOf(config: SapoConfig): number {
  const bits = MIX_TASKS.reduce((b, { task }, i) => (config.tasks.some((t) => t.name === task.name) ? b | (1 << i) : b), 0);
  return bits || 2 ** MIX_TASKS.length - 1;
}

/** The preset `policy` with a swarm's overrides: the job that pre-trains its starting policy. */
export function policySpec(config: SapoConfig, o: { model?: PolicyModel; seed?: number; steps?: number; lr?: number; batchSize?: number } = {}): JobSpec {
  const preset = PRESETS.policy;
  const steps = o.steps ?? preset.steps;
  return parseJobSpec({
    ...preset,
    model: { kind: 'gpt', ...(o.model ?? SWARM_MODEL) },
    optimizer: { ...preset.optimizer, lr: o.lr ?? preset.optimizer.lr },
    data: { kind: 'task', task: 'mix', config: { tasks: mixTasksOf(config) } },
    steps: Math.max(steps, 1),
    batchSize: o.batchSize ?? preset.batchSize,
    seed: o.seed ?? preset.seed,
    checkpointEvery: Math.max(1, Math.min(preset.checkpointEvery, steps)),
  });
}

/** The first `steps` steps of the pre-training job (the spec's own batches and schedule; 0: its init). */
export function pretrainPolicy(program: TrainProgram, steps = program.spec.steps, onStep?: (t: number, loss: number) => void): TrainState {
  let state = program.init();
  for (let t = 0; t < steps; t++) {
    const result = program.step(state);
    state = result.state;
    onStep?.(t, result.loss);
  }
  return state;
}

/** Greedy exact-match accuracy per swarm task on `examples` held-out prompts each. */
export function heldoutAccuracy(program: TrainProgram, state: TrainState, config: SapoConfig, examples: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of config.tasks) {
    const task = getTask(entry.name) as TaskDefinition;
    const items = Array.from({ length: examples }, (_, i) => task.generate(HELDOUT_SEED, i, entry.config));
    const completions = generateBatch(program.model, state.params, items.map((e) => program.tokenizer.encode(e.prompt)), { maxTokens: config.maxTokens, seeds: items.map(() => 0) });
    out[entry.name] = items.filter((e, i) => task.verify(e.prompt, program.tokenizer.decode(completions[i])) === 1).length / examples;
  }
  return out;
}

export { buildProgram };
