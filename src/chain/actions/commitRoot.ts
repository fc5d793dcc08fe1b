import type { Address, Hex } from 'viem';
import { JobMarketAbi } from '../generated/JobMarket.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type CommitRootParameters = { market: Address; jobId: bigint; root: Hex };
export type CommitRootReturnType = WriteReturnType;

/** The solver commits its run root; the challenge window opens. */
export async function commitRoot(client: MycelWalletClient, params: CommitRootParameters): Promise<CommitRootReturnType> {
  const { result: _, ...rest } = await send(client, {
    address: params.market,
    abi: JobMarketAbi,
    functionName: 'commitRoot',
    args: [params.jobId, params.root],
  });
  return rest;
}
