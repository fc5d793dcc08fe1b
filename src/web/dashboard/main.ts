/**
 * The dashboard page: one EventSource on the node's /api/events (a full snapshot on connect, then the state as it
 * changes and each log line), each part drawn by its view. When the node goes away the page says so, keeps the last
 * state on view, and reconnects; a node that restarted with a new token is reported as such.
 */
import type { DashboardState, LogView } from '../../node/dashboard/state.js';
import { renderBalances } from './balances.js';
import { renderDisputes } from './dispute.js';
import { renderJobs } from './jobs.js';
import { appendLog, resetLogs } from './logs.js';
import { renderLoss, resizeLoss } from './loss.js';
import { renderPeers } from './peers.js';
import { renderSwarm, resizeSwarm } from './swarm.js';
import { renderConnection, renderStatus } from './status.js';

/** How long the page waits before it opens a new stream after the node closed or refused the last one. */
const RETRY_MS = 2_000;

function render(s: Omit<DashboardState, 'logs'>): void {
  renderStatus(s.node, s.chain);
  renderPeers(s);
  renderJobs(s.jobs);
  renderDisputes(s.disputes);
  renderLoss(s.loss);
  renderSwarm(s.swarm);
  renderBalances(s.balances);
  document.body.dataset.updated = String(s.node.now);
}

let lostAt: number | undefined;

function connect(): void {
  const events = new EventSource('/api/events');
  const data = <T>(e: Event) => JSON.parse((e as MessageEvent<string>).data) as T;
  events.addEventListener('snapshot', (e) => {
    lostAt = undefined;
    renderConnection('live');
    const s = data<DashboardState>(e);
    render(s);
    resetLogs(s.logs);
  });
  events.addEventListener('state', (e) => render(data<Omit<DashboardState, 'logs'>>(e)));
  events.addEventListener('log', (e) => appendLog(data<LogView>(e)));
  events.addEventListener('error', () => {
    lostAt ??= Date.now();
    if (events.readyState !== EventSource.CLOSED) return renderConnection('waiting', lostAt); // the browser retries by itself
    // The node answered, but not with events (a 401 after a restart with a new token): ask it why, then retry.
    events.close();
    void fetch('/api/node').then((r) => renderConnection(r.status === 401 ? 'denied' : 'waiting', lostAt), () => renderConnection('waiting', lostAt));
    setTimeout(connect, RETRY_MS);
  });
}

window.addEventListener('resize', () => {
  resizeLoss();
  resizeSwarm();
});
connect();
