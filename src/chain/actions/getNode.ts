import type { Address, Chain, Client, Transport } from 'viem';
import { NodeRegistryAbi } from '../generated/NodeRegistry.js';
import { read } from './send.js';

export type GetNodeParameters = { registry: Address; node: Address };
export type GetNodeReturnType = { registered: boolean; stake: bigint; unlockAt: bigint; activeJobs: number };

/** The registry record of `node` (all zero when not registered). */
export async function getNode(client: Client<Transport, Chain | undefined>, params: GetNodeParameters): Promise<GetNodeReturnType> {
  const n = await read<{ stake: bigint; unlockAt: bigint; activeJobs: number; registered: boolean }>(client, {
    address: params.registry,
    abi: NodeRegistryAbi,
    functionName: 'getNode',
    args: [params.node],
  });
  return { registered: n.registered, stake: n.stake, unlockAt: n.unlockAt, activeJobs: n.activeJobs };
}
