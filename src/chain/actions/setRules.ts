import type { Address, Hex } from 'viem';
import { JobMarketAbi } from '../generated/JobMarket.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type SetRulesParameters = { market: Address; jobId: bigint; h0: Hex; factsRoot: Hex; factsSize: bigint };
export type SetRulesReturnType = WriteReturnType;

/**
 * The submitter sets its job's dispute rules (h_0 and the facts tree of its step program: dispute-moves.ts jobFacts),
 * once, while the job is Open; nobody can claim the job before.
 */
export async function setRules(client: MycelWalletClient, params: SetRulesParameters): Promise<SetRulesReturnType> {
  const { result: _, ...rest } = await send(client, {
    address: params.market,
    abi: JobMarketAbi,
    functionName: 'setRules',
    args: [params.jobId, params.h0, params.factsRoot, params.factsSize],
  });
  return rest;
}
