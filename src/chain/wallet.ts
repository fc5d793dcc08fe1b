/**
 * What an account holds and has at stake in a mycel deployment: its ETH and token balances, its node bond in the
 * registry, and, per job it took part in, the tokens locked in the market's escrow and what the job earned or cost it.
 * `jobShare` is the pure rule (the JobMarket's payouts, read from the contract's own code paths); `readWallet` reads
 * the chain.
 */
import type { Address, Chain, Client, PublicClient, Transport } from 'viem';
import { getBalance, getContractEvents } from 'viem/actions';
import { JobMarketAbi } from './generated/JobMarket.js';
import { MycelTokenAbi } from './generated/MycelToken.js';
import { getJob, type GetJobReturnType } from './actions/getJob.js';
import { getNode, type GetNodeReturnType } from './actions/getNode.js';
import { read } from './actions/send.js';
import type { JobPhase } from './errors.js';

export type JobRole = 'submitter' | 'solver' | 'challenger';

/**
 * One job as one party sees it. `locked`: its tokens the market holds for the job now (a solver's or challenger's
 * stake, a submitter's reward in escrow). `net`: tokens gained (+) or lost (-) once the job is settled, 0 before.
 */
export type JobShare = { jobId: bigint; role: JobRole; phase: JobPhase; locked: bigint; net: bigint; settled: boolean };

const SETTLED: readonly JobPhase[] = ['Finalized', 'Refuted', 'Expired'];

/**
 * The JobMarket's payouts for `role` in a job (contracts/JobMarket.sol: finalize, resolveDispute, expire). The loser
 * of a dispute loses its stake; the winner gets it back plus the loser's stake minus the burned share; when both lose
 * (winner 0) the submitter gets both unburned halves. `bothLost` is known only from the DisputeBothLost event.
 */
export function jobShare(job: GetJobReturnType, role: JobRole, burnBps: bigint, bothLost = false): JobShare {
  const { phase, reward, stake } = job;
  const settled = SETTLED.includes(phase);
  const prize = stake - (stake * burnBps) / 10_000n;
  // A Finalized solver won every dispute on the job, and was paid each loser's unburned half with the reward.
  const won = BigInt(job.disputes);
  const share = (locked: bigint, net: bigint): JobShare => ({ jobId: job.jobId, role, phase, locked, net: settled ? net : 0n, settled });
  if (role === 'submitter') {
    if (!settled) return share(reward, 0n);
    if (phase === 'Finalized') return share(0n, -reward);
    if (phase === 'Expired') return share(0n, job.solver !== ZERO ? stake : 0n); // a claimed job that expired: the solver's stake
    return share(0n, bothLost ? 2n * prize : 0n); // Refuted: the reward comes back
  }
  if (role === 'solver') {
    if (!settled) return share(stake, 0n);
    if (phase === 'Finalized') return share(0n, reward + won * prize);
    return share(0n, -stake); // Refuted (lost the dispute, or both lost) or Expired after claiming
  }
  // challenger: as the one whose dispute refuted the job (a challenger whose dispute ended after that got its stake back,
  // and one who lost to the solver lost its stake; telling them apart needs the DisputeResolved/DisputeRefunded events).
  if (!settled) return share(stake, 0n);
  return share(0n, phase === 'Refuted' && !bothLost ? prize : -stake);
}

const ZERO = '0x0000000000000000000000000000000000000000';

export type WalletContracts = { token: Address; registry: Address; market: Address };

export type WalletReport = {
  address: Address;
  eth: bigint;
  tokens: bigint;
  node: GetNodeReturnType;
  jobs: JobShare[];
  /** Sum of `locked` over the jobs: tokens in the market's escrow on this account's behalf. */
  locked: bigint;
  /** Sum of `net` over the settled jobs. */
  earned: bigint;
};

type AnyClient = Client<Transport, Chain | undefined>;

/**
 * Reads the wallet of `address`: balances, bond, and every job it posted, claimed or challenged since `fromBlock`
 * (found by the market's events, filtered on their indexed account, so the cost grows with this account's jobs,
 * not with the market's).
 */
export async function readWallet(client: AnyClient, { contracts, address, fromBlock = 0n }: { contracts: WalletContracts; address: Address; fromBlock?: bigint }): Promise<WalletReport> {
  const market = contracts.market;
  const events = (eventName: 'JobPosted' | 'JobClaimed' | 'JobChallenged', args: Record<string, Address>) =>
    getContractEvents(client as PublicClient, { address: market, abi: JobMarketAbi, eventName, args: args as never, fromBlock, toBlock: 'latest' });
  const [eth, tokens, node, burnBps, posted, claimed, challenged] = await Promise.all([
    getBalance(client as PublicClient, { address }),
    read<bigint>(client, { address: contracts.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [address] }),
    getNode(client, { registry: contracts.registry, node: address }),
    read<bigint>(client, { address: market, abi: JobMarketAbi, functionName: 'LOSER_BURN_BPS', args: [] }),
    events('JobPosted', { submitter: address }),
    events('JobClaimed', { solver: address }),
    events('JobChallenged', { challenger: address }),
  ]);
  const roles: [JobRole, readonly { args: unknown }[]][] = [['submitter', posted], ['solver', claimed], ['challenger', challenged]];
  const jobs: JobShare[] = [];
  for (const [role, logs] of roles) {
    for (const log of logs) {
      const jobId = (log.args as { jobId: bigint }).jobId;
      const job = await getJob(client, { market, jobId });
      const bothLost = job.phase === 'Refuted' && job.disputes > 0 && (await bothLostIn(client, market, jobId, fromBlock));
      jobs.push(jobShare(job, role, burnBps, bothLost));
    }
  }
  jobs.sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : a.role.localeCompare(b.role)));
  return {
    address,
    eth,
    tokens,
    node,
    jobs,
    locked: jobs.reduce((s, j) => s + j.locked, 0n),
    earned: jobs.reduce((s, j) => s + j.net, 0n),
  };
}

async function bothLostIn(client: AnyClient, market: Address, jobId: bigint, fromBlock: bigint): Promise<boolean> {
  const logs = await getContractEvents(client as PublicClient, { address: market, abi: JobMarketAbi, eventName: 'DisputeBothLost', args: { jobId } as never, fromBlock, toBlock: 'latest' });
  return logs.length > 0;
}
