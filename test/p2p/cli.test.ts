// Nodes as separate processes, driven through the real CLI (dist/, built by `npm test`).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const MAIN = join(process.cwd(), 'dist/cli/main.js');
const procs: ChildProcess[] = [];

type StartInfo = { peerId: string; address: string; multiaddrs: string[] };

function startProcess(dataDir: string, extra: string[] = []): Promise<{ proc: ChildProcess; info: StartInfo }> {
  const proc = spawn(process.execPath, [MAIN, 'node', 'start', '--json', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--ws-port=-1', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  return new Promise((ok, fail) => {
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    createInterface({ input: proc.stdout! }).once('line', (line) => ok({ proc, info: JSON.parse(line) as StartInfo }));
    proc.once('exit', (code) => fail(new Error(`node start exited ${code}: ${err}`)));
  });
}

function cli(...args: string[]): { code: number | null; json: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args, '--json'], { encoding: 'utf8', timeout: 30_000 });
  const last = r.stdout.trim().split('\n').at(-1) ?? '{}';
  return { code: r.status, json: JSON.parse(last || '{}') as Record<string, unknown>, stderr: r.stderr };
}

describe.skipIf(!existsSync(MAIN))('mycel node / blob commands across processes', () => {
  let dirA: string;
  let dirB: string;
  let a: { proc: ChildProcess; info: StartInfo };
  beforeAll(async () => {
    dirA = await tempDir();
    dirB = await tempDir();
    a = await startProcess(dirA);
    await startProcess(dirB, ['--bootstrap', a.info.multiaddrs[0]]);
  });
  afterAll(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  });

  it('prints PeerId, Ethereum address and listen addresses', () => {
    expect(a.info.peerId).toMatch(/^16Uiu2/);
    expect(a.info.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(a.info.multiaddrs[0]).toMatch(new RegExp(`^/ip4/127.0.0.1/tcp/\\d+/p2p/${a.info.peerId}$`));
  });

  it('lists peers and moves a blob from one process to another', async () => {
    let peers: { peerId: string }[] = [];
    for (let i = 0; i < 50 && !peers.some((p) => p.peerId === a.info.peerId); i++) {
      peers = (cli('node', 'peers', '--data-dir', dirB).json.peers as typeof peers) ?? [];
      if (!peers.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(peers.map((p) => p.peerId)).toContain(a.info.peerId);
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(join(dirA, 'in.bin'), bytes);
    const put = cli('blob', 'put', join(dirA, 'in.bin'), '--data-dir', dirA);
    expect(put.code, put.stderr).toBe(0);
    const out = join(dirB, 'out.bin');
    const get = cli('blob', 'get', String(put.json.cid), '--out', out, '--data-dir', dirB);
    expect(get.code, get.stderr).toBe(0);
    expect(createHash('sha256').update(await readFile(out)).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('gives clear errors for bad input and keeps the node up', async () => {
    const bad = cli('node', 'start', '--data-dir', await tempDir(), '--bootstrap', '/ip4/nonsense');
    expect(bad.code).toBe(1);
    expect(bad.json.error).toMatchObject({ name: 'BadMultiaddrError' });
    const port = Number(/tcp\/(\d+)/.exec(a.info.multiaddrs[0])![1]);
    const busy = cli('node', 'start', '--data-dir', await tempDir(), '--host', '127.0.0.1', '--port', String(port), '--ws-port=-1');
    expect(busy.json.error).toMatchObject({ name: 'PortInUseError' });
    const nobody = cli('blob', 'get', 'bafkreiftazjwnbcw44tzm5qmo6fgdttpmfeurxq5mwnrtgi2isk4rivfzu', '--timeout', '1', '--out', join(dirB, 'x'), '--data-dir', dirB);
    expect(nobody.json.error).toMatchObject({ name: 'NoProvidersError' });
    expect(existsSync(join(dirB, 'x'))).toBe(false);
    expect(cli('blob', 'get', 'not-a-cid', '--data-dir', dirB).json.error).toMatchObject({ name: 'BadCidError' });
    expect(cli('node', 'peers', '--data-dir', await tempDir()).json.error).toMatchObject({ name: 'NodeNotRunningError' });
    expect(cli('node', 'peers', '--data-dir', dirB).code).toBe(0); // still up
  });

  it('shuts down gracefully on SIGTERM', async () => {
    const lines: string[] = [];
    createInterface({ input: a.proc.stdout! }).on('line', (l) => lines.push(l));
    const exited = new Promise<number | null>((ok) => a.proc.once('exit', ok));
    a.proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.map((l) => JSON.parse(l))).toContainEqual({ stopped: true });
    expect(existsSync(join(dirA, 'control.json'))).toBe(false);
  });
});
