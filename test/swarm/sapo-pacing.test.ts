/**
 * Pacing with expectPeers (`--peers N`), two SAPO nodes over libp2p in one process: the swarm is paced by
 * its peers and the round clock is only the bound. When every peer is heard, a node goes on to its next
 * round at once, neither waiting for the clock nor skipping rounds when the clock has run further than its
 * rounds; when an expected peer is missing, the clock bounds the round and paces the next.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityFromRaw } from '../../src/p2p/identity.js';
import { MycelNode } from '../../src/p2p/node.js';
import type { SapoNode } from '../../src/swarm/round.js';
import { runSapoNode, type SapoEvent } from '../../src/swarm/sapo-node.js';
import { keyOf, testConfig, testNodes } from './helpers.js';

// A swarm per test: the same rollout twice on one topic would be dropped by gossip as already seen.
const configs = { ahead: testConfig({ swarmId: 'pacing-ahead' }), missing: testConfig({ swarmId: 'pacing-missing' }) };
const config = configs.ahead;
let dir: string;
let p2p: MycelNode[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-sapo-pacing-'));
  const start = (i: number, bootstrap: string[]) => MycelNode.start({ identity: identityFromRaw(keyOf(i)), dataDir: join(dir, `p2p-${i}`), host: '127.0.0.1', tcpPort: 0, wsPort: -1, bootstrap });
  const first = await start(0, []);
  p2p = [first, await start(1, [first.multiaddrs()[0]])];
}, 60_000);
afterAll(async () => {
  await Promise.all(p2p.map((n) => n.stop().catch(() => undefined)));
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Run = { events: (SapoEvent & { at: number })[]; final: SapoNode };

/** Runs both nodes for `rounds` rounds; `clock(i)` is node i's clock. */
async function run(name: keyof typeof configs, o: { rounds: number; roundMs: number; expectPeers: number; genesisMs: number; clock: (i: number, events: SapoEvent[]) => () => number }): Promise<Run[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 60_000);
  try {
    return await Promise.all(
      testNodes(2, configs[name]).map(async (node, i) => {
        const events: (SapoEvent & { at: number })[] = [];
        const now = o.clock(i, events);
        const final = await runSapoNode({ p2p: p2p[i], node, dataDir: join(dir, name, String(i)), genesisMs: o.genesisMs, roundMs: o.roundMs, rounds: o.rounds, expectPeers: o.expectPeers, signal: ac.signal, now, onEvent: (e) => events.push({ ...e, at: now() }) });
        return { events, final };
      }),
    );
  } finally {
    clearTimeout(timer);
  }
}

const rounds = (r: Run) => r.events.flatMap((e) => (e.type === 'round' ? [e] : []));

describe('SAPO pacing with --peers', () => {
  it('hearing every peer, a node starts its next round at once: not waiting for the clock, and not skipping when the clock has run ahead', async () => {
    const roundMs = 60_000;
    const genesisMs = Date.now();
    // Each node's clock jumps two rounds ahead whenever it finishes a round: its rounds take longer than the
    // clock's (as on a machine slower than --round-ms assumed). Real time, meanwhile, stays well inside round 0.
    const runs = await run('ahead', {
      rounds: 4,
      roundMs,
      expectPeers: 1,
      genesisMs,
      clock: (_i, events) => () => Date.now() + 2 * roundMs * events.filter((e) => e.type === 'round').length,
    });
    expect(Date.now() - genesisMs).toBeLessThan(roundMs);
    for (const r of runs) {
      expect(r.events.filter((e) => e.type === 'skip' || e.type === 'reject')).toEqual([]);
      expect(rounds(r).map((e) => e.metrics.round)).toEqual([0, 1, 2, 3]);
      // Each round took the peer's questions (re-executed from its policy blob, fetched over libp2p).
      for (const e of rounds(r)) expect(e.metrics).toMatchObject({ rolloutsIn: config.own, reexecuted: config.own, rejected: 0 });
      // Rounds 1..3 ran after the clock had left them behind.
      for (const e of rounds(r).slice(1)) expect(e.at).toBeGreaterThan(genesisMs + (e.metrics.round + 1) * roundMs);
      expect(r.final.round).toBe(4);
    }
  }, 90_000);

  it('missing an expected peer, a node waits for it until the round\'s end on the clock, then goes on with those it heard', async () => {
    const roundMs = 1_500;
    const genesisMs = Date.now() + 200;
    // Each expects 2 peers and only 1 exists: the clock bounds every round.
    const runs = await run('missing', { rounds: 2, roundMs, expectPeers: 2, genesisMs, clock: () => Date.now });
    for (const r of runs) {
      expect(rounds(r).map((e) => e.metrics.round)).toEqual([0, 1]);
      for (const e of rounds(r)) {
        expect(e.metrics).toMatchObject({ rolloutsIn: config.own, rejected: 0 });
        expect(e.at).toBeGreaterThanOrEqual(genesisMs + (e.metrics.round + 1) * roundMs);
      }
    }
  }, 60_000);
});
