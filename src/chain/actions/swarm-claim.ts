import type { Address, Hex } from 'viem';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type SwarmClaimScoreParameters = {
  coordinator: Address;
  round: bigint;
  /** Root of the evaluation run's state hashes h_0 .. h_K. */
  runRoot: Hex;
  /** The score as float32 bits (a whole number of right answers). */
  scoreBits: number;
  /** The committed policy's state-tree leaves, in order (header, params.*, opt.*). */
  policyLeaves: readonly Hex[];
  /** h_K with its path (leaf K of K + 1) in the run tree, and the score leaf's path in h_K. */
  proof: { hK: Hex; hKPath: readonly Hex[]; scorePath: readonly Hex[] };
};

/** Claims the node's evaluation score of the round (approve the coordinator for CLAIM_BOND first). */
export async function swarmClaimScore(client: MycelWalletClient, p: SwarmClaimScoreParameters): Promise<WriteReturnType> {
  const { result: _, ...rest } = await send(client, {
    address: p.coordinator,
    abi: SwarmCoordinatorAbi,
    functionName: 'claimScore',
    args: [p.round, p.runRoot, p.scoreBits, p.policyLeaves, p.proof],
  });
  return rest;
}
