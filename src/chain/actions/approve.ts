import type { Address } from 'viem';
import { MycelTokenAbi } from '../generated/MycelToken.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type ApproveParameters = { token: Address; spender: Address; amount: bigint };
export type ApproveReturnType = WriteReturnType;

/**
 * Lets `spender` (the registry or the market) take `amount` tokens from the client's account.
 * @example await approve(walletClient, { token, spender: market, amount: reward })
 */
export async function approve(client: MycelWalletClient, params: ApproveParameters): Promise<ApproveReturnType> {
  const { result: _, ...rest } = await send<boolean>(client, {
    address: params.token,
    abi: MycelTokenAbi,
    functionName: 'approve',
    args: [params.spender, params.amount],
  });
  return rest;
}
