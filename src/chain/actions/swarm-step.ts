import type { Address, Hex } from 'viem';
import type { SwarmGroup, SwarmMerklePath } from './swarm-use.js';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { SwarmProgramsAbi } from '../generated/SwarmPrograms.js';
import { createdId, read, send, type MycelWalletClient, type WriteReturnType } from './send.js';

/** A group a GRPO step trained on (or a rollout dispute is over): its author's address and its public part; its leaf is swarmRolloutLeaf(author, group). */
export type SwarmUsedGroup = { author: Address } & SwarmGroup;

/** The slots of a GRPO step's state: `slots` groups of [completions, 3, width] float32 rows (src/swarm/grpo-step.ts GrpoLayout). */
export type SwarmGrpoLayout = { slots: number; completions: number; width: number };

export type SwarmChallengeStepParameters = {
  coordinator: Address;
  /** The round of the node's commit whose used leaves the step claims (its step ran from its policy of round - 1). */
  round: bigint;
  node: Address;
  /** The challenger's own run root of the step ([h_0, h_1]). */
  root: Hex;
  /** The state-tree leaves of the node's committed policies of round - 1 (the step's start) and of round (its result). */
  prevPolicyLeaves: readonly Hex[];
  nextPolicyLeaves: readonly Hex[];
  /** The groups the node's used leaves name, in its commit's order. */
  used: readonly SwarmUsedGroup[];
};
export type SwarmChallengeStepReturnType = WriteReturnType & { disputeId: bigint };

/**
 * Contests a node's GRPO step (approve the coordinator for COMMIT_BOND first): the coordinator computes the node's h_0
 * and run root from its committed policies and used groups and opens a one-step dispute in the game.
 */
export async function swarmChallengeStep(client: MycelWalletClient, p: SwarmChallengeStepParameters): Promise<SwarmChallengeStepReturnType> {
  const { hash, gasUsed, logs } = await send(client, {
    address: p.coordinator,
    abi: SwarmCoordinatorAbi,
    functionName: 'challengeStep',
    args: [p.round, p.node, p.root, { prev: p.prevPolicyLeaves, next: p.nextPolicyLeaves }, p.used],
  });
  return { hash, gasUsed, logs, disputeId: createdId(logs, { address: p.coordinator, abi: SwarmCoordinatorAbi, eventName: 'StepChallenged', arg: 'disputeId' }) };
}

/** What SwarmPrograms.grpoStepRun computes from a step's policies and groups: the policies' hashes, the used root, h_0 and the run root. */
export type SwarmStepRun = { prevHash: Hex; nextHash: Hex; usedRoot: Hex; h0: Hex; runRoot: Hex };

/** SwarmPrograms.grpoStepRun at `programs` (the coordinator's PROGRAMS): the step's roots as the chain computes them. */
export function swarmGrpoStepRun(
  client: Parameters<typeof read>[0],
  p: { programs: Address; prevPolicyLeaves: readonly Hex[]; nextPolicyLeaves: readonly Hex[]; used: readonly SwarmUsedGroup[]; layout: SwarmGrpoLayout },
): Promise<SwarmStepRun> {
  return read<SwarmStepRun>(client, { address: p.programs, abi: SwarmProgramsAbi, functionName: 'grpoStepRun', args: [p.prevPolicyLeaves, p.nextPolicyLeaves, p.used, p.layout] });
}

export type SwarmChallengeRolloutParameters = {
  coordinator: Address;
  /** The round of the author's commit whose rolloutsRoot holds the group (generated with the policy it commits). */
  round: bigint;
  group: SwarmUsedGroup;
  /** The group's leaf in the author's rolloutsRoot. */
  proof: SwarmMerklePath;
  /** The state-tree leaves of the policy the author committed in `round`. */
  policyLeaves: readonly Hex[];
  /** The challenger's own run root of the group's rollout program ([h_0, h_1]). */
  root: Hex;
};

/**
 * Contests an author's rollout group (approve the coordinator for COMMIT_BOND first): the coordinator computes the
 * author's h_0 and run root from its committed policy of the round, the round's rollout beacon and the group's leaf
 * fields, and opens a one-step dispute in the game over the rollout program.
 */
export async function swarmChallengeRollout(client: MycelWalletClient, p: SwarmChallengeRolloutParameters): Promise<SwarmChallengeStepReturnType> {
  const { hash, gasUsed, logs } = await send(client, {
    address: p.coordinator,
    abi: SwarmCoordinatorAbi,
    functionName: 'challengeRollout',
    args: [p.round, p.group, p.proof, p.policyLeaves, p.root],
  });
  return { hash, gasUsed, logs, disputeId: createdId(logs, { address: p.coordinator, abi: SwarmCoordinatorAbi, eventName: 'RolloutChallenged', arg: 'disputeId' }) };
}
