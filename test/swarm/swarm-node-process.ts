/** A `mycel swarm start` process of the built CLI, its JSON events and stderr collected (for the swarm-on-chain tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MYCEL_MAIN } from '../cli/spawn-mycel.js';

export type SwarmNodeProcess = { child: ChildProcess; events: Record<string, unknown>[]; stderr: string; ready: Promise<Record<string, unknown>>; exited: Promise<number | null> };

/** Starts `mycel swarm start ...args` and adds it to `all` (stopSwarmNodes kills what is left). */
export function startSwarmNode(args: string[], all: SwarmNodeProcess[]): SwarmNodeProcess {
  const child = spawn(process.execPath, [MYCEL_MAIN, 'swarm', 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let onReady!: (e: Record<string, unknown>) => void;
  const node: SwarmNodeProcess = { child, events: [], stderr: '', ready: new Promise((r) => (onReady = r)), exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  all.push(node);
  let buffer = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      node.events.push(e);
      if (e.type === 'ready') onReady(e);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (node.stderr += d.toString()));
  return node;
}

export function stopSwarmNodes(all: readonly SwarmNodeProcess[]): void {
  for (const p of all) if (p.child.exitCode === null) p.child.kill('SIGKILL');
}

/** Writes each node's private key to `<dir>/node-<i+1>.key` (mode 0600, as --key-file wants it); returns the files. */
export async function writeKeyFiles(dir: string, keys: readonly string[]): Promise<string[]> {
  return Promise.all(keys.map(async (key, i) => {
    const file = join(dir, `node-${i + 1}.key`);
    await writeFile(file, key, { mode: 0o600 });
    return file;
  }));
}
