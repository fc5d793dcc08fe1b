// `npm run bench -- heap-diff A.heapsnapshot B.heapsnapshot [--kinds 'object:Timeout,closure:onAbort'] [--top 40] [--json]`:
// what grew in a process's V8 heap between two snapshots (bench soak --snapshots writes them), by kind (constructor)
// and, for the kinds named, by retainer chain, net of objects that only replaced others (bench/lib/heap-diff.ts).
// Snapshots of ~80 MB heaps take ~1 GB and a minute to compare.
import { makeReporter } from './report.js';
import { diffByChain, diffByKind, loadSnapshot } from './lib/heap-diff.js';

export async function run(args: string[]): Promise<void> {
  const files = args.filter((a, i) => !a.startsWith('--') && !['--kinds', '--top'].includes(args[i - 1]));
  if (args.includes('--help') || files.length !== 2) {
    console.error("Usage: npm run bench -- heap-diff A.heapsnapshot B.heapsnapshot [--kinds 'object:Timeout,closure:onAbort'] [--top 40] [--json]");
    if (!args.includes('--help')) process.exitCode = 2;
    return;
  }
  const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const top = Number(flag('--top') ?? 40);
  const kinds = (flag('--kinds') ?? '').split(',').filter(Boolean);
  const report = makeReporter(args);
  const [a, b] = files.map(loadSnapshot);
  const deltas = diffByKind(a, b);
  report({ name: 'heap-diff', self_size_delta_bytes: deltas.reduce((sum, d) => sum + d.sizeDelta, 0) });
  for (const d of [...deltas].sort((x, y) => y.sizeDelta - x.sizeDelta).slice(0, top)) report({ name: 'heap-diff.kind', kind: d.kind, size_delta_bytes: d.sizeDelta, count_delta: d.countDelta, count: d.count });
  for (const [kind, chains] of diffByChain(a, b, kinds)) {
    for (const c of chains.slice(0, 8)) report({ name: 'heap-diff.chain', kind, delta: c.delta, count: c.count, chain: c.chain });
  }
}
