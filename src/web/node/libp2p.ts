/**
 * The tab's libp2p node: WebSockets to Node peers (a page can dial nothing else), circuit relay v2 to be reached
 * through them, Noise, Yamux, Identify and Gossipsub with strict signing, as the Node hosts have. Its identity is the
 * tab's secp256k1 key, so its PeerId and its Ethereum address are one key, as for every mycel node.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { ping, type Ping } from '@libp2p/ping';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';

export type TabHost = Libp2p<{ identify: unknown; ping: Ping; pubsub: GossipSub }>;

export async function startTabHost(rawKey: Uint8Array): Promise<TabHost> {
  const host = await createLibp2p({
    privateKey: privateKeyFromRaw(rawKey),
    // Reachable only through a relay: a tab cannot listen on a socket.
    addresses: { listen: ['/p2p-circuit'] },
    transports: [webSockets(), circuitRelayTransport({ reservationCompletionTimeout: 10_000 })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The browser build refuses private and loopback addresses by default; mycel nodes on a LAN or this machine
    // are the peers a tab is given, so it may dial them.
    connectionGater: { denyDialMultiaddr: () => false },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({ globalSignaturePolicy: 'StrictSign', allowPublishToZeroTopicPeers: true, emitSelf: false }),
    },
  });
  return host as unknown as TabHost;
}

/** Reaches another peer (a tab, through its relay address) and measures the round trip. */
export async function reach(host: TabHost, addr: string): Promise<{ rttMs: number; remoteAddr: string }> {
  const ma = multiaddr(addr);
  const connection = await host.dial(ma, { signal: AbortSignal.timeout(15_000) });
  const rttMs = await host.services.ping.ping(ma, { signal: AbortSignal.timeout(15_000) });
  return { rttMs, remoteAddr: connection.remoteAddr.toString() };
}

/** Dials each address until one connects; returns the one that did. */
export async function dialAny(host: TabHost, addrs: string[]): Promise<string> {
  const errors: string[] = [];
  for (const a of addrs) {
    try {
      await host.dial(multiaddr(a), { signal: AbortSignal.timeout(10_000) });
      return a;
    } catch (error) {
      errors.push(`${a}: ${(error as Error).message}`);
    }
  }
  throw new Error(`no address of the node answered: ${errors.join('; ') || 'it offers no WebSocket address (start it with a --ws-port)'}`);
}
