/**
 * What every role needs: its own clients for one RPC URL and key, the deployed contracts, its data dir (its train
 * store and blobs) and its libp2p node. Nodes share nothing else: job specs, step hashes and models move as libp2p
 * blobs whose CIDs are announced on the market's gossip topic (announce.ts), and everything else is on chain.
 */
import type { Address, Hex, PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getBlock } from 'viem/actions';
import { createClients } from '../chain/clients.js';
import type { MycelWalletClient } from '../chain/actions/send.js';
import type { MycelNode } from '../p2p/node.js';
import type { Announcements } from './announce.js';
import type { StepReport } from '../train/index.js';

export type Contracts = { token: Address; registry: Address; market: Address; disputeGame: Address };

export type NodeConfig = {
  rpcUrl: string;
  chainId: number;
  privateKey: Hex;
  contracts: Contracts;
  /** This node's own store (checkpoints, run records, blobs). */
  dataDir: string;
  /** A short name for progress lines ("solver-1"). */
  name: string;
  /** libp2p multiaddrs to bootstrap from (none: this node founds the network). */
  bootstrap: string[];
  /**
   * The first block whose market events the node acts on (events before it are history to this node), at its first
   * start: a restarted node goes on from where it stopped reading (cursor.ts), unless `fromBlockOverridesCursor`.
   */
  fromBlock: bigint;
  /** Read from `fromBlock` even where the node's store says where it stopped (`mycel node run --from-block`). */
  fromBlockOverridesCursor?: boolean;
  /** Blocks on top of an event's block before the node acts on it (0 on a dev chain; more where reorgs happen). */
  confirmations: number;
};

/** What a node reports: progress lines and the gas of each transaction it sent. */
export type NodeEvent =
  | { type: 'log'; node: string; text: string }
  | { type: 'tx'; node: string; action: string; gas: string; jobId?: string }
  | { type: 'model'; node: string; jobId: string; path: string; root: string; cid: string }
  /** Training progress of a job this node trains or re-executes (at most one a second; metrics.ts reads it). */
  | { type: 'train'; node: string; jobId: string; step: number; steps: number; loss: number; tokensPerSecond: number }
  /** A job this node will not take: its memory estimate is above the node's limit (said before any stake). */
  | { type: 'refused'; node: string; jobId: string; reason: string }
  /** A job this node will never call verified: its dispute rules on chain are not its spec's (roles.ts checkRules). */
  | { type: 'unverified'; node: string; jobId: string; reason: string }
  /** A training step of a job this node runs (its loss, for the dashboard's curves). */
  | { type: 'step'; node: string; jobId: string; step: number; loss: number }
  /** A verifier re-executed a committed job and its root agrees: this node will not challenge it (the only "verified by re-execution"). */
  | { type: 'agreed'; node: string; jobId: string };

export type Emit = (event: NodeEvent) => void;

export type NodeContext = NodeConfig & {
  address: Address;
  wallet: MycelWalletClient;
  publicClient: PublicClient;
  emit: Emit;
  p2p: MycelNode;
  /** The market's gossip topic: what this node announces (CIDs of specs, step hashes, models) and has heard. */
  announcements: Announcements;
  log(text: string): void;
  tx(action: string, gas: bigint, jobId?: bigint): void;
};

export function nodeContext(config: NodeConfig, emit: Emit, net: { p2p: MycelNode; announcements: Announcements }): NodeContext {
  const account = privateKeyToAccount(config.privateKey);
  const { walletClient, publicClient } = createClients({ rpcUrl: config.rpcUrl, chainId: config.chainId, account });
  return {
    ...config,
    ...net,
    address: account.address,
    wallet: walletClient as MycelWalletClient,
    publicClient: publicClient as PublicClient,
    emit,
    log: (text) => emit({ type: 'log', node: config.name, text }),
    tx: (action, gas, jobId) => emit({ type: 'tx', node: config.name, action, gas: gas.toString(), ...(jobId === undefined ? {} : { jobId: jobId.toString() }) }),
  };
}

/** How often a role reports training progress as a `train` event. */
const TRAIN_EVENT_MS = 1_000;

/** A runJob onStep that emits `train` events: at most one every TRAIN_EVENT_MS, and the last step always. */
export function trainEvents(ctx: Pick<NodeContext, 'emit' | 'name'>, jobId: bigint, steps: number): (r: StepReport) => void {
  let last = 0;
  let [tokens, seconds] = [0, 0];
  return (r) => {
    tokens += r.tokens;
    seconds += r.seconds;
    const now = performance.now();
    if (now - last < TRAIN_EVENT_MS && r.state.step < steps) return;
    ctx.emit({ type: 'train', node: ctx.name, jobId: jobId.toString(), step: r.state.step, steps, loss: r.loss, tokensPerSecond: seconds > 0 ? tokens / seconds : 0 });
    [last, tokens, seconds] = [now, 0, 0];
  };
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** The chain's clock: the latest block's timestamp (a dev chain that mines only on demand needs a block ticker). */
export async function chainNow(ctx: { publicClient: PublicClient }): Promise<bigint> {
  return (await getBlock(ctx.publicClient)).timestamp;
}
