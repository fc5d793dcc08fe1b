/**
 * The round clock over libp2p: three `mycel swarm start` processes pace their rounds by the clock
 * (genesis + r * round-ms, no --peers, so each waits out the round). One is stalled for real (SIGSTOP,
 * as an overloaded or suspended machine stalls) for more than two rounds: when it resumes it is behind
 * the clock and skips to the current round instead of replaying the missed ones. A fourth node joins
 * late and starts at the current round. The others carry on meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { MYCEL_MAIN } from '../cli/spawn-mycel.js';

const ROUND_MS = 15_000;
const ROUNDS = 6;
const SWARM = ['--model', 'micro', '--pretrain-steps', '0', '--tasks', 'modular:modulus=3', '--split', '2/2', '--reexec', '0', '--rounds', String(ROUNDS), '--round-ms', String(ROUND_MS)];

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

type Proc = { child: ChildProcess; events: Record<string, unknown>[]; ready: Promise<Record<string, unknown>>; next(type: string, pred?: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>; exited: Promise<{ code: number | null; stderr: string }> };

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [MYCEL_MAIN, 'swarm', 'start', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const events: Record<string, unknown>[] = [];
  const waiters: { type: string; pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, unknown>;
    events.push(e);
    for (const w of [...waiters]) if (w.type === e.type && w.pred(e)) waiters.splice(waiters.indexOf(w), 1), w.resolve(e);
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((r) => child.once('exit', (code) => r({ code, stderr })));
  const next = (type: string, pred: (e: Record<string, unknown>) => boolean = () => true) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = events.find((e) => e.type === type && pred(e));
      if (seen) return resolve(seen);
      waiters.push({ type, pred, resolve });
      void exited.then(({ code, stderr: err }) => reject(new Error(`node exited (${code}) before a ${type} event: ${err.slice(-500)}`)));
    });
  return { child, events, ready: next('ready'), next, exited };
}

const roundsOf = (p: Proc) => p.events.filter((e) => e.type === 'round').map((e) => e.round as number);

describe.runIf(process.env.MYCEL_LONG === '1')('SAPO round clock over libp2p', () => {
  it('a stalled node skips to the current round when it resumes, a late joiner starts at the current round, the others carry on', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mycel-sapo-clock-'));
    dirs.push(root);
    const genesisFile = join(root, 'genesis');
    const node = (i: number, bootstrap?: string) => start([...SWARM, '--seed', String(i + 1), '--genesis-file', genesisFile, '--data-dir', join(root, `node-${i}`), '--port', '0', '--host', '127.0.0.1', ...(bootstrap ? ['--bootstrap', bootstrap] : [])]);
    const a = node(0);
    const addr = ((await a.ready).multiaddrs as string[])[0];
    const b = node(1, addr);
    const slow = node(2, addr);
    await Promise.all([b.ready, slow.ready]);
    const genesis = Date.now() + 2_000;
    await writeFile(`${genesisFile}.tmp`, String(genesis));
    await rename(`${genesisFile}.tmp`, genesisFile);

    // Stall the slow node right after its round 0 for three and a half rounds, then let it go on.
    await slow.next('round', (e) => e.round === 0);
    slow.child.kill('SIGSTOP');
    const stalledAt = Date.now();
    // Meanwhile a node joins late: the clock is at round 1 or later by the time it is up.
    const late = node(3, addr);
    await late.ready;
    await a.next('round', (e) => (e.round as number) >= 2);
    await new Promise((r) => setTimeout(r, Math.max(0, stalledAt + 3.5 * ROUND_MS - Date.now())));
    slow.child.kill('SIGCONT');

    const ends = await Promise.all([a, b, slow, late].map((p) => p.exited));
    for (const end of ends) {
      expect(end.stderr).not.toMatch(/^\s+at /m);
      expect(end.code, end.stderr).toBe(0);
    }
    for (const p of [a, b, slow, late]) expect(p.events.at(-1)!.type).toBe('done');
    // The stalled node said it skipped, and never ran the rounds it missed.
    const skip = slow.events.find((e) => e.type === 'skip')!;
    expect(skip, JSON.stringify(slow.events.map((e) => [e.type, e.round ?? e.to]))).toBeDefined();
    expect((skip.to as number) - (skip.from as number)).toBeGreaterThanOrEqual(2);
    const slowRounds = roundsOf(slow);
    expect(slowRounds[0]).toBe(0);
    expect(slowRounds).not.toContain(skip.from as number);
    expect(slowRounds).toContain(skip.to as number);
    expect(slowRounds).toEqual([...slowRounds].sort((x, y) => x - y));
    // The rollouts its peers published while it was stalled (or not yet started) are honest work of rounds it was
    // about to skip to: neither node rejected one as being of a wrong round.
    for (const p of [slow, late]) expect(p.events.filter((e) => e.type === 'reject' && e.kind === 'wrong-round').map((e) => e.reason)).toEqual([]);
    // The late joiner started at the clock's round, not at 0.
    const lateRounds = roundsOf(late);
    const joined = late.events.find((e) => e.type === 'skip')!;
    expect(joined.from).toBe(0);
    expect(lateRounds[0]).toBe(joined.to);
    expect(lateRounds[0]).toBeGreaterThanOrEqual(1);
    // The nodes that were never stalled ran their rounds to the end and took peers' questions.
    for (const p of [a, b]) {
      expect(roundsOf(p).at(-1)).toBe(ROUNDS - 1);
      expect(p.events.filter((e) => e.type === 'round').some((e) => (e.rolloutsIn as number) > 0)).toBe(true);
    }
  }, 600_000);
});
