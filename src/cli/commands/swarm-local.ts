import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interruptedExit, intFlag, type Command } from '../command.js';
import { followChild } from '../../platform/child-output.js';
import { MycelError } from '../../platform/errors.js';
import type { RoundMetrics } from '../../swarm/round.js';
import { appendMetrics, writePlot } from '../../swarm/sapo-metrics.js';
import { HOSTILE_KINDS } from '../../swarm/sapo-adversary.js';
import { SAPO_FLAGS, hostileOf, sapoSettings, startFile, startingPolicy } from './sapo-flags.js';
import { buildProgram, policySpec } from '../../swarm/sapo-policy.js';

/** Between every node being up (and subscribed) and round 0: time for the gossip mesh to form. */
const START_MARGIN_MS = 2_000;

export const swarmLocal: Command = {
  name: 'swarm local',
  summary: 'run an RL swarm of N node processes on this machine over libp2p, with a live table per round',
  description: [
    'Starts N `mycel swarm start` processes on 127.0.0.1 (the first is the others\' bootstrap peer), each',
    'in <data-dir>/node-<i>, and prints a row per round: mean reward and accuracy, rollouts in and out,',
    'dropped peers. Metrics of every node go to <data-dir>/sapo-metrics.jsonl with a plot, sapo-reward.svg.',
    'Example: mycel swarm local --nodes 4 --split 4/4 --rounds 10',
  ].join('\n'),
  flags: {
    ...SAPO_FLAGS,
    nodes: { type: 'string', value: 'N', description: 'Node processes (2-16). Default 3' },
    'data-dir': { type: 'string', value: 'DIR', description: 'Where the nodes keep keys, blobs and metrics. Default ./mycel-swarm-local' },
    hostile: { type: 'string', value: 'KIND', description: `Make the last node hostile (${HOSTILE_KINDS.join(', ')}), to watch the swarm drop it` },
  },
  async run({ flags, out, signal }) {
    const settings = await sapoSettings(flags, { rounds: 5 });
    const nodes = intFlag(flags, 'nodes', 3, 2, 16);
    const hostile = hostileOf(flags);
    const rounds = settings.rounds ?? 5;
    const dir = resolve((flags['data-dir'] as string | undefined) ?? 'mycel-swarm-local');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Flags every node shares: the swarm's rules as given here.
    const shared: string[] = ['--rounds', String(rounds), '--round-ms', String(settings.roundMs), '--peers', String(nodes - 1), '--json'];
    for (const name of ['config', 'tasks', 'split', 'completions', 'model', 'pretrain-steps', 'seed', 'reexec', 'swarm-id']) {
      if (typeof flags[name] === 'string') shared.push(`--${name}`, flags[name] as string);
    }
    // One pre-training for all: each node finds the starting policy in its data dir instead of making it.
    const program = buildProgram(policySpec(settings.config, { model: settings.model, seed: settings.seed, steps: settings.pretrainSteps }));
    await startingPolicy(join(dir, 'node-0', 'sapo'), program, settings, (t) => out.log(t));
    for (let i = 1; i < nodes; i++) {
      await mkdir(join(dir, `node-${i}`, 'sapo'), { recursive: true, mode: 0o700 });
      await copyFile(startFile(join(dir, 'node-0', 'sapo'), program, settings.pretrainSteps), startFile(join(dir, `node-${i}`, 'sapo'), program, settings.pretrainSteps));
    }
    const children: NodeProcess[] = [];
    const stopAll = () => children.forEach((c) => c.stop());
    signal.addEventListener('abort', stopAll, { once: true });
    const rows = new Map<number, RoundMetrics[]>();
    const all: RoundMetrics[] = [];
    let printed = 0;
    const ids: string[] = [];
    const onEvent = (i: number, e: Record<string, unknown>) => {
      if (e.type === 'round') {
        const m = e as unknown as RoundMetrics;
        all.push(m);
        rows.set(m.round, [...(rows.get(m.round) ?? []), m]);
        while (rows.get(printed)?.length === nodes) printRow(rows.get(printed)!), printed++;
      } else if (e.type === 'reject') out.log(`node ${i} rejected a rollout of …${String(e.peer).slice(-6)}: ${String(e.reason)}`);
    };
    const printRow = (ms: RoundMetrics[]) => {
      const mean = (f: (m: RoundMetrics) => number) => ms.reduce((s, m) => s + f(m), 0) / ms.length;
      const dropped = [...new Set(ms.flatMap((m) => m.dropped))];
      const row = { round: ms[0].round, reward: mean((m) => m.reward), accuracy: mean((m) => m.accuracy), rolloutsIn: ms.reduce((s, m) => s + m.rolloutsIn, 0), rolloutsOut: ms.reduce((s, m) => s + m.rolloutsOut, 0), dropped, perNode: ms.map((m) => ({ node: m.node, reward: m.reward })) };
      if (printed === 0 && !out.json) out.print('round  reward  accuracy  rollouts in/out  dropped');
      out.result(row, `${String(row.round).padStart(5)}  ${row.reward.toFixed(3)}   ${row.accuracy.toFixed(2)}      ${String(row.rolloutsIn).padStart(5)}/${String(row.rolloutsOut).padEnd(5)}     ${dropped.length ? dropped.map((d) => `…${d.slice(-6)}`).join(' ') : '-'}`);
    };
    try {
      const genesisFile = join(dir, 'genesis');
      await rm(genesisFile, { force: true });
      const first = startNode(0, [...shared, '--genesis-file', genesisFile, '--data-dir', join(dir, 'node-0'), '--port', '0', '--host', '127.0.0.1'], onEvent);
      children.push(first);
      const ready = await first.ready;
      ids.push(String(ready.peerId));
      const bootstrap = (ready.multiaddrs as string[])[0];
      for (let i = 1; i < nodes; i++) {
        const extra = hostile && i === nodes - 1 ? ['--hostile', hostile] : [];
        children.push(startNode(i, [...shared, ...extra, '--genesis-file', genesisFile, '--data-dir', join(dir, `node-${i}`), '--port', '0', '--host', '127.0.0.1', '--bootstrap', bootstrap], onEvent));
      }
      for (const c of children.slice(1)) ids.push(String((await c.ready).peerId));
      const genesis = Date.now() + START_MARGIN_MS;
      await writeFile(`${genesisFile}.tmp`, String(genesis));
      await rename(`${genesisFile}.tmp`, genesisFile);
      out.log(`${nodes} nodes up; round 0 at ${new Date(genesis).toISOString()}`);
      await Promise.all(children.map((c) => c.exited));
    } catch (error) {
      // Stopped by a signal: a node that was still starting ends as it can; the rounds so far are written below. Each
      // node exits 143 once it has written its last round (an exit that rejects its `exited`): all are waited for.
      if (!signal.aborted) throw error;
      stopAll();
      await Promise.allSettled(children.map((c) => c.exited));
    } finally {
      stopAll();
      signal.removeEventListener('abort', stopAll);
    }
    for (const m of all) await appendMetrics(dir, m);
    const plot = await writePlot(dir, all, `SAPO reward per round, ${nodes} nodes, split ${settings.config.own}/${settings.config.external}`);
    out.result({ type: 'done', nodes: ids, rounds: printed, metrics: join(dir, 'sapo-metrics.jsonl'), plot, interrupted: signal.aborted }, `${signal.aborted ? 'Stopped' : 'Done'}: ${printed} rounds. Metrics ${join(dir, 'sapo-metrics.jsonl')}, plot ${plot}`);
    // Cut short by Ctrl-C or SIGTERM, with the rounds so far written above: 130 or 143.
    const stopped = interruptedExit(signal);
    if (stopped) return stopped;
    if (printed < rounds) throw new MycelError(`Only ${printed} of ${rounds} rounds completed on every node.`, { metaMessages: ['See the nodes\' logs above; a slower machine needs a longer --round-ms.'] });
  },
};

export type NodeProcess = { child: ChildProcess; ready: Promise<Record<string, unknown>>; exited: Promise<void>; stop(): void };

/** One `mycel swarm start` process; its JSON lines are events, its stderr's last lines the error message. */
export function startNode(index: number, args: string[], onEvent: (i: number, e: Record<string, unknown>) => void): NodeProcess {
  const fromTs = import.meta.url.endsWith('.ts');
  const main = fileURLToPath(new URL(fromTs ? '../main.ts' : '../main.js', import.meta.url));
  const child = spawn(process.execPath, [...(fromTs ? ['--import', 'tsx'] : []), main, 'swarm', 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let resolveReady!: (v: Record<string, unknown>) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<Record<string, unknown>>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  ready.catch(() => undefined);
  const output = followChild(child, (e) => (e.type === 'ready' ? resolveReady(e) : onEvent(index, e)));
  const exited = new Promise<void>((res, rej) => {
    child.on('exit', (code, sig) => {
      const error = new NodeProcessError(index, code, sig, output.errorLines());
      rejectReady(error);
      if (code === 0) res();
      else rej(error);
    });
  });
  return { child, ready, exited, stop: () => { if (child.exitCode === null) child.kill('SIGTERM'); } };
}

class NodeProcessError extends MycelError {
  override name = 'NodeProcessError';
  constructor(index: number, code: number | null, signal: NodeJS.Signals | null, lines: string) {
    super(`Swarm node ${index} exited with ${signal ?? code}: ${lines || '(no output)'}`, { metaMessages: [`Its data is in node-${index} of the data dir.`] });
  }
}
