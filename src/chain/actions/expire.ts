import type { Address } from 'viem';
import { JobMarketAbi } from '../generated/JobMarket.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type ExpireParameters = { market: Address; jobId: bigint };
export type ExpireReturnType = WriteReturnType;

/** After the deadline with no root: refunds the submitter (plus an unkept claim's stake). Anyone may call it. */
export async function expire(client: MycelWalletClient, params: ExpireParameters): Promise<ExpireReturnType> {
  const { result: _, ...rest } = await send(client, { address: params.market, abi: JobMarketAbi, functionName: 'expire', args: [params.jobId] });
  return rest;
}
