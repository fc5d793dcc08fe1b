/**
 * GRPO steps on the coordinator, shared by test/chain/coordinator-step.test.ts and bench/chain-swarm.ts: the tests'
 * tiny policies (coordinator-fixture's TINY) stepped by src/swarm/grpo-step.ts's program under the swarm config the
 * coordinator was deployed with (DEFAULT_SWARM_CONFIG), on rollout groups built here; an honest step and a fake-use
 * step (the node lists a colluder's group it did not train on: the slot's rows are zeroed inside its step, so its next
 * policy is its honest step over the rest, and its run is consistent with it), each run into a store so that a
 * dispute over it can be played on chain.
 */
import type { Address, Hex } from 'viem';
import { swarmRolloutLeaf, type SwarmUsedGroup } from '../../src/chain/index.js';
import { DEFAULT_SWARM_CONFIG } from '../../src/node/swarm-chain.js';
import { groupHash, groupRows, grpoLayout, grpoStepProgram, rowsUseful, type GrpoStepProgram } from '../../src/swarm/grpo-step.js';
import { swarmTokenizer } from '../../src/swarm/round.js';
import type { RolloutGroup } from '../../src/swarm/rollout-message.js';
import { buildProgram, policySpec } from '../../src/swarm/sapo-policy.js';
import { runJob, stateHash, stateLeaves, type TrainProgram, type TrainState } from '../../src/train/index.js';
import { fakeUseStep } from '../../src/node/swarm-step.js';
import type { Tensor } from '../../src/tensor/index.js';
import { tempStore } from '../train/helpers.js';
import { TINY, hex, type RecordedRun } from './coordinator-fixture.js';

export const CONFIG = DEFAULT_SWARM_CONFIG;
export const LAYOUT = grpoLayout(CONFIG, TINY.contextLength);
const tokenizer = swarmTokenizer();

/** A group of `rewards` (one completion each) on a short addition prompt; `salt` varies its tokens. */
export function groupOf(salt: number, rewards: readonly number[] = [1, 0, 0, 1]): RolloutGroup {
  return {
    index: salt,
    task: 'addition',
    taskSeed: salt,
    prompt: `${salt % 10}+${(salt * 7) % 10}=`,
    answer: String((salt % 10) + ((salt * 7) % 10)),
    completions: rewards.map((reward, k) => ({ seed: k, tokens: [264 + ((salt + k) % 10), 264 + ((salt * 3 + k) % 10), 1], reward })),
  };
}

export const rowsOf = (g: RolloutGroup): Tensor => groupRows(g, tokenizer, CONFIG, TINY.contextLength);
export const groupHashOf = (g: RolloutGroup): Hex => `0x${groupHash(rowsOf(g))}`;
/** The (author, index, groupHash, useful) of each group, and their leaves (what a commit lists). */
export function usedGroups(groups: readonly { author: Address; group: RolloutGroup }[]): { used: SwarmUsedGroup[]; leaves: Hex[] } {
  const used = groups.map(({ author, group }) => ({ author, index: group.index, groupHash: groupHashOf(group), useful: rowsUseful(rowsOf(group)) }));
  return { used, leaves: used.map((u) => swarmRolloutLeaf(u.author, u)) };
}

/** A swarm policy program of the tiny model and its initial state (seed `seed`). */
export function stepPolicy(seed: number): { program: TrainProgram; state: TrainState; leaves: Hex[]; hash: Hex } {
  const program = buildProgram(policySpec(CONFIG, { model: TINY, seed, steps: 1, batchSize: 4 }));
  const state = program.init();
  return { program, state, leaves: stateLeaves(state).map(hex), hash: `0x${stateHash(state)}` };
}

/** A GRPO step run into its own store: the program that ran, its record, its next policy (leaves and hash). */
export type StepRun = RecordedRun & { honest: GrpoStepProgram; next: TrainState; nextLeaves: Hex[]; nextHash: Hex; runRoot: Hex };

/**
 * The GRPO step of `policy` on `groups` (batch order), run. `fake`: the indices of slots the node lists but did not
 * train on (src/node/swarm-step.ts fakeUseStep: their rows zeroed where the step reads them).
 */
export async function stepRun(policy: { program: TrainProgram; state: TrainState }, groups: readonly RolloutGroup[], fake: readonly number[] = []): Promise<StepRun> {
  const honest = grpoStepProgram(policy.program, policy.state, groups.map(rowsOf), CONFIG);
  const program = fake.length === 0 ? honest : fakeUseStep(honest, fake);
  const store = await tempStore();
  const { record, state } = await runJob(program, { store });
  const next = honest.policyOf(state);
  return { program, honest, store, record, next, nextLeaves: stateLeaves(next).map(hex), nextHash: `0x${stateHash(next)}`, runRoot: `0x${record.commitment!}` };
}
