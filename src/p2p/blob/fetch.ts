/**
 * Fetches one blob from several providers at once. The manifest comes first (verified against the CID);
 * then chunks are handed out to every live provider, REQUESTS_PER_PROVIDER at a time, each verified the
 * moment it arrives. A provider that sends a bad chunk is dropped for this transfer and penalised; one that
 * fails or dies is dropped and its chunks go back in the queue for the others. Progress is saved, so an
 * interrupted transfer resumes.
 */
import { setMaxListeners } from 'node:events';
import type { PeerId } from '@libp2p/interface';
import { anySignal } from 'any-signal';
import type { CID } from 'multiformats/cid';
import { CHUNK_TIMEOUT_MS, PENALTY_BAD_CHUNK, PENALTY_MALFORMED, REQUESTS_PER_PROVIDER } from '../constants.js';
import { BlobIntegrityError, BlobTooLargeError, MalformedMessageError, NoProvidersError } from '../errors.js';
import type { Reputation } from '../reputation.js';
import { chunkCount, chunkMatches, type Manifest } from './manifest.js';
import type { BlobRequester } from './protocol.js';
import type { BlobStore, PartialBlob, Progress } from './store.js';

export type FetchOptions = {
  cid: CID;
  store: BlobStore;
  reputation: Reputation;
  /** Finds providers (DHT provider records); called again while no provider is live. */
  findProviders(cid: CID, signal: AbortSignal): AsyncIterable<PeerId>;
  /** Opens a blob stream to a provider. */
  open(peer: PeerId, signal: AbortSignal): Promise<BlobRequester>;
  /** How long to go on without any live provider before giving up. */
  timeoutMs: number;
  /** Refuse a blob whose manifest announces more bytes than this, before any chunk is fetched. */
  maxBytes?: number;
  onProgress?: Progress;
  signal?: AbortSignal;
};

export type FetchStats = { providersUsed: string[]; providersDropped: Record<string, string>; chunksFrom: Record<string, number>; resumedBytes: number };

/** `unreachableAt`: when it was dropped because no stream to it could be opened (it may be tried again, below). */
type Provider = { peer: PeerId; key: string; idle: BlobRequester[]; all: BlobRequester[]; dropped: boolean; opening: number; unreachableAt?: number };

const FLUSH_INTERVAL_MS = 1000;
const REDISCOVER_DELAY_MS = 500;
/**
 * A provider that could not be reached is tried again when the DHT names it again, at most this often. A peer given
 * as a hint (the node that announced a blob) is only a peer id: with no address in the peer store, its dial waits on
 * a DHT lookup of the peer, which under load failed ('The dial request has no valid addresses': bench scale, 50
 * nodes, load 14-18), while the DHT's provider record for the blob, which carries the provider's addresses, named
 * the same peer and was skipped as already tried: no replica was fetched from its publisher in four runs.
 */
const UNREACHABLE_RETRY_MS = 2_000;
/**
 * How long one provider lookup may run, past `timeoutMs` if need be: the fetch does not give up while a lookup is under
 * way. It did: each fetch attempt (node/p2p.ts getBlobTo: 5 s, then 10 s, 20 s) ended its lookup when the attempt ran
 * out, and on a loaded machine a lookup took 9-25 s (bench scale, 50 nodes, event loops lagging 8 s at p99): the
 * first attempts' lookups were cut before any answer came, each next one began from scratch, and 3 of 3 fetches by
 * CID failed within 60 s with two holders up. kad-dht sets no bound of its own when it is given a signal.
 */
const LOOKUP_TIMEOUT_MS = 30_000;

export async function fetchBlob(options: FetchOptions): Promise<FetchStats> {
  const { cid, store, reputation } = options;
  const stats: FetchStats = { providersUsed: [], providersDropped: {}, chunksFrom: {}, resumedBytes: 0 };
  if (await store.has(cid)) return stats;
  const controller = new AbortController();
  // Cleared in the finally below. Not AbortSignal.any: Node 20 keeps every signal made from a long-lived one (the
  // caller's may live as long as the node) for good (nodejs/node#55351): a soak's heap grew with every job.
  const signal = anySignal([options.signal, controller.signal]);
  // Every stream open (multistream-select) and every request races this signal: REQUESTS_PER_PROVIDER per
  // provider at once, more than Node's default of 10 listeners. They are removed when each one settles.
  setMaxListeners(Infinity, signal);

  const providers = new Map<string, Provider>();
  const queue: number[] = [];
  let partial: PartialBlob | undefined;
  /** Set once this fetch has returned or thrown: a part file that finishes opening after it is closed at once. */
  let ended = false;
  let manifestPending: Promise<void> | undefined;
  let inflight = 0;
  let wake = defer();
  const notify = (): void => wake.resolve();
  let lastLive = Date.now();
  let discovering = false;
  /** The next lookup, once the last has ended with no live provider (one pending at a time). */
  let rediscover: ReturnType<typeof setTimeout> | undefined;
  let tooLarge: BlobTooLargeError | undefined;

  const drop = (p: Provider, reason: string): void => {
    if (p.dropped) return;
    p.dropped = true;
    stats.providersDropped[p.key] = reason;
    for (const r of p.all) r.abort(`dropped: ${reason}`);
    p.idle.length = 0;
    notify();
  };

  const canRetry = (p: Provider): boolean => p.unreachableAt !== undefined && Date.now() - p.unreachableAt >= UNREACHABLE_RETRY_MS;
  const reopen = (peer: PeerId): void => {
    const p: Provider = { peer, key: peer.toString(), idle: [], all: [], dropped: false, opening: 0 };
    providers.set(p.key, p);
    openStreams(p);
  };

  const discover = (): void => {
    if (discovering || signal.aborted) return;
    discovering = true;
    const lookupEnded = new AbortController();
    const timer = setTimeout(() => lookupEnded.abort(), Math.max(options.timeoutMs, LOOKUP_TIMEOUT_MS));
    const lookup = anySignal([signal, lookupEnded.signal]);
    setMaxListeners(Infinity, lookup); // one listener per DHT query path and peer
    void (async () => {
      try {
        for await (const peer of options.findProviders(cid, lookup)) {
          const known = providers.get(peer.toString());
          if ((known && !canRetry(known)) || reputation.isBanned(peer.toString())) continue;
          reopen(peer);
        }
      } catch {
        // A failed lookup is like an empty one: the loop below retries while time remains.
      } finally {
        clearTimeout(timer);
        lookup.clear();
        discovering = false;
        notify();
      }
    })();
  };

  const openStreams = (p: Provider): void => {
    const want = partial ? REQUESTS_PER_PROVIDER : 1;
    for (let i = p.all.length + p.opening; i < want; i++) {
      p.opening++;
      options
        .open(p.peer, signal)
        .then((r) => {
          if (p.dropped) return r.abort('provider dropped');
          p.all.push(r);
          p.idle.push(r);
        })
        .catch((error: unknown) => {
          if (!p.dropped) p.unreachableAt = Date.now();
          drop(p, `cannot open a stream: ${(error as Error).message}`);
        })
        .finally(() => {
          p.opening--;
          notify();
        });
    }
  };

  const getManifest = async (p: Provider, r: BlobRequester): Promise<void> => {
    inflight++;
    try {
      const got = await r.manifest(cid, signal);
      if (!got) return drop(p, 'does not have the blob');
      if (options.maxBytes !== undefined && got.manifest.size > options.maxBytes) {
        tooLarge = new BlobTooLargeError(cid.toString(), got.manifest.size, options.maxBytes);
        return;
      }
      if (!partial) {
        const opened = await store.beginPartial(cid, got.bytes, got.manifest);
        // Aborted (or timed out) while the part file was opening: nothing else would close it, and its file handle
        // would be closed by the garbage collector, with Node's warning ("Closing file descriptor N on garbage collection").
        if (ended) return void (await opened.close());
        partial = opened;
        stats.resumedBytes = partial.bytesHave();
        queue.push(...partial.missing());
        for (const other of providers.values()) if (!other.dropped) openStreams(other);
      }
      p.idle.push(r);
    } catch (error) {
      if (error instanceof MalformedMessageError) reputation.penalise(p.key, PENALTY_MALFORMED, 'bad manifest');
      drop(p, `manifest failed: ${(error as Error).message}`);
    } finally {
      inflight--;
      manifestPending = undefined;
      notify();
    }
  };

  const getChunk = async (p: Provider, r: BlobRequester, index: number, m: Manifest, part: PartialBlob): Promise<void> => {
    inflight++;
    try {
      const data = await r.chunk(cid, index, signal);
      if (!data) {
        queue.unshift(index);
        return drop(p, `does not have chunk ${index}`);
      }
      // Verified on the event loop with node:crypto over the frames as they arrived (no copy). Hashing on a
      // worker thread or with WebCrypto (thread pool) was measured: it cost the receiver ~2x the CPU per MiB.
      if (!chunkMatches(m, index, data)) {
        queue.unshift(index);
        reputation.penalise(p.key, PENALTY_BAD_CHUNK, `bad chunk ${index} of ${cid}`);
        return drop(p, `sent a bad chunk (${index})`);
      }
      await part.write(index, data);
      stats.chunksFrom[p.key] = (stats.chunksFrom[p.key] ?? 0) + 1;
      options.onProgress?.(part.bytesHave(), m.size);
      if (!p.dropped) p.idle.push(r);
    } catch (error) {
      if (!part.have.has(index)) queue.unshift(index);
      if (signal.aborted) return;
      drop(p, `failed: ${(error as Error).message}`);
    } finally {
      inflight--;
      notify();
    }
  };

  const flusher = setInterval(() => void partial?.flush().catch(() => undefined), FLUSH_INTERVAL_MS);
  try {
    discover();
    for (;;) {
      signal.throwIfAborted();
      if (tooLarge) throw tooLarge;
      const live = [...providers.values()].filter((p) => !p.dropped);
      if (live.length > 0) lastLive = Date.now();
      // With none live while a lookup runs (up to 30 s), the providers that could not be reached are dialled again
      // without waiting for the lookup to name them: a publisher named by peer id only, whose first dial found no
      // address, was otherwise tried again only once the lookup ended.
      else if (discovering) for (const p of providers.values()) if (canRetry(p) && !reputation.isBanned(p.key)) reopen(p.peer);

      if (!partial) {
        const candidate = live.find((p) => p.idle.length > 0);
        if (!manifestPending && candidate) manifestPending = getManifest(candidate, candidate.idle.shift()!);
      } else {
        const m = partial.manifest;
        if (partial.have.size === chunkCount(m)) {
          if (await partial.complete()) break;
          throw new BlobIntegrityError(cid.toString());
        }
        for (const p of live) {
          while (p.idle.length > 0 && queue.length > 0) {
            const index = queue.shift()!;
            if (partial.have.has(index)) continue;
            if (!stats.providersUsed.includes(p.key)) stats.providersUsed.push(p.key);
            void getChunk(p, p.idle.shift()!, index, m, partial);
          }
        }
      }

      // Given up only once a lookup has ended with no provider live for timeoutMs, never in the middle of one.
      if (live.length === 0 && inflight === 0 && !discovering) {
        if (Date.now() - lastLive > options.timeoutMs) {
          throw new NoProvidersError(cid.toString(), options.timeoutMs, stats.providersDropped);
        }
        rediscover ??= setTimeout(() => {
          rediscover = undefined;
          discover();
        }, REDISCOVER_DELAY_MS);
      }
      await Promise.race([wake.promise, sleep(Math.min(CHUNK_TIMEOUT_MS, REDISCOVER_DELAY_MS * 2))]);
      wake = defer();
    }
    options.onProgress?.(partial.manifest.size, partial.manifest.size);
    return stats;
  } finally {
    ended = true;
    clearInterval(flusher);
    clearTimeout(rediscover);
    controller.abort();
    signal.clear();
    for (const p of providers.values()) for (const r of p.all) r.close();
    await partial?.close();
  }
}

/** A promise with its resolve function (Promise.withResolvers is missing from the ES2023 lib we target). */
function defer(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}
