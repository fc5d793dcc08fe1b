/**
 * What a node knows, gathered for its dashboard: its events (progress lines, transactions, training losses), its
 * libp2p peers, and, when it is on a chain, the market's jobs with their phase changes, the disputes replayed move by
 * move, and the balances and stakes of the accounts it knows. It polls the chain once a second (new blocks only) and
 * tells subscribers what changed: the state (without logs) when it differs, each log line as it comes.
 */
import { formatUnits, getAddress, type Address, type Hex, type PublicClient } from 'viem';
import { getBlock, getBlockNumber, getContractEvents, readContract } from 'viem/actions';
import { getJob, getNode, type GetJobReturnType } from '../../chain/index.js';
import { DisputeGameAbi } from '../../chain/generated/DisputeGame.js';
import { JobMarketAbi } from '../../chain/generated/JobMarket.js';
import { MycelTokenAbi } from '../../chain/generated/MycelToken.js';
import { GAME_AT } from '../../chain/dispute-moves.js';
import { REFEREE_LOSERS } from '../../chain/referee.js';
import type { MycelNode } from '../../p2p/node.js';
import type { Rules } from '../../verify/index.js';
import type { Contracts, NodeEvent } from '../context.js';
import { DisputeReplay } from './dispute-replay.js';
import type { RoundMetrics } from '../../swarm/round.js';
import { JOB_PHASE_NAMES, type DashboardState, type JobPhaseName, type JobView, type LogView, type LossView, type SwarmRoundView } from './state.js';

export type ObservedChain = {
  rpcUrl: string;
  chainId: number;
  publicClient: PublicClient;
  contracts: Contracts;
  /** The block to read market history from. */
  fromBlock: bigint;
  /** Accounts whose balance and stake are shown, with the role this node knows them by. */
  accounts: { role: string; address: Address }[];
  /** The dispute rules of a job, when this node knows its spec (to replay its disputes move by move). */
  rulesOf(jobId: bigint, specHash: Hex): Rules | undefined;
};

export type ObserverUpdate = { kind: 'state'; state: Omit<DashboardState, 'logs'> } | { kind: 'log'; log: LogView };

/** Log lines kept for the dashboard (older ones are in the node's own output). */
const LOG_LIMIT = 500;
/** Swarm rows kept (node x round), the latest ones. */
const SWARM_LIMIT = 4_000;
const POLL_MS = 1_000;
const fmt = (x: bigint) => formatUnits(x, 18);

const EVENT_PHASES: Record<string, JobPhaseName> = {
  JobPosted: 'posted', JobClaimed: 'claimed', RootCommitted: 'committed', JobChallenged: 'challenged',
  JobFinalized: 'finalized', JobRefuted: 'refuted', JobExpired: 'expired',
};

export class Observer {
  private readonly startedAt = Date.now();
  private status: string;
  private p2p: MycelNode | undefined;
  private chain: ObservedChain | undefined;
  private chainLive = false;
  private nextBlock = 0n;
  private head = 0n;
  private readonly blockTimes = new Map<bigint, number>();
  /** Logs already applied (a poll that fails half-way reads its range again and skips these). */
  private readonly applied = new Set<string>();
  private readonly jobs = new Map<string, JobView>();
  private readonly specHashes = new Map<string, Hex>();
  /** Each dispute's challenger root, from the market's JobChallenged event (the game's DisputeOpened lacks it). */
  private readonly challengerRoots = new Map<string, Hex>();
  private readonly disputes = new Map<string, DisputeReplay>();
  private balances: DashboardState['balances'] = { accounts: [] };
  private readonly loss = new Map<string, LossView>();
  private readonly logs: LogView[] = [];
  private readonly swarm = new Map<string, SwarmRoundView>();
  private swarmSource: string | undefined;
  private readonly listeners = new Set<(u: ObserverUpdate) => void>();
  private lastSent = '';
  private polling = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly name: string, status = 'running') {
    this.status = status;
    this.timer = setInterval(() => void this.tick(), POLL_MS);
    this.timer.unref();
  }

  setStatus(status: string): void {
    this.status = status;
    this.publish();
  }

  /** Shows the node's peers, and logs each connection as it opens and closes. */
  attachP2p(p2p: MycelNode): void {
    this.p2p = p2p;
    const say = (text: string) => this.record({ type: 'log', node: this.name, text });
    p2p.host.addEventListener('peer:connect', (e) => say(`connected to ${e.detail.toString()}`));
    p2p.host.addEventListener('peer:disconnect', (e) => say(`disconnected from ${e.detail.toString()}`));
  }

  attachChain(chain: ObservedChain): void {
    this.chain = chain;
    this.chainLive = true;
    this.nextBlock = chain.fromBlock;
  }

  /** Reads the chain a last time, then stops (the chain is going away); its last state stays on view. */
  async detachChain(): Promise<void> {
    await this.tick();
    this.chainLive = false;
    this.p2p = undefined;
    this.publish();
  }

  /** The node's emit hook: every event it reports. */
  record(e: NodeEvent): void {
    if (e.type === 'step') {
      const key = `${e.node}/${e.jobId}`;
      const curve = this.loss.get(key) ?? { node: e.node, jobId: e.jobId, steps: [], loss: [] };
      curve.steps.push(e.step);
      curve.loss.push(e.loss);
      this.loss.set(key, curve);
      return;
    }
    if (e.type === 'train') return; // the curves have every step ('step' events); this is the throttled metrics feed
    if (e.type === 'agreed') return; // its log line says so
    const text = e.type === 'log' ? e.text
      : e.type === 'tx' ? `${e.action}${e.jobId === undefined ? '' : ` (job ${e.jobId})`}: gas ${e.gas}`
      : e.type === 'model' ? `model of job ${e.jobId}: blob ${e.cid}`
      : e.type === 'refused' ? `job ${e.jobId} refused: ${e.reason}`
      : `job ${e.jobId} is not verified: ${e.reason}`;
    const log: LogView = { at: Date.now(), node: e.node, kind: e.type, text };
    this.logs.push(log);
    if (this.logs.length > LOG_LIMIT) this.logs.splice(0, this.logs.length - LOG_LIMIT);
    for (const l of this.listeners) l({ kind: 'log', log });
  }

  /** A node's SAPO round, as the swarm writes it to its metrics (a round seen twice replaces the first). */
  recordSwarmRound(m: RoundMetrics, source?: string): void {
    if (source !== undefined) this.swarmSource = source;
    const key = `${m.round}/${m.node}`;
    this.swarm.delete(key);
    this.swarm.set(key, { round: m.round, node: m.node, reward: m.reward, accuracy: m.accuracy, rolloutsIn: m.rolloutsIn, rolloutsOut: m.rolloutsOut, rejected: m.rejected, dropped: m.dropped.length });
    if (this.swarm.size > SWARM_LIMIT) this.swarm.delete(this.swarm.keys().next().value!);
    this.publish();
  }

  subscribe(listener: (u: ObserverUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): DashboardState {
    return { ...this.stateWithoutLogs(), logs: [...this.logs] };
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  private stateWithoutLogs(): Omit<DashboardState, 'logs'> {
    const c = this.chain;
    return {
      node: {
        name: this.name,
        ...(this.p2p ? { peerId: this.p2p.peerId.toString(), address: this.p2p.address, multiaddrs: this.p2p.multiaddrs() } : { multiaddrs: [] }),
        startedAt: this.startedAt,
        now: Date.now(),
        status: this.status,
      },
      peers: this.p2p ? this.p2p.peers() : [],
      chain: c ? { rpcUrl: c.rpcUrl, chainId: c.chainId, block: this.head.toString(), contracts: { ...c.contracts }, live: this.chainLive } : null,
      jobs: [...this.jobs.values()],
      disputes: [...this.disputes.values()].map((d) => d.view),
      balances: this.balances,
      loss: [...this.loss.values()],
      swarm: { ...(this.swarmSource === undefined ? {} : { source: this.swarmSource }), rounds: [...this.swarm.values()].sort((a, b) => a.round - b.round || a.node.localeCompare(b.node)) },
    };
  }

  /** Sends the state to subscribers if anything but the clock changed. */
  private publish(): void {
    const state = this.stateWithoutLogs();
    const key = JSON.stringify({ ...state, node: { ...state.node, now: 0 } });
    if (key === this.lastSent) return;
    this.lastSent = key;
    for (const l of this.listeners) l({ kind: 'state', state });
  }

  private async tick(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      if (this.chain && this.chainLive) await this.pollChain(this.chain);
    } catch (error) {
      // The chain may be briefly unreachable (or gone at the end of a devnet): the next tick tries again.
      this.status = `cannot read the chain (retrying): ${(error as Error).message.split('\n')[0]}`;
    } finally {
      this.polling = false;
    }
    this.publish();
  }

  private async pollChain(c: ObservedChain): Promise<void> {
    const client = c.publicClient;
    const head = await getBlockNumber(client, { cacheTime: 0 });
    this.head = head;
    if (head < this.nextBlock) return;
    const range = { fromBlock: this.nextBlock, toBlock: head };
    const [market, game] = await Promise.all([
      getContractEvents(client, { address: c.contracts.market, abi: JobMarketAbi, ...range }),
      getContractEvents(client, { address: c.contracts.disputeGame, abi: DisputeGameAbi, ...range }),
    ]);
    const touched = new Set<string>();
    const fresh = <L extends { transactionHash: Hex; logIndex: number }>(log: L) => !this.applied.has(`${log.transactionHash}:${log.logIndex}`);
    const done = (log: { transactionHash: Hex; logIndex: number }) => this.applied.add(`${log.transactionHash}:${log.logIndex}`);
    for (const log of market.filter(fresh)) {
      const args = log.args as { jobId?: bigint; specHash?: Hex };
      const phase = EVENT_PHASES[log.eventName];
      if (args.jobId === undefined || !phase) continue;
      const jobId = args.jobId.toString();
      if (args.specHash) this.specHashes.set(jobId, args.specHash);
      touched.add(jobId);
      const job = this.jobs.get(jobId) ?? this.emptyJob(jobId);
      job.timeline.push({ phase, block: log.blockNumber.toString(), time: await this.blockTime(client, log.blockNumber), tx: log.transactionHash, detail: eventDetail(log.eventName, log.args as Record<string, unknown>, (a) => this.roleOf(a)) });
      if (log.eventName === 'JobChallenged') {
        // A job may have several disputes, one per challenger: the job shows the latest, each dispute its own roots.
        const c = log.args as { challenger: Address; challengerRoot: Hex; disputeId: bigint };
        this.challengerRoots.set(c.disputeId.toString(), c.challengerRoot);
        Object.assign(job, { challenger: c.challenger, challengerRoot: c.challengerRoot, disputeId: c.disputeId.toString() });
      }
      this.jobs.set(jobId, job);
      done(log);
    }
    for (const jobId of touched) this.updateJob(await getJob(client, { market: c.contracts.market, jobId: BigInt(jobId) }));
    for (const log of game.filter(fresh)) {
      if (log.eventName === 'DisputeOpened') {
        const opened = log.args as { disputeId: bigint; client: Address; ref: bigint; solver: Address; challenger: Address };
        // The game serves any client: only the market's disputes are jobs' (ref is the job id).
        if (getAddress(opened.client) !== getAddress(c.contracts.market)) {
          done(log);
          continue;
        }
        const a = { disputeId: opened.disputeId, jobId: opened.ref, solver: opened.solver, challenger: opened.challenger };
        const specHash = this.specHashes.get(a.jobId.toString());
        const replay = new DisputeReplay(a, specHash ? c.rulesOf(a.jobId, specHash) : undefined);
        const job = await getJob(client, { market: c.contracts.market, jobId: a.jobId });
        const challengerRoot = this.challengerRoots.get(a.disputeId.toString());
        if (challengerRoot) replay.start({ solver: job.root, challenger: challengerRoot });
        this.disputes.set(a.disputeId.toString(), replay);
      } else if (log.eventName === 'Moved') {
        const a = log.args as { disputeId: bigint; kind: number };
        await this.disputes.get(a.disputeId.toString())?.apply(client, { transactionHash: log.transactionHash, blockNumber: log.blockNumber, kind: a.kind });
      } else if (log.eventName === 'DisputeRuled') {
        const a = log.args as { disputeId: bigint; loser: number; where: number; winner: Address };
        const d = this.disputes.get(a.disputeId.toString());
        if (d) d.view.onChain = { loser: REFEREE_LOSERS[a.loser] ?? String(a.loser), at: GAME_AT[a.where] ?? String(a.where), winner: a.winner };
      }
      done(log);
    }
    this.nextBlock = head + 1n;
    await this.readBalances(c);
  }

  private async readBalances(c: ObservedChain): Promise<void> {
    const client = c.publicClient;
    const accounts = await Promise.all(c.accounts.map(async ({ role, address }) => {
      const [balance, node] = await Promise.all([
        readContract(client, { address: c.contracts.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [address] }),
        getNode(client, { registry: c.contracts.registry, node: address }),
      ]);
      return { role, address, balance: fmt(balance), stake: fmt(node.stake), registered: node.registered };
    }));
    const supply = await readContract(client, { address: c.contracts.token, abi: MycelTokenAbi, functionName: 'totalSupply' });
    this.balances = { accounts, totalSupply: fmt(supply) };
  }

  private emptyJob(jobId: string): JobView {
    return { jobId, phase: 'posted', submitter: '', steps: 0, reward: '0', stake: '0', timeline: [] };
  }

  private updateJob(j: GetJobReturnType): void {
    const view = this.jobs.get(j.jobId.toString()) ?? this.emptyJob(j.jobId.toString());
    const zero = /^0x0*$/;
    Object.assign(view, {
      phase: JOB_PHASE_NAMES[j.phase],
      submitter: j.submitter,
      steps: Number(j.steps),
      reward: fmt(j.reward),
      stake: fmt(j.stake),
      ...(zero.test(j.solver) ? {} : { solver: j.solver, solverRole: this.roleOf(j.solver) }),
      ...(zero.test(j.root) ? {} : { root: j.root }),
    });
    this.jobs.set(view.jobId, view);
  }

  private roleOf(address: string): string | undefined {
    return this.chain?.accounts.find((a) => a.address.toLowerCase() === address.toLowerCase())?.role;
  }

  private async blockTime(client: PublicClient, block: bigint): Promise<number> {
    let t = this.blockTimes.get(block);
    if (t === undefined) {
      t = Number((await getBlock(client, { blockNumber: block })).timestamp) * 1000;
      this.blockTimes.set(block, t);
    }
    return t;
  }
}

/** One line about a market event, naming the accounts by role where this node knows them. */
function eventDetail(name: string, a: Record<string, unknown>, roleOf: (a: string) => string | undefined): string {
  const who = (x: unknown) => (typeof x === 'string' ? roleOf(x) ?? `${x.slice(0, 10)}…` : '?');
  const hash = (x: unknown) => (typeof x === 'string' ? `${x.slice(0, 10)}…` : '?');
  switch (name) {
    case 'JobPosted': return `by ${who(a.submitter)}: ${a.steps} steps, reward ${fmt(a.reward as bigint)}, stake ${fmt(a.stake as bigint)}`;
    case 'JobClaimed': return `by ${who(a.solver)}, staking ${fmt(a.stake as bigint)}`;
    case 'RootCommitted': return `by ${who(a.solver)}: root ${hash(a.root)}`;
    case 'JobChallenged': return `by ${who(a.challenger)} with root ${hash(a.challengerRoot)}: dispute ${a.disputeId}`;
    case 'JobFinalized': return `${who(a.solver)} paid ${fmt(a.paid as bigint)}`;
    case 'JobRefuted': return `${who(a.submitter)} refunded ${fmt(a.refund as bigint)}`;
    case 'JobExpired': return `${who(a.submitter)} refunded ${fmt(a.refund as bigint)}`;
    default: return name;
  }
}
