/**
 * What an account holds and has at stake in a mycel deployment: its ETH and token balances, its node bond in the
 * registry, and, per job it took part in (per dispute, for a challenger), the tokens locked in the market's escrow and
 * what the job earned or cost it. `jobShare` is the pure rule over the market's payout events (JobFinalized,
 * JobRefuted, JobExpired, DisputeResolved, DisputeRefunded, DisputeBothLost): what the contract says it paid, not a
 * guess from the job's phase, which cannot tell a challenger that lost its game from one refunded after another's win;
 * `readWallet` reads the chain.
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
 * One job as one party sees it (a challenger: one of its disputes, `disputeId`). `locked`: its tokens the market holds
 * for it now (a solver's or challenger's stake, a submitter's reward in escrow). `net`: tokens gained (+) or lost (-)
 * once settled, 0 before. A challenger's share is settled when its own dispute is, whatever the job's phase.
 */
export type JobShare = { jobId: bigint; role: JobRole; phase: JobPhase; locked: bigint; net: bigint; settled: boolean; disputeId?: bigint };

/**
 * The market's payout events of one job, as far as they concern one account. `dispute`: the ruling of that
 * account's own dispute (a challenger's): `won` with the `prize` it was paid over its stake (DisputeResolved, prize
 * plus what the solver held), `lost` (DisputeResolved naming it loser, or DisputeBothLost), `refunded`
 * (DisputeRefunded: the job was refuted by another game first).
 */
export type JobPayouts = {
  /** JobFinalized: paid to the solver (reward, its stake, and the unburned halves it held). */
  finalized?: { paid: bigint };
  /** JobExpired: refunded to the submitter (the reward, plus an unkept claim's stake `slashed`). */
  expired?: { refund: bigint; slashed: bigint };
  /** DisputeBothLost: what the submitter got besides its reward (both unburned halves and what the solver held). */
  bothLostToSubmitter?: bigint;
  dispute?: { disputeId: bigint; outcome: 'won'; prize: bigint } | { disputeId: bigint; outcome: 'lost' | 'refunded' } | { disputeId: bigint; outcome: 'open' };
};

const SETTLED: readonly JobPhase[] = ['Finalized', 'Refuted', 'Expired'];

/** `role`'s share of `job`, from the market's payout events (JobMarket.sol: finalize, resolveDispute, expire). */
export function jobShare(job: GetJobReturnType, role: JobRole, payouts: JobPayouts = {}): JobShare {
  const { phase, reward, stake } = job;
  const jobSettled = SETTLED.includes(phase);
  const share = (locked: bigint, net: bigint, settled = jobSettled): JobShare => ({ jobId: job.jobId, role, phase, locked, net: settled ? net : 0n, settled });
  if (role === 'submitter') {
    if (!jobSettled) return share(reward, 0n);
    if (phase === 'Finalized') return share(0n, -reward);
    if (phase === 'Expired') return share(0n, (payouts.expired?.refund ?? reward) - reward);
    return share(0n, payouts.bothLostToSubmitter ?? 0n); // Refuted: the reward came back, and both halves if both lost
  }
  if (role === 'solver') {
    if (!jobSettled) return share(stake, 0n);
    if (phase === 'Finalized') return share(0n, (payouts.finalized?.paid ?? reward + stake) - stake);
    return share(0n, -stake); // Refuted (its first loss, or both lost) or Expired after claiming
  }
  const d = payouts.dispute;
  const withId = (s: JobShare): JobShare => (d ? { ...s, disputeId: d.disputeId } : s);
  if (!d || d.outcome === 'open') return withId(share(stake, 0n, false));
  if (d.outcome === 'won') return withId(share(0n, d.prize, true));
  return withId(share(0n, d.outcome === 'refunded' ? 0n : -stake, true));
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
  const [eth, tokens, node, posted, claimed, challenged] = await Promise.all([
    getBalance(client as PublicClient, { address }),
    read<bigint>(client, { address: contracts.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [address] }),
    getNode(client, { registry: contracts.registry, node: address }),
    events('JobPosted', { submitter: address }),
    events('JobClaimed', { solver: address }),
    events('JobChallenged', { challenger: address }),
  ]);
  const jobs: JobShare[] = [];
  const payouts = (jobId: bigint) => jobPayouts(client, market, jobId, fromBlock);
  for (const [role, logs] of [['submitter', posted], ['solver', claimed]] as const) {
    for (const log of logs) {
      const jobId = (log.args as { jobId: bigint }).jobId;
      const job = await getJob(client, { market, jobId });
      jobs.push(jobShare(job, role, SETTLED.includes(job.phase) ? await payouts(jobId) : {}));
    }
  }
  // A challenger's share is per dispute: one key may contest a job more than once, and each game settles on its own.
  for (const log of challenged) {
    const { jobId, disputeId } = log.args as { jobId: bigint; disputeId: bigint };
    const job = await getJob(client, { market, jobId });
    jobs.push(jobShare(job, 'challenger', { dispute: await disputeOutcome(client, market, jobId, disputeId, address, fromBlock) }));
  }
  jobs.sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : a.role.localeCompare(b.role) || Number((a.disputeId ?? 0n) - (b.disputeId ?? 0n))));
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

type Log = { args: unknown };
const logsOf = (client: AnyClient, market: Address, eventName: string, args: Record<string, bigint>, fromBlock: bigint) =>
  getContractEvents(client as PublicClient, { address: market, abi: JobMarketAbi, eventName: eventName as never, args: args as never, fromBlock, toBlock: 'latest' }) as Promise<Log[]>;

/** A settled job's payout events (JobFinalized, JobExpired, DisputeBothLost). */
async function jobPayouts(client: AnyClient, market: Address, jobId: bigint, fromBlock: bigint): Promise<JobPayouts> {
  const [finalized, expired, bothLost] = await Promise.all(['JobFinalized', 'JobExpired', 'DisputeBothLost'].map((e) => logsOf(client, market, e, { jobId }, fromBlock)));
  const a = <T>(logs: Log[]) => logs[0]?.args as T | undefined;
  const f = a<{ paid: bigint }>(finalized);
  const x = a<{ refund: bigint; slashed: bigint }>(expired);
  const b = bothLost.reduce((sum, l) => sum + (l.args as { toSubmitter: bigint }).toSubmitter, 0n);
  return { ...(f ? { finalized: { paid: f.paid } } : {}), ...(x ? { expired: { refund: x.refund, slashed: x.slashed } } : {}), ...(bothLost.length ? { bothLostToSubmitter: b } : {}) };
}

/** How `challenger`'s dispute `disputeId` ended, from its DisputeResolved, DisputeRefunded or DisputeBothLost event. */
async function disputeOutcome(client: AnyClient, market: Address, jobId: bigint, disputeId: bigint, challenger: Address, fromBlock: bigint): Promise<NonNullable<JobPayouts['dispute']>> {
  const [resolved, refunded, bothLost] = await Promise.all(['DisputeResolved', 'DisputeRefunded', 'DisputeBothLost'].map((e) => logsOf(client, market, e, { jobId, disputeId }, fromBlock)));
  if (refunded.length) return { disputeId, outcome: 'refunded' };
  if (bothLost.length) return { disputeId, outcome: 'lost' };
  const r = resolved[0]?.args as { winner: Address; prize: bigint } | undefined;
  if (!r) return { disputeId, outcome: 'open' };
  return r.winner.toLowerCase() === challenger.toLowerCase() ? { disputeId, outcome: 'won', prize: r.prize } : { disputeId, outcome: 'lost' };
}
