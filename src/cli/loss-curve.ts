/**
 * The loss curve `mycel train` keeps in the run's folder: loss.jsonl (one JSON object per step) and
 * loss.svg (a plot any browser opens). Both are rewritten whole and atomically at each checkpoint and
 * when training ends or stops, so they always describe steps the run really has.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../train/index.js';
import { linePlotSvg } from './line-plot.js';

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

/** Loss against step as a standalone SVG. */
export function lossSvg(points: readonly LossPoint[], title: string): string {
  return linePlotSvg({ title, points: points.map((p) => ({ x: p.step, y: p.loss })), xLabel: 'step', yLabel: 'loss', xFrom: 0, xTicks: (x0, x1) => [String(x0), String(x1)] });
}
