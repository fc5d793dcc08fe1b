import type { Address, Hex } from 'viem';
import { JobMarketAbi } from '../generated/JobMarket.js';
import { resolveSpecHash } from './postJob.js';
import { getJob } from './getJob.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

export type ClaimJobParameters = {
  market: Address;
  jobId: bigint;
  /** The spec as fetched off chain: checked against the job's spec hash before anything is sent. */
  spec?: Uint8Array | Hex;
};
export type ClaimJobReturnType = WriteReturnType;

/**
 * Claims job `jobId` for the client's node, escrowing the job's stake (approve the market for it first).
 * @throws JobSpecMismatchError (nothing sent) when `spec` does not hash to the job's spec hash.
 */
export async function claimJob(client: MycelWalletClient, params: ClaimJobParameters): Promise<ClaimJobReturnType> {
  if (params.spec !== undefined) {
    const job = await getJob(client, { market: params.market, jobId: params.jobId });
    resolveSpecHash(params.spec, job.specHash, params.jobId);
  }
  const { result: _, ...rest } = await send(client, {
    address: params.market,
    abi: JobMarketAbi,
    functionName: 'claimJob',
    args: [params.jobId],
  });
  return rest;
}
