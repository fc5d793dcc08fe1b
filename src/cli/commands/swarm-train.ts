import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadIdentity } from '../../p2p/identity.js';
import { MycelNode } from '../../p2p/node.js';
import { canonicalJson } from '../../train/index.js';
import { DILOCO_OUTER, NOLOCO_OUTER } from '../../train/outer.js';
import type { DilocoMode } from '../../train/diloco-program.js';
import { runDilocoWorker, type DilocoRoundEvent } from '../../swarm/diloco-worker.js';
import { MAX_DILOCO_WORKERS } from '../../p2p/diloco-messages.js';
import { sha256, toHex } from '../../platform/sha256.js';
import { followChild } from '../../platform/child-output.js';
import { UsageError } from '../../platform/errors.js';
import { interruptedExit, intFlag, maxMemoryFlag, FlagError, type Command, type Flags } from '../command.js';
import { checkSwarmMemory, dilocoWorkerMemory } from '../../swarm/memory.js';
import { JOB_FLAGS, resolveProgram } from '../job.js';
import { dataDirOf } from './p2p-flags.js';
import { writeDilocoMetrics, type DilocoRoundRow } from '../diloco-plot.js';
import { createNodeMetrics, serveMetrics } from '../../node/metrics.js';

const MODES = ['diloco', 'noloco'] as const;

export const swarmTrain: Command = {
  name: 'swarm train',
  summary: 'train one model on several workers with little communication (DiLoCo / NoLoCo)',
  usage: '<spec.json | preset>',
  description: `
Each worker runs H inner AdamW steps on its own shard of the data, then the workers exchange
pseudo-gradients (their weights' change) as libp2p blobs and apply an outer step: DiLoCo (Nesterov
SGD, lr 0.7, momentum 0.9, on the mean of all workers' pseudo-gradients) or NoLoCo (each worker
averages with one partner drawn from a permutation of the round's seed: no all-reduce). Merges run in
worker order, so every worker's outer state is reproducible bit for bit, and every round commits a
Merkle root over the deltas and the new state. The spec's steps are the inner steps per worker;
they must be a multiple of --inner-steps.

Without --join, the workers are processes on this machine (worker 0 first, the others bootstrap from
it). A live table shows each round: loss, bytes sent, who is in. Metrics (diloco.jsonl) and a plot of
loss against bytes (loss-bytes.svg) go to <data dir>/diloco/<run>/. A worker that is stopped and
started again (same data dir) resumes from the state it committed after its last round.

Examples:
  mycel swarm train quick --workers 4 --inner-steps 10
  mycel swarm train quick --workers 4 --mode noloco --inner-steps 25 --json
  mycel swarm train quick --workers 4 --inner-steps 10 --join /ip4/10.0.0.2/tcp/4001/p2p/16U... --worker-index 4`,
  flags: {
    ...JOB_FLAGS,
    workers: { type: 'string', value: 'N', description: `worker processes to start here (1-${MAX_DILOCO_WORKERS}); also the number of data shards`, default: '4' },
    mode: { type: 'string', value: 'MODE', description: 'diloco (all workers average) or noloco (a seed-drawn partner)', default: 'diloco' },
    'max-memory': { type: 'string', value: 'GIB', description: 'refuse to start (or join) when the workers\' memory estimate is above this (default: 80% of RAM)' },
    'metrics-port': { type: 'string', value: 'N', description: 'each worker serves Prometheus metrics (peers, gossip, blobs, round loss, bytes sent) on http://127.0.0.1:(N + its index)/metrics; 0 = free ports, printed. Default: off' },
    'inner-steps': { type: 'string', value: 'H', description: 'inner steps between exchanges', default: '10' },
    'cutoff-ms': { type: 'string', value: 'MS', description: 'how long a round waits for late workers', default: '60000' },
    'spot-check': { type: 'string', value: 'FRACTION', description: 'fraction of deltas re-executed each round (0-1)', default: '0.25' },
    join: { type: 'string', value: 'MULTIADDR', description: 'take part in a run started elsewhere: the address of one of its workers' },
    'worker-index': { type: 'string', value: 'I', description: 'with --join: this worker\'s slot (below --workers of the run, or a new one)' },
    'worker-of': { type: 'string', value: 'ADDR', description: '(internal) run as worker --worker-index of a launcher; ADDR is worker 0 or "first"' },
  },
  async run({ args, flags, out, signal }) {
    if (args.length !== 1) {
      throw new UsageError(`swarm train takes one spec file or preset name, got ${args.length ? `"${args.join(' ')}"` : 'none'}.`, {
        metaMessages: ['Example: mycel swarm train quick --workers 4 --inner-steps 10'],
      });
    }
    const settings = parseSettings(flags);
    const program = await resolveProgram(args[0], flags);
    if (program.spec.steps % settings.innerSteps !== 0) {
      throw new UsageError(`The spec's ${program.spec.steps} steps are not a whole number of rounds of --inner-steps ${settings.innerSteps}.`, {
        metaMessages: [`Choose an --inner-steps that divides ${program.spec.steps}, e.g. ${divisorsNear(program.spec.steps, settings.innerSteps)}.`],
      });
    }
    // Before any worker starts or joins: the workers this command runs here must fit the memory limit together.
    const local = flags['worker-of'] !== undefined || flags.join !== undefined ? 1 : settings.workers;
    const perWorker = dilocoWorkerMemory(program.spec, program.tokenizer.vocabSize, settings.workers);
    const memory = { ...perWorker, bytes: local * perWorker.bytes, floorBytes: local * perWorker.floorBytes, breakdown: `${local} worker(s), each: ${perWorker.breakdown}` };
    checkSwarmMemory(local === 1 ? 'A DiLoCo worker of this run' : `${local} DiLoCo workers of this run`, memory, maxMemoryFlag(flags), local === 1 ? 'Choose a smaller model or batch in the spec' : 'Start fewer --workers here (others can --join from other machines), choose a smaller model or batch');
    const run = toHex(sha256(new TextEncoder().encode(canonicalJson({ job: program.id, mode: settings.mode, H: settings.innerSteps, slots: settings.workers }))));
    const dir = join(dataDirOf(flags), 'diloco', run.slice(0, 16));

    if (flags['worker-of'] !== undefined || flags.join !== undefined) {
      // One worker in this process: a launcher's child (--worker-of), or a worker joining from elsewhere (--join).
      const index = intFlag(flags, 'worker-index', -1, 0, MAX_DILOCO_WORKERS - 1);
      if (index < 0) throw new FlagError('worker-index', 'given with --join (this worker\'s slot)', 'nothing');
      const joining = flags.join !== undefined;
      const bootstrap = joining ? [flags.join as string] : flags['worker-of'] === 'first' ? [] : [flags['worker-of'] as string];
      const workerDir = join(dir, `worker-${index}`);
      await mkdir(workerDir, { recursive: true });
      const node = await MycelNode.start({ identity: await loadIdentity(join(workerDir, 'key.secp256k1')), dataDir: workerDir, host: '127.0.0.1', tcpPort: 0, wsPort: -1, bootstrap, ...(joining ? { host: '0.0.0.0' } : {}) });
      const emit = (event: unknown) => (flags['worker-of'] !== undefined ? process.stdout.write(`${JSON.stringify(event)}\n`) : out.result(event, describe(event as DilocoRoundEvent)));
      // A launcher given --metrics-port N gives worker i the port N + i (0: each a free port).
      const port = flags['metrics-port'] === undefined ? undefined : intFlag(flags, 'metrics-port', 0, 0, 65535 - MAX_DILOCO_WORKERS);
      const metrics = port === undefined ? undefined : createNodeMetrics({ name: `worker-${index}`, p2p: node });
      const served = metrics && port !== undefined ? await serveMetrics(metrics.registry, { port: port === 0 || joining ? port : port + index }) : undefined;
      try {
        emit({ kind: 'started', worker: index, addr: node.multiaddrs()[0] ?? null, peer: node.peerId.toString(), ...(served ? { metrics: served.url } : {}) });
        const slots = Math.max(settings.workers, index + 1);
        await runDilocoWorker({
          node, program, batch: program.batch, run, mode: settings.mode, innerSteps: settings.innerSteps, slots,
          rounds: program.spec.steps / settings.innerSteps, hyper: settings.mode === 'diloco' ? DILOCO_OUTER : NOLOCO_OUTER,
          seed: program.spec.seed, cutoffMs: settings.cutoffMs, spotCheckFraction: settings.spotCheck,
          worker: index, roster: joining ? [] : Array.from({ length: settings.workers }, (_, i) => i), join: joining,
          dir: workerDir, signal,
          onRound: (e) => {
            metrics?.round({ round: e.round, loss: e.loss, bytesSent: e.bytesSent });
            emit({ kind: 'round', ...e });
          },
          onLog: (line) => (flags['worker-of'] !== undefined ? emit({ kind: 'log', worker: index, line }) : out.log(line)),
        });
        // Stopped by a signal, the worker keeps the state it committed after its last round (a restart resumes there).
        const stopped = interruptedExit(signal);
        emit({ kind: stopped ? 'stopped' : 'done', worker: index });
        return stopped;
      } finally {
        await served?.close();
        await node.stop();
      }
    }
    return launch(args[0], flags, settings, program.spec.steps / settings.innerSteps, dir, run, out, signal);
  },
};

type Settings = { workers: number; mode: DilocoMode; innerSteps: number; cutoffMs: number; spotCheck: number };

function parseSettings(flags: Flags): Settings {
  const mode = flags.mode as string;
  if (!(MODES as readonly string[]).includes(mode)) throw new FlagError('mode', `one of ${MODES.join(', ')}`, mode);
  const spotCheck = Number(flags['spot-check']);
  if (!(spotCheck >= 0 && spotCheck <= 1)) throw new FlagError('spot-check', 'a fraction from 0 to 1', String(flags['spot-check']));
  return {
    workers: intFlag(flags, 'workers', 4, 1, MAX_DILOCO_WORKERS),
    mode: mode as DilocoMode,
    innerSteps: intFlag(flags, 'inner-steps', 10, 1, 1_000_000),
    cutoffMs: intFlag(flags, 'cutoff-ms', 60_000, 100, 24 * 3600_000),
    spotCheck,
  };
}

function divisorsNear(n: number, h: number): string {
  const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
  return divisors.sort((a, b) => Math.abs(a - h) - Math.abs(b - h)).slice(0, 3).sort((a, b) => a - b).join(', ');
}

function describe(e: DilocoRoundEvent & { kind?: string }): string {
  if (e.kind !== 'round') return JSON.stringify(e);
  return `round ${e.round}  loss ${e.loss.toFixed(4)}  sent ${e.bytesSent}  in ${e.accepted.join(',')}`;
}

/** Starts the worker processes, relays their rounds into one live table, writes metrics and the plot. */
async function launch(spec: string, flags: Flags, s: Settings, rounds: number, dir: string, run: string, out: import('../output.js').Output, signal: AbortSignal): Promise<number | undefined> {
  await mkdir(dir, { recursive: true });
  const passOn = ['--workers', String(s.workers), '--mode', s.mode, '--inner-steps', String(s.innerSteps), '--cutoff-ms', String(s.cutoffMs), '--spot-check', String(s.spotCheck)];
  for (const f of ['text', 'data-dir', 'metrics-port', 'max-memory'] as const) if (flags[f] !== undefined) passOn.push(`--${f}`, flags[f] as string);
  const children: ChildProcess[] = [];
  const rows = new Map<number, DilocoRoundRow>();
  const reported = new Map<number, number>();
  let alive = s.workers;
  out.log(`run ${run.slice(0, 16)}: ${s.workers} workers, ${s.mode}, H = ${s.innerSteps}, ${rounds} rounds; data in ${dir}`);
  if (!out.json) out.print('round   loss      bytes sent   in');
  const failures: string[] = [];
  const onEvent = (e: Record<string, unknown>) => {
    if (e.kind === 'log') out.log(`worker ${e.worker}: ${e.line}`);
    if (e.kind === 'started' && e.metrics) out.log(`worker ${e.worker}: metrics at ${e.metrics}`);
    if (e.kind !== 'round') return;
    const ev = e as unknown as DilocoRoundEvent;
    const row = rows.get(ev.round) ?? { round: ev.round, losses: {}, bytes_sent: {}, accepted: ev.accepted, refused: ev.refused, commitment: ev.commitment, state: ev.stateHash };
    row.losses[ev.worker] = ev.loss;
    row.bytes_sent[ev.worker] = ev.bytesSent;
    if (ev.worker === Math.min(...ev.accepted, ev.worker)) Object.assign(row, { accepted: ev.accepted, refused: ev.refused, commitment: ev.commitment, state: ev.stateHash });
    rows.set(ev.round, row);
    reported.set(ev.round, (reported.get(ev.round) ?? 0) + 1);
    if (reported.get(ev.round) === alive) {
      const losses = Object.values(row.losses);
      const loss = losses.reduce((a, b) => a + b, 0) / losses.length;
      const sent = Object.values(row.bytes_sent).reduce((a, b) => a + b, 0);
      out.result(
        { kind: 'round', round: row.round, loss, bytes_sent: sent, in: row.accepted, refused: row.refused, commitment: row.commitment, state: row.state },
        `${String(row.round).padEnd(7)} ${loss.toFixed(4).padEnd(9)} ${String(sent).padEnd(12)} ${row.accepted.join(',')}${row.refused.length ? `   refused: ${row.refused.map((r) => `${r.worker} (${r.reason})`).join('; ')}` : ''}`,
      );
      void writeDilocoMetrics(dir, [...rows.values()].sort((a, b) => a.round - b.round), `mycel swarm train: ${s.mode}, H = ${s.innerSteps}, ${s.workers} workers`);
    }
  };
  const start = (index: number, bootstrap: string) =>
    new Promise<string | undefined>((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'swarm', 'train', spec, ...passOn, '--worker-index', String(index), '--worker-of', bootstrap], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      const output = followChild(child, (e) => {
        if (e.kind === 'started') resolve(e.addr as string);
        onEvent(e);
      });
      child.on('exit', (code) => {
        resolve(undefined);
        if (code !== 0 && !signal.aborted) {
          alive--;
          failures.push(`worker ${index} exited with ${code}: ${output.errorLines(3)}`);
        }
      });
    });
  const stopAll = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
  signal.addEventListener('abort', stopAll, { once: true });
  try {
    const first = await start(0, 'first');
    if (!first) throw new UsageError(`Worker 0 did not start: ${failures.join('; ')}`);
    await Promise.all(Array.from({ length: s.workers - 1 }, (_, i) => start(i + 1, first)));
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  } finally {
    stopAll();
  }
  const sorted = [...rows.values()].sort((a, b) => a.round - b.round);
  await writeDilocoMetrics(dir, sorted, `mycel swarm train: ${s.mode}, H = ${s.innerSteps}, ${s.workers} workers`);
  for (const f of failures) out.log(f);
  const last = sorted.at(-1);
  out.result(
    { kind: 'run', run, mode: s.mode, inner_steps: s.innerSteps, workers: s.workers, rounds: sorted.length, of: rounds, state: last?.state ?? null, commitment: last?.commitment ?? null, metrics: join(dir, 'diloco.jsonl'), plot: join(dir, 'loss-bytes.svg'), failures, interrupted: signal.aborted },
    `${signal.aborted ? 'stopped' : 'done'}: ${sorted.length}/${rounds} rounds, outer state ${last?.state ?? '-'}${signal.aborted ? ' (the same command resumes from it)' : ''}\nmetrics ${join(dir, 'diloco.jsonl')}\nplot    ${join(dir, 'loss-bytes.svg')}`,
  );
  // Cut short by Ctrl-C or SIGTERM (the workers committed their last round and wrote it; metrics and plot above): 130 or 143.
  return interruptedExit(signal) ?? (failures.length ? 1 : undefined);
}
