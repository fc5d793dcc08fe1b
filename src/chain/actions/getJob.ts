import type { Address, Chain, Client, Hex, Transport } from 'viem';
import { JobMarketAbi } from '../generated/JobMarket.js';
import { JOB_PHASES, type JobPhase } from '../errors.js';
import { read } from './send.js';

export type GetJobParameters = { market: Address; jobId: bigint };
export type GetJobReturnType = {
  jobId: bigint;
  submitter: Address;
  phase: JobPhase;
  specHash: Hex;
  steps: bigint;
  reward: bigint;
  stake: bigint;
  /** The block by which the solver must commit. */
  deadline: bigint;
  /** Blocks a committed root can be challenged. */
  challengeWindow: bigint;
  solversWanted: number;
  verifiersWanted: number;
  solver: Address;
  /** The solver's committed root: the verified result once phase is Finalized. */
  root: Hex;
  /** The block at which the challenge window closes (0 before commit). */
  challengeEnds: bigint;
  /** Disputes in play on the job, and opened on it so far (each challenger has its own). */
  openDisputes: number;
  disputes: number;
  /** Losing challengers' slashed stakes held for the solver until it is paid. */
  held: bigint;
};

/**
 * Reads job `jobId`. @throws ContractRevertError `JobUnknown` for an id that was never posted.
 * @example const job = await getJob(publicClient, { market, jobId: 0n }); if (job.phase === 'Finalized') use(job.root)
 */
export async function getJob(client: Client<Transport, Chain | undefined>, params: GetJobParameters): Promise<GetJobReturnType> {
  const j = await read<Omit<GetJobReturnType, 'jobId' | 'phase'> & { phase: number }>(client, {
    address: params.market,
    abi: JobMarketAbi,
    functionName: 'getJob',
    args: [params.jobId],
  });
  return {
    jobId: params.jobId,
    submitter: j.submitter,
    phase: JOB_PHASES[j.phase],
    specHash: j.specHash,
    steps: j.steps,
    reward: j.reward,
    stake: j.stake,
    deadline: j.deadline,
    challengeWindow: j.challengeWindow,
    solversWanted: j.solversWanted,
    verifiersWanted: j.verifiersWanted,
    solver: j.solver,
    root: j.root,
    challengeEnds: j.challengeEnds,
    openDisputes: j.openDisputes,
    disputes: j.disputes,
    held: j.held,
  };
}
