/**
 * The nodes of one process of the scale simulation (bench/lib/scale.ts), and how the simulation talks to them. A
 * ScaleHost starts and stops real mycel nodes (startNode: libp2p on TCP over 127.0.0.1, the market's announcement
 * topic, the probe topic) by index, publishes probes, and adds and fetches blobs. The simulation spreads its nodes over
 * a few processes (`processes`: this one and child processes, scale-shard.ts), since one event loop cannot hold 100
 * nodes on this machine: a Shard is the same set of calls, made directly on this process's ScaleHost or sent to a
 * child's over its IPC channel. Probe receipts carry the wall clock (performance.timeOrigin + performance.now(), one
 * machine's clock for every process), so latencies compare across processes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { z } from 'zod';
import type { NodeConfig, NodeEvent } from '../../src/node/context.js';
import { bootstrapAddr, getBlob, putBlob } from '../../src/node/p2p.js';
import { startNode, type RunningNode } from '../../src/node/run.js';

/**
 * How a simulated node keeps its network small: no NAT traversal (every node is on loopback), and it dials peers it
 * discovers only up to 6 connections (gossipsub's mesh degree) instead of 20, and above 12 closes its least valued
 * connections that are more than 15 s old down to 9 (src/p2p/trim.ts), so that a node that restarts finds room. At
 * 20 (measured with 24 nodes) a node's DHT lookups connected it to nearly every other node, and each connection costs
 * a Noise handshake, identify, pings, DHT and gossip heartbeats in the event loop of all the nodes. No connection monitor
 * (createHost's connectionMonitor): its ping timeouts under load cut healthy connections; and 30 s for a dial and its
 * handshakes instead of 10 s, for the same reason (createHost's dialTimeoutMs).
 */
export const SIM_P2P = { nat: false, autoDialTarget: 6, maxConnections: 12, connectionMonitor: false, dialTimeoutMs: 30_000 } as const;
export const PROBE_TOPIC = 'mycel/sim/probe/1';
const PROBE = { probe: z.object({ id: z.string().max(32) }).strict() };

/** Wall-clock milliseconds with sub-millisecond resolution, the same clock in every process of the machine. */
export const wallMs = () => performance.timeOrigin + performance.now();

export type StartSpec = { index: number; config: NodeConfig };
export type HostStats = { cpuMicros: number; connectionsOpened: number; connectionsPruned: number; connectionsTrimmed: number; connectionsReopened: number; loopP99Ms: number };
/** A connection opened to a peer within this long of its last disconnect from the same node counts as reopened. */
const REOPEN_MS = 20_000;
export type HostEvent = { type: 'probe'; index: number; id: string; at: number } | { type: 'log'; text: string };

export class ScaleHost {
  private readonly nodes = new Map<number, RunningNode>();
  private connectionsOpened = 0;
  private connectionsPruned = 0;
  private connectionsReopened = 0;
  /** Connections trimmed by nodes since stopped (a running node's own count is read from it). */
  private trimmedByStopped = 0;
  private readonly loop = monitorEventLoopDelay({ resolution: 20 });

  constructor(private readonly onEvent: (e: HostEvent) => void) {
    this.loop.enable();
  }

  /** Starts node `index` (the probe topic joined); returns the address other nodes bootstrap from. */
  async start({ index, config }: StartSpec): Promise<string> {
    const emit = (e: NodeEvent) => {
      if (e.type === 'log' && /could not|rejected|not claimed|NOT VERIFIED|cannot/.test(e.text)) this.onEvent({ type: 'log', text: `${e.node}: ${e.text}` });
    };
    const up = await startNode(config, emit, SIM_P2P);
    this.nodes.set(index, up);
    // Reopened: connected again to a peer that left this node less than REOPEN_MS ago, by either end (trimmed peers
    // redialled were the 50-node connection storm).
    const leftAt = new Map<string, number>();
    up.p2p.host.addEventListener('peer:disconnect', (e) => void leftAt.set(e.detail.toString(), Date.now()));
    up.p2p.host.addEventListener('connection:open', (e) => {
      this.connectionsOpened++;
      const left = leftAt.get(e.detail.remotePeer.toString());
      if (left !== undefined && Date.now() - left < REOPEN_MS) this.connectionsReopened++;
    });
    up.p2p.host.addEventListener('connection:prune', (e) => (this.connectionsPruned += e.detail.length));
    up.p2p.topic(PROBE_TOPIC, PROBE).subscribe(({ body }) => this.onEvent({ type: 'probe', index, id: body.id, at: wallMs() }));
    return bootstrapAddr(up.p2p);
  }

  async stop(index: number): Promise<void> {
    const up = this.nodes.get(index);
    this.nodes.delete(index);
    this.trimmedByStopped += up?.p2p.connectionsTrimmed ?? 0;
    await up?.stop();
  }

  /** Whether the node has peers in its gossip mesh of the probe topic (it can publish and receive). */
  meshed(index: number): boolean {
    const up = this.nodes.get(index);
    return !!up && (up.p2p.host.services.pubsub as unknown as { getMeshPeers(topic: string): string[] }).getMeshPeers(PROBE_TOPIC).length > 0;
  }

  connections(index: number): number {
    return this.nodes.get(index)?.p2p.host.getConnections().length ?? 0;
  }

  /** Publishes probe `id` from node `index`; returns how many peers it was sent to. */
  async publish(index: number, id: string): Promise<number> {
    return this.node(index).p2p.topic(PROBE_TOPIC, PROBE).publish('probe', { id });
  }

  /** Adds `bytes` random bytes to node `index`'s blob store and announces them on the DHT; returns the CID. */
  async put(index: number, bytes: number, file: string): Promise<string> {
    return putBlob(this.node(index).p2p, file, randomBytes(bytes));
  }

  /** Fetches a blob by CID into node `index`'s store (from `providers` first, else through the DHT). */
  async fetch(index: number, cid: string, timeoutMs: number, providers?: string[]): Promise<void> {
    const up = this.node(index);
    await getBlob(up.p2p, cid, join(up.dataDir, 'tmp'), { signal: AbortSignal.timeout(timeoutMs), ...(providers ? { providers } : {}) });
  }

  peerId(index: number): string {
    return this.node(index).p2p.peerId.toString();
  }

  stats(): HostStats {
    const cpu = process.cpuUsage();
    const connectionsTrimmed = this.trimmedByStopped + [...this.nodes.values()].reduce((sum, up) => sum + up.p2p.connectionsTrimmed, 0);
    return { cpuMicros: cpu.user + cpu.system, connectionsOpened: this.connectionsOpened, connectionsPruned: this.connectionsPruned, connectionsTrimmed, connectionsReopened: this.connectionsReopened, loopP99Ms: this.loop.percentile(99) / 1e6 };
  }

  /** The submitter's node, for the chain roles that run in this process. */
  running(index: number): RunningNode {
    return this.node(index);
  }

  async close(): Promise<void> {
    this.loop.disable();
    await Promise.all([...this.nodes.keys()].map((i) => this.stop(i)));
  }

  private node(index: number): RunningNode {
    const up = this.nodes.get(index);
    if (!up) throw new Error(`node ${index} is not up in this process`);
    return up;
  }
}

/** The calls a shard answers (ScaleHost's, by name). */
export type ShardMethods = Pick<ScaleHost, 'start' | 'stop' | 'meshed' | 'connections' | 'publish' | 'put' | 'fetch' | 'peerId' | 'stats' | 'close'>;
export type Shard = { [K in keyof ShardMethods]: (...args: Parameters<ShardMethods[K]>) => Promise<Awaited<ReturnType<ShardMethods[K]>>> } & { kill(): void };

/** This process's own nodes. */
export function localShard(host: ScaleHost): Shard {
  const call = <K extends keyof ShardMethods>(k: K) => (async (...args: unknown[]) => (host[k] as (...a: unknown[]) => unknown)(...args)) as Shard[K];
  return {
    start: call('start'), stop: call('stop'), meshed: call('meshed'), connections: call('connections'), publish: call('publish'),
    put: call('put'), fetch: call('fetch'), peerId: call('peerId'), stats: call('stats'), close: call('close'), kill: () => {},
  };
}

/**
 * A child process holding nodes (scale-shard.ts), forked with the IPC channel; 'advanced' serialization carries the
 * configs' bigints. `onEvent` gets its probe receipts and log lines. The child ends when its channel closes.
 */
export function childShard(onEvent: (e: HostEvent) => void): Shard {
  const fromTs = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromTs ? './scale-shard.ts' : './scale-shard.js', import.meta.url));
  const child: ChildProcess = fork(entry, [], { execArgv: fromTs ? ['--import', 'tsx'] : [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  let exited: Error | undefined;
  child.on('message', (m: { id?: number; result?: unknown; error?: string; event?: HostEvent }) => {
    if (m.event) return onEvent(m.event);
    const p = pending.get(m.id!);
    pending.delete(m.id!);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });
  child.on('exit', (code, signal) => {
    exited = new Error(`a scale shard process exited (${signal ?? `code ${code}`})`);
    for (const p of pending.values()) p.reject(exited);
    pending.clear();
  });
  const call = <K extends keyof ShardMethods>(method: K) => ((...args: unknown[]) => new Promise((resolve, reject) => {
    if (exited) return reject(exited);
    const id = next++;
    pending.set(id, { resolve, reject });
    child.send({ id, method, args });
  })) as Shard[K];
  return {
    start: call('start'), stop: call('stop'), meshed: call('meshed'), connections: call('connections'), publish: call('publish'),
    put: call('put'), fetch: call('fetch'), peerId: call('peerId'), stats: call('stats'),
    close: async () => {
      if (exited) return;
      await call('close')().catch(() => undefined);
      child.disconnect();
    },
    kill: () => child.kill('SIGKILL'),
  };
}
