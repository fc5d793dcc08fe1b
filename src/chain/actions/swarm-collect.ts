import { parseEventLogs, type Address } from 'viem';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type SwarmCollectParameters = { coordinator: Address; round: bigint };
export type SwarmCollectReturnType = WriteReturnType & { paid: bigint };

/** What the coordinator paid, from the Collected (bonds + reward) or UseCollected (reward) event of the transaction. */
function paidOf(rest: WriteReturnType): bigint {
  const events = parseEventLogs({ abi: SwarmCoordinatorAbi, logs: rest.logs, eventName: ['Collected', 'UseCollected'] });
  return events.reduce((sum, e) => sum + ('bonds' in e.args ? e.args.bonds : 0n) + e.args.reward, 0n);
}

/** The sender's bonds of the round back (the claim bond only if its claim stood) and its score share, once the round is settled. */
export async function swarmCollect(client: MycelWalletClient, p: SwarmCollectParameters): Promise<SwarmCollectReturnType> {
  const { result: _, ...rest } = await send(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'collect', args: [p.round] });
  return { ...rest, paid: paidOf(rest) };
}

/** The sender's share of the round's use reward, after the use proofs of its rollouts closed. */
export async function swarmCollectUse(client: MycelWalletClient, p: SwarmCollectParameters): Promise<SwarmCollectReturnType> {
  const { result: _, ...rest } = await send(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'collectUse', args: [p.round] });
  return { ...rest, paid: paidOf(rest) };
}
