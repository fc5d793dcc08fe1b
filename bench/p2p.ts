// `npm run bench -- p2p [--json] [--mb N] [--repeats N] [--blob-only]`: the p2p layer's figures. Blob
// throughput is measured between two `mycel node start` processes on loopback, beside a plain TCP socket copy
// of the same bytes in the same run: one warm-up, then N rounds (default 5) of both; the ratio p2p / socket is
// taken within each round and the median and best rounds are reported, with CPU ms per MiB of each node
// process (load-independent, unlike wall time). MYCEL_BENCH_NODE_ARGS passes flags to the node processes
// (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). Gossip, start-up and memory use in-process nodes on TCP.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { callControl } from '../src/p2p/control.js';
import { identityFromRaw } from '../src/p2p/identity.js';
import { MycelNode } from '../src/p2p/node.js';
import { makeReporter } from './report.js';

const MAIN = join(process.cwd(), 'src/cli/main.ts');

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const mbIndex = args.indexOf('--mb');
  const megabytes = mbIndex >= 0 ? Number(args[mbIndex + 1]) : 64;
  const repeatIndex = args.indexOf('--repeats');
  const repeats = repeatIndex >= 0 ? Number(args[repeatIndex + 1]) : 5;
  const only = args.includes('--blob-only');
  const root = await mkdtemp(join(tmpdir(), 'mycel-bench-p2p-'));
  try {
    if (!only) await startup(report, root);
    await blobThroughput(report, root, megabytes, repeats);
    if (only) return;
    await gossip(report, root);
    await memory(report, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

type Report = (row: Record<string, unknown>) => void;

async function inProcessNode(root: string, bootstrap: string[] = []): Promise<MycelNode> {
  return MycelNode.start({ identity: identityFromRaw(randomBytes(32)), dataDir: await mkdtemp(join(root, 'n-')), host: '127.0.0.1', tcpPort: 0, wsPort: -1, bootstrap });
}

async function startup(report: Report, root: string): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const node = await inProcessNode(root);
    times.push(performance.now() - t);
    await node.stop();
  }
  report({ name: 'p2p.startup', value: median(times.slice(1)), unit: 'ms', note: 'in-process MycelNode.start, median of 4 after a warm-up' });
}

/** Extra node flags for the two node processes, e.g. MYCEL_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const NODE_ARGS = (process.env.MYCEL_BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

function startProcess(dataDir: string, extra: string[] = []): Promise<{ proc: ChildProcess; multiaddrs: string[] }> {
  const proc = spawn(process.execPath, [...NODE_ARGS, '--import', 'tsx', MAIN, 'node', 'start', '--json', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--ws-port=-1', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    createInterface({ input: proc.stdout! }).once('line', (line) => ok({ proc, multiaddrs: (JSON.parse(line) as { multiaddrs: string[] }).multiaddrs }));
    proc.once('exit', (code) => fail(new Error(`node start exited ${code}`)));
  });
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((ok) => proc.once('exit', ok));
  proc.kill('SIGTERM');
  await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000))]);
  if (proc.exitCode === null) proc.kill('SIGKILL');
}

/**
 * One warm-up transfer (JIT, connection, yamux windows, page cache), then `repeats` rounds of one socket copy
 * and one p2p transfer of the same bytes, in alternating order so that neither always runs on a warmer
 * machine. The ratio is taken within each round; the median and best rounds are reported. The p2p time is
 * `mycel blob get` into the node's store (provider lookup, every chunk verified on arrival, written to disk,
 * the whole file re-verified before it is renamed into place); the export copy to a user path is not timed.
 */
async function blobThroughput(report: Report, root: string, megabytes: number, repeats: number): Promise<void> {
  const file = join(root, 'blob.bin');
  const size = megabytes * 1024 * 1024;
  await writeFile(file, randomBytes(size));
  const dirA = await mkdtemp(join(root, 'a-'));
  const dirB = await mkdtemp(join(root, 'b-'));
  const a = await startProcess(dirA);
  const b = await startProcess(dirB, ['--bootstrap', a.multiaddrs[0]]);
  try {
    const { cid } = await callControl<{ cid: string }>(dirA, '/blob/put', { path: file });
    // Wait until B is connected, so the timing is the transfer, not the dial.
    for (let i = 0; i < 100 && (await callControl<unknown[]>(dirB, '/peers')).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const forget = (): Promise<void> => rm(join(dirB, 'blobs'), { recursive: true, force: true });
    const cpu = { sender: 0, receiver: 0, transfers: 0 };
    const p2pOnce = async (): Promise<number> => {
      await forget();
      const before = [await cpuMs(a.proc.pid), await cpuMs(b.proc.pid)];
      const t = performance.now();
      await callControl(dirB, '/blob/get', { cid });
      const seconds = (performance.now() - t) / 1000;
      const after = [await cpuMs(a.proc.pid), await cpuMs(b.proc.pid)];
      cpu.sender += after[0] - before[0];
      cpu.receiver += after[1] - before[1];
      cpu.transfers++;
      return seconds;
    };
    const socketOnce = (): Promise<number> => socketCopy(file, join(root, 'tcp-out.bin'));
    await p2pOnce();
    await socketOnce();
    Object.assign(cpu, { sender: 0, receiver: 0, transfers: 0 });
    const rounds: { p2p: number; socket: number; ratio: number }[] = [];
    for (let i = 0; i < repeats; i++) {
      let p2pSeconds: number;
      let socketSeconds: number;
      if (i % 2 === 0) {
        socketSeconds = await socketOnce();
        p2pSeconds = await p2pOnce();
      } else {
        p2pSeconds = await p2pOnce();
        socketSeconds = await socketOnce();
      }
      const p2p = megabytes / p2pSeconds;
      const socket = megabytes / socketSeconds;
      rounds.push({ p2p, socket, ratio: p2p / socket });
    }
    const byRatio = [...rounds].sort((x, y) => x.ratio - y.ratio);
    const mid = byRatio[Math.floor(byRatio.length / 2)];
    const best = byRatio[byRatio.length - 1];
    const fmt = (r: { p2p: number; socket: number; ratio: number }): string => `${r.p2p.toFixed(0)}/${r.socket.toFixed(0)}=${r.ratio.toFixed(2)}`;
    report({
      name: 'p2p.blob.throughput',
      value: median(rounds.map((r) => r.p2p)),
      best: Math.max(...rounds.map((r) => r.p2p)),
      unit: 'MB/s',
      ratio: mid.ratio,
      bestRatio: best.ratio,
      note: `${megabytes} MiB between two node processes, verified, written to disk; median of ${repeats} rounds after a warm-up; ratio = p2p / socket within a round (median round); rounds p2p/socket MB/s: ${rounds.map(fmt).join(' ')}`,
    });
    report({
      name: 'p2p.blob.socket_anchor',
      value: median(rounds.map((r) => r.socket)),
      best: Math.max(...rounds.map((r) => r.socket)),
      unit: 'MB/s',
      note: 'plain TCP socket copy of the same file between two processes, written to disk, timed from the connection',
    });
    // CPU time per MiB in each node process (from /proc): unlike wall time, it barely moves with machine load.
    if (cpu.transfers > 0 && cpu.receiver > 0) {
      const per = (ms: number): number => ms / cpu.transfers / megabytes;
      report({ name: 'p2p.blob.cpu_receiver', value: per(cpu.receiver), unit: 'ms/MiB', note: 'receiving node: decrypt, demux, verify (SHA-256), write' });
      report({ name: 'p2p.blob.cpu_sender', value: per(cpu.sender), unit: 'ms/MiB', note: 'serving node: read, encrypt, send' });
    }
  } finally {
    await Promise.all([a.proc, b.proc].map(stopProcess));
  }
}

/** utime + stime of a process in ms, from /proc (Linux); 0 where /proc is missing. */
async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}
/** USER_HZ: 100 on every Linux build Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The anchor: a child process streams the file over a plain TCP socket; this process writes it to disk. */
async function socketCopy(file: string, out: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  let t = 0;
  const received = new Promise<void>((ok, fail) =>
    server.once('connection', (socket) => {
      // Timed from the connection: the sender's process start-up is not part of the copy.
      t = performance.now();
      void pipeline(socket, createWriteStream(out)).then(ok, fail);
    }),
  );
  const sender = spawn(process.execPath, ['-e', `const s=require('net').connect(${port},'127.0.0.1',()=>require('fs').createReadStream(${JSON.stringify(file)}).pipe(s))`]);
  await received;
  const seconds = (performance.now() - t) / 1000;
  sender.kill();
  server.close();
  return seconds;
}

async function gossip(report: Report, root: string): Promise<void> {
  const a = await inProcessNode(root);
  const b = await inProcessNode(root, [a.multiaddrs()[0]]);
  try {
    const schemas = { m: z.object({ t: z.number(), pad: z.instanceof(Uint8Array) }).strict() };
    const ta = a.topic('bench', schemas);
    const tb = b.topic('bench', schemas);
    const pad = new Uint8Array(1024 - 32);
    const latencies: number[] = [];
    let received = 0;
    let onReceive: (() => void) | undefined;
    tb.subscribe((msg) => {
      received++;
      if (msg.type === 'm') latencies.push(performance.now() - msg.body.t);
      onReceive?.();
    });
    const deadline = Date.now() + 15_000;
    while (a.host.services.pubsub.getSubscribers('bench').length === 0) {
      if (Date.now() > deadline) throw new Error('gossip bench: the subscriber never appeared');
      await new Promise((r) => setTimeout(r, 20));
    }
    // Each message waits for its delivery, at most 2 s: a lost message is counted, not waited on for ever.
    let lost = 0;
    for (let i = 0; i < 300; i++) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const got = new Promise<boolean>((ok) => {
        onReceive = () => ok(true);
        timer = setTimeout(() => ok(false), 2_000);
      });
      await ta.publish('m', { t: performance.now(), pad });
      if (!(await got)) lost++;
      clearTimeout(timer);
    }
    if (lost > 0) report({ name: 'p2p.gossip.lost', value: lost, unit: 'messages', note: 'of 300 sent one at a time, not delivered within 2 s' });
    const sorted = latencies.slice(50).sort((x, y) => x - y);
    report({ name: 'p2p.gossip.latency_p50', value: sorted[Math.floor(sorted.length * 0.5)], unit: 'ms', note: '1 KiB signed messages, one at a time, two nodes' });
    report({ name: 'p2p.gossip.latency_p95', value: sorted[Math.floor(sorted.length * 0.95)], unit: 'ms' });
    onReceive = undefined;
    const count = 2000;
    const before = received;
    const t = performance.now();
    for (let i = 0; i < count; i++) await ta.publish('m', { t: performance.now(), pad });
    while (received - before < count && performance.now() - t < 30_000) await new Promise((r) => setTimeout(r, 5));
    report({ name: 'p2p.gossip.throughput', value: (received - before) / ((performance.now() - t) / 1000), unit: 'msg/s', note: `${count} x 1 KiB, each publish awaited; publisher and subscriber in one process (signing + verifying)` });
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

async function memory(report: Report, root: string): Promise<void> {
  const count = 20;
  const before = process.memoryUsage();
  const first = await inProcessNode(root);
  const rest = await Promise.all(Array.from({ length: count - 1 }, () => inProcessNode(root, [first.multiaddrs()[0]])));
  const nodes = [first, ...rest];
  // A full mesh, so each node really holds count - 1 peers (discovery alone settles at fewer, and slowly).
  await Promise.all(nodes.flatMap((n, i) => nodes.slice(i + 1).map((m) => n.host.dial(m.host.getMultiaddrs()).catch(() => undefined))));
  await new Promise((r) => setTimeout(r, 1000));
  const after = process.memoryUsage();
  const connections = nodes.reduce((s, n) => s + n.peers().length, 0) / count;
  report({ name: 'p2p.memory.per_node', value: (after.rss - before.rss) / count / 1024 / 1024, unit: 'MiB', note: `RSS growth / ${count} nodes in one process, ${connections.toFixed(1)} connections per node` });
  report({ name: 'p2p.memory.heap_per_node', value: (after.heapUsed - before.heapUsed) / count / 1024 / 1024, unit: 'MiB' });
  await Promise.all(nodes.map((n) => n.stop()));
}

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

