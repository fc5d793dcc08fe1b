import type { Address } from 'viem';
import { JobMarketAbi } from '../generated/JobMarket.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type FinalizeParameters = { market: Address; jobId: bigint };
export type FinalizeReturnType = WriteReturnType;

/** After an unchallenged window: pays the solver and makes its root the verified result. Anyone may call it. */
export async function finalize(client: MycelWalletClient, params: FinalizeParameters): Promise<FinalizeReturnType> {
  const { result: _, ...rest } = await send(client, { address: params.market, abi: JobMarketAbi, functionName: 'finalize', args: [params.jobId] });
  return rest;
}
