/**
 * The starting policy of a swarm node: a GPT of the runtime with the swarm tokenizer, pre-trained with
 * the supervised task batches (cycling through the swarm's tasks) to a modest accuracy, since RL needs
 * a policy that is sometimes right. And its held-out accuracy per task, greedy, on prompts no round asks.
 */
import { getTask, taskBatch, type TaskDefinition } from '../data/index.js';
import { buildProgram, generateBatch, parseJobSpec, type JobSpec, type TrainProgram, type TrainState } from '../train/index.js';
import type { SapoConfig } from './sapo-config.js';

export type PolicyModel = { contextLength: number; dModel: number; layers: number; heads: number; mlpHidden: number };

/** The quick preset's sizes (~70k parameters with the task vocabulary): 8 nodes train on 2 cores. */
export const SWARM_MODEL: PolicyModel = { contextLength: 16, dModel: 48, layers: 2, heads: 4, mlpHidden: 192 };

/** Held-out prompts are example i of this seed's stream: task seeds are 48-bit hashes, this is not one. */
export const HELDOUT_SEED = 2 ** 50 + 12;

export function policySpec(config: SapoConfig, { model = SWARM_MODEL, seed = 1, lr = 3e-3, steps = 200, batchSize = 32 }: { model?: PolicyModel; seed?: number; lr?: number; steps?: number; batchSize?: number } = {}): JobSpec {
  const first = config.tasks[0];
  return parseJobSpec({
    version: 1,
    model: { kind: 'gpt', ...model },
    optimizer: { kind: 'adamw', lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1 },
    data: { kind: 'task', task: first.name, config: first.config },
    steps,
    batchSize,
    seed,
    checkpointEvery: steps,
  });
}

/** `steps` supervised steps from the spec's init, step t on the swarm's task t mod (number of tasks). */
export function pretrainPolicy(program: TrainProgram, config: SapoConfig, steps: number, onStep?: (t: number, loss: number) => void): TrainState {
  let state = program.init();
  for (let t = 0; t < steps; t++) {
    const entry = config.tasks[t % config.tasks.length];
    const task = getTask(entry.name) as TaskDefinition;
    const batch = taskBatch({ task, config: entry.config, tokenizer: program.tokenizer, seed: program.spec.seed, step: t, batchSize: program.spec.batchSize, seqLen: program.spec.model.contextLength });
    const result = program.step(state, batch);
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
