/**
 * How nodes find each other's blobs: the market's gossip topic carries announcements {kind, jobId, key, cid}
 * ("the spec of job 3, hashing to key, is blob cid"; "the step hashes of job 3 with run root key"; "the model of
 * job 3 with run root key"). An announcement is only a pointer: the receiver fetches the blob and checks it against
 * what the chain holds for that key (spec hash, run root), so a forged announcement costs a fetch and nothing more.
 *
 * Gossip is not stored, so a node that subscribes late would miss what was said before: each node re-publishes its
 * own announcements every ANNOUNCE_EVERY_MS while it runs. Heard announcements are kept (bounded) so that a role that
 * asks later still sees them.
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
  private readonly heard = new Map<string, HeardAnnouncement>();
  private readonly waiters = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly topic: GossipTopic<typeof ANNOUNCE_SCHEMAS>) {
    topic.subscribe(({ body, from }) => {
      const id = idOf(body);
      if (this.heard.has(id)) return;
      this.heard.set(id, { ...body, from });
      if (this.heard.size > MAX_HEARD_ANNOUNCEMENTS) this.heard.delete(this.heard.keys().next().value!);
      for (const wake of this.waiters) wake();
    });
    this.timer = setInterval(() => {
      for (const a of this.mine.values()) void this.topic.publish('announce', a).catch(() => undefined);
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
      const fresh = [...this.heard.entries()].filter(([id, a]) => !seen.has(id) && match(a));
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
