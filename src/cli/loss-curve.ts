/**
 * The loss curve `mycel train` keeps in the run's folder: loss.jsonl (one JSON object per step) and
 * loss.svg (a plot any browser opens). Both are rewritten whole and atomically at each checkpoint and
 * when training ends or stops, so they always describe steps the run really has.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../train/index.js';

export type LossPoint = { step: number; loss: number; lr: number; grad_norm: number | null };

export const LOSS_JSONL = 'loss.jsonl';
export const LOSS_SVG = 'loss.svg';

/** The points already recorded up to `upTo` (a resumed run computes the later steps again). */
export async function readLossCurve(dir: string, upTo: number): Promise<LossPoint[]> {
  let text: string;
  try {
    text = await readFile(join(dir, LOSS_JSONL), 'utf8');
  } catch {
    return [];
  }
  const points: LossPoint[] = [];
  for (const line of text.split('\n')) {
    try {
      const p = JSON.parse(line) as LossPoint;
      if (Number.isInteger(p.step) && p.step <= upTo) points.push(p);
    } catch {
      // A line that is not JSON (an older file cut short) is dropped; its step is trained again.
    }
  }
  return points;
}

export async function writeLossCurve(dir: string, points: readonly LossPoint[], title: string): Promise<void> {
  const encode = (s: string) => new TextEncoder().encode(s);
  await writeAtomic(join(dir, LOSS_JSONL), encode(points.map((p) => `${JSON.stringify(p)}\n`).join('')));
  await writeAtomic(join(dir, LOSS_SVG), encode(lossSvg(points, title)));
}

/**
 * Loss against step as a standalone SVG. Written by hand: a polyline and four labels do not need a
 * chart library, and uPlot (the dashboard's) draws on a browser canvas, which Node does not have.
 */
export function lossSvg(points: readonly LossPoint[], title: string): string {
  const [W, H, left, right, top, bottom] = [640, 360, 64, 16, 32, 40];
  const finite = points.filter((p) => Number.isFinite(p.loss));
  const steps = finite.map((p) => p.step);
  const losses = finite.map((p) => p.loss);
  const [x0, x1] = [Math.min(0, ...steps), Math.max(1, ...steps)];
  const [y0, y1] = losses.length ? [Math.min(...losses), Math.max(...losses)] : [0, 1];
  const span = y1 - y0 || 1;
  const x = (s: number) => left + ((s - x0) / (x1 - x0)) * (W - left - right);
  const y = (l: number) => top + (1 - (l - y0) / span) * (H - top - bottom);
  const line = finite.map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
  const text = (tx: number, ty: number, anchor: string, s: string) => `<text x="${tx}" y="${ty}" text-anchor="${anchor}">${escapeXml(s)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    text(W / 2, 20, 'middle', title),
    `<path d="M${left},${top} V${H - bottom} H${W - right}" fill="none" stroke="#888"/>`,
    text(left - 6, top + 4, 'end', y1.toPrecision(4)),
    text(left - 6, H - bottom, 'end', y0.toPrecision(4)),
    text(left, H - bottom + 16, 'middle', String(x0)),
    text(W - right, H - bottom + 16, 'end', String(x1)),
    text((left + W - right) / 2, H - 8, 'middle', 'step'),
    text(14, (top + H - bottom) / 2, 'middle', 'loss'),
    finite.length > 0 ? `<polyline points="${line}" fill="none" stroke="#2563eb" stroke-width="1.5"/>` : '',
    '</svg>',
    '',
  ].join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
