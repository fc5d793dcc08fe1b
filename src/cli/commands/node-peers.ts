import type { Command } from '../command.js';
import { callControl } from '../../p2p/control.js';
import type { PeerInfoView } from '../../p2p/node.js';
import { DATA_DIR_FLAGS, dataDirOf } from './p2p-flags.js';

export const nodePeers: Command = {
  name: 'node peers',
  summary: 'list the peers the running node is connected to',
  description: 'Asks the node started with `mycel node start` (same --data-dir) over its local control endpoint.',
  flags: { ...DATA_DIR_FLAGS },
  async run({ flags, out }) {
    const peers = await callControl<PeerInfoView[]>(dataDirOf(flags), '/peers');
    if (out.json) return out.result({ peers });
    if (peers.length === 0) return out.print('No peers connected.');
    for (const p of peers) out.print(`${p.peerId}  ${p.direction.padEnd(8)} score ${p.score} gossip ${p.gossipScore.toFixed(1)}  ${p.addrs.join(' ')}`);
  },
};
