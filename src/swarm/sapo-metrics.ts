/**
 * Per-round metrics on disk: one JSON line per node and round in <dir>/sapo-metrics.jsonl, and an SVG
 * plot of reward per round per node, with the swarm's mean drawn thick. The plot is plain SVG text
 * (no chart library) so it is written by the node process itself, with no browser.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RoundMetrics } from './round.js';

export const METRICS_FILE = 'sapo-metrics.jsonl';
export const PLOT_FILE = 'sapo-reward.svg';

export async function appendMetrics(dir: string, metrics: RoundMetrics): Promise<void> {
  await mkdir(dir, { recursive: true });
  await appendFile(join(dir, METRICS_FILE), `${JSON.stringify(metrics)}\n`);
}

export async function readMetrics(dir: string): Promise<RoundMetrics[]> {
  let text: string;
  try {
    text = await readFile(join(dir, METRICS_FILE), 'utf8');
  } catch {
    return [];
  }
  // A line cut by a crash mid-write is skipped, not fatal: the rounds before it are still plotted.
  return text.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as RoundMetrics] : [];
    } catch {
      return [];
    }
  });
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** The SVG: reward (0..1) against round, a line per node and the mean over the nodes of each round. */
export function rewardPlot(rows: readonly RoundMetrics[], title = 'SAPO reward per round'): string {
  const W = 640;
  const H = 360;
  const pad = { l: 48, r: 150, t: 32, b: 40 };
  const rounds = [...new Set(rows.map((r) => r.round))].sort((a, b) => a - b);
  const nodes = [...new Set(rows.map((r) => r.node))].sort();
  const first = rounds[0] ?? 0;
  const last = rounds.at(-1) ?? 1;
  const x = (round: number) => pad.l + ((round - first) / Math.max(1, last - first)) * (W - pad.l - pad.r);
  const y = (reward: number) => H - pad.b - reward * (H - pad.t - pad.b);
  const line = (points: [number, number][], color: string, width: number) =>
    points.length ? `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${points.map(([r, v]) => `${x(r).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>` : '';
  const parts: string[] = [];
  nodes.forEach((node, i) => {
    const points = rows.filter((r) => r.node === node).sort((a, b) => a.round - b.round).map((r): [number, number] => [r.round, r.reward]);
    parts.push(line(points, COLORS[i % COLORS.length], 1.5));
    parts.push(`<text x="${W - pad.r + 10}" y="${pad.t + 14 * i + 10}" font-size="11" fill="${COLORS[i % COLORS.length]}">node …${node.slice(-6)}</text>`);
  });
  const mean = rounds.map((round): [number, number] => {
    const at = rows.filter((r) => r.round === round);
    return [round, at.reduce((s, r) => s + r.reward, 0) / at.length];
  });
  parts.push(line(mean, '#000', 3));
  parts.push(`<text x="${W - pad.r + 10}" y="${pad.t + 14 * nodes.length + 10}" font-size="11" font-weight="bold">swarm mean</text>`);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((v) => `<text x="${pad.l - 8}" y="${y(v) + 4}" font-size="10" text-anchor="end">${v}</text><line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${pad.l}" y="20" font-size="14">${title}</text>`,
    ...ticks,
    `<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${H - pad.b}" stroke="#000"/>`,
    `<line x1="${pad.l}" x2="${W - pad.r}" y1="${H - pad.b}" y2="${H - pad.b}" stroke="#000"/>`,
    `<text x="${pad.l}" y="${H - 12}" font-size="11">round ${first}</text><text x="${W - pad.r}" y="${H - 12}" font-size="11" text-anchor="end">round ${last}</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

/** Writes the plot through a temp file, so a reader never sees half of it. */
export async function writePlot(dir: string, rows: readonly RoundMetrics[], title?: string): Promise<string> {
  const path = join(dir, PLOT_FILE);
  await writeFile(`${path}.tmp`, rewardPlot(rows, title));
  await rename(`${path}.tmp`, path);
  return path;
}
