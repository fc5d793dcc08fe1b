/**
 * What a node tells its dashboard: one JSON document (GET /api/state), its parts at their own endpoints, and the
 * same shapes pushed over Server-Sent Events as they change. Everything a page shows is computed here (phases named,
 * dispute moves decoded and described, balances formatted); the pages only lay it out.
 */
import type { PeerInfoView } from '../../p2p/node.js';

/** A job's phases in the words of the dashboard (the market's Open is "posted", Disputed is "challenged"). */
export const JOB_PHASE_NAMES = { None: 'unknown', Open: 'posted', Claimed: 'claimed', Committed: 'committed', Disputed: 'challenged', Finalized: 'finalized', Refuted: 'refuted', Expired: 'expired' } as const;
export type JobPhaseName = (typeof JOB_PHASE_NAMES)[keyof typeof JOB_PHASE_NAMES];

export type NodeView = {
  name: string;
  peerId?: string;
  address?: string;
  multiaddrs: string[];
  /** Unix ms when this node started serving its dashboard, and when this document was made. */
  startedAt: number;
  now: number;
  /** What the node is doing, e.g. "running the devnet scenario", "scenario finished; chain stopped". */
  status: string;
};

export type ChainView = { rpcUrl: string; chainId: number; block: string; contracts: Record<string, string>; live: boolean };

/** One phase change of a job, from its market event. */
export type JobEventView = { phase: JobPhaseName; block: string; time: number; tx: string; detail: string };

export type JobView = {
  jobId: string;
  phase: JobPhaseName;
  submitter: string;
  solver?: string;
  challenger?: string;
  steps: number;
  /** Token amounts, formatted (18 decimals). */
  reward: string;
  stake: string;
  root?: string;
  challengerRoot?: string;
  disputeId?: string;
  /** Role names of the addresses this node knows ("honest solver"), else undefined. */
  solverRole?: string;
  timeline: JobEventView[];
};

export type DisputeMoveView = {
  n: number;
  by: string;
  kind: string;
  /** The move in words, and the disputed range after it ("step 3, op 41, element 7, instructions 12..13"). */
  text: string;
  level: string;
  where: string;
  round: number;
  block: string;
  tx: string;
  gas?: string;
};

export type RulingView = {
  loser: string;
  at: string;
  /** Where the fault is, in words, down to the instruction. */
  text: string;
  reason: string;
  t: number;
  op: number;
  opName: string;
  element: number;
  instruction: number;
  opcode: string;
};

export type DisputeView = {
  disputeId: string;
  jobId: string;
  solver: string;
  challenger: string;
  /** Level and range the game stands at now. */
  level: string;
  where: string;
  moves: DisputeMoveView[];
  /** The TypeScript referee's ruling replayed from the chain's moves, and the contract's own (from DisputeRuled). */
  ruling?: RulingView;
  onChain?: { loser: string; at: string; winner: string };
  /** Why the moves could not be decoded (no spec for the job on this node), if so. */
  note?: string;
};

export type BalanceView = { role: string; address: string; balance: string; stake: string; registered: boolean };

export type LossView = { node: string; jobId: string; steps: number[]; loss: number[] };

/** One node's SAPO round (a line of its sapo-metrics.jsonl): the reward and accuracy of its own completions. */
export type SwarmRoundView = { round: number; node: string; reward: number; accuracy: number; rolloutsIn: number; rolloutsOut: number; rejected: number; dropped: number };

/** The swarm rounds this node has seen, and the metrics file they come from. */
export type SwarmView = { source?: string; rounds: SwarmRoundView[] };

export type LogView = { at: number; node: string; kind: 'log' | 'tx' | 'model' | 'refused' | 'unverified'; text: string };

export type DashboardState = {
  node: NodeView;
  peers: PeerInfoView[];
  chain: ChainView | null;
  jobs: JobView[];
  disputes: DisputeView[];
  balances: { accounts: BalanceView[]; totalSupply?: string };
  loss: LossView[];
  swarm: SwarmView;
  logs: LogView[];
};

/** The parts of the state that have an endpoint of their own: /api/<part>. */
export const STATE_PARTS = ['node', 'peers', 'chain', 'jobs', 'disputes', 'balances', 'loss', 'swarm', 'logs'] as const;
