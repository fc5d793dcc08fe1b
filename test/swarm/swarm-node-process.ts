/** A `mycel swarm start` process of the built CLI, its JSON events and stderr collected (for the swarm-on-chain tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSwarmNodesChain, type SwarmNodesChain } from '../../src/cli/commands/devnet-swarm.js';
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

/**
 * What a run of the swarm's node processes left: each process, its exit code (or 'still running'), its chain events, a
 * report for assertion messages, and the tokens' account since the nodes started: what each node gained (`net`), what
 * was burned and what left the coordinator (`paidOut`; they add up when nothing else moved).
 */
export type SwarmNodesRun = {
  procs: SwarmNodeProcess[];
  codes: (number | null)[] | 'still running';
  events: Record<string, unknown>[][];
  report: string;
  tokens(): Promise<{ net: bigint[]; burned: bigint; paidOut: bigint }>;
};

/**
 * One test file's swarm of node processes on anvil: `start` deploys the chain (startSwarmNodesChain) and makes a data
 * dir; `run` plays its rounds with one `mycel swarm start` process per key (node 0 the others' bootstrap), each with
 * the chain's flags, its data dir and `args(i)` (its swarm flags, a hostile kind), mining to round 0 once all are
 * ready, and waits for every process to exit, or `timeoutMs` (so that a node that does not finish is reported with
 * what it did); `stop` (afterAll) kills what is left and removes the chain and the dir. MYCEL_SWARM_CHAIN_LOG=FILE keeps
 * every event and stderr.
 */
export function swarmNodesFixture(prefix: string) {
  const all: SwarmNodeProcess[] = [];
  let chain: SwarmNodesChain | undefined;
  let dir: string | undefined;
  return {
    async start(...args: Parameters<typeof startSwarmNodesChain>): Promise<SwarmNodesChain> {
      chain = await startSwarmNodesChain(...args);
      dir = await mkdtemp(join(tmpdir(), `mycel-${prefix}-`));
      return chain;
    },
    async run(o: { args(i: number): string[]; timeoutMs?: number }): Promise<SwarmNodesRun> {
      const [c, d] = [chain!, dir!];
      const [before, pool0, supply0] = await Promise.all([Promise.all(c.addresses.map(c.balance)), c.balance(c.coordinator), c.supply()]);
      const keyFiles = await writeKeyFiles(d, c.keys);
      const argsOf = (i: number) => [
        '--rpc', c.anvil.rpcUrl, '--key-file', keyFiles[i]!, '--coordinator', c.coordinator, ...o.args(i),
        '--data-dir', join(d, `data-${i}`), '--port', '0', '--host', '127.0.0.1', '--json',
      ];
      const first = startSwarmNode(argsOf(0), all);
      const ready = await Promise.race([first.ready, first.exited.then((code) => { throw new Error(`node 0 exited with ${code}: ${first.stderr}`); })]);
      const bootstrap = (ready.multiaddrs as string[])[0]!;
      const procs = [first, ...c.keys.slice(1).map((_, i) => startSwarmNode([...argsOf(i + 1), '--bootstrap', bootstrap], all))];
      await Promise.all(procs.map((p) => p.ready));
      await c.mineToStart();
      const exited = Promise.all(procs.map((p) => p.exited));
      const codes = await (o.timeoutMs === undefined ? exited : Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), o.timeoutMs))]));
      if (process.env.MYCEL_SWARM_CHAIN_LOG) await writeFile(process.env.MYCEL_SWARM_CHAIN_LOG, procs.map((p, i) => `node ${i}\n${p.events.map((e) => JSON.stringify(e)).join('\n')}\n${p.stderr}`).join('\n\n'));
      const report = procs.map((p, i) => `node ${i} (exit ${Array.isArray(codes) ? codes[i] : codes}):\n${p.events.filter((e) => e.type === 'chain' || e.type === 'chain-done').map((e) => `  ${JSON.stringify(e)}`).join('\n')}\n${p.stderr.split('\n').slice(-8).join('\n')}`).join('\n');
      const tokens = async () => ({
        net: (await Promise.all(c.addresses.map(c.balance))).map((x, i) => x - before[i]!),
        burned: supply0 - (await c.supply()),
        paidOut: pool0 - (await c.balance(c.coordinator)),
      });
      return { procs, codes, events: procs.map((p) => p.events.filter((e) => e.type === 'chain')), report, tokens };
    },
    async stop(): Promise<void> {
      stopSwarmNodes(all);
      await chain?.anvil.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
