/**
 * The tab as a verifier on the job market: it watches roots being committed (the market's RootCommitted events, read
 * through the node that served the page, POST /rpc), and checks each job it did not solve itself in its worker
 * (verify-job.ts): it re-executes the job and, on a root that is not its own, challenges and plays the dispute to the
 * ruling, so a cheating solver loses its stake to a tab. One job at a time: a tab is one person's spare compute.
 *
 * Challenging needs no bond (JobMarket.challenge escrows the job's stake), only gas and the stake in MYC. Leaving:
 * a dispute the tab was playing is lost by timeout (its clock runs out), which costs the tab its stake; a job it was
 * only re-executing is left to the other verifiers.
 */
import type { Address, EIP1193Provider, Hex } from 'viem';
import { getBalance, getBlockNumber, readContract } from 'viem/actions';
import { getJob } from '../../chain/actions/getJob.js';
import { createClients } from '../../chain/clients.js';
import { JobMarketAbi } from '../../chain/generated/JobMarket.js';
import { MycelTokenAbi } from '../../chain/generated/MycelToken.js';
import { confirmedEvents } from '../../node/events.js';
import { describeError, fetchSpec, type ChainInfo } from './market.js';
import type { CommittedJob, VerifyJobRequest, VerifyOutcome } from './verify-job.js';
import { chainSigner } from './wallet.js';

/** One job the tab looked at, and what came of it. */
export type JobCheck = {
  jobId: string;
  verdict: 'checking' | 'agreed' | 'unverified' | 'challenged' | 'won' | 'lost' | 'settled' | 'failed';
  root: Hex;
  /** The tab's own run commitment of the job. */
  mine?: string;
  disputeId?: string;
  /** How the dispute was ruled: who lost, where (the level, or 'timeout'), after how many moves. */
  ruling?: { loser: string; at: string; moves: number };
  note?: string;
};

export type VerifierState = {
  account: Address;
  /** Who signs its challenges and dispute moves: the browser's wallet (EIP-1193) or the tab's own key. */
  signer?: 'wallet' | 'key';
  phase: 'watching' | 'checking' | 'disputing' | 'failed';
  jobs: JobCheck[];
  /** Token balance when it started watching (base units, a decimal string), and now. */
  balanceBefore?: string;
  balance?: string;
  note?: string;
};

export type VerifierDeps = {
  key: Uint8Array;
  /** The browser's wallet: where there is one, it signs instead of the tab's key (wallet.ts). */
  ethereum?: EIP1193Provider;
  info: ChainInfo;
  /** Runs verify-job.ts in a worker; `progress` gets its log lines. */
  verify(req: VerifyJobRequest, progress: (text: string) => void): Promise<VerifyOutcome>;
  update(s: VerifierState): void;
  signal: AbortSignal;
};

/** Committed roots older than this many blocks when the tab starts watching are not looked at (their windows are long shut). */
const LOOKBACK_BLOCKS = 256n;

/** Watches committed roots until the tab goes; resolves only on a failure to watch. */
export async function verifyJobs(d: VerifierDeps): Promise<VerifierState> {
  const rpcUrl = new URL(d.info.rpc, location.origin).toString();
  const { publicClient, chain } = createClients({ rpcUrl, chainId: d.info.chainId });
  const c = d.info.contracts;
  const state: VerifierState = { account: '0x', phase: 'watching', jobs: [] };
  const set = (patch: Partial<VerifierState>) => { Object.assign(state, patch); d.update({ ...state, jobs: state.jobs.map((j) => ({ ...j })) }); };
  try {
    // Who signs its challenges and moves: the browser's wallet where it has one, else the tab's key.
    const signer = await chainSigner({ key: d.key, chain, rpcUrl, ...(d.ethereum ? { ethereum: d.ethereum } : {}) });
    const account = { address: signer.account };
    set({ account: signer.account, signer: signer.kind });
    const tokens = async () => (await readContract(publicClient, { address: c.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [account.address] })).toString();
    if ((await getBalance(publicClient, { address: account.address })) === 0n) {
      set({ phase: 'failed', note: `${signer.kind === 'wallet' ? 'The wallet\'s' : 'This tab\'s'} account ${account.address} has no ETH for gas: send it some (and MYC for a challenge's stake), then reload.` });
      return state;
    }
    const head = await getBlockNumber(publicClient, { cacheTime: 0 });
    set({ balanceBefore: await tokens(), note: 'watching for committed roots' });
    const log = () => undefined;
    // Acted on only once the node's confirmations are on top of it, as a Node verifier does (a reorg could drop it).
    for await (const e of confirmedEvents<{ jobId: bigint; solver: Address; root: Hex }>({ publicClient: publicClient as never, confirmations: d.info.confirmations, log }, {
      address: c.market, abi: JobMarketAbi, eventName: 'RootCommitted', fromBlock: head > LOOKBACK_BLOCKS ? head - LOOKBACK_BLOCKS : 0n, signal: d.signal,
    })) {
      const { jobId, solver, root } = e.args;
      if (solver.toLowerCase() === account.address.toLowerCase()) continue; // its own: a challenge would be refused
      const job = await getJob(publicClient, { market: c.market, jobId });
      if (job.phase !== 'Committed') continue;
      const check: JobCheck = { jobId: jobId.toString(), verdict: 'checking', root };
      state.jobs.push(check);
      const note = (text: string) => { check.note = text; set({}); };
      const spec = await fetchSpec(job.specHash, d.signal);
      if (!spec) {
        Object.assign(check, { verdict: 'failed', note: `the node serves no spec that hashes to ${job.specHash}; not checked` });
        set({});
        continue;
      }
      set({ phase: 'checking', note: `checking job ${jobId}` });
      const committed: CommittedJob = { jobId, root, solver, committedAt: e.blockNumber };
      try {
        const outcome = await d.verify({ spec, key: d.key, ...(signer.kind === 'wallet' ? { wallet: signer.account } : {}), chain: { rpcUrl, chainId: d.info.chainId, contracts: c, confirmations: d.info.confirmations }, job: committed }, (text) => {
          if (/challenged \(dispute/.test(text)) { check.verdict = 'challenged'; set({ phase: 'disputing' }); }
          note(text);
        });
        Object.assign(check, verdictOf(outcome, account.address));
      } catch (error) {
        if (d.signal.aborted) return state;
        Object.assign(check, { verdict: 'failed', note: describeError(error) });
      }
      set({ phase: 'watching', balance: await tokens(), note: 'watching for committed roots' });
    }
    return state;
  } catch (error) {
    if (d.signal.aborted) return state;
    set({ phase: 'failed', note: describeError(error) });
    return state;
  }
}

function verdictOf(o: VerifyOutcome, me: Address): Partial<JobCheck> {
  const mine = o.commitment === undefined ? {} : { mine: o.commitment };
  switch (o.verdict) {
    case 'agreed': return { ...mine, verdict: 'agreed', note: 'its root is this tab\'s re-execution: verified by re-execution, no challenge' };
    case 'unverified': return { ...mine, verdict: 'unverified', note: o.reason };
    case 'settled': return { ...mine, verdict: 'settled', note: 'its root disagrees, but the job was settled before this tab could challenge' };
    case 'disputed': {
      const won = o.dispute.loser === 'solver';
      return {
        ...mine,
        verdict: won ? 'won' : 'lost',
        disputeId: o.disputeId.toString(),
        ruling: o.dispute,
        note: won ? `dispute ${o.disputeId}: the solver lost (${o.dispute.at}) after ${o.dispute.moves} moves; ${me} got its stake back and the solver's, less the share burned` : `dispute ${o.disputeId}: this tab lost (${o.dispute.at}) after ${o.dispute.moves} moves`,
      };
    }
  }
}
