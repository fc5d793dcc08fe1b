/**
 * An automated cheater over real libp2p: two honest `mycel swarm start` processes and one hostile
 * `mycel swarm start --hostile KIND` process per kind tested (each its own key), all on 127.0.0.1. Delivery waits on observable events, not sleeps: every node publishes once it sees every
 * expected peer subscribed, and finishes a round once every expected peer was heard from or dropped
 * (the round clock is only a safety bound). Each honest node must drop every hostile peer with the
 * kind of its cheat, lower its reputation and gossip score, log the reason, finish its rounds and keep
 * everything it stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { type HostileKind } from '../../src/swarm/sapo-adversary.js';
import { decodeCheckpoint, stateHash } from '../../src/train/index.js';
import { MYCEL_MAIN } from '../cli/spawn-mycel.js';

/** The kind an honest node logs for each attack over libp2p. */
const EXPECTED: Record<HostileKind, string> = {
  'wrong-seed': 'wrong-seed',
  'forged-question': 'forged-question',
  'inflated-reward': 'inflated-reward',
  'unknown-policy': 'unknown-policy',
  'bad-policy-blob': 'bad-policy-blob',
  'wrong-policy-hash': 'bad-policy-blob',
  'not-reproduced': 'not-reproduced',
  replay: 'replay',
  oversized: 'malformed',
  poisoned: 'forged-question',
};

/**
 * One attack of each path a receiver judges it on: the validator's recomputation (inflated reward), the
 * network's replay rule, an undecodable message, and a policy blob fetched from its author. The in-process
 * tests (rollout.test.ts) take every hostile kind through the same checks.
 */
const KINDS: HostileKind[] = ['inflated-reward', 'replay', 'oversized', 'bad-policy-blob'];
const ROUNDS = 2;
/** Only a bound: rounds end on events long before it. */
const ROUND_MS = 300_000;
const SWARM = ['--model', 'micro', '--pretrain-steps', '0', '--tasks', 'modular:modulus=3', '--split', '2/2', '--reexec', '1', '--rounds', String(ROUNDS), '--round-ms', String(ROUND_MS)];

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

type Honest = { events: Record<string, unknown>[]; ready: Promise<Record<string, unknown>>; exited: Promise<{ code: number | null; stderr: string }>; stop(): void };

function startHonest(args: string[]): Honest {
  const child = spawn(process.execPath, [MYCEL_MAIN, 'swarm', 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (process.env.SAPO_DEBUG) console.error(d.toString());
  });
  let resolveReady!: (e: Record<string, unknown>) => void;
  const ready = new Promise<Record<string, unknown>>((r) => (resolveReady = r));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, unknown>;
    events.push(e);
    if (process.env.SAPO_DEBUG) console.error(line.slice(0, 300));
    if (e.type === 'ready') resolveReady(e);
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((r) => child.once('exit', (code) => r({ code, stderr })));
  void exited.then(({ code }) => resolveReady({ type: 'exited', code, stderr }));
  return { events, ready, exited, stop: () => void (child.exitCode === null && child.kill('SIGTERM')) };
}

// Six node processes: minutes on a loaded 2-core machine, so with the long suites.
describe.runIf(process.env.MYCEL_LONG === '1')('SAPO over libp2p against hostile peers', () => {
  it('two honest node processes drop one hostile peer of each kind, penalise and log it, and finish their rounds with nothing lost', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mycel-sapo-hostile-'));
    dirs.push(root);
    const genesisFile = join(root, 'genesis');
    const peers = 1 + KINDS.length;
    const honestArgs = (i: number, bootstrap: string[]) => [...SWARM, '--seed', String(i + 1), '--peers', String(peers), '--genesis-file', genesisFile, '--data-dir', join(root, `honest-${i}`), '--port', '0', '--host', '127.0.0.1', ...bootstrap.flatMap((b) => ['--bootstrap', b]), '--json'];
    const a = startHonest(honestArgs(0, []));
    const readyA = await a.ready;
    expect(readyA.type, String(readyA.stderr)).toBe('ready');
    const b = startHonest(honestArgs(1, [(readyA.multiaddrs as string[])[0]]));
    const readyB = await b.ready;
    expect(readyB.type, String(readyB.stderr)).toBe('ready');
    const honestIds = [String(readyA.peerId), String(readyB.peerId)];
    const bootstrap = [(readyA.multiaddrs as string[])[0], (readyB.multiaddrs as string[])[0]];

    // The hostile peers: `mycel swarm start --hostile KIND` processes of the same swarm, each from its own
    // policy (each node dials its bootstrap peers until they answer). They run until stopped, so they are
    // still serving their blobs while the honest nodes check.
    const hostiles = await Promise.all(
      KINDS.map(async (kind, k) => {
        const proc = startHonest([...SWARM.slice(0, SWARM.indexOf('--rounds')), '--round-ms', String(ROUND_MS), '--seed', String(100 + k), '--peers', '2', '--hostile', kind, '--genesis-file', genesisFile, '--data-dir', join(root, `hostile-${kind}`), '--port', '0', '--host', '127.0.0.1', ...bootstrap.flatMap((b) => ['--bootstrap', b]), '--json']);
        const ready = await proc.ready;
        expect(ready.type, String(ready.stderr)).toBe('ready');
        return { kind, id: String(ready.peerId), proc };
      }),
    );
    await writeFile(`${genesisFile}.tmp`, String(Date.now() + 1_000));
    await rename(`${genesisFile}.tmp`, genesisFile);

    const [endA, endB] = await Promise.all([a.exited, b.exited]);
    for (const h of hostiles) h.proc.stop();
    await Promise.all(hostiles.map((h) => h.proc.exited));

    for (const [i, { events }, end] of [[0, a, endA], [1, b, endB]] as const) {
      expect(end.stderr).not.toMatch(/^\s+at /m);
      expect(end.code, end.stderr).toBe(0);
      const rejects = events.filter((e) => e.type === 'reject');
      const done = events.find((e) => e.type === 'done') as { round: number; dropped: { peer: string; reason: string; reputation: number; gossip: number }[] };
      expect(done.round).toBe(ROUNDS);
      // The honest peer is never rejected or dropped.
      expect(rejects.filter((e) => honestIds.includes(String(e.peer)))).toEqual([]);
      const kept = hostiles.filter((h) => !done.dropped.some((d) => d.peer === h.id));
      expect(kept.map((h) => h.kind), `node ${i} kept ${JSON.stringify(kept.map((h) => ({ kind: h.kind, rejects: rejects.filter((e) => e.peer === h.id) })))}`).toEqual([]);
      expect(done.dropped.map((d) => d.peer).sort()).toEqual(hostiles.map((h) => h.id).sort());
      for (const h of hostiles) {
        // (A hostile node races through rounds on its own, so rollouts of rounds ahead are refused too: not a drop.)
        const logged = rejects.find((e) => e.peer === h.id && e.kind === EXPECTED[h.kind]);
        expect(logged?.kind, `node ${i} against ${h.kind}: ${JSON.stringify(rejects.filter((e) => e.peer === h.id))}`).toBe(EXPECTED[h.kind]);
        expect(String(logged!.reason).length).toBeGreaterThan(20);
        const dropped = done.dropped.find((d) => d.peer === h.id)!;
        expect(dropped.reason.startsWith(EXPECTED[h.kind]), `${h.kind}: ${dropped.reason}`).toBe(true);
        expect(dropped.reputation, h.kind).toBeLessThan(0);
        // Its gossip score was lowered (P4 or the behaviour penalty); a peer banned and disconnected since may be forgotten by gossipsub (0).
        expect(dropped.gossip, h.kind).toBeLessThanOrEqual(0);
      }
      const rounds = events.filter((e) => e.type === 'round') as unknown as { round: number; rolloutsIn: number; dropped: string[] }[];
      expect(rounds.map((r) => r.round)).toEqual([0, 1]);
      // In the last round only the honest peer's 2 questions are taken.
      expect(rounds[1].rolloutsIn).toBe(2);
      // Nothing stored is lost: the metrics of every round, and every policy it published, intact.
      const dir = join(root, `honest-${i}`, 'sapo');
      expect((await readFile(join(dir, 'sapo-metrics.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(ROUNDS);
      const policies = await readdir(join(dir, 'policies'));
      expect(policies.length).toBeGreaterThan(0);
      for (const f of policies) expect(stateHash(decodeCheckpoint(await readFile(join(dir, 'policies', f)), f).state)).toBe(f.replace('.safetensors', ''));
    }
  }, 900_000);
});
