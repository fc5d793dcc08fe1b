/**
 * Swarm rounds: the reward of each node's own completions per round (uPlot, a line per node), and the latest round's
 * reward, accuracy, rollouts in and out, rejected rollouts and dropped peers per node, with the swarm's mean.
 */
import uPlot from 'uplot';
import type { SwarmRoundView, SwarmView } from '../../node/dashboard/state.js';
import { fill, h, table } from './dom.js';

const COLORS = ['#2f7ed8', '#e4572e', '#29a36a', '#9b5de5', '#f0a202', '#00a6a6', '#8c564b', '#e377c2'];
let chart: uPlot | undefined;
let seriesKey = '';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function renderSwarm(swarm: SwarmView): void {
  const rows = swarm.rounds;
  fill('swarm-count', rows.length ? `round ${Math.max(...rows.map((r) => r.round))}` : '');
  if (rows.length === 0) {
    chart?.destroy();
    chart = undefined;
    seriesKey = '';
    return fill('swarm', h('p', { class: 'empty' }, 'No swarm round has been reported yet (a node started with --swarm-metrics follows a swarm\'s sapo-metrics.jsonl).'));
  }
  const nodes = [...new Set(rows.map((r) => r.node))].sort();
  const rounds = [...new Set(rows.map((r) => r.round))].sort((a, b) => a - b);
  const at = new Map(rows.map((r) => [`${r.round}/${r.node}`, r]));
  const data: uPlot.AlignedData = [rounds, ...nodes.map((n) => rounds.map((r) => at.get(`${r}/${n}`)?.reward ?? null))];
  const last = rounds[rounds.length - 1];
  const latest = nodes.map((n) => at.get(`${last}/${n}`)).filter((r): r is SwarmRoundView => r !== undefined);
  const mean = (f: (r: SwarmRoundView) => number) => latest.reduce((s, r) => s + f(r), 0) / latest.length;
  const key = nodes.join('|');
  let plot = document.getElementById('swarm-plot');
  if (!chart || key !== seriesKey || !plot) {
    chart?.destroy();
    plot = h('div', { id: 'swarm-plot' });
    document.getElementById('swarm')!.replaceChildren(plot, h('div', { id: 'swarm-table' }));
    seriesKey = key;
    chart = new uPlot({
      width: Math.max(320, document.getElementById('swarm')!.clientWidth - 8),
      height: 220,
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: [{ label: 'round', stroke: '#52606d', grid: { stroke: '#e6eaee' }, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] }, { label: 'reward', stroke: '#52606d', grid: { stroke: '#e6eaee' } }],
      series: [{ label: 'round' }, ...nodes.map((n, i) => ({ label: n.length > 14 ? `${n.slice(0, 6)}…${n.slice(-6)}` : n, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true }))],
    }, data, plot);
  } else chart.setData(data);
  fill('swarm-table', table(['node', 'reward', 'accuracy', 'rollouts in', 'out', 'rejected', 'dropped peers'],
    [...latest.map((r) => [r.node, r.reward.toFixed(3), pct(r.accuracy), r.rolloutsIn, r.rolloutsOut, r.rejected, r.dropped]),
      [h('strong', {}, `mean, round ${last}`), mean((r) => r.reward).toFixed(3), pct(mean((r) => r.accuracy)), '', '', '', '']], ''),
  swarm.source ? h('p', { class: 'empty' }, `from ${swarm.source}`) : null);
}

/** Keeps the chart as wide as its card. */
export function resizeSwarm(): void {
  const box = document.getElementById('swarm');
  if (box) chart?.setSize({ width: Math.max(320, box.clientWidth - 8), height: 220 });
}
