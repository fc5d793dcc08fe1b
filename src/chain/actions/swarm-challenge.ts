import type { Address, Hex } from 'viem';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { createdId, send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type SwarmChallengeScoreParameters = { coordinator: Address; round: bigint; node: Address; /** The challenger's own run root of the node's evaluation. */ root: Hex };
export type SwarmChallengeScoreReturnType = WriteReturnType & { disputeId: bigint };

/** Contests a node's score claim (approve the coordinator for CLAIM_BOND first): opens a dispute in the game over the evaluation program. */
export async function swarmChallengeScore(client: MycelWalletClient, p: SwarmChallengeScoreParameters): Promise<SwarmChallengeScoreReturnType> {
  const { hash, gasUsed, logs } = await send(client, {
    address: p.coordinator,
    abi: SwarmCoordinatorAbi,
    functionName: 'challengeScore',
    args: [p.round, p.node, p.root],
  });
  return { hash, gasUsed, logs, disputeId: createdId(logs, { address: p.coordinator, abi: SwarmCoordinatorAbi, eventName: 'ScoreChallenged', arg: 'disputeId' }) };
}
