import type { Address, Hex } from 'viem';
import { JobMarketAbi } from '../generated/JobMarket.js';
import { createdId, send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type ChallengeParameters = { market: Address; jobId: bigint; /** The challenger's own run root. */ root: Hex };
export type ChallengeReturnType = WriteReturnType & { disputeId: bigint };

/** Contests a committed root within the window, escrowing the job's stake (approve it first); opens a dispute. */
export async function challenge(client: MycelWalletClient, params: ChallengeParameters): Promise<ChallengeReturnType> {
  const { hash, gasUsed, logs } = await send(client, {
    address: params.market,
    abi: JobMarketAbi,
    functionName: 'challenge',
    args: [params.jobId, params.root],
  });
  return { hash, gasUsed, logs, disputeId: createdId(logs, { address: params.market, abi: JobMarketAbi, eventName: 'JobChallenged', arg: 'disputeId' }) };
}
