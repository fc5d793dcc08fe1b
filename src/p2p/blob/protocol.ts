/**
 * The blob request/response protocol. On one stream a client sends length-prefixed requests (codec
 * messages: `manifest` or `chunk`) and reads one length-prefixed response per request: a status byte, then
 * the bytes. Responses need no schema: the client verifies them against the CID / manifest hashes.
 */
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { anySignal } from 'any-signal';
import { CID } from 'multiformats/cid';
import { Uint8ArrayList } from 'uint8arraylist';
import { z } from 'zod';
import { createCodec } from '../codec.js';
import {
  BLOB_PROTOCOL,
  CHUNK_TIMEOUT_MS,
  MAX_BLOB_FRAME_BYTES,
  MAX_CONTROL_BYTES,
  MAX_INBOUND_BLOB_STREAMS,
  PENALTY_MALFORMED,
  PENALTY_RATE_LIMIT,
  STREAM_BURST_PER_PEER,
  STREAMS_PER_PEER_PER_SECOND,
} from '../constants.js';
import { MalformedMessageError } from '../errors.js';
import { PeerRateLimiter } from '../rate-limit.js';
import type { Reputation } from '../reputation.js';
import { chunkCount, decodeManifest, type Manifest } from './manifest.js';
import type { BlobStore } from './store.js';

const cidBytes = z.instanceof(Uint8Array).refine((b) => b.byteLength <= 64, 'CID too long');
export const REQUEST_SCHEMAS = {
  manifest: z.object({ cid: cidBytes }).strict(),
  chunk: z.object({ cid: cidBytes, index: z.number().int().nonnegative() }).strict(),
};
export const requestCodec = createCodec(REQUEST_SCHEMAS, { maxBytes: MAX_CONTROL_BYTES });

const enum Status {
  Ok = 0,
  NotFound = 1,
  Busy = 2,
}

/** Requests per second one peer may make (each may move a whole chunk). */
const REQUESTS_PER_PEER_PER_SECOND = 4000;

/** Unfinished fetches remembered (per blob and peer) for servedTo; a peer that never finishes is forgotten first. */
const MAX_PARTIAL_FETCHES = 4096;
/**
 * Blobs remembered, most recently served last: parsed manifests (a cache; the store has them) and who had
 * each blob whole (a node waits on its latest blobs only). A node that serves for weeks forgets the oldest.
 */
const MAX_REMEMBERED_BLOBS = 1024;

/** Sets `key` as the newest entry of `map`, dropping the oldest beyond `max` (a Map iterates in insertion order). */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}

/** What serving needs of a store: manifests and chunks of complete blobs (the file store, or a browser tab's blobs in memory). */
export type BlobServerComponents = { store: Pick<BlobStore, 'manifestBytes' | 'manifest' | 'readChunk'>; reputation: Reputation };
type Registrar = { handle(protocol: string, handler: (stream: Stream, connection: Connection) => void, options?: Record<string, unknown>): Promise<void>; unhandle(protocol: string): Promise<void> };

/** Serves blobs from the store; started and stopped with the node. */
export class BlobServer {
  private readonly streamLimiter = new PeerRateLimiter(STREAMS_PER_PEER_PER_SECOND, STREAM_BURST_PER_PEER);
  private readonly requestLimiter = new PeerRateLimiter(REQUESTS_PER_PEER_PER_SECOND, REQUESTS_PER_PEER_PER_SECOND);
  private readonly manifests = new Map<string, Manifest>();
  private readonly open = new Set<Stream>();
  /** Per blob (by CID), the peers that have been served every one of its chunks. */
  private readonly wholeTo = new Map<string, Set<string>>();
  /** The chunks served so far of a blob to a peer that has not had all of them, by `${cid} ${peer}`. */
  private readonly partTo = new Map<string, Set<number>>();
  /** Served bytes, for tests and stats. */
  bytesServed = 0;

  constructor(
    private readonly registrar: Registrar,
    private readonly components: BlobServerComponents,
  ) {}

  async start(): Promise<void> {
    await this.registrar.handle(BLOB_PROTOCOL, (stream, connection) => void this.serve(stream, connection.remotePeer), {
      maxInboundStreams: MAX_INBOUND_BLOB_STREAMS,
      maxOutboundStreams: MAX_INBOUND_BLOB_STREAMS,
      // Also over relayed (limited) connections, so a node behind NAT can serve before DCUtR upgrades the link.
      runOnLimitedConnection: true,
    });
  }

  async stop(): Promise<void> {
    await this.registrar.unhandle(BLOB_PROTOCOL);
    await Promise.all([...this.open].map((s) => s.close().catch(() => s.abort(new Error('node stopping')))));
  }

  private async serve(stream: Stream, peer: PeerId): Promise<void> {
    const remote = peer.toString();
    const { reputation } = this.components;
    if (reputation.isBanned(remote) || !this.streamLimiter.take(remote)) {
      reputation.penalise(remote, PENALTY_RATE_LIMIT, 'blob stream rate');
      stream.abort(new Error('rate limited'));
      return;
    }
    this.open.add(stream);
    const lp = lpStream(stream, { maxDataLength: MAX_CONTROL_BYTES });
    /** The blobs this stream served chunks of: counted as had by the peer only once the stream ends. */
    const servedHere = new Set<string>();
    try {
      while (stream.readStatus === 'readable') {
        let raw;
        try {
          raw = await lp.read({ signal: AbortSignal.timeout(CHUNK_TIMEOUT_MS * 3) });
        } catch {
          break; // the client closed its side, went idle, or sent an oversized frame
        }
        let request;
        try {
          request = requestCodec.decode(raw.subarray());
        } catch (error) {
          if (!(error instanceof MalformedMessageError)) throw error;
          reputation.penalise(remote, PENALTY_MALFORMED, 'malformed blob request');
          break;
        }
        if (!this.requestLimiter.take(remote)) {
          reputation.penalise(remote, PENALTY_RATE_LIMIT, 'blob request rate');
          await lp.write(Uint8Array.of(Status.Busy));
          continue;
        }
        const reply = await this.answer(request.type, request.body).catch(() => undefined);
        if (!reply) await lp.write(Uint8Array.of(Status.NotFound));
        else {
          // One frame: status byte + bytes, without copying the chunk.
          await lp.write(new Uint8ArrayList(Uint8Array.of(Status.Ok), reply));
          this.bytesServed += reply.byteLength;
          if (request.type === 'chunk') {
            const cid = CID.decode(request.body.cid).toString();
            this.noteServed(cid, remote, request.body.index);
            servedHere.add(cid);
          }
        }
      }
      await stream.close().catch(() => undefined);
      for (const cid of servedHere) this.settle(cid, remote);
    } catch (error) {
      stream.abort(error as Error);
    } finally {
      this.open.delete(stream);
    }
  }

  /**
   * The peers that have been served every chunk of a blob: a node about to stop waits for the peers that
   * still check its work to have fetched it.
   */
  servedTo(cid: string): ReadonlySet<string> {
    return this.wholeTo.get(cid) ?? new Set();
  }

  /** Forgets who was served a blob (the blob was removed from the store). */
  forget(cid: string): void {
    this.wholeTo.delete(cid);
    this.manifests.delete(cid);
    for (const key of this.partTo.keys()) if (key.startsWith(`${cid} `)) this.partTo.delete(key);
  }

  private noteServed(cid: string, peer: string, index: number): void {
    if (this.wholeTo.get(cid)?.has(peer)) return;
    const key = `${cid} ${peer}`;
    const part = this.partTo.get(key) ?? new Set<number>();
    part.add(index);
    remember(this.partTo, key, part, MAX_PARTIAL_FETCHES);
  }

  /**
   * A stream that served chunks of a blob to a peer has ended: the peer has read every reply it asked for
   * (written is not read: a node that stopped as soon as it wrote the last chunk could cut it off), so if
   * it has had every chunk by now, it holds the blob.
   */
  private settle(cid: string, peer: string): void {
    const key = `${cid} ${peer}`;
    const part = this.partTo.get(key);
    const manifest = this.manifests.get(cid);
    if (!part || !manifest || part.size < chunkCount(manifest)) return;
    this.partTo.delete(key);
    remember(this.wholeTo, cid, (this.wholeTo.get(cid) ?? new Set()).add(peer), MAX_REMEMBERED_BLOBS);
  }

  private async answer(type: 'manifest' | 'chunk', body: { cid: Uint8Array; index?: number }): Promise<Uint8Array | undefined> {
    const cid = CID.decode(body.cid);
    const { store } = this.components;
    if (type === 'manifest') return store.manifestBytes(cid);
    const key = cid.toString();
    let manifest = this.manifests.get(key);
    if (!manifest) {
      manifest = await store.manifest(cid);
      if (!manifest) return undefined;
      remember(this.manifests, key, manifest, MAX_REMEMBERED_BLOBS);
    }
    if (body.index === undefined || body.index * manifest.chunkSize >= manifest.size) return undefined;
    return store.readChunk(cid, manifest, body.index);
  }
}

/** The client side: one stream to one provider, one request at a time. */
export class BlobRequester {
  private readonly lp;

  constructor(
    readonly peer: PeerId,
    private readonly stream: Stream,
  ) {
    this.lp = lpStream(stream, { maxDataLength: MAX_BLOB_FRAME_BYTES });
  }

  /** The bytes, or undefined if the provider does not have them. Throws if the stream fails or times out. */
  async request(type: 'manifest' | 'chunk', cid: CID, index = 0, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const request = type === 'manifest' ? requestCodec.encode('manifest', { cid: cid.bytes }) : requestCodec.encode('chunk', { cid: cid.bytes, index });
    const reply = (await this.exchange(request, signal)).subarray();
    if (reply[0] === Status.Ok) return reply.subarray(1);
    if (reply[0] === Status.Busy) throw new Error('provider is busy');
    return undefined;
  }

  /**
   * One chunk as the list of frames it arrived in (no copy into one buffer: the receiver hashes and writes
   * the pieces as they are), or undefined if the provider does not have it.
   */
  async chunk(cid: CID, index: number, signal?: AbortSignal): Promise<Uint8ArrayList | undefined> {
    const reply = await this.exchange(requestCodec.encode('chunk', { cid: cid.bytes, index }), signal);
    const status = reply.get(0);
    if (status === Status.Ok) return reply.sublist(1);
    if (status === Status.Busy) throw new Error('provider is busy');
    return undefined;
  }

  private async exchange(request: Uint8Array, signal?: AbortSignal): Promise<Uint8ArrayList> {
    // anySignal, not AbortSignal.any: Node 20's keeps every signal made from a long-lived one (a role's) for good.
    const opts = { signal: anySignal([signal, AbortSignal.timeout(CHUNK_TIMEOUT_MS)]) };
    try {
      await this.lp.write(request, opts);
      const reply = await this.lp.read(opts);
      if (reply.byteLength === 0) throw new MalformedMessageError('Empty blob response.');
      return reply;
    } finally {
      opts.signal.clear();
    }
  }

  async manifest(cid: CID, signal?: AbortSignal): Promise<{ bytes: Uint8Array; manifest: Manifest } | undefined> {
    const bytes = await this.request('manifest', cid, 0, signal);
    return bytes && { bytes, manifest: decodeManifest(cid, bytes) };
  }

  close(): void {
    this.stream.close().catch(() => this.stream.abort(new Error('close failed')));
  }

  abort(reason: string): void {
    this.stream.abort(new Error(reason));
  }
}

export { BLOB_PROTOCOL };
