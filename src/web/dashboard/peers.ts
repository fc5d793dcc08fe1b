/** Peers and connections: the node's own addresses, then one row per open connection. */
import type { DashboardState } from '../../node/dashboard/state.js';
import { fill, h, short, table } from './dom.js';

export function renderPeers(s: Pick<DashboardState, 'node' | 'peers'>): void {
  fill('peers-count', `${s.peers.length} connection${s.peers.length === 1 ? '' : 's'}`);
  fill('peers',
    table(['peer', 'address', 'direction', 'reputation', 'gossip score'],
      s.peers.map((p) => [short(p.peerId, 8), h('code', {}, p.addrs.join(' ')), p.direction, p.score.toFixed(1), p.gossipScore.toFixed(2)]),
      'No peer is connected.'),
    s.node.multiaddrs.length ? h('details', {}, h('summary', {}, `this node listens on ${s.node.multiaddrs.length} addresses`), ...s.node.multiaddrs.map((a) => h('div', {}, h('code', {}, a)))) : null,
  );
}
