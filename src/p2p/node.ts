/**
 * A mycel node: the libp2p host plus our services (typed gossip topics, the blob store and protocol,
 * reputation), started and stopped together. Stopping closes streams and flushes partial transfers.
 */
import { setMaxListeners } from 'node:events';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KEEP_ALIVE, type Connection, type PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { anySignal } from 'any-signal';
import type { CID } from 'multiformats/cid';
import type { Schemas } from './codec.js';
import { createCodec } from './codec.js';
import { DHT_PROTOCOL, FIND_PROVIDERS_TIMEOUT_MS, MAX_GOSSIP_BYTES } from './constants.js';
import { GOSSIP_TOPIC_SCORE, GossipTopic, type GossipStats, type GossipTopicOptions } from './gossip.js';
import { createHost, type Host, type HostOptions, type ScoredGossipSub } from './host.js';
import type { Identity } from './identity.js';
import { Reputation } from './reputation.js';
import { peersToTrim, type TrimLimits } from './trim.js';
import { fetchBlob, type FetchStats } from './blob/fetch.js';
import { parseBlobCid } from './blob/manifest.js';
import { BLOB_PROTOCOL, BlobRequester, BlobServer } from './blob/protocol.js';
import { NodeStoppedError } from './errors.js';
import { BlobStore, type Progress } from './blob/store.js';

export type NodeOptions = Omit<HostOptions, 'reputation' | 'relay' | 'maxConnections'> & {
  /**
   * Open connections above which the node closes its least valued ones that are out of their grace period, down to
   * three quarters of this (trim.ts); libp2p's own limit is then 3 times this. Unset: libp2p's limit (300), no trimming.
   */
  maxConnections?: number;
  dataDir: string;
  relay?: boolean;
  /** Connections under which the node dials peers it discovers (default AUTO_DIAL_TARGET). */
  autoDialTarget?: number;
  /** How long `putFile` waits for a DHT provider record to be stored (default PROVIDE_TIMEOUT_MS). */
  provideTimeoutMs?: number;
};

/** Whether a multiaddr goes through a circuit relay (`.../p2p/<relay>/p2p-circuit/p2p/<peer>`). */
export function isRelayedAddr(addr: string): boolean {
  return addr.includes('/p2p-circuit');
}
export type PeerInfoView = { peerId: string; addrs: string[]; direction: string; score: number; gossipScore: number };

/** The tag kad-dht puts on its closest peers (kad-dht's constants.js KEEP_ALIVE_TAG, not exported): libp2p redials them. */
const KAD_KEEP_ALIVE_TAG = `${KEEP_ALIVE}-kad-dht`;
/** Peers we dial on our own from discovery, so the gossip mesh forms beyond the bootstrap peer. */
const AUTO_DIAL_TARGET = 20;
const LOOKUP_DEBOUNCE_MS = 200;
/**
 * A connection younger than this is never trimmed (trim.ts): time for a newcomer to join a mesh and a routing table
 * (a few gossip heartbeats). Not longer: every connection in its grace counts on top of the limit.
 */
const TRIM_GRACE_MS = 15_000;
/** How often a node above its connection limit looks again for connections it can trim (those out of their grace). */
const TRIM_CHECK_MS = 2_500;
const LOOKUP_TIMEOUT_MS = 5_000;
/** How long `put` waits for the DHT provider record to be stored before it carries on (it is retried). */
const PROVIDE_TIMEOUT_MS = 10_000;
/** How long an announcement nobody waits for may take (MycelNode.provide). */
const BACKGROUND_PROVIDE_TIMEOUT_MS = 120_000;
/** A provide that reached no peer is tried again after this, then after twice as long each time, up to REANNOUNCE_MAX_MS. */
const REANNOUNCE_FIRST_MS = 5_000;
const REANNOUNCE_MAX_MS = 10 * 60_000;

export class MycelNode {
  readonly store: BlobStore;
  private readonly server: BlobServer;
  private readonly topics = new Map<string, GossipTopic<Schemas>>();
  private readonly transfers = new Set<AbortController>();
  private readonly provided = new Set<string>();
  /** Announcements to try again (their last provide reached no peer), and how many times each was tried. */
  private readonly reannouncing = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly reannounceAttempts = new Map<string, number>();
  /**
   * Connected peers that speak our DHT. A browser tab runs none, and kad-dht waits (up to the provide timeout) for
   * a DHT peer to arrive before it stores a provider record: with only tabs connected, every `putFile` stalled 10 s.
   */
  private readonly dhtPeers = new Set<string>();
  private stopped = false;

  private constructor(
    readonly host: Host,
    readonly identity: Identity,
    readonly reputation: Reputation,
    dataDir: string,
    private readonly autoDialTarget: number,
    private readonly provideTimeoutMs: number,
    private readonly trimLimits?: TrimLimits,
  ) {
    this.store = new BlobStore(join(dataDir, 'blobs'));
    this.server = new BlobServer(host, { store: this.store, reputation });
  }

  static async start(options: NodeOptions): Promise<MycelNode> {
    const reputation = new Reputation();
    // With a connection limit, the node trims to it itself (trim.ts) and libp2p's limit, whose pruner only ever cuts
    // newcomers, becomes a hard cap at 3 times that: room for the connections still in their grace period. At 1.5 times
    // (bench scale, 24 nodes: a node opened ~20 connections a minute, DHT lookups mostly) libp2p cut 23% of the
    // connections as they opened, among them blob fetches' dials to the node holding the blob.
    const limit = options.maxConnections;
    const host = await createHost({ ...options, relay: options.relay ?? true, reputation, ...(limit !== undefined ? { maxConnections: 3 * limit } : {}) });
    const autoDialTarget = options.autoDialTarget ?? AUTO_DIAL_TARGET;
    const trim = limit !== undefined ? { high: limit, low: Math.min(limit, Math.max(autoDialTarget, Math.floor(limit * 0.75))), graceMs: TRIM_GRACE_MS } : undefined;
    const node = new MycelNode(host, options.identity, reputation, options.dataDir, autoDialTarget, options.provideTimeoutMs ?? PROVIDE_TIMEOUT_MS, trim);
    await node.server.start();
    await node.wire();
    return node;
  }

  private async wire(): Promise<void> {
    // A peer that went away holds no relay slot: libp2p's relay server keeps a reservation until it expires (hours),
    // so every closed browser tab would keep its slot that long and a relay would soon refuse new ones.
    this.host.addEventListener('peer:disconnect', (event) => {
      (this.host.services.relay as { reservations?: { delete(peer: PeerId): void } } | undefined)?.reservations?.delete(event.detail);
      // A peer that left takes its connection with it: look for others, or churn wears a node's connections down until
      // it has none (50 nodes, 17 stops in 2 minutes: 2.4 connections per node at the end, with 6 to dial).
      this.scheduleLookup();
    });
    // Disconnect a peer the moment its score crosses the ban line; the gater keeps it out afterwards.
    this.reputation.onPenalty((peer, _score) => {
      if (!this.reputation.isBanned(peer)) return;
      for (const c of this.host.getConnections()) if (c.remotePeer.toString() === peer) void c.close().catch(() => undefined);
    });
    this.host.addEventListener('peer:discovery', (event) => {
      const { id } = event.detail;
      if (this.stopped || id.equals(this.host.peerId) || this.host.getConnections(id).length > 0) return;
      if (this.host.getConnections().length >= this.autoDialTarget) return;
      void this.host.dial(id).catch(() => undefined);
    });
    this.host.addEventListener('peer:identify', () => this.scheduleLookup());
    if (this.trimLimits) {
      // kad-dht tags its 20 closest peers keep-alive, and libp2p redials a keep-alive peer the moment it disconnects
      // (its reconnect queue, 5 attempts), on both ends. Trimming closed those connections (the 20 closest peers cannot
      // all fit under a limit of 12), they were redialled at once, trimmed again once out of their grace, and so on (bench
      // scale, 50 nodes, 4 minutes: 5,268 connections opened, 2,618 trimmed, ~1,900 to a peer gone less than 20 s
      // before; with the tag dropped: 4,041, 1,653 and ~400, load 8-9). A node with a limit
      // lets the trimming decide which connections stay: it drops that tag as soon as kad-dht sets it (kad-dht sets it
      // only when a peer enters its closest set). Its DHT still works: a query dials the peers it needs.
      this.host.addEventListener('peer:update', (event) => {
        const { peer } = event.detail;
        if (!this.stopped && peer.tags.has(KAD_KEEP_ALIVE_TAG)) void this.host.peerStore.merge(peer.id, { tags: { [KAD_KEEP_ALIVE_TAG]: undefined } }).catch(() => undefined);
      });
      this.host.addEventListener('connection:open', () => void this.trim());
      this.trimTimer = setInterval(() => void this.trim(), TRIM_CHECK_MS);
      this.trimTimer.unref?.();
    }
    await this.host.register(DHT_PROTOCOL, {
      onConnect: (peer) => this.dhtPeerJoined(peer.toString()),
      onDisconnect: (peer) => void this.dhtPeers.delete(peer.toString()),
    });
    // Peers that identified before the topology was registered (a fast bootstrap dial) are not reported to it.
    for (const c of this.host.getConnections()) {
      const known = await this.host.peerStore.get(c.remotePeer).catch(() => undefined);
      if (known?.protocols.includes(DHT_PROTOCOL)) this.dhtPeerJoined(c.remotePeer.toString());
    }
  }

  private dhtPeerJoined(peer: string): void {
    const first = this.dhtPeers.size === 0;
    this.dhtPeers.add(peer);
    // Provider records made while no DHT peer was connected were skipped; announce them now that one is.
    if (first) for (const cid of this.provided) void this.provide(cid);
  }

  private lookupTimer: ReturnType<typeof setTimeout> | undefined;
  private trimTimer: ReturnType<typeof setInterval> | undefined;
  private trimming = false;
  /** Connections this node closed to keep to its limit (trim.ts) since it started. */
  private trimmedCount = 0;
  get connectionsTrimmed(): number {
    return this.trimmedCount;
  }

  /** Above the connection limit: closes the least valued connections that are out of their grace period (trim.ts). */
  private async trim(): Promise<void> {
    const limits = this.trimLimits;
    if (!limits || this.trimming || this.stopped || this.host.getConnections().length <= limits.high) return;
    this.trimming = true;
    try {
      // By peer, all of its connections at once: gossipsub keeps one outbound stream per peer and opens no other while
      // the peer stays connected, so closing the connection that carried it would leave the peer unreachable by gossip.
      const byPeer = new Map<string, Connection[]>();
      for (const c of this.host.getConnections()) byPeer.set(c.remotePeer.toString(), [...(byPeer.get(c.remotePeer.toString()) ?? []), c]);
      const views = await Promise.all([...byPeer].map(async ([id, connections]) => {
        const peer = await this.host.peerStore.get(connections[0].remotePeer).catch(() => undefined);
        const value = peer ? [...peer.tags.values()].reduce((sum, t) => sum + t.value, 0) : 0;
        const busy = connections.some((c) => c.streams.some((st) => st.protocol === BLOB_PROTOCOL));
        return { id, openedAt: Math.max(...connections.map((c) => c.timeline.open)), value, busy };
      }));
      const close = peersToTrim(views, Date.now(), limits).flatMap((id) => byPeer.get(id) ?? []);
      this.trimmedCount += close.length;
      // Whatever still carries the tag (set by kad-dht since) is not redialled by libp2p once closed.
      await Promise.all(close.map((c) => this.host.peerStore.merge(c.remotePeer, { tags: { [KAD_KEEP_ALIVE_TAG]: undefined } }).catch(() => undefined)));
      await Promise.all(close.map((c) => c.close().catch((error: Error) => c.abort(error))));
    } finally {
      this.trimming = false;
    }
  }

  /**
   * Looks up the peers closest to our own id soon after each new connection (debounced): the DHT answers
   * with peers our bootstrap peer knows, which 'peer:discovery' then dials. This is how a node that was
   * given one bootstrap address meets the rest of the network within seconds instead of minutes.
   */
  private scheduleLookup(): void {
    if (this.lookupTimer || this.stopped || this.host.getConnections().length >= this.autoDialTarget) return;
    this.lookupTimer = setTimeout(() => {
      this.lookupTimer = undefined;
      void (async () => {
        try {
          const signal = AbortSignal.timeout(LOOKUP_TIMEOUT_MS);
          setMaxListeners(Infinity, signal); // the DHT query adds one listener per path and peer
          for await (const _ of this.host.peerRouting.getClosestPeers(this.peerId.toMultihash().bytes, { signal })) void _;
        } catch {
          // Best effort: the next connection schedules another lookup.
        }
      })();
    }, LOOKUP_DEBOUNCE_MS);
  }

  get peerId(): PeerId {
    return this.host.peerId;
  }

  /** Bytes this node has served over the blob protocol since it started (chunks and manifests). */
  get blobBytesServed(): number {
    return this.server.bytesServed;
  }

  /** The peers this node has served every chunk of a blob to (by CID text) since it started. */
  peersServed(cidText: string): ReadonlySet<string> {
    return this.server.servedTo(cidText);
  }

  /** Blob bytes this node fetched from peers (a resumed transfer counts what it still fetched) and added to its store. */
  readonly blobBytes = { fetched: 0, published: 0 };

  /** Gossip messages received on each topic this node joined, by verdict. */
  gossipStats(): Record<string, GossipStats> {
    return Object.fromEntries([...this.topics].map(([name, topic]) => [name, { ...topic.stats }]));
  }

  get address(): string {
    return this.identity.address;
  }

  multiaddrs(): string[] {
    return this.host.getMultiaddrs().map((m) => m.toString());
  }

  peers(): PeerInfoView[] {
    const pubsub = this.host.services.pubsub as ScoredGossipSub;
    return this.host.getConnections().map((c) => ({
      peerId: c.remotePeer.toString(),
      addrs: [c.remoteAddr.toString()],
      direction: c.direction,
      score: this.reputation.score(c.remotePeer.toString()),
      gossipScore: pubsub.getScore(c.remotePeer.toString()),
    }));
  }

  /**
   * Stops serving a blob and deletes it from the store. Its provider records on other peers expire on their own (48 h),
   * but kad-dht keeps this node's own record, and re-provides it every day, until told otherwise: a swarm node that
   * removes each round's old policy blob kept one record per round for as long as it ran, and announced them all.
   */
  async removeBlob(cidText: string): Promise<void> {
    this.provided.delete(cidText);
    clearTimeout(this.reannouncing.get(cidText));
    this.reannouncing.delete(cidText);
    this.reannounceAttempts.delete(cidText);
    this.server.forget(cidText);
    const cid = parseBlobCid(cidText);
    await this.host.contentRouting.cancelReprovide(cid).catch(() => undefined);
    await this.store.remove(cid);
  }

  /**
   * Misbehaviour found after a peer's gossip message was accepted (say, a rollout that does not reproduce):
   * our reputation, and gossipsub's behaviour penalty (P7), as the validator's P4 can no longer count it.
   */
  penalise(peer: string, amount: number, reason: string): void {
    this.reputation.penalise(peer, amount, reason);
    (this.host.services.pubsub as ScoredGossipSub).score.addPenalty(peer, 1, 'mycel');
  }

  /** A peer's standing: our reputation of it and its gossipsub score (kept a while after it leaves). */
  scoreOf(peer: string): { reputation: number; gossip: number } {
    return { reputation: this.reputation.score(peer), gossip: (this.host.services.pubsub as ScoredGossipSub).getScore(peer) };
  }

  /** A typed gossip topic: messages are schema-checked before handlers see them. */
  topic<S extends Schemas>(name: string, schemas: S, { maxBytes = MAX_GOSSIP_BYTES, rate, check, onReject }: { maxBytes?: number } & GossipTopicOptions<S> = {}): GossipTopic<S> {
    const existing = this.topics.get(name);
    if (existing) return existing as unknown as GossipTopic<S>;
    const pubsub = this.host.services.pubsub as ScoredGossipSub;
    // Without per-topic score params gossipsub does not count invalid messages against the sender.
    pubsub.score.params.topics[name] = GOSSIP_TOPIC_SCORE;
    const topic = new GossipTopic(pubsub, name, createCodec(schemas, { maxBytes }), this.reputation, rate, { check, onReject });
    this.topics.set(name, topic as unknown as GossipTopic<Schemas>);
    return topic;
  }

  /**
   * Adds a file to the store and announces it on the DHT. With `announce: false` it is only served: for blobs
   * whose announcement names the providers (a DiLoCo delta names its sender), the DHT record is not needed.
   */
  async putFile(path: string, onProgress?: Progress, { announce = true }: { announce?: boolean } = {}): Promise<{ cid: string; size: number; chunks: number }> {
    const { cid, manifest } = await this.store.importFile(path, onProgress);
    this.blobBytes.published += manifest.size;
    if (announce) {
      this.provided.add(cid.toString());
      await this.provide(cid.toString(), this.provideTimeoutMs);
    }
    return { cid: cid.toString(), size: manifest.size, chunks: Math.ceil(manifest.size / manifest.chunkSize) };
  }

  /**
   * Stores the provider record. `timeoutMs` bounds a caller that waits (putFile); the announcements nobody waits for
   * (a blob just fetched, records skipped while no DHT peer was connected) get BACKGROUND_PROVIDE_TIMEOUT_MS: kad-dht
   * sends the record only once its query for the closest peers has finished, so a provide cut short stores nothing,
   * and under load (bench scale, 24 nodes, load 11) the publisher's own provide took 9–11 s: replicas cut at 10 s
   * were never found by CID once the publisher left. A provide that stored the record on no peer is tried again later.
   */
  private async provide(cid: string, timeoutMs = BACKGROUND_PROVIDE_TIMEOUT_MS): Promise<void> {
    if (this.stopped || this.dhtPeers.size === 0) return;
    clearTimeout(this.reannouncing.get(cid));
    this.reannouncing.delete(cid);
    let stored = 0;
    try {
      for await (const event of this.host.services.dht.provide(parseBlobCid(cid), { signal: AbortSignal.timeout(timeoutMs) })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER') stored++;
      }
    } catch {
      // Timed out: like a provide that reached no peer, below.
    }
    if (stored === 0) this.reannounceLater(cid);
    else this.reannounceAttempts.delete(cid);
  }

  /**
   * Announces `cid` again after a pause when its record reached no peer, as long as this node still holds it: kad-dht
   * itself announces again only after 24 hours. A replica's provide under load (bench scale, 50 nodes, event loops
   * lagging 10 s at p99) had every one of its 20 requests time out and stored nothing: that replica could not be found by CID.
   */
  private reannounceLater(cid: string): void {
    if (this.stopped || !this.provided.has(cid)) return;
    const attempt = (this.reannounceAttempts.get(cid) ?? 0) + 1;
    this.reannounceAttempts.set(cid, attempt);
    const timer = setTimeout(() => {
      this.reannouncing.delete(cid);
      void this.provide(cid);
    }, Math.min(REANNOUNCE_MAX_MS, REANNOUNCE_FIRST_MS * 2 ** (attempt - 1)));
    timer.unref?.();
    this.reannouncing.set(cid, timer);
  }

  /**
   * Fetches a blob into the store (from DHT providers), resuming a previous partial transfer. `providers` are peer
   * ids known to hold it (say, the peer that announced it): they are asked first, before the DHT answers.
   */
  async fetch(cidText: string, options: { onProgress?: Progress; signal?: AbortSignal; timeoutMs?: number; providers?: readonly string[]; maxBytes?: number } = {}): Promise<FetchStats> {
    const cid = parseBlobCid(cidText);
    // Not a lookup that fails (kad-dht is stopped) again and again until timeoutMs: a retrying caller went on for minutes.
    if (this.stopped) throw new NodeStoppedError(`fetch ${cidText}`);
    const controller = new AbortController();
    const signal = anySignal([options.signal, controller.signal]); // not AbortSignal.any: see fetchBlob
    setMaxListeners(Infinity, signal); // one listener per provider stream and DHT path
    this.transfers.add(controller);
    try {
      const stats = await fetchBlob({
        cid,
        store: this.store,
        reputation: this.reputation,
        timeoutMs: options.timeoutMs ?? FIND_PROVIDERS_TIMEOUT_MS,
        maxBytes: options.maxBytes,
        findProviders: (c, signal) => this.findProviders(c, signal, options.providers ?? []),
        // runOnLimitedConnection: a peer reachable only through a relay can still serve (the relay's data limit applies).
        open: async (peer, signal) => new BlobRequester(peer, await this.host.dialProtocol(peer, BLOB_PROTOCOL, { signal, runOnLimitedConnection: true })),
        onProgress: options.onProgress,
        signal,
      });
      this.blobBytes.fetched += Math.max(0, (await stat(this.store.paths(cid).data)).size - stats.resumedBytes);
      // Now we hold it too: serve it to others.
      this.provided.add(cid.toString());
      void this.provide(cid.toString());
      return stats;
    } finally {
      signal.clear();
      this.transfers.delete(controller);
    }
  }

  private async *findProviders(cid: CID, signal: AbortSignal, hinted: readonly string[]): AsyncIterable<PeerId> {
    for (const id of hinted) {
      try {
        const peer = peerIdFromString(id);
        if (!peer.equals(this.host.peerId)) yield peer;
      } catch {
        // Not a peer id: only the DHT's answers count.
      }
    }
    for await (const info of this.host.contentRouting.findProviders(cid, { signal })) {
      if (info.id.equals(this.host.peerId)) continue;
      if (info.multiaddrs.length) await this.host.peerStore.merge(info.id, { multiaddrs: info.multiaddrs }).catch(() => undefined);
      yield info.id;
    }
  }

  /** Copies a stored blob to `out` through a temp file, so `out` never holds a partial copy. */
  async exportBlob(cidText: string, out: string): Promise<void> {
    const cid = parseBlobCid(cidText);
    const tmp = `${out}.mycel-${process.pid}.tmp`;
    try {
      await copyFile(this.store.paths(cid).data, tmp);
      await rename(tmp, out);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  /** Graceful shutdown: abort transfers (their progress is flushed), close blob streams, leave topics, stop libp2p. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.lookupTimer);
    clearInterval(this.trimTimer);
    for (const timer of this.reannouncing.values()) clearTimeout(timer);
    for (const t of this.transfers) t.abort(new NodeStoppedError('finish a blob transfer'));
    await this.server.stop().catch(() => undefined);
    for (const topic of this.topics.values()) topic.close();
    await this.host.stop();
    await this.store.close();
  }
}
