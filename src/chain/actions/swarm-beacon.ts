import type { Address, Hex } from 'viem';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';
import { swarmGetRound } from './swarm-read.js';

export type SwarmFixBeaconParameters = { coordinator: Address; round: bigint };
export type SwarmFixBeaconReturnType = WriteReturnType & { beacon?: Hex; voided: boolean };

/**
 * Fixes the round's beacon (the hash of the first block after its commit window); past 256 blocks the round is
 * recorded void instead (`voided`), and every bond of it comes back at collect.
 */
export async function swarmFixBeacon(client: MycelWalletClient, p: SwarmFixBeaconParameters): Promise<SwarmFixBeaconReturnType> {
  const { result: _, ...rest } = await send(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'fixBeacon', args: [p.round] });
  const r = await swarmGetRound(client, { coordinator: p.coordinator, round: p.round });
  return { ...rest, voided: r.void, ...(r.void ? {} : { beacon: r.beacon }) };
}
