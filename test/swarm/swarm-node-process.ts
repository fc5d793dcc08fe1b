/** A `mycel swarm start` process of the built CLI, its JSON events and stderr collected (for the swarm-on-chain tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SwarmNodesChain } from '../../src/cli/commands/devnet-swarm.js';
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

/** What a run of the swarm's node processes left: each process, its exit code (or 'still running'), its chain events, and a report for assertion messages. */
export type SwarmNodesRun = { procs: SwarmNodeProcess[]; codes: (number | null)[] | 'still running'; events: Record<string, unknown>[][]; report: string };

/**
 * Plays `chain`'s rounds with one `mycel swarm start` process per key (node 0 the others' bootstrap), each with the
 * chain's flags, its data dir under `dir` and `args(i)` (its swarm flags, a hostile kind); mines to round 0 once all
 * are ready, and waits for every process to exit, or `timeoutMs` (so that a node that does not finish is reported with
 * what it did). The processes are added to `all` (stopSwarmNodes kills what is left). MYCEL_SWARM_CHAIN_LOG=FILE
 * keeps every event and stderr.
 */
export async function runSwarmNodes(chain: SwarmNodesChain, o: { dir: string; args(i: number): string[]; all: SwarmNodeProcess[]; timeoutMs?: number }): Promise<SwarmNodesRun> {
  const keyFiles = await writeKeyFiles(o.dir, chain.keys);
  const argsOf = (i: number) => [
    '--rpc', chain.anvil.rpcUrl, '--key-file', keyFiles[i]!, '--coordinator', chain.coordinator, ...o.args(i),
    '--data-dir', join(o.dir, `data-${i}`), '--port', '0', '--host', '127.0.0.1', '--json',
  ];
  const first = startSwarmNode(argsOf(0), o.all);
  const ready = await Promise.race([first.ready, first.exited.then((code) => { throw new Error(`node 0 exited with ${code}: ${first.stderr}`); })]);
  const bootstrap = (ready.multiaddrs as string[])[0]!;
  const procs = [first, ...chain.keys.slice(1).map((_, i) => startSwarmNode([...argsOf(i + 1), '--bootstrap', bootstrap], o.all))];
  await Promise.all(procs.map((p) => p.ready));
  await chain.mineToStart();
  const exited = Promise.all(procs.map((p) => p.exited));
  const codes = await (o.timeoutMs === undefined ? exited : Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), o.timeoutMs))]));
  if (process.env.MYCEL_SWARM_CHAIN_LOG) await writeFile(process.env.MYCEL_SWARM_CHAIN_LOG, procs.map((p, i) => `node ${i}\n${p.events.map((e) => JSON.stringify(e)).join('\n')}\n${p.stderr}`).join('\n\n'));
  const report = procs.map((p, i) => `node ${i} (exit ${Array.isArray(codes) ? codes[i] : codes}):\n${p.events.filter((e) => e.type === 'chain' || e.type === 'chain-done').map((e) => `  ${JSON.stringify(e)}`).join('\n')}\n${p.stderr.split('\n').slice(-8).join('\n')}`).join('\n');
  return { procs, codes, events: procs.map((p) => p.events.filter((e) => e.type === 'chain')), report };
}
