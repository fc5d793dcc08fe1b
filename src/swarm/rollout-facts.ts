/** The rollout program's facts per deployment (kept apart from rollout-program.ts, which a browser tab's worker bundles). */
import { jobFacts, type JobFacts } from '../chain/dispute-moves.js';
import { rulesOf } from '../verify/index.js';
import { rolloutInputs, rolloutLayout, rolloutProgram } from './rollout-program.js';
import { rolloutQuestion, rolloutSeed } from './rollout-seeds.js';
import type { SapoConfig } from './sapo-config.js';
import { buildProgram, policySpec, type PolicyModel } from './sapo-policy.js';

/**
 * The facts tree of the rollout program of any policy of `model` on any question under `config`: what a coordinator
 * is deployed with, once per (model config, swarm config).
 */
export function rolloutFacts(model: PolicyModel, config: SapoConfig): Omit<JobFacts, 'h0'> & { steps: number } {
  const policy = buildProgram(policySpec(config, { model, steps: 1 }));
  // The values of the policy and the question do not matter to the program: a fresh policy, some question of the swarm's first task.
  const seed = rolloutSeed(new Uint8Array(32), new Uint8Array(20), 0);
  const inputs = rolloutInputs(rolloutQuestion(seed, config.tasks[0].name, config)!, seed, policy.tokenizer, rolloutLayout(config, model.contextLength));
  const { h0: _h0, ...facts } = jobFacts(rulesOf(rolloutProgram(policy, policy.init(), inputs, config)));
  return { ...facts, steps: 1 };
}
