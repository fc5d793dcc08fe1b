// mycel node start --detach, node status and node stop, as a user runs them (the built CLI, separate processes),
// and the log rotation they rely on.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateLogs } from '../../src/cli/service.js';
import { spawnMycel, type MycelRun } from './spawn-mycel.js';

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'mycel-service-'))));
afterAll(async () => {
  await spawnMycel(['node', 'stop', '--data-dir', dir]); // in case a check failed half-way
  await rm(dir, { recursive: true, force: true });
});
const json = (r: MycelRun) => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;

describe('a detached node', () => {
  it('starts in the background, reports its status, logs to the data dir, and stops', async () => {
    const started = await spawnMycel(['node', 'start', '--detach', '--port=0', '--ws-port=-1', '--host', '127.0.0.1', '--data-dir', dir, '--json'], 120_000);
    expect(started.code, started.stderr).toBe(0);
    const { pid } = json(started);
    expect(pid).toEqual(expect.any(Number));
    const status = json(await spawnMycel(['node', 'status', '--data-dir', dir, '--json']));
    expect(status).toMatchObject({ running: true, pid, peers: 0 });
    const twice = await spawnMycel(['node', 'start', '--detach', '--data-dir', dir]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already running .*\(pid \d+\)[\s\S]*mycel node stop/);

    expect(json(await spawnMycel(['node', 'stop', '--data-dir', dir, '--json']))).toMatchObject({ stopped: true, pid });
    expect((await spawnMycel(['node', 'status', '--data-dir', dir])).stdout).toMatch(/No node is running from/);
    const console = await readFile(join(dir, 'logs', 'console.log'), 'utf8');
    expect(console).toMatch(/PeerId {3}16Uiu2/);
    expect(console).toMatch(/Stopped\./);
    expect(status.log).toBe(join(dir, 'logs', 'current.log'));
    const log = (await readFile(join(dir, 'logs', 'current.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log[0]).toMatchObject({ level: 30, node: 'node', pid, msg: 'node started', peerId: expect.stringMatching(/^16Uiu2/) });
    expect(log.at(-1)).toMatchObject({ msg: 'node stopped', pid });
  }, 240_000);

  it('rotates a log past its size limit and keeps a bounded number', async () => {
    const logs = join(dir, 'rotate');
    await rm(logs, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(logs);
    const path = join(logs, 'node.log');
    for (let i = 0; i < 4; i++) {
      await writeFile(path, `run ${i} ${'x'.repeat(100)}`);
      expect(await rotateLogs(path, 50, 2)).toBe(true);
    }
    await writeFile(path, 'small');
    expect(await rotateLogs(path, 50, 2)).toBe(false);
    expect((await readdir(logs)).sort()).toEqual(['node.log', 'node.log.1', 'node.log.2']);
    expect(await readFile(`${path}.1`, 'utf8')).toMatch(/^run 3 /);
  });
});
