// `npm run bench -- scale [--nodes 60] [--processes 2] [--minutes 5] [--churn 12] [--jobs 6] [--json]`: many mycel
// nodes on TCP over loopback, spread over this process and child processes, with churn (bench/lib/scale.ts): gossip
// delivery and latency, blob availability after the publisher left, and jobs claimed, committed and finalized on an
// anvil market while solvers and verifiers are killed and restarted. One JSON line with every figure. Figures depend
// on the machine's load: the event loops' delay, the CPU time per node and the load average are printed beside them.
import { availableParallelism } from 'node:os';
import { makeReporter } from './report.js';
import { simulateScale } from './lib/scale.js';

function numberFlag(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${name} takes a number >= 0, got "${args[i + 1] ?? ''}".`);
    process.exit(2);
  }
  return v;
}

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.error('Usage: npm run bench -- scale [--nodes 60] [--processes 2] [--minutes 5] [--churn STOPS_PER_MINUTE] [--jobs N] [--solvers 2] [--verifiers 1] [--drain 300] [--json]');
    console.error('  --drain: seconds to wait after the churn for the posted jobs to settle.');
    console.error('  --processes: processes the nodes are spread over (this one and children; default: one per core, at most 4).');
    return;
  }
  const report = makeReporter(args);
  // Ctrl-C or SIGTERM ends the run early, with its nodes and its anvil stopped.
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort(new Error(sig)));
  // A rejection nobody handled (one was a viem TimeoutError when anvil stopped answering, with no mycel frame in its
  // stack) ends the run the same way, named in its figures, instead of ending the process before any figure.
  let failure: string | undefined;
  process.on('unhandledRejection', (error) => {
    const text = `${(error as Error)?.name ?? 'Error'}: ${String((error as Error)?.message ?? error).split('\n')[0]}`;
    process.stderr.write(`unhandled rejection, ending the run: ${text}\n`);
    failure ??= text;
    stop.abort(error);
  });
  const r = await simulateScale({
    signal: stop.signal,
    nodes: numberFlag(args, 'nodes', 60),
    processes: numberFlag(args, 'processes', Math.min(4, availableParallelism())),
    seconds: numberFlag(args, 'minutes', 5) * 60,
    churnPerMinute: numberFlag(args, 'churn', 12),
    jobs: numberFlag(args, 'jobs', 6),
    solvers: numberFlag(args, 'solvers', 2),
    verifiers: numberFlag(args, 'verifiers', 1),
    drainSeconds: numberFlag(args, 'drain', 300),
    log: (text) => process.stderr.write(`${text}\n`),
  });
  const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x);
  report({ name: 'scale', ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])), ...(failure ? { error: failure } : {}) });
  if (failure) process.exitCode = 1;
}
