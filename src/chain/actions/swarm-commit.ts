import type { Address, Hex } from 'viem';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type SwarmCommitParameters = {
  coordinator: Address;
  round: bigint;
  /** Root of the node's rollout leaves of this round (swarmRolloutLeaf(node, rollout hash)). */
  rolloutsRoot: Hex;
  /** Merkle root of the node's policy state-tree leaves. */
  policyHash: Hex;
  /**
   * The rollout leaves of the previous round that its GRPO step trained on (swarmRolloutLeaf(author, rollout hash)):
   * the coordinator computes their root (the used root; zero when none) and logs them in Committed.
   */
  usedLeaves: readonly Hex[];
  /** The model config whose evaluation program the coordinator admits. */
  modelConfig: Hex;
};

/** A registered node commits its round (approve the coordinator for COMMIT_BOND first). */
export async function swarmCommit(client: MycelWalletClient, p: SwarmCommitParameters): Promise<WriteReturnType> {
  const { result: _, ...rest } = await send(client, {
    address: p.coordinator,
    abi: SwarmCoordinatorAbi,
    functionName: 'commit',
    args: [p.round, p.rolloutsRoot, p.policyHash, p.usedLeaves, p.modelConfig],
  });
  return rest;
}
