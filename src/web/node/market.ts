/**
 * The tab as a solver on the job market. It reads the chain through the node that served its page (POST /rpc), and
 * its transactions are signed by the browser's wallet where it has one (EIP-1193, wallet.ts; sent through the
 * wallet), else by the tab's own key (sent through /rpc), as a Node solver does through its RPC:
 * it registers with a bond once, finds an open job, fetches its spec from the node and checks it against the spec
 * hash on chain, checks the job's dispute rules against the facts it builds from the spec (in the worker), claims the
 * job with the stake, trains it in the worker, commits the run root, and finalizes once the challenge window has
 * closed: reward and stake are paid to the account that signed (the wallet's, or the tab's).
 *
 * Challenged, it plays each dispute as the solver in a worker (verify-job.ts defendJob: replayParty and playDispute,
 * as a Node solver does). Before it commits, it serves its step hashes, model and checkpoints over the blob protocol and
 * announces them on the market's topic as a Node solver does (announce.ts): the submitter takes the model from the tab,
 * and a sampling verifier its checkpoints. Leaving: a
 * tab closed before it commits leaves the job Claimed; after its deadline (blocks) anyone can expire it, which refunds
 * the submitter and slashes the stake the tab put up (JobMarket.expire).
 */
import type { Address, EIP1193Provider, Hex } from 'viem';
import { keccak256 } from 'viem';
import { getBalance, getBlockNumber, getContractEvents, readContract } from 'viem/actions';
import { approve } from '../../chain/actions/approve.js';
import { claimJob } from '../../chain/actions/claimJob.js';
import { commitRoot } from '../../chain/actions/commitRoot.js';
import { finalize } from '../../chain/actions/finalize.js';
import { getJob, type GetJobReturnType } from '../../chain/actions/getJob.js';
import { getNode } from '../../chain/actions/getNode.js';
import { register } from '../../chain/actions/register.js';
import { createClients } from '../../chain/clients.js';
import { JobMarketAbi } from '../../chain/generated/JobMarket.js';
import { MycelTokenAbi } from '../../chain/generated/MycelToken.js';
import { NodeRegistryAbi } from '../../chain/generated/NodeRegistry.js';
import type { DisputeOutcome } from '../../node/dispute.js';
import type { JobSpecInput } from '../../train/spec.js';
import type { Published, TrainedRun } from './announce.js';
import type { DefendJobRequest } from './verify-job.js';
import { chainSigner, type ChainSigner } from './wallet.js';
import type { JobRulesFacts } from './worker.js';

/** The chain the node serves to tabs; `confirmations`: blocks on top of an event before the tab acts on it (as the node's roles). */
export type ChainInfo = { chainId: number; rpc: string; contracts: { token: Address; registry: Address; market: Address; disputeGame: Address }; confirmations: number };

/** What the tab is doing on the market (shown on the page, read by tests). */
export type MarketState = {
  account: Address;
  /** Who signs its transactions: the browser's wallet (EIP-1193) or the tab's own key. */
  signer?: 'wallet' | 'key';
  phase: 'idle' | 'registering' | 'looking' | 'checking' | 'claimed' | 'training' | 'committed' | 'finalized' | 'refuted' | 'challenged' | 'failed';
  jobId?: string;
  root?: Hex;
  /** Token balance before the claim and after the payout (base units, decimal strings). */
  balanceBefore?: string;
  balanceAfter?: string;
  /** The blobs it serves of the job it solved, as announced: its step-hash list and model (CIDs), and how many checkpoints. */
  published?: Published;
  note?: string;
};

export type MarketDeps = {
  key: Uint8Array;
  /** The browser's wallet: where there is one, it signs the chain writes instead of the tab's key (wallet.ts). */
  ethereum?: EIP1193Provider;
  info: ChainInfo;
  facts(spec: JobSpecInput): Promise<JobRulesFacts>;
  /** Plays a dispute on the tab's committed root as the solver, in a worker (verify-job.ts defendJob). */
  defend(req: DefendJobRequest, progress: (text: string) => void): Promise<DisputeOutcome>;
  train(name: string, spec: JobSpecInput): Promise<{ commitment: string } & TrainedRun>;
  /** Serves the run's step hashes, model and checkpoints and announces them on the market's topic (announce.ts). */
  publish(jobId: bigint, root: Hex, run: TrainedRun): Promise<Published>;
  /** Stops re-announcing a settled job. */
  forget(jobId: bigint): void;
  update(s: MarketState): void;
  signal: AbortSignal;
};

const POLL_MS = 500;
const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((ok, fail) => {
  const t = setTimeout(ok, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); fail(signal.reason); }, { once: true });
});

/** Solves one job on the market, from registering to the payout. Resolves with the final state. */
export async function solveOneJob(d: MarketDeps): Promise<MarketState> {
  const rpcUrl = new URL(d.info.rpc, location.origin).toString();
  const { publicClient, chain } = createClients({ rpcUrl, chainId: d.info.chainId });
  const c = d.info.contracts;
  const state: MarketState = { account: '0x', phase: 'idle' };
  const set = (patch: Partial<MarketState>) => { Object.assign(state, patch); d.update({ ...state }); };
  let signer: ChainSigner;
  try {
    signer = await chainSigner({ key: d.key, chain, rpcUrl, ...(d.ethereum ? { ethereum: d.ethereum } : {}) });
  } catch (error) {
    set({ phase: 'failed', note: describeError(error) });
    return state;
  }
  const { wallet } = signer;
  const account = { address: signer.account };
  state.account = signer.account;
  state.signer = signer.kind;
  const tokens = () => readContract(publicClient, { address: c.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [account.address] });
  try {
    if ((await getBalance(publicClient, { address: account.address })) === 0n) {
      set({ phase: 'idle', note: `${signer.kind === 'wallet' ? 'The wallet\'s' : 'This tab\'s'} account ${account.address} has no ETH for gas: send it some (and MYC for the bond and the stake), then reload.` });
      return state;
    }
    // A node bond once (the registry keeps it until the node unbonds).
    if (!(await getNode(publicClient, { registry: c.registry, node: account.address })).registered) {
      set({ phase: 'registering', note: 'bonding this tab as a node in the registry' });
      const bond = await readContract(publicClient, { address: c.registry, abi: NodeRegistryAbi, functionName: 'MIN_STAKE' });
      await approve(wallet, { token: c.token, spender: c.registry, amount: bond });
      await register(wallet, { registry: c.registry, stake: bond, ...(signer.publicKey ? { publicKey: signer.publicKey } : {}) });
    }
    set({ phase: 'looking', note: 'looking for an open job' });
    for (;;) {
      const found = await openJob(publicClient, c.market, d);
      if (found) {
        const { job, spec } = found;
        set({ phase: 'checking', jobId: job.jobId.toString(), note: 'checking the job\'s dispute rules against its spec' });
        const facts = await d.facts(spec);
        const rules = await readContract(publicClient, { address: c.market, abi: JobMarketAbi, functionName: 'rulesOf', args: [job.jobId] });
        if (!rules.set || rules.h0.toLowerCase() !== facts.h0.toLowerCase() || rules.factsRoot.toLowerCase() !== facts.root.toLowerCase() || rules.factsSize !== facts.size) {
          set({ note: `job ${job.jobId}: its dispute rules on chain are not its spec's; not claimed (a dispute would be refereed by those rules)` });
          skipped.add(job.jobId);
          continue;
        }
        set({ balanceBefore: (await tokens()).toString() });
        await approve(wallet, { token: c.token, spender: c.market, amount: job.stake });
        await claimJob(wallet, { market: c.market, jobId: job.jobId });
        set({ phase: 'claimed', note: `claimed job ${job.jobId} with a stake of ${job.stake}` });
        set({ phase: 'training', note: `training job ${job.jobId} in the worker` });
        const run = await d.train(`job ${job.jobId}`, spec);
        const root = `0x${run.commitment}` as Hex;
        // Announced before the commit, as a Node solver does: whoever reacts to the commit finds them.
        set({ published: await d.publish(job.jobId, root, run) });
        const committedAt = await getBlockNumber(publicClient, { cacheTime: 0 });
        await commitRoot(wallet, { market: c.market, jobId: job.jobId, root });
        set({ phase: 'committed', root, note: `committed ${root.slice(0, 10)}…; waiting for the challenge window to close` });
        try {
          return await settle(job.jobId, spec, root, committedAt);
        } finally {
          d.forget(job.jobId);
        }
      }
      await sleep(POLL_MS, d.signal);
    }
  } catch (error) {
    if (d.signal.aborted) return state;
    set({ phase: 'failed', note: describeError(error) });
    return state;
  }

  /**
   * After the commit: plays every dispute opened on the job as the solver (each in a worker of its own, side by side,
   * as a Node solver does), and finalizes once the window has closed with none in play.
   */
  async function settle(jobId: bigint, spec: JobSpecInput, root: Hex, committedAt: bigint): Promise<MarketState> {
    const played = new Map<bigint, Promise<void>>();
    const rulings: string[] = [];
    for (;;) {
      const job = await getJob(publicClient, { market: c.market, jobId });
      if (job.phase === 'Finalized') {
        await Promise.all(played.values()); // every game's own ruling is in
        set({ phase: 'finalized', balanceAfter: (await tokens()).toString(), note: `job ${jobId} finalized${rulings.length ? ` after ${rulings.join('; ')}` : ''}: reward and stake paid to ${account.address}` });
        return state;
      }
      if (job.phase === 'Refuted') {
        set({ phase: 'refuted', note: `job ${jobId} was refuted${rulings.length ? ` (${rulings.join('; ')})` : ''}` });
        return state;
      }
      if (job.disputes > played.size) {
        const opened = await getContractEvents(publicClient, { address: c.market, abi: JobMarketAbi, eventName: 'JobChallenged', args: { jobId }, fromBlock: committedAt, toBlock: 'latest' });
        for (const e of opened) {
          const { challenger, challengerRoot, disputeId } = e.args as { challenger: Address; challengerRoot: Hex; disputeId: bigint };
          if (played.has(disputeId)) continue;
          set({ phase: 'challenged', note: `job ${jobId} is challenged (dispute ${disputeId}): playing it as the solver` });
          const req: DefendJobRequest = { spec, key: d.key, ...(signer.kind === 'wallet' ? { wallet: signer.account } : {}), chain: { rpcUrl, chainId: d.info.chainId, contracts: c, confirmations: d.info.confirmations }, jobId, root, committedAt, dispute: { disputeId, challenger, challengerRoot } };
          played.set(disputeId, d.defend(req, (text) => set({ note: text })).then(
            (o) => { rulings.push(`dispute ${disputeId}: ${o.loser} lost (${o.at}) after ${o.moves} moves`); set({ note: rulings[rulings.length - 1] }); },
            (error) => { rulings.push(`dispute ${disputeId}: not played to the end (${describeError(error)})`); set({ note: rulings[rulings.length - 1] }); },
          ));
        }
      } else if (job.phase === 'Committed' && (await getBlockNumber(publicClient, { cacheTime: 0 })) >= job.challengeEnds) {
        await finalize(wallet, { market: c.market, jobId }).catch(() => undefined); // someone else may have finalized it
        continue;
      }
      await sleep(POLL_MS, d.signal);
    }
  }
}

/** An error's name and first lines (MycelErrors carry the fix on the lines after the first). */
export function describeError(error: unknown): string {
  const e = error as { name?: string; shortMessage?: string; message?: string };
  const lines = String(e?.message ?? error).split('\n').map((l) => l.trim()).filter(Boolean);
  return `${e?.name ?? 'Error'}: ${lines.slice(0, 3).join(' ') || String(error)}`;
}

/** Jobs this tab looked at and will not take. */
const skipped = new Set<bigint>();

/** The newest Open job, before its deadline, whose spec the node serves and hashes to the job's spec hash. */
async function openJob(client: ReturnType<typeof createClients>['publicClient'], market: Address, d: MarketDeps): Promise<{ job: GetJobReturnType; spec: JobSpecInput } | undefined> {
  const count = await readContract(client, { address: market, abi: JobMarketAbi, functionName: 'jobCount' });
  const block = await getBlockNumber(client, { cacheTime: 0 });
  for (let id = count - 1n; id >= 0n; id--) {
    if (skipped.has(id)) continue;
    const job = await getJob(client, { market, jobId: id });
    if (job.phase !== 'Open' || block >= job.deadline) continue;
    const spec = await fetchSpec(job.specHash, d.signal);
    if (!spec) {
      skipped.add(id);
      continue;
    }
    return { job, spec };
  }
  return undefined;
}

/** A job's spec from the node that served the page, or undefined if it has none that hashes to `specHash`. */
export async function fetchSpec(specHash: Hex, signal: AbortSignal): Promise<JobSpecInput | undefined> {
  const res = await fetch(`/api/spec/${specHash}`, { signal });
  if (!res.ok) return undefined;
  const bytes = new Uint8Array(await res.arrayBuffer());
  // The node is not trusted with the spec: it must hash to what the submitter put on chain.
  if (keccak256(bytes).toLowerCase() !== specHash.toLowerCase()) return undefined;
  return JSON.parse(new TextDecoder().decode(bytes)) as JobSpecInput;
}
