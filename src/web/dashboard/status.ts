/** The header: which node, what it is doing, and whether the page is live (the connection banner). */
import type { NodeView, ChainView } from '../../node/dashboard/state.js';
import { fill, h, short } from './dom.js';

export function renderStatus(node: NodeView, chain: ChainView | null): void {
  fill('node-name', node.name);
  fill('node-status', node.status);
  fill('node-ids',
    node.peerId ? h('span', {}, 'peer ', short(node.peerId, 8)) : null,
    node.address ? h('span', {}, ' · account ', short(node.address)) : null,
    chain ? h('span', {}, ` · chain ${chain.chainId} block ${chain.block}${chain.live ? '' : ' (stopped)'}`) : h('span', {}, ' · no chain'),
  );
}

/** live: receiving events; waiting: the node went away and the page is reconnecting; denied: the token no longer opens it. */
export function renderConnection(state: 'live' | 'waiting' | 'denied', since?: number): void {
  const dot = document.getElementById('live')!;
  dot.dataset.state = state;
  dot.textContent = state === 'live' ? 'live' : state === 'waiting' ? 'reconnecting' : 'token rejected';
  const banner = document.getElementById('banner')!;
  if (state === 'live') {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  banner.textContent = state === 'waiting'
    ? `The node is not answering${since ? ` since ${new Date(since).toLocaleTimeString([], { hour12: false })}` : ''}: it stopped, restarted or is busy. Reconnecting every few seconds; what is shown is its last state.`
    : 'The node no longer accepts this page\'s token (it restarted with a new one). Open the dashboard URL it printed this time.';
}
