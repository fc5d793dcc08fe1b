// Every kind of node serves its Prometheus metrics, scraped over HTTP as Prometheus would: a network node (mycel node
// start), a devnet node process (child.ts, as mycel devnet starts it) and an RL swarm node (mycel swarm start).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBlockNumber } from 'viem/actions';
import type { NodeEvent } from '../../src/node/context.js';
import { spawnRole } from '../../src/node/spawn.js';
import { MYCEL_MAIN } from '../cli/spawn-mycel.js';
import { rules } from '../verify/game-helpers.js';
import { setupGameChain, type GameChain } from '../chain/dispute-replay.js';

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'mycel-metrics-all-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

const value = (text: string, metric: string, labels: Record<string, string> = {}) => {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};
const scrape = async (url: string) => (await fetch(url)).text();

/** `mycel ...args --json` in the background; `until` picks the JSON line to wait for. */
function start(args: string[]): { child: ChildProcess; line(until: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MYCEL_MAIN, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiting: { until: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const e = JSON.parse(l) as Record<string, unknown>;
    lines.push(e);
    for (const w of waiting) if (w.until(e)) w.resolve(e);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    exited,
    line: (until) => new Promise((resolve, reject) => {
      const seen = lines.find(until);
      if (seen) return resolve(seen);
      waiting.push({ until, resolve });
      void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    }),
  };
}

describe('metrics on every node', { timeout: 180_000 }, () => {
  it('mycel node start --metrics-port: peers, gossip, blob traffic, process', async () => {
    const node = start(['node', 'start', '--port=0', '--ws-port=-1', '--host', '127.0.0.1', '--dashboard-port=-1', '--metrics-port', '0', '--data-dir', join(dir, 'node')]);
    try {
      const info = await node.line((e) => typeof e.peerId === 'string');
      const text = await scrape(info.metrics as string);
      expect(value(text, 'mycel_peers', { node: 'node' })).toBe(0);
      expect(value(text, 'mycel_blob_bytes', { direction: 'served' })).toBe(0);
      expect(value(text, 'mycel_process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      node.child.kill('SIGTERM');
      expect(await node.exited).toBe(0);
    }
  });

  it('mycel swarm start --metrics-port: its rounds (reward, accuracy, rollouts) beside its libp2p side', async () => {
    const swarm = start(['swarm', 'start', '--model', 'micro', '--pretrain-steps', '0', '--split', '1/0', '--completions', '2', '--rounds', '50', '--round-ms', '4000', '--genesis', String(Date.now() + 3000), '--port', '0', '--host', '127.0.0.1', '--metrics-port', '0', '--data-dir', join(dir, 'swarm')]);
    try {
      const ready = await swarm.line((e) => e.type === 'ready');
      const round = await swarm.line((e) => e.type === 'round'); // a busy machine may skip the first rounds
      // The next round waits its whole 4 s for peers that never come: the endpoint is up meanwhile.
      const text = await scrape(ready.metrics as string);
      expect(value(text, 'mycel_swarm_round', { node: 'swarm' })).toBe(round.round);
      expect(value(text, 'mycel_swarm_round_value', { figure: 'accuracy' })).toBeGreaterThanOrEqual(0);
      expect(value(text, 'mycel_swarm_rollouts_total', { direction: 'out' })).toBe(1);
      expect(value(text, 'mycel_gossip_messages', { result: 'accepted' })).toBe(0); // its rollout topic, alone
      expect(value(text, 'mycel_peers')).toBe(0);
    } finally {
      swarm.child.kill('SIGTERM');
      await swarm.exited;
    }
  });

  describe('a devnet node process', () => {
    let c: GameChain;
    beforeAll(async () => void (c = await setupGameChain(rules)), 120_000);
    afterAll(() => c?.anvil.stop());

    it('serves its chain figures (bond, balance) and libp2p side on the port it logs', async () => {
      const contracts = { token: c.token, registry: c.registry, market: c.market, disputeGame: c.game };
      const events: NodeEvent[] = [];
      const p = spawnRole({ rpcUrl: c.anvil.rpcUrl, chainId: c.anvil.chainId, privateKey: c.anvil.accounts[3].privateKey, contracts, dataDir: join(dir, 'verifier'), name: 'verifier', bootstrap: [], fromBlock: (await getBlockNumber(c.publicClient, { cacheTime: 0 })).toString(), confirmations: 0, role: 'verifier', metricsPort: 0 }, (e) => events.push(e));
      p.result.catch(() => undefined);
      try {
        const end = Date.now() + 90_000;
        let url: string | undefined;
        while (!url && Date.now() < end) {
          url = events.flatMap((e) => (e.type === 'log' ? /metrics at (\S+)/.exec(e.text)?.[1] ?? [] : []))[0];
          await new Promise((r) => setTimeout(r, 100));
        }
        const text = await scrape(url!);
        expect(value(text, 'mycel_balance_tokens', { node: 'verifier' })).toEqual(expect.any(Number));
        expect(value(text, 'mycel_stake_tokens', { kind: 'bond' })).toEqual(expect.any(Number));
        expect(value(text, 'mycel_disputes_open')).toBe(0);
        expect(value(text, 'mycel_peers')).toBe(0);
      } finally {
        p.stop();
      }
    });
  });
});
