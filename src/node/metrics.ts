/**
 * A node's Prometheus metrics (prom-client): peers, gossip and blob traffic, the jobs it takes part in by role and
 * phase, open disputes and dispute moves, its bond, locked stake and earnings, transactions and gas, training
 * progress (tokens/s, loss) and swarm rounds, beside Node's own process metrics (memory, CPU, event loop). Every
 * node has the libp2p and event figures; the chain-side ones (jobs, disputes, stake, earnings, balance) are there
 * where the node knows its market (role nodes), read at scrape time through chain/wallet.ts (at most every
 * CHAIN_CACHE_MS). Served as text on GET /metrics by `serveMetrics`, a server of its own (the dashboard's JSON
 * endpoints are another module's). Used by `mycel node run`, `node start`, the devnet's node processes,
 * `swarm start` and `swarm train`'s workers.
 */
import { createServer, type Server } from 'node:http';
import { formatUnits, type PublicClient } from 'viem';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { readWallet, type WalletReport } from '../chain/wallet.js';
import type { MycelNode } from '../p2p/node.js';
import type { Contracts, NodeEvent } from './context.js';

/** The least time between two chain reads for a scrape (a scrape every few seconds must not flood the RPC). */
export const CHAIN_CACHE_MS = 5_000;

export type MetricsSource = {
  name: string;
  p2p: MycelNode;
  /** The node's account on a market: its jobs, disputes, stake and earnings are read from the chain. */
  chain?: { address: `0x${string}`; publicClient: PublicClient; contracts: Contracts };
};

/** A swarm round as a node reports it (SAPO: reward and accuracy; DiLoCo: loss and bytes sent). */
export type RoundObservation = { round: number; loss?: number; reward?: number; accuracy?: number; rolloutsIn?: number; rolloutsOut?: number; bytesSent?: number; dropped?: number };

export type NodeMetrics = {
  registry: Registry;
  /** Feed every NodeEvent of the node (tx, train, ...) here. */
  observe(event: NodeEvent): void;
  /** Feed each swarm round here. */
  round(r: RoundObservation): void;
};

const tokens = (v: bigint) => Number(formatUnits(v, 18));
/** Jobs whose training series (tokens/s, loss, step) are kept: a node trains or re-executes a few at a time. */
export const TRAIN_JOBS_SHOWN = 4;

export function createNodeMetrics(source: MetricsSource): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: source.name });
  collectDefaultMetrics({ register: registry, prefix: 'mycel_' });

  let wallet: { at: number; report: Promise<WalletReport> } | undefined;
  const chain = (c: NonNullable<MetricsSource['chain']>) => {
    if (!wallet || performance.now() - wallet.at > CHAIN_CACHE_MS) {
      const report = readWallet(c.publicClient, { contracts: c.contracts, address: c.address });
      report.catch(() => (wallet = undefined)); // a failed read is retried at the next scrape
      wallet = { at: performance.now(), report };
    }
    return wallet.report;
  };
  // A chain that does not answer leaves the chain gauges out of this scrape; the others are still served.
  const chainOrSkip = async () => (source.chain ? chain(source.chain).catch(() => undefined) : undefined);

  new Gauge({ name: 'mycel_peers', help: 'libp2p connections open now', registers: [registry], collect() {
    this.set(source.p2p.host.getConnections().length);
  } });
  new Gauge({ name: 'mycel_gossip_messages', help: 'gossip messages received, by topic and verdict (accepted, rejected, ignored)', labelNames: ['topic', 'result'], registers: [registry], collect() {
    for (const [topic, stats] of Object.entries(source.p2p.gossipStats())) for (const [result, n] of Object.entries(stats)) this.set({ topic, result }, n);
  } });
  new Gauge({ name: 'mycel_blob_bytes', help: 'blob bytes fetched from peers, published, and served to peers', labelNames: ['direction'], registers: [registry], collect() {
    this.set({ direction: 'fetched' }, source.p2p.blobBytes.fetched);
    this.set({ direction: 'published' }, source.p2p.blobBytes.published);
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
  /** The jobs with training series, the most recently reported last. */
  const trainedJobs = new Set<string>();
  const rounds = new Gauge({ name: 'mycel_swarm_round', help: 'the last swarm round this node finished', registers: [registry] });
  const roundFigures = new Gauge({ name: 'mycel_swarm_round_value', help: 'figures of the last swarm round: loss, reward, accuracy (SAPO), dropped peers', labelNames: ['figure'], registers: [registry] });
  const rollouts = new Counter({ name: 'mycel_swarm_rollouts_total', help: 'SAPO rollouts received from peers (in) and sent (out)', labelNames: ['direction'], registers: [registry] });
  const roundBytes = new Counter({ name: 'mycel_swarm_bytes_sent_total', help: 'bytes this swarm worker sent (DiLoCo pseudo-gradients)', registers: [registry] });

  return {
    registry,
    observe(e) {
      if (e.type === 'tx') {
        txs.inc({ action: e.action });
        gas.inc({ action: e.action }, Number(e.gas));
        if (e.action.startsWith('dispute ')) moves.inc();
      } else if (e.type === 'train') {
        // The most recently reported jobs only: a series per job ever trained grew with every job a node ran.
        trainedJobs.delete(e.jobId);
        trainedJobs.add(e.jobId);
        if (trainedJobs.size > TRAIN_JOBS_SHOWN) {
          const oldest = trainedJobs.values().next().value!;
          trainedJobs.delete(oldest);
          for (const gauge of [trainTps, trainLoss, trainStep]) gauge.remove({ job: oldest });
        }
        trainTps.set({ job: e.jobId }, e.tokensPerSecond);
        trainLoss.set({ job: e.jobId }, e.loss);
        trainStep.set({ job: e.jobId }, e.step);
      }
    },
    round(r) {
      rounds.set(r.round);
      for (const figure of ['loss', 'reward', 'accuracy', 'dropped'] as const) {
        const v = r[figure];
        if (v !== undefined && Number.isFinite(v)) roundFigures.set({ figure }, v);
      }
      if (r.rolloutsIn) rollouts.inc({ direction: 'in' }, r.rolloutsIn);
      if (r.rolloutsOut) rollouts.inc({ direction: 'out' }, r.rolloutsOut);
      if (r.bytesSent) roundBytes.inc(r.bytesSent);
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
