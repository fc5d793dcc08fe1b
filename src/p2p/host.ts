/**
 * Builds the libp2p host: TCP + WebSockets, Noise, Yamux, Identify, Ping, Kad-DHT, Gossipsub (strict
 * signing, peer scoring), bootstrap discovery, circuit relay v2 (client and server) + DCUtR + AutoNAT for
 * peers behind NAT. Nothing here knows about blobs or topics; node.ts adds those.
 */
import '../platform/shims.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { autoNAT } from '@libp2p/autonat';
import { bootstrap } from '@libp2p/bootstrap';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { dcutr } from '@libp2p/dcutr';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { createPeerScoreParams, type PeerScoreThresholds, type TopicScoreParams } from '@libp2p/gossipsub/score';
import { identify } from '@libp2p/identify';
import type { PeerId } from '@libp2p/interface';
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht';
import { ping, type Ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import {
  DHT_PROTOCOL,
  MAX_GOSSIP_BYTES,
  RELAY_DATA_LIMIT_BYTES,
  RELAY_DURATION_LIMIT_MS,
  RELAY_MAX_RESERVATIONS,
  RELAY_RESERVATION_TIMEOUT_MS,
} from './constants.js';
import { CompactMemoryDatastore } from './datastore.js';
import { BadMultiaddrError, PortInUseError } from './errors.js';
import { fastMessageId } from './gossip.js';
import type { Identity } from './identity.js';
import type { Reputation } from './reputation.js';

export type HostOptions = {
  identity: Identity;
  /** Interface to listen on: 0.0.0.0 for a public node, 127.0.0.1 for tests. */
  host: string;
  tcpPort: number;
  /** WebSockets port; -1 disables WebSockets. */
  wsPort: number;
  bootstrap: string[];
  reputation: Reputation;
  /** Serve as a circuit relay for peers behind NAT (on by default; costs bandwidth only when used). */
  relay: boolean;
  /**
   * Be reachable through a relay: reserve a slot on a connected relay and advertise the resulting
   * `/p2p/<relay>/p2p-circuit` address (for nodes behind NAT; DCUtR then tries to upgrade to a direct link).
   */
  relayListen?: boolean;
  /**
   * AutoNAT, DCUtR and the circuit relay transport (on by default): what a node behind NAT needs to be reached. Off
   * for nodes that all share one reachable network (the scale simulation's nodes on loopback), where they only cost
   * each connection more streams and timers.
   */
  nat?: boolean;
  /** Open connections above which libp2p closes the least valued ones (libp2p's default: 300). */
  maxConnections?: number;
  /**
   * libp2p's connection monitor (on by default): a ping on every connection every 10 s, and the connection aborted when
   * a ping times out. Off for the scale simulation: there an event loop that lags by seconds under load failed the
   * pings and aborted healthy connections until nodes had none (50 nodes at load 57: 0.24 connections per node), and a
   * stopped node's connections close at the TCP level on loopback anyway.
   */
  connectionMonitor?: boolean;
  /**
   * Dial, connection-upgrade and protocol-negotiation timeouts in ms (libp2p's defaults: 6-10 s). The scale simulation
   * raises them: with every node of a process in one event loop lagging by seconds on a loaded machine, a Noise
   * handshake's round trips passed 10 s and most dials failed (24 nodes at load 57: 0.7 connections per node).
   */
  dialTimeoutMs?: number;
};

export type Services = { identify: unknown; ping: Ping; dht: KadDHT; pubsub: GossipSub; relay?: unknown; dcutr?: unknown; autoNAT?: unknown };
export type Host = Libp2p<Services>;

/** Gossipsub's scoring internals, which its public interface does not expose (topics are added at runtime). */
export type ScoredGossipSub = GossipSub & { getScore(peer: string): number; score: { params: { topics: Record<string, TopicScoreParams> }; addPenalty(peer: string, penalty: number, label: string): void } };

/** Below these, a peer's gossip is ignored, it is not published to, and finally it is disconnected. */
const SCORE_THRESHOLDS: Partial<PeerScoreThresholds> = { gossipThreshold: -50, publishThreshold: -100, graylistThreshold: -200 };

export function parseMultiaddr(text: string, { needPeerId = false } = {}): Multiaddr {
  let ma: Multiaddr;
  try {
    ma = multiaddr(text);
  } catch (error) {
    throw new BadMultiaddrError(text, error);
  }
  if (needPeerId && !ma.getComponents().some((c) => c.name === 'p2p')) throw new BadMultiaddrError(text);
  return ma;
}

export async function createHost(options: HostOptions): Promise<Host> {
  const bootstrapList = options.bootstrap.map((a) => parseMultiaddr(a, { needPeerId: true }).toString());
  // tcpPort -1 disables the TCP listener (the node still dials out), e.g. for a node reachable only by relay.
  const listen = options.tcpPort >= 0 ? [`/ip4/${options.host}/tcp/${options.tcpPort}`] : [];
  if (options.wsPort >= 0) listen.push(`/ip4/${options.host}/tcp/${options.wsPort}/ws`);
  if (options.relayListen) listen.push('/p2p-circuit');
  listen.forEach((a) => parseMultiaddr(a));
  const banned = (peer: PeerId): boolean => options.reputation.isBanned(peer.toString());
  const nat = options.nat ?? true;

  const host = await createLibp2p({
    privateKey: options.identity.privateKey,
    start: false,
    // In memory as libp2p's default, without keeping an 8 KiB pool alive per DHT provider record (datastore.ts).
    datastore: new CompactMemoryDatastore(),
    addresses: { listen },
    transports: [tcp(), webSockets(), ...(nat || options.relayListen ? [circuitRelayTransport({ reservationCompletionTimeout: RELAY_RESERVATION_TIMEOUT_MS })] : [])],
    connectionManager: {
      ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
      ...(options.dialTimeoutMs !== undefined
        ? {
            dialTimeout: options.dialTimeoutMs,
            addressDialTimeout: options.dialTimeoutMs,
            inboundUpgradeTimeout: options.dialTimeoutMs,
            inboundStreamProtocolNegotiationTimeout: options.dialTimeoutMs,
            outboundStreamProtocolNegotiationTimeout: options.dialTimeoutMs,
          }
        : {}),
    },
    ...(options.connectionMonitor === false ? { connectionMonitor: { enabled: false } } : {}),
    // Noise needs no `crypto` option in Node: its default already uses node:crypto's native ChaCha20-Poly1305
    // for every frame of 1200 bytes or more (and SHA-256 from node:crypto); the JS/WASM path is for browsers.
    connectionEncrypters: [noise()],
    // Default yamux windows (256 KiB initial, growing to 16 MiB). A 2 MiB initial window was measured: no change
    // in throughput or CPU per MiB, and js-libp2p-yamux assumes the remote's initial window equals ours, so a
    // larger one would overrun any peer on the default and break interop.
    streamMuxers: [yamux()],
    // Peers whose score fell below the ban line are refused in both directions.
    connectionGater: { denyDialPeer: banned, denyInboundEncryptedConnection: banned, denyOutboundEncryptedConnection: banned },
    peerDiscovery: bootstrapList.length ? [bootstrap({ list: bootstrapList, timeout: 0 })] : [],
    services: {
      identify: identify(),
      ping: ping(),
      // Our own protocol id keeps mycel's DHT apart from the public IPFS one; loopback/LAN addresses are kept.
      // allowQueryWithZeroPeers stays off: with it, a query on an empty routing table resolves at once, and
      // libp2p's random walk (used by the relay client to find relays) then spins in a microtask loop that
      // starves timers and I/O. Off, a query waits (up to its signal) for the first DHT peer.
      dht: kadDHT({ protocol: DHT_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper, initialQuerySelfInterval: 0 }),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictSign',
        // Copies of a message already checked are dropped for the cost of a hash (gossip.ts fastMessageId).
        fastMsgIdFn: fastMessageId,
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        maxInboundDataLength: MAX_GOSSIP_BYTES + 4096,
        // No IP-colocation penalty: swarms often run several nodes per machine or NAT (and tests all share 127.0.0.1).
        scoreParams: createPeerScoreParams({ IPColocationFactorWeight: 0, behaviourPenaltyWeight: -10 }),
        scoreThresholds: SCORE_THRESHOLDS,
      }),
      ...(options.relay
        ? {
            relay: circuitRelayServer({
              reservations: { maxReservations: RELAY_MAX_RESERVATIONS, defaultDataLimit: RELAY_DATA_LIMIT_BYTES, defaultDurationLimit: RELAY_DURATION_LIMIT_MS },
            }),
          }
        : {}),
      ...(nat ? { dcutr: dcutr(), autoNAT: autoNAT() } : {}),
    },
  });
  try {
    await host.start();
  } catch (error) {
    await Promise.resolve(host.stop()).catch(() => undefined);
    if (/EADDRINUSE|address already in use/i.test(String((error as Error)?.message) + String((error as { cause?: Error })?.cause?.message))) {
      throw new PortInUseError(listen.join(', '), error);
    }
    throw error;
  }
  return host as unknown as Host;
}
