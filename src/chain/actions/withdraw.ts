import type { Address } from 'viem';
import { NodeRegistryAbi } from '../generated/NodeRegistry.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type WithdrawParameters = { registry: Address };
export type WithdrawReturnType = WriteReturnType;

/** Takes back the node's bond after the unbonding delay, once it holds no open job. */
export async function withdraw(client: MycelWalletClient, params: WithdrawParameters): Promise<WithdrawReturnType> {
  const { result: _, ...rest } = await send(client, { address: params.registry, abi: NodeRegistryAbi, functionName: 'withdraw', args: [] });
  return rest;
}
