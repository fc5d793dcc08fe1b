/** What a coordinator is deployed with for a swarm program: one facts root for every policy and every input. */
import { expect } from 'vitest';
import { jobFacts, type JobFacts } from '../../src/chain/dispute-moves.js';
import type { JobProgram } from '../../src/train/index.js';
import { rulesOf } from '../../src/verify/index.js';

/** Two one-step programs of one deployment (other policies, other inputs: another h_0) have one facts root: `deployed`'s. */
export function expectDeploymentFacts(one: JobProgram, two: JobProgram, deployed: Omit<JobFacts, 'h0'> & { steps: number }): void {
  const f1 = jobFacts(rulesOf(one));
  const f2 = jobFacts(rulesOf(two));
  expect(f1.h0).not.toBe(f2.h0);
  expect([f1.root, f1.size]).toEqual([f2.root, f2.size]);
  expect([deployed.root, deployed.size, deployed.steps]).toEqual([f1.root, f1.size, 1]);
}
