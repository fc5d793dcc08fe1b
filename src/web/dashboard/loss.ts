/** Training loss curves, one series per (node, job), drawn with uPlot. */
import uPlot from 'uplot';
import type { LossView } from '../../node/dashboard/state.js';
import { fill, h } from './dom.js';

const COLORS = ['#2f7ed8', '#e4572e', '#29a36a', '#9b5de5', '#f0a202', '#00a6a6'];
let chart: uPlot | undefined;
let seriesKey = '';

/** uPlot wants one x array shared by every series: the union of the steps, with gaps where a run has no point. */
function aligned(curves: LossView[]): uPlot.AlignedData {
  const xs = [...new Set(curves.flatMap((c) => c.steps))].sort((a, b) => a - b);
  const ys = curves.map((c) => {
    const at = new Map(c.steps.map((s, i) => [s, c.loss[i]]));
    return xs.map((x) => at.get(x) ?? null);
  });
  return [xs, ...ys];
}

export function renderLoss(curves: LossView[]): void {
  const box = document.getElementById('loss')!;
  if (curves.length === 0) {
    chart?.destroy();
    chart = undefined;
    seriesKey = '';
    return fill('loss', h('p', { class: 'empty' }, 'No training step has been reported yet.'));
  }
  const key = curves.map((c) => `${c.node}/${c.jobId}`).join('|');
  const data = aligned(curves);
  if (chart && key === seriesKey) return chart.setData(data);
  chart?.destroy();
  box.replaceChildren();
  seriesKey = key;
  chart = new uPlot({
    width: Math.max(320, box.clientWidth - 8),
    height: 260,
    scales: { x: { time: false } },
    axes: [{ label: 'step', stroke: '#52606d', grid: { stroke: '#e6eaee' } }, { label: 'loss', stroke: '#52606d', grid: { stroke: '#e6eaee' } }],
    series: [{ label: 'step' }, ...curves.map((c, i) => ({ label: `${c.node} · job ${c.jobId}`, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, points: { show: false } }))],
  }, data, box);
}

/** Keeps the chart as wide as its card. */
export function resizeLoss(): void {
  const box = document.getElementById('loss')!;
  chart?.setSize({ width: Math.max(320, box.clientWidth - 8), height: 260 });
}
