/**
 * What every role needs: its own clients for one RPC URL and key, the deployed contracts, its data dir (its train
 * store) and the exchange dir shared with the other nodes (job specs, published run records, dispute move logs,
 * models). A node with a libp2p node (`p2p`) gets job specs by CID and publishes its model as a blob over libp2p;
 * the shared dir still carries the published step hashes and the dispute move logs (and everything for a node
 * without libp2p, as in `inProcess` runs).
 */
import { mkdir, readFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Address, Hex, PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getBlock } from 'viem/actions';
import { createClients } from '../chain/clients.js';
import type { MycelWalletClient } from '../chain/actions/send.js';
import { writeAtomic } from '../train/index.js';
import type { MycelNode } from '../p2p/node.js';

export type Contracts = { token: Address; registry: Address; market: Address; disputeGame: Address };

export type NodeConfig = {
  rpcUrl: string;
  chainId: number;
  privateKey: Hex;
  contracts: Contracts;
  /** This node's own store (checkpoints, run records). */
  dataDir: string;
  /** The directory shared by every node of the devnet. */
  sharedDir: string;
  /** A short name for progress lines ("solver-1"). */
  name: string;
  /** libp2p multiaddrs to bootstrap from: set, the node process starts a libp2p node. */
  bootstrap?: string[];
  /** Blob CIDs of job specs, by lowercase spec hash (the submitter put them over libp2p). */
  specCids?: Record<string, string>;
};

/** What a node reports: progress lines and the gas of each transaction it sent. */
export type NodeEvent =
  | { type: 'log'; node: string; text: string }
  | { type: 'tx'; node: string; action: string; gas: string; jobId?: string }
  | { type: 'model'; node: string; jobId: string; path: string; root: string; cid?: string };

export type Emit = (event: NodeEvent) => void;

export type NodeContext = NodeConfig & {
  address: Address;
  wallet: MycelWalletClient;
  publicClient: PublicClient;
  emit: Emit;
  /** This node's libp2p node, when it has one (specs and models then move as blobs). */
  p2p?: MycelNode;
  log(text: string): void;
  tx(action: string, gas: bigint, jobId?: bigint): void;
};

export function nodeContext(config: NodeConfig, emit: Emit): NodeContext {
  const account = privateKeyToAccount(config.privateKey);
  const { walletClient, publicClient } = createClients({ rpcUrl: config.rpcUrl, chainId: config.chainId, account });
  return {
    ...config,
    address: account.address,
    wallet: walletClient as MycelWalletClient,
    publicClient: publicClient as PublicClient,
    emit,
    log: (text) => emit({ type: 'log', node: config.name, text }),
    tx: (action, gas, jobId) => emit({ type: 'tx', node: config.name, action, gas: gas.toString(), ...(jobId === undefined ? {} : { jobId: jobId.toString() }) }),
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

/** The exchange directory: job specs by spec hash, run records by job and party, dispute move logs. */
export class SharedDir {
  constructor(readonly dir: string) {}
  specPath = (specHash: Hex) => join(this.dir, 'specs', `${specHash.toLowerCase()}.json`);
  runPath = (jobId: bigint, who: Address) => join(this.dir, 'runs', jobId.toString(), `${who.toLowerCase()}.json`);
  movesPath = (disputeId: bigint) => join(this.dir, 'disputes', `${disputeId}.jsonl`);
  modelPath = (jobId: bigint) => join(this.dir, 'models', `job-${jobId}.safetensors`);

  async put(path: string, text: string | Uint8Array): Promise<void> {
    await writeAtomic(path, typeof text === 'string' ? new TextEncoder().encode(text) : text);
  }
  async get(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
  async append(path: string, line: string): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true });
    await appendFile(path, `${line}\n`);
  }
}

/** Published by a party for its opponent: the step hashes of its run and its commitment. */
export type PublishedRun = { stepHashes: string[]; commitment: string };

/** The chain's clock: the latest block's timestamp (a dev chain that mines only on demand needs a block ticker). */
export async function chainNow(ctx: { publicClient: PublicClient }): Promise<bigint> {
  return (await getBlock(ctx.publicClient)).timestamp;
}
