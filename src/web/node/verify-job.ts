/**
 * The tab as a verifier of one committed job, in its worker (re-executing and playing a dispute are the runtime's
 * work, too long for the page's thread). As the Node verifier does (node/roles.ts checkJob): it checks the job's
 * dispute rules on chain against the facts it builds from the spec (a challenge would be refereed by those rules),
 * re-executes the job in full, keeping runJob's checkpoints in memory, and compares its run commitment with the
 * committed root. On a mismatch it escrows the job's stake, challenges with its own root, and plays its side of the
 * dispute to the ruling with the Node verifier's own code: replayParty (its moves, each re-executed from its
 * checkpoints) and playDispute (every move checked with the TypeScript game before it is sent, the position rebuilt
 * from the chain's Moved events). It reaches the chain through the node that served the page (POST /rpc).
 *
 * A tab that solved a job plays the disputes opened on it as the solver (defendJob), with the same code.
 *
 * What it does not do (yet): the sampled policy (verify/sampled-check.ts) needs the committer's checkpoints, which
 * a Node verifier gets over libp2p blobs (node/p2p.ts) that a tab does not fetch; a tab re-executes in full.
 */
import { createWalletClient, custom, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { readContract } from 'viem/actions';
import { approve } from '../../chain/actions/approve.js';
import { challenge } from '../../chain/actions/challenge.js';
import { getJob } from '../../chain/actions/getJob.js';
import type { MycelWalletClient } from '../../chain/actions/send.js';
import { createClients } from '../../chain/clients.js';
import { jobFacts } from '../../chain/dispute-moves.js';
import { JobMarketAbi } from '../../chain/generated/JobMarket.js';
import type { Contracts } from '../../node/context.js';
import { playDispute, type DisputeContext, type DisputeOutcome } from '../../node/dispute.js';
import { buildProgram } from '../../train/program.js';
import { MemoryStore, runInMemory, type InMemoryStep } from '../../train/run-in-memory.js';
import { parseJobSpec, type JobSpecInput } from '../../train/spec.js';
import { replayParty } from '../../verify/strategy/party.js';
import { rulesOf } from '../../verify/strategy/rules.js';

/** A committed job, as its RootCommitted event and the market record give it. */
export type CommittedJob = { jobId: bigint; root: Hex; solver: Address; committedAt: bigint };

export type VerifyJobRequest = {
  spec: JobSpecInput;
  chain: { rpcUrl: string; chainId: number; contracts: Contracts; /** Blocks on top of a dispute's events before a move answers them. */ confirmations: number };
  key: Uint8Array;
  /** The browser's wallet signs instead of the key: its account, reached through the page (report.wallet). */
  wallet?: Address;
  job: CommittedJob;
};

/**
 * `agreed`: its re-execution gives the committed root. `unverified`: the rules on chain are not the spec's (flagged,
 * not challenged). `dispute`: it challenged and the game ruled. `settled`: the job left its window before the tab could challenge.
 */
export type VerifyOutcome = { commitment?: string } & (
  | { verdict: 'agreed' }
  | { verdict: 'unverified'; reason: string }
  | { verdict: 'disputed'; disputeId: bigint; dispute: DisputeOutcome }
  | { verdict: 'settled' }
);

export type VerifyReport = {
  step(s: InMemoryStep): void;
  log(text: string): void;
  tx(action: string, gas: bigint): void;
  /** An EIP-1193 request to the browser's wallet, which only the page can reach (a worker has no window.ethereum). */
  wallet(args: { method: string; params?: unknown }): Promise<unknown>;
};

/** The tab's chain clients in the worker: reads through the node's /rpc, writes signed by its key or the browser's wallet. */
function clientsOf(req: Pick<VerifyJobRequest, 'chain' | 'key' | 'wallet'>, report: Pick<VerifyReport, 'wallet'>) {
  const { chain } = req;
  const privateKey = `0x${[...req.key].map((b) => b.toString(16).padStart(2, '0')).join('')}` as Hex;
  const clients = createClients({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, account: privateKeyToAccount(privateKey) });
  // retryCount 0: a method the wallet does not support fails at once instead of looking like a hang.
  const wallet = (req.wallet
    ? createWalletClient({ account: req.wallet, chain: clients.chain, transport: custom({ request: report.wallet }, { retryCount: 0 }), pollingInterval: 100 })
    : clients.walletClient) as unknown as MycelWalletClient;
  return { publicClient: clients.publicClient, wallet };
}

/** What playDispute needs, from the worker: the clients, the contracts, and reports to the page. */
const disputeContext = (c: ReturnType<typeof clientsOf>, chain: VerifyJobRequest['chain'], report: VerifyReport): DisputeContext =>
  ({ publicClient: c.publicClient as never, wallet: c.wallet, contracts: chain.contracts, confirmations: chain.confirmations, log: report.log, tx: (action, gas) => report.tx(action, gas) });

export async function verifyJob(req: VerifyJobRequest, report: VerifyReport): Promise<VerifyOutcome> {
  const { job, chain } = req;
  const c = chain.contracts;
  const clients = clientsOf(req, report);
  const { publicClient, wallet } = clients;
  const program = buildProgram(parseJobSpec(req.spec));
  const rules = rulesOf(program);

  // Rules first: under rules that are not the spec's, an honest challenger could lose its stake.
  const facts = jobFacts(rules);
  const onChain = await readContract(publicClient, { address: c.market, abi: JobMarketAbi, functionName: 'rulesOf', args: [job.jobId] });
  if (!onChain.set || onChain.h0.toLowerCase() !== facts.h0.toLowerCase() || onChain.factsRoot.toLowerCase() !== facts.root.toLowerCase() || onChain.factsSize !== facts.size) {
    return { verdict: 'unverified', reason: `job ${job.jobId}: its dispute rules on chain are not its spec's; not challenged (a dispute would be refereed by those rules)` };
  }

  report.log(`re-executing job ${job.jobId} (${program.spec.steps} steps) to check root ${job.root.slice(0, 10)}…`);
  const store = new MemoryStore();
  const run = runInMemory(program, report.step, store);
  const mine = `0x${run.commitment}` as Hex;
  if (mine.toLowerCase() === job.root.toLowerCase()) return { verdict: 'agreed', commitment: run.commitment };

  report.log(`job ${job.jobId}: root disagrees with my re-execution (${mine.slice(0, 10)}…); challenging`);
  const now = await getJob(publicClient, { market: c.market, jobId: job.jobId });
  if (now.phase !== 'Committed' && now.phase !== 'Disputed') return { verdict: 'settled', commitment: run.commitment };
  await approve(wallet, { token: c.token, spender: c.market, amount: now.stake });
  const opened = await challenge(wallet, { market: c.market, jobId: job.jobId, root: mine });
  report.tx('challenge', opened.gasUsed);
  report.log(`job ${job.jobId}: challenged (dispute ${opened.disputeId}, stake ${now.stake}); playing it as challenger`);
  const party = replayParty({ role: 'challenger', program, reference: program, store, record: run.record });
  const dispute = await playDispute(
    disputeContext(clients, chain, report),
    { disputeId: opened.disputeId, jobId: job.jobId, rules, facts, party, roots: { solver: job.root, challenger: mine }, parties: { solver: job.solver, challenger: wallet.account.address }, fromBlock: job.committedAt },
  );
  return { verdict: 'disputed', commitment: run.commitment, disputeId: opened.disputeId, dispute };
}

/** A dispute opened against the tab's own committed root, which it plays as the solver. */
export type DefendJobRequest = Omit<VerifyJobRequest, 'job'> & {
  jobId: bigint;
  /** The root the tab committed, the block its commit is at or after, and the dispute. */
  root: Hex;
  committedAt: bigint;
  dispute: { disputeId: bigint; challenger: Address; challengerRoot: Hex };
};

/**
 * Plays the solver's side of a dispute on the tab's own job, as a Node solver does (node/roles.ts afterCommit): the
 * job is trained again with its checkpoints kept in memory (the same bits as the run the tab committed), and the moves
 * come from replayParty and go through playDispute. An honest tab wins against any challenger.
 */
export async function defendJob(req: DefendJobRequest, report: VerifyReport): Promise<DisputeOutcome> {
  const clients = clientsOf(req, report);
  const program = buildProgram(parseJobSpec(req.spec));
  const rules = rulesOf(program);
  const facts = jobFacts(rules);
  report.log(`job ${req.jobId} is challenged (dispute ${req.dispute.disputeId}): re-running it to play the dispute as solver`);
  const store = new MemoryStore();
  const run = runInMemory(program, report.step, store);
  if (`0x${run.commitment}`.toLowerCase() !== req.root.toLowerCase()) throw new Error(`job ${req.jobId}: this run gives root 0x${run.commitment.slice(0, 8)}…, not the committed ${req.root.slice(0, 10)}…; the dispute is left to its clock`);
  const party = replayParty({ role: 'solver', program, reference: program, store, record: run.record });
  return playDispute(disputeContext(clients, req.chain, report), {
    disputeId: req.dispute.disputeId, jobId: req.jobId, rules, facts, party,
    roots: { solver: req.root, challenger: req.dispute.challengerRoot },
    parties: { solver: clients.wallet.account.address, challenger: req.dispute.challenger },
    fromBlock: req.committedAt,
  });
}
