import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnMycel } from '../cli/spawn-mycel.js';

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'mycel-sapo-'));
  dirs.push(d);
  return d;
};
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const lines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('mycel swarm local', () => {
  it('runs rounds among 3 node processes over libp2p, each node checking and taking the others\' rollouts, and plots the rewards', async () => {
    const dir = await tempDir();
    const run = await spawnMycel(['swarm', 'local', '--nodes', '3', '--split', '2/2', '--rounds', '2', '--model', 'micro', '--pretrain-steps', '0', '--round-ms', '60000', '--reexec', '1', '--data-dir', dir, '--json'], 240_000);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.code).toBe(0);
    const out = lines(run.stdout);
    const rounds = out.filter((e) => typeof e.round === 'number' && e.type === undefined);
    expect(rounds.map((r) => r.round)).toEqual([0, 1]);
    const done = out.at(-1)!;
    expect(done.type).toBe('done');
    expect(done.nodes).toHaveLength(3);
    // Every node published its 2 questions each round and took both peers' 2, after re-executing them all.
    for (const r of rounds) expect(r.rolloutsOut).toBe(6);
    for (const r of rounds) expect(r.rolloutsIn).toBe(12);
    for (const r of rounds) expect(r.dropped).toEqual([]);
    const metrics = (await readFile(join(dir, 'sapo-metrics.jsonl'), 'utf8')).trim().split('\n');
    expect(metrics).toHaveLength(6);
    for (const m of metrics) expect(JSON.parse(m).reexecuted).toBe(4);
    expect(await readFile(join(dir, 'sapo-reward.svg'), 'utf8')).toMatch(/^<svg[\s\S]*swarm mean[\s\S]*<\/svg>$/);
  }, 300_000);
});

describe('mycel swarm: bad input', () => {
  it.each([
    [['swarm', 'local', '--nodes', '1'], /--nodes must be a whole number from 2 to 16/],
    [['swarm', 'local', '--split', '4'], /--split must be I\/J/],
    [['swarm', 'start', '--tasks', 'nosuch', '--rounds', '1'], /nosuch/],
    [['swarm', 'start', '--model', 'huge'], /--model must be one of tiny, small, micro/],
    [['swarm', 'start', '--reexec', '2'], /--reexec must be a fraction/],
    [['swarm', 'start', '--split', '0/0'], /at least one question/],
    [['swarm', 'start', '--hostile', 'nice'], /--hostile must be one of/],
  ])('%j is refused with a clear message', async (args, message) => {
    const dir = await tempDir();
    const run = await spawnMycel([...args, '--data-dir', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('a config file that is not the swarm schema names the key', async () => {
    const dir = await tempDir();
    const file = join(dir, 'swarm.json');
    await writeFile(file, JSON.stringify({ split: '4/4', colour: 'blue' }));
    const run = await spawnMycel(['swarm', 'start', '--config', file, '--data-dir', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/colour/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('--help lists the flags', async () => {
    const run = await spawnMycel(['swarm', 'local', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--split/);
    expect(run.stdout).toMatch(/--nodes/);
  });
});
