/**
 * How nodes find each other's blobs: the market's gossip topic carries announcements {kind, jobId, key, cid}
 * ("the spec of job 3, hashing to key, is blob cid"; "the step hashes of job 3 with run root key"; "the model of
 * job 3 with run root key"). An announcement is only a pointer: the receiver fetches the blob and checks it against
 * what the chain holds for that key (spec hash, run root), so a forged announcement costs a fetch and nothing more.
 *
 * Gossip is not stored, so a node that subscribes late would miss what was said before: each node re-publishes its
 * own announcements every ANNOUNCE_EVERY_MS while it runs. Heard announcements are kept so that a role that asks
 * later still sees them, for as long as their announcer keeps re-publishing them (and HEARD_TTL_MS after).
 */
import type { Address } from 'viem';
import { z } from 'zod';
import { createCodec } from '../p2p/codec.js';
import { MAX_GOSSIP_BYTES } from '../p2p/constants.js';
import type { GossipStats, GossipTopic } from '../p2p/gossip.js';
import type { MycelNode } from '../p2p/node.js';

/** How often a node re-publishes its announcements (a late subscriber hears each within this time). */
export const ANNOUNCE_EVERY_MS = 1_000;
/** Heard announcements kept; the oldest go first (a job's announcements matter only while it is live). */
export const MAX_HEARD_ANNOUNCEMENTS = 10_000;
/**
 * A heard announcement not heard again for this long is dropped: its announcer stopped re-publishing it (the job is
 * settled, or the announcer left). Without it a node kept every announcement of the last 10,000 until the cap was
 * reached (bench soak: ~7 per job per node, growing for the whole 30-minute run), whatever was still live.
 */
export const HEARD_TTL_MS = 10 * 60_000;

/** state: a checkpoint of a committed run (key: its state hash h_c), which a sampling verifier replays from. */
export const ANNOUNCE_KINDS = ['spec', 'steps', 'model', 'state'] as const;
export type AnnounceKind = (typeof ANNOUNCE_KINDS)[number];

const ANNOUNCE_SCHEMAS = {
  announce: z.object({
    kind: z.enum(ANNOUNCE_KINDS),
    jobId: z.string().regex(/^[0-9]{1,78}$/),
    /** spec: the spec's keccak256; steps and model: the run root committed on chain; state: the state hash. */
    key: z.string().regex(/^0x[0-9a-f]{64}$/),
    cid: z.string().regex(/^b[a-z2-7]{8,200}$/),
  }).strict(),
};

export type Announcement = z.output<(typeof ANNOUNCE_SCHEMAS)['announce']>;
/** The topic's messages, for a peer that publishes on the raw pubsub (a browser tab runs no MycelNode). */
export const announceCodec = createCodec(ANNOUNCE_SCHEMAS, { maxBytes: MAX_GOSSIP_BYTES });
export type HeardAnnouncement = Announcement & { from: string };

/** The gossip topic of one market on one chain. */
export const announceTopic = (chainId: number, market: Address) => `mycel/market/${chainId}/${market.toLowerCase()}/announce/1`;

const idOf = (a: Announcement) => `${a.kind}/${a.jobId}/${a.key}/${a.cid}`;

export class Announcements {
  private readonly mine = new Map<string, Announcement>();
  /** By id, least recently heard first (an announcement heard again moves to the end). */
  private readonly heard = new Map<string, { a: HeardAnnouncement; at: number }>();
  private readonly waiters = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly topic: GossipTopic<typeof ANNOUNCE_SCHEMAS>) {
    topic.subscribe(({ body, from }) => {
      const id = idOf(body);
      const known = this.heard.get(id);
      this.heard.delete(id);
      this.heard.set(id, { a: known?.a ?? { ...body, from }, at: Date.now() });
      if (this.heard.size > MAX_HEARD_ANNOUNCEMENTS) this.heard.delete(this.heard.keys().next().value!);
      if (!known) for (const wake of this.waiters) wake();
    });
    this.timer = setInterval(() => {
      for (const a of this.mine.values()) void this.topic.publish('announce', a).catch(() => undefined);
      this.dropStale();
    }, ANNOUNCE_EVERY_MS);
    this.timer.unref();
  }

  /** Messages received on the topic, by verdict (for metrics). */
  get gossipStats(): GossipStats {
    return this.topic.stats;
  }

  static open(node: MycelNode, chainId: number, market: Address): Announcements {
    return new Announcements(node.topic(announceTopic(chainId, market), ANNOUNCE_SCHEMAS));
  }

  /** Heard announcements kept now (for tests and metrics). */
  get heardCount(): number {
    return this.heard.size;
  }

  private dropStale(): void {
    const before = Date.now() - HEARD_TTL_MS;
    for (const [id, { at }] of this.heard) {
      if (at >= before) break; // least recently heard first: the rest are fresher
      this.heard.delete(id);
    }
  }

  /** Publishes now and keeps re-publishing until the node stops. */
  async announce(a: Announcement): Promise<void> {
    const normalized = { ...a, key: a.key.toLowerCase() };
    this.mine.set(idOf(normalized), normalized);
    await this.topic.publish('announce', normalized).catch(() => undefined);
  }

  /**
   * Stops re-publishing this node's announcements of a job (once it is settled). Without it every announcement was
   * re-published each second for the node's lifetime: a node that served hundreds of jobs sent hundreds of messages a
   * second, and past the gossip rate limit its peers would ignore the live ones too.
   */
  forget(jobId: bigint): void {
    for (const [id, a] of this.mine) if (a.jobId === jobId.toString()) this.mine.delete(id);
  }

  /** The announcements of (kind, job, key), those heard already first, then new ones as they come; each once. */
  async *candidates(kind: AnnounceKind, jobId: bigint, key: string, signal?: AbortSignal): AsyncGenerator<HeardAnnouncement> {
    const seen = new Set<string>();
    const match = (a: HeardAnnouncement) => a.kind === kind && a.jobId === jobId.toString() && a.key === key.toLowerCase();
    for (;;) {
      signal?.throwIfAborted();
      const fresh = [...this.heard].filter(([id, { a }]) => !seen.has(id) && match(a)).map(([id, { a }]) => [id, a] as const);
      for (const [id, a] of fresh) {
        seen.add(id);
        yield a;
      }
      if (fresh.length === 0) await this.next(signal);
    }
  }

  private next(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiters.delete(done);
        reject(signal!.reason);
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    clearInterval(this.timer);
    for (const wake of this.waiters) wake();
  }
}
