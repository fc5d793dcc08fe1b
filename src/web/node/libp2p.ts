/**
 * The tab's libp2p node: WebSockets to Node peers, circuit relay v2 to be reached through them, and WebRTC between
 * tabs (the relay carries only the SDP handshake; the data then flows browser to browser), Noise, Yamux, Identify and
 * Gossipsub with strict signing, as the Node hosts have. Its identity is the tab's secp256k1 key, so its PeerId and
 * its Ethereum address are one key, as for every mycel node.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { ping, type Ping } from '@libp2p/ping';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import type { Connection } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';

export type TabHost = Libp2p<{ identify: unknown; ping: Ping; pubsub: GossipSub }>;

export async function startTabHost(rawKey: Uint8Array, iceServers: RTCIceServer[] = []): Promise<TabHost> {
  const host = await createLibp2p({
    privateKey: privateKeyFromRaw(rawKey),
    // Reachable only through a relay (a tab cannot listen on a socket); '/webrtc' answers WebRTC offers that come
    // over it, so another tab can upgrade to a direct connection.
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [
      webSockets(),
      // No STUN servers by default: the tabs a node serves share its network, and an unreachable public STUN server
      // only delays ICE. A deployment across NATs passes its own (rtcConfiguration.iceServers).
      webRTC({ rtcConfiguration: { iceServers } }),
      circuitRelayTransport({ reservationCompletionTimeout: 10_000 }),
    ],
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

/** What reaching a peer gave: the connection's address, whether it goes through a relay, the round trip, tries. */
export type Reached = { rttMs: number; remoteAddr: string; limited: boolean; attempts: number };

/** A WebRTC dial that has not connected by then is dropped and tried again (about 1 in 10 stall on ICE here). */
const WEBRTC_ATTEMPT_MS = 8_000;
const WEBRTC_ATTEMPTS = 4;

/**
 * Reaches another peer by an address and measures the round trip over the connection the dial opened. A tab's relay
 * address (…/p2p-circuit/p2p/TAB) gives a relayed connection; its WebRTC address (…/p2p-circuit/webrtc/p2p/TAB)
 * gives a direct one, dialled again with a fresh attempt when it stalls.
 */
export async function reach(host: TabHost, addr: string): Promise<Reached> {
  const ma = multiaddr(addr);
  const webrtc = ma.getComponents().some((c) => c.name === 'webrtc');
  const attempts = webrtc ? WEBRTC_ATTEMPTS : 1;
  const errors: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const connection = await host.dial(ma, { signal: AbortSignal.timeout(webrtc ? WEBRTC_ATTEMPT_MS : 15_000), force: webrtc });
      const rttMs = await pingOver(connection);
      return { rttMs, remoteAddr: connection.remoteAddr.toString(), limited: connection.limits !== undefined, attempts: attempt };
    } catch (error) {
      errors.push(`try ${attempt}: ${(error as Error).message}`);
    }
  }
  throw new Error(`could not reach ${addr} (${errors.join('; ')})`);
}

/**
 * One ping on this very connection (the ping service's ping() picks any connection to the peer, and a tab has two to
 * another tab: the relayed one and the direct one). The peer's ping service echoes the 32 bytes back.
 */
async function pingOver(connection: Connection): Promise<number> {
  const stream = await connection.newStream('/ipfs/ping/1.0.0', { signal: AbortSignal.timeout(10_000), runOnLimitedConnection: true });
  const data = crypto.getRandomValues(new Uint8Array(32));
  const started = performance.now();
  const received: Uint8Array[] = [];
  let length = 0;
  const echoed = new Promise<void>((ok) => stream.addEventListener('message', (e) => {
    const chunk = e.data.subarray();
    received.push(chunk);
    length += chunk.byteLength;
    if (length >= data.byteLength) ok();
  }));
  stream.send(data);
  await Promise.race([echoed, new Promise((_, fail) => setTimeout(() => fail(new Error('no ping answer within 10 s')), 10_000))]);
  const rttMs = performance.now() - started;
  await stream.close().catch(() => stream.abort(new Error('closed')));
  const back = new Uint8Array(length);
  let at = 0;
  for (const c of received) { back.set(c, at); at += c.byteLength; }
  if (!back.every((b, i) => b === data[i])) throw new Error('the ping came back altered');
  return rttMs;
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
