/**
 * What `mycel swarm train` keeps in its run folder: diloco.jsonl (one JSON object per outer round) and
 * loss-bytes.svg (mean inner loss against the bytes all workers have sent), both rewritten whole and
 * atomically after each round. The SVG is written by hand, as loss-curve.ts's is: a polyline and a few
 * labels do not need a chart library, and uPlot draws on a browser canvas, which Node does not have.
 */
import { join } from 'node:path';
import { writeAtomic } from '../train/index.js';

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
  const [W, H, left, right, top, bottom] = [640, 360, 64, 16, 32, 40];
  const finite = points.filter((p) => Number.isFinite(p.loss));
  const [x0, x1] = [0, Math.max(1, ...finite.map((p) => p.bytes))];
  const losses = finite.map((p) => p.loss);
  const [y0, y1] = losses.length ? [Math.min(...losses), Math.max(...losses)] : [0, 1];
  const span = y1 - y0 || 1;
  const x = (b: number) => left + ((b - x0) / (x1 - x0)) * (W - left - right);
  const y = (l: number) => top + (1 - (l - y0) / span) * (H - top - bottom);
  const text = (tx: number, ty: number, anchor: string, s: string) => `<text x="${tx}" y="${ty}" text-anchor="${anchor}">${s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    text(W / 2, 20, 'middle', title),
    `<path d="M${left},${top} V${H - bottom} H${W - right}" fill="none" stroke="#888"/>`,
    text(left - 6, top + 4, 'end', y1.toPrecision(4)),
    text(left - 6, H - bottom, 'end', y0.toPrecision(4)),
    text(left, H - bottom + 16, 'middle', '0'),
    text(W - right, H - bottom + 16, 'end', `${(x1 / 2 ** 20).toFixed(2)} MiB`),
    text((left + W - right) / 2, H - 8, 'middle', 'bytes sent (all workers)'),
    text(14, (top + H - bottom) / 2, 'middle', 'loss'),
    finite.length ? `<polyline points="${finite.map((p) => `${x(p.bytes).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ')}" fill="none" stroke="#2563eb" stroke-width="1.5"/>` : '',
    ...finite.map((p) => `<circle cx="${x(p.bytes).toFixed(1)}" cy="${y(p.loss).toFixed(1)}" r="2.5" fill="#2563eb"/>`),
    '</svg>',
    '',
  ].join('\n');
}
