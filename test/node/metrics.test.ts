// A node's Prometheus endpoint, scraped over HTTP: figures from its libp2p side, its events and the chain (anvil).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approve, claimJob, postJob } from '../../src/chain/index.js';
import { NodeRegistryAbi } from '../../src/chain/generated/NodeRegistry.js';
import { createNodeMetrics, serveMetrics, TRAIN_JOBS_SHOWN } from '../../src/node/metrics.js';
import { putBlob, startP2p } from '../../src/node/p2p.js';
import { Announcements } from '../../src/node/announce.js';
import type { MycelNode } from '../../src/p2p/node.js';
import { T, call, setPlaceholderRules, setupMycel, type Fixture } from '../chain/mycel-fixture.js';

let f: Fixture;
let dir: string;
let p2p: MycelNode;
beforeAll(async () => {
  f = await setupMycel();
  dir = await mkdtemp(join(tmpdir(), 'mycel-metrics-'));
  p2p = await startP2p({ privateKey: f.anvil.accounts[1].privateKey, dataDir: dir });
}, 60_000);
afterAll(async () => {
  await p2p?.stop();
  await f?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const value = (text: string, metric: string, labels: Record<string, string> = {}) => {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

describe('node metrics', () => {
  it('serve peers, jobs by phase, stake, transactions, dispute moves, training and blob traffic on /metrics', async () => {
    const [submitter, solver] = [f.wallets[0], f.wallets[1]];
    await approve(solver, { token: f.token, spender: f.registry, amount: T(100) });
    await call(solver, f.registry, NodeRegistryAbi, 'register', [T(100), '0x']);
    await approve(solver, { token: f.token, spender: f.market, amount: T(5) });
    await approve(submitter, { token: f.token, spender: f.market, amount: T(25) });
    const { jobId } = await postJob(submitter, { market: f.market, specHash: `0x${'11'.repeat(32)}`, steps: 4n, reward: T(25), stake: T(5), deadlineIn: 3_600n });
    await setPlaceholderRules(submitter, f.market, jobId);
    await claimJob(solver, { market: f.market, jobId });
    await putBlob(p2p, join(dir, 'blob.bin'), new Uint8Array(1234));

    const contracts = { token: f.token, registry: f.registry, market: f.market, disputeGame: f.resolver };
    const announce = Announcements.open(p2p, f.anvil.chainId, f.market);
    const metrics = createNodeMetrics({ name: 'solver', p2p, chain: { address: solver.account.address, publicClient: f.publicClient, contracts } });
    metrics.observe({ type: 'tx', node: 'solver', action: 'claimJob', gas: '90000', jobId: '0' });
    metrics.observe({ type: 'tx', node: 'solver', action: 'dispute bisect', gas: '50000', jobId: '0' });
    metrics.observe({ type: 'train', node: 'solver', jobId: '0', step: 3, steps: 4, loss: 2.5, tokensPerSecond: 1200 });
    const served = await serveMetrics(metrics.registry);
    try {
      const text = await (await fetch(served.url)).text();
      expect(value(text, 'mycel_peers', { node: 'solver' })).toBe(0);
      expect(value(text, 'mycel_jobs', { role: 'solver', phase: 'Claimed' })).toBe(1);
      expect(value(text, 'mycel_stake_tokens', { kind: 'bond' })).toBe(100);
      expect(value(text, 'mycel_stake_tokens', { kind: 'locked' })).toBe(5);
      expect(value(text, 'mycel_disputes_open')).toBe(0);
      expect(value(text, 'mycel_transactions_total', { action: 'claimJob' })).toBe(1);
      expect(value(text, 'mycel_gas_total', { action: 'dispute bisect' })).toBe(50000);
      expect(value(text, 'mycel_dispute_moves_total')).toBe(1);
      expect(value(text, 'mycel_train_loss', { job: '0' })).toBe(2.5);
      expect(value(text, 'mycel_train_tokens_per_second', { job: '0' })).toBe(1200);
      expect(value(text, 'mycel_gossip_messages', { result: 'rejected' })).toBe(0); // the market topic, joined
      announce.close();
      expect(value(text, 'mycel_blob_bytes', { direction: 'published' })).toBe(1234);
      expect(value(text, 'mycel_process_resident_memory_bytes')).toBeGreaterThan(0);
      expect((await fetch(served.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await served.close();
    }
  }, 60_000);

  it('serve a swarm node\'s rounds, without chain figures where the node has no market', async () => {
    const metrics = createNodeMetrics({ name: 'swarm', p2p });
    metrics.round({ round: 3, reward: 0.75, accuracy: 0.5, rolloutsIn: 6, rolloutsOut: 4, dropped: 1, loss: 0.25 });
    metrics.round({ round: 4, loss: 0.2, bytesSent: 4096 });
    const text = await metrics.registry.metrics();
    expect(value(text, 'mycel_swarm_round')).toBe(4);
    expect(value(text, 'mycel_swarm_round_value', { figure: 'reward' })).toBe(0.75);
    expect(value(text, 'mycel_swarm_round_value', { figure: 'loss' })).toBe(0.2);
    expect(value(text, 'mycel_swarm_rollouts_total', { direction: 'in' })).toBe(6);
    expect(value(text, 'mycel_swarm_bytes_sent_total')).toBe(4096);
    expect(value(text, 'mycel_blob_bytes', { direction: 'published' })).toBe(1234);
    expect(text).not.toMatch(/mycel_stake_tokens\{/);
  });

  // A series per job ever trained: a node running for weeks (issue 11's soak) kept three more for every job it ran.
  it('keep training series for the most recent jobs only', async () => {
    const metrics = createNodeMetrics({ name: 'solver', p2p });
    for (let job = 0; job < 50; job++) metrics.observe({ type: 'train', node: 'solver', jobId: String(job), step: 4, steps: 4, loss: job, tokensPerSecond: 100 });
    metrics.observe({ type: 'train', node: 'solver', jobId: '46', step: 4, steps: 4, loss: 46, tokensPerSecond: 100 }); // reported again: kept
    metrics.observe({ type: 'train', node: 'solver', jobId: '50', step: 1, steps: 4, loss: 7, tokensPerSecond: 100 });
    const text = await metrics.registry.metrics();
    const jobs = (metric: string) => text.split('\n').filter((l) => l.startsWith(`${metric}{`)).map((l) => /job="(\d+)"/.exec(l)![1]);
    for (const metric of ['mycel_train_loss', 'mycel_train_step', 'mycel_train_tokens_per_second']) expect(jobs(metric).sort()).toEqual(['46', '48', '49', '50']); // before: 51 series each
    expect(TRAIN_JOBS_SHOWN).toBe(4);
    expect(value(text, 'mycel_train_loss', { job: '50' })).toBe(7);
  });
});
