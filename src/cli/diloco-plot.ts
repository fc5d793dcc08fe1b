/**
 * What `mycel swarm train` keeps in its run folder: diloco.jsonl (one JSON object per outer round) and
 * loss-bytes.svg (mean inner loss against the bytes all workers have sent), both rewritten whole and
 * atomically after each round. The plot is line-plot.ts's.
 */
import { join } from 'node:path';
import { writeAtomic } from '../train/index.js';
import { linePlotSvg } from './line-plot.js';

export type DilocoRoundRow = {
  round: number;
  /** Mean inner loss of each worker's round, by worker. */
  losses: Record<number, number>;
  /** Blob bytes each worker had served by the end of the round (cumulative). */
  bytes_sent: Record<number, number>;
  accepted: number[];
  refused: { worker: number; reason: string }[];
  commitment: string;
  state: string;
};

export async function writeDilocoMetrics(dir: string, rows: readonly DilocoRoundRow[], title: string): Promise<void> {
  const points = rows.map((r) => {
    const losses = Object.values(r.losses);
    return { round: r.round, loss: losses.reduce((a, b) => a + b, 0) / losses.length, bytes: Object.values(r.bytes_sent).reduce((a, b) => a + b, 0) };
  });
  const encode = (s: string) => new TextEncoder().encode(s);
  await writeAtomic(join(dir, 'diloco.jsonl'), encode(rows.map((r, i) => `${JSON.stringify({ ...r, loss: points[i].loss, bytes_sent_total: points[i].bytes })}\n`).join('')));
  await writeAtomic(join(dir, 'loss-bytes.svg'), encode(lossBytesSvg(points, title)));
}

export function lossBytesSvg(points: readonly { loss: number; bytes: number }[], title: string): string {
  return linePlotSvg({
    title,
    points: points.map((p) => ({ x: p.bytes, y: p.loss })),
    xLabel: 'bytes sent (all workers)',
    yLabel: 'loss',
    xFrom: 0,
    xTicks: (_x0, x1) => ['0', `${(x1 / 2 ** 20).toFixed(2)} MiB`],
    dots: true,
  });
}
