/** The GRPO step program's facts per deployment (kept apart from grpo-step.ts, which a browser tab's worker bundles). */
import { jobFacts, type JobFacts } from '../chain/dispute-moves.js';
import { rulesOf } from '../verify/index.js';
import { grpoStepProgram } from './grpo-step.js';
import type { SapoConfig } from './sapo-config.js';
import { buildProgram, policySpec, type PolicyModel } from './sapo-policy.js';

/**
 * The facts tree of the GRPO step of any policy of `model` on any groups under `config`: what a coordinator is
 * deployed with, once per (model config, swarm config).
 */
export function grpoStepFacts(model: PolicyModel, config: SapoConfig): Omit<JobFacts, 'h0'> & { steps: number } {
  const policy = buildProgram(policySpec(config, { model, steps: 1 }));
  // The values of the policy and the groups do not matter to the step program: a fresh policy, every slot empty.
  const program = grpoStepProgram(policy, policy.init(), [], config);
  const { h0: _h0, ...facts } = jobFacts(rulesOf(program));
  return { ...facts, steps: program.spec.steps };
}
