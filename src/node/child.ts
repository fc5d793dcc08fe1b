/**
 * A node as its own process, as the devnet starts it: `node child.js` with MYCEL_NODE (JSON: the NodeConfig, the
 * role and its options) in the environment. Events go to stdout as JSON lines, the role's result last as
 * {"type":"done"}; SIGTERM or SIGINT ends it at once. It starts a libp2p node (127.0.0.1, a random port)
 * bootstrapped from `bootstrap`, and stops it before it exits. It also logs every event to `<dataDir>/logs` (log.ts).
 */
import { join } from 'node:path';
import type { NodeConfig } from './context.js';
import { runSolver, runVerifier } from './roles.js';
import { startNode } from './run.js';
import { openNodeLog } from './log.js';
import { createNodeMetrics, serveMetrics, type NodeMetrics } from './metrics.js';

/** `metricsPort`: serve Prometheus metrics there (0: any free port; the URL is logged). */
export type ChildSpec = Omit<NodeConfig, 'fromBlock'> & { fromBlock: string; role: 'solver' | 'verifier'; cheatAt?: number; maxJobs?: number; metricsPort?: number };

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

async function main() {
  const spec = JSON.parse(process.env.MYCEL_NODE ?? 'null') as ChildSpec | null;
  if (!spec) throw new Error('MYCEL_NODE is not set: this entry is started by `mycel devnet`.');
  // SIGTERM and SIGINT keep their default action: the process ends at once, even in the middle of a training step.
  const log = await openNodeLog(join(spec.dataDir, 'logs'), spec.name);
  let metrics: NodeMetrics | undefined;
  const node = await startNode({ ...spec, fromBlock: BigInt(spec.fromBlock) }, (e) => {
    metrics?.observe(e);
    log.event(e);
    process.stdout.write(`${json(e)}\n`);
  });
  if (spec.metricsPort !== undefined) metrics = createNodeMetrics({ name: spec.name, p2p: node.p2p, chain: { address: node.address, publicClient: node.publicClient, contracts: spec.contracts } });
  const served = metrics && (await serveMetrics(metrics.registry, { port: spec.metricsPort }));
  node.log(`libp2p node ${node.p2p.peerId.toString().slice(-8)} on ${node.p2p.multiaddrs()[0] ?? '?'}${served ? `; metrics at ${served.url}` : ''}`);
  const opts = spec.maxJobs === undefined ? {} : { maxJobs: spec.maxJobs };
  let result;
  try {
    result = spec.role === 'solver'
      ? await runSolver(node, { ...opts, ...(spec.cheatAt === undefined ? {} : { cheatAt: spec.cheatAt }) })
      : await runVerifier(node, opts);
  } finally {
    await served?.close();
    await node.stop();
    await log.close();
  }
  process.stdout.write(`${json({ type: 'done', node: spec.name, result })}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
