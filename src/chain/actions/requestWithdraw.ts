import type { Address } from 'viem';
import { NodeRegistryAbi } from '../generated/NodeRegistry.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type RequestWithdrawParameters = { registry: Address };
export type RequestWithdrawReturnType = WriteReturnType;

/** Starts the unbonding delay of the client's node; it takes no new job from now on. */
export async function requestWithdraw(client: MycelWalletClient, params: RequestWithdrawParameters): Promise<RequestWithdrawReturnType> {
  const { result: _, ...rest } = await send(client, { address: params.registry, abi: NodeRegistryAbi, functionName: 'requestWithdraw', args: [] });
  return rest;
}
