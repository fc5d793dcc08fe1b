/**
 * A node's Prometheus metrics (prom-client): peers, gossip and blob traffic, the jobs it takes part in by role and
 * phase, open disputes and dispute moves, its bond, locked stake and earnings, transactions and gas, and training
 * progress (tokens/s, loss), beside Node's own process metrics (memory, CPU, event loop). Chain-side figures are read
 * at scrape time through chain/wallet.ts (at most every CHAIN_CACHE_MS); the rest comes from the node's events and
 * its libp2p side. Served as text on GET /metrics by `serveMetrics`, a server of its own (the dashboard's JSON
 * endpoints are another module's).
 */
import { createServer, type Server } from 'node:http';
import { formatUnits, type PublicClient } from 'viem';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { readWallet, type WalletReport } from '../chain/wallet.js';
import type { MycelNode } from '../p2p/node.js';
import type { GossipStats } from '../p2p/gossip.js';
import type { Contracts, NodeEvent } from './context.js';
import { blobTraffic } from './p2p.js';

/** The least time between two chain reads for a scrape (a scrape every few seconds must not flood the RPC). */
export const CHAIN_CACHE_MS = 5_000;

export type MetricsSource = {
  name: string;
  address: `0x${string}`;
  publicClient: PublicClient;
  contracts: Contracts;
  p2p: MycelNode;
  /** The gossip topics whose message counts are exported, by label. */
  gossip: () => Record<string, GossipStats>;
};

export type NodeMetrics = {
  registry: Registry;
  /** Feed every NodeEvent of the node (tx, train, ...) here. */
  observe(event: NodeEvent): void;
};

const tokens = (v: bigint) => Number(formatUnits(v, 18));

export function createNodeMetrics(source: MetricsSource): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: source.name });
  collectDefaultMetrics({ register: registry, prefix: 'mycel_' });

  let wallet: { at: number; report: Promise<WalletReport> } | undefined;
  const chain = () => {
    if (!wallet || performance.now() - wallet.at > CHAIN_CACHE_MS) {
      const report = readWallet(source.publicClient, { contracts: source.contracts, address: source.address });
      report.catch(() => (wallet = undefined)); // a failed read is retried at the next scrape
      wallet = { at: performance.now(), report };
    }
    return wallet.report;
  };
  // A chain that does not answer leaves the chain gauges out of this scrape; the others are still served.
  const chainOrSkip = () => chain().catch(() => undefined);

  new Gauge({ name: 'mycel_peers', help: 'libp2p connections open now', registers: [registry], collect() {
    this.set(source.p2p.host.getConnections().length);
  } });
  new Gauge({ name: 'mycel_gossip_messages', help: 'gossip messages received, by topic and verdict (accepted, rejected, ignored)', labelNames: ['topic', 'result'], registers: [registry], collect() {
    for (const [topic, stats] of Object.entries(source.gossip())) for (const [result, n] of Object.entries(stats)) this.set({ topic, result }, n);
  } });
  new Gauge({ name: 'mycel_blob_bytes', help: 'blob bytes fetched from peers, published, and served to peers', labelNames: ['direction'], registers: [registry], collect() {
    const t = blobTraffic(source.p2p);
    this.set({ direction: 'fetched' }, t.fetched);
    this.set({ direction: 'published' }, t.published);
    this.set({ direction: 'served' }, source.p2p.blobBytesServed);
  } });
  new Gauge({ name: 'mycel_jobs', help: 'jobs this node takes part in, by role and phase (read from the chain)', labelNames: ['role', 'phase'], registers: [registry], async collect() {
    const r = await chainOrSkip();
    if (!r) return;
    this.reset();
    for (const j of r.jobs) this.inc({ role: j.role, phase: j.phase });
  } });
  new Gauge({ name: 'mycel_disputes_open', help: 'jobs of this node in dispute now', registers: [registry], async collect() {
    const r = await chainOrSkip();
    if (r) this.set(r.jobs.filter((j) => j.phase === 'Disputed').length);
  } });
  new Gauge({ name: 'mycel_stake_tokens', help: 'tokens at stake: the node bond in the registry, and stakes and rewards locked in the market for open jobs', labelNames: ['kind'], registers: [registry], async collect() {
    const r = await chainOrSkip();
    if (!r) return;
    this.set({ kind: 'bond' }, tokens(r.node.stake));
    this.set({ kind: 'locked' }, tokens(r.locked));
  } });
  new Gauge({ name: 'mycel_earned_tokens', help: 'tokens gained (+) or lost (-) over this node\'s settled jobs', registers: [registry], async collect() {
    const r = await chainOrSkip();
    if (r) this.set(tokens(r.earned));
  } });
  new Gauge({ name: 'mycel_balance_tokens', help: 'MYC held by this node\'s account', registers: [registry], async collect() {
    const r = await chainOrSkip();
    if (r) this.set(tokens(r.tokens));
  } });

  const txs = new Counter({ name: 'mycel_transactions_total', help: 'transactions this node sent, by action', labelNames: ['action'], registers: [registry] });
  const gas = new Counter({ name: 'mycel_gas_total', help: 'gas used by this node\'s transactions, by action', labelNames: ['action'], registers: [registry] });
  const moves = new Counter({ name: 'mycel_dispute_moves_total', help: 'dispute moves this node sent on chain', registers: [registry] });
  const trainTps = new Gauge({ name: 'mycel_train_tokens_per_second', help: 'training throughput of the job being trained or re-executed', labelNames: ['job'], registers: [registry] });
  const trainLoss = new Gauge({ name: 'mycel_train_loss', help: 'training loss at the last reported step', labelNames: ['job'], registers: [registry] });
  const trainStep = new Gauge({ name: 'mycel_train_step', help: 'last reported training step', labelNames: ['job'], registers: [registry] });

  return {
    registry,
    observe(e) {
      if (e.type === 'tx') {
        txs.inc({ action: e.action });
        gas.inc({ action: e.action }, Number(e.gas));
        if (e.action.startsWith('dispute ')) moves.inc();
      } else if (e.type === 'train') {
        trainTps.set({ job: e.jobId }, e.tokensPerSecond);
        trainLoss.set({ job: e.jobId }, e.loss);
        trainStep.set({ job: e.jobId }, e.step);
      }
    },
  };
}

/** Serves the registry on GET /metrics at host:port (port 0: any free port); anything else is a 404. */
export async function serveMetrics(registry: Registry, { host = '127.0.0.1', port = 0 }: { host?: string; port?: number } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: the metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${host}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
