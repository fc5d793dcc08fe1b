/**
 * Typed gossip topics over gossipsub. Every message is decoded and schema-checked in the topic validator,
 * before gossipsub forwards it: a malformed or oversized message is rejected (gossipsub then lowers its
 * sender's P4 score, see GOSSIP_TOPIC_SCORE). A message over its origin's rate on the topic, or over the
 * forwarding peer's overall rate, is ignored and the one over its rate is penalised (our reputation).
 */
import type { GossipSub, Message as PubsubMessage } from '@libp2p/gossipsub';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import { createTopicScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score';
import type { PeerId } from '@libp2p/interface';
import { createSha256, toHex } from '../platform/sha256.js';
import type { Codec, Message, Schemas } from './codec.js';
import { GOSSIP_BURST_PER_PEER, GOSSIP_PER_PEER_PER_SECOND, PENALTY_MALFORMED, PENALTY_RATE_LIMIT } from './constants.js';
import { MalformedMessageError } from './errors.js';
import { PeerRateLimiter } from './rate-limit.js';
import type { Reputation } from './reputation.js';

/**
 * Per-topic scoring: invalid messages cost a lot (the weight multiplies the squared count), while quiet
 * peers are not punished for under-delivery (swarm topics are bursty; mesh-delivery penalties would prune
 * honest idle peers).
 */
export const GOSSIP_TOPIC_SCORE: TopicScoreParams = createTopicScoreParams({
  topicWeight: 1,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  firstMessageDeliveriesWeight: 1,
  firstMessageDeliveriesDecay: 0.5,
  firstMessageDeliveriesCap: 10,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 10,
});

/** The fields of a gossip message as it arrives (gossipsub's RPC.Message). */
export type RawGossipMessage = { from?: Uint8Array; data?: Uint8Array; seqno?: Uint8Array; topic: string; signature?: Uint8Array; key?: Uint8Array };

/**
 * Gossipsub's fast message id (its `fastMsgIdFn`): SHA-256 over every field of a message as it arrived, each with its
 * length. Gossipsub checks a message in full (parses its sender's public key out of its peer id, decompressing the
 * point, and verifies its secp256k1 signature in JavaScript) before it looks its id up in the seen cache, so a node
 * paid that for every copy it got, one from each mesh peer: in bench scale, 20% of a node's time was secp256k1. With a
 * fast id, a copy equal byte for byte to a message that already passed those checks is a duplicate at the cost of a
 * hash; a copy that differs in any byte is checked in full.
 */
export function fastMessageId(m: RawGossipMessage): string {
  const h = createSha256();
  const text = new TextEncoder().encode(m.topic);
  for (const field of [m.from, m.seqno, text, m.data, m.signature, m.key]) {
    const bytes = field ?? new Uint8Array(0);
    h.update(Uint8Array.of(bytes.length >>> 24, (bytes.length >>> 16) & 255, (bytes.length >>> 8) & 255, bytes.length & 255)).update(bytes);
  }
  return toHex(h.digest());
}

export type GossipMessage<S extends Schemas> = Message<S> & { from: string; topic: string };
export type GossipStats = { accepted: number; rejected: number; ignored: number };
/** Messages per second (sustained) and burst that one origin may publish on a topic. */
export type GossipRate = { perSecond: number; burst: number };
/**
 * A topic's own rule beyond its schema, run in the validator: the reason to reject a decoded message
 * (from its origin), `{ ignore }` to drop it without blame (say, a slow peer's late message), or
 * undefined to accept it. A rejection lowers the sender's gossip score (P4) and our reputation of it,
 * and is reported to `onReject`, as is a message that does not decode (reason 'malformed: ...').
 */
export type GossipCheck<S extends Schemas> = (message: Message<S>, origin: string) => string | { ignore: string } | undefined;
export type GossipTopicOptions<S extends Schemas> = { rate?: GossipRate; check?: GossipCheck<S>; onReject?: (origin: string, reason: string) => void };

export class GossipTopic<S extends Schemas> {
  readonly stats: GossipStats = { accepted: 0, rejected: 0, ignored: 0 };
  /** Per origin (signer): what one publisher may put on the topic. */
  private readonly limiter: PeerRateLimiter;
  /** Per forwarding peer: bounds what one connection can push at us, whatever the origins (keys are free). */
  private readonly sourceLimiter = new PeerRateLimiter(GOSSIP_PER_PEER_PER_SECOND, GOSSIP_BURST_PER_PEER);
  // The validator has already decoded each message; delivery reuses that instead of decoding twice.
  private readonly decoded = new WeakMap<PubsubMessage, Message<S>>();
  private readonly handlers = new Set<(message: GossipMessage<S>) => void>();
  private readonly onMessage = (event: CustomEvent<PubsubMessage>): void => {
    const message = event.detail;
    if (message.topic !== this.topic) return;
    const decoded = this.decoded.get(message) ?? this.tryDecode(message.data);
    if (!decoded) return;
    const from = message.type === 'signed' ? message.from.toString() : 'unknown';
    for (const handler of this.handlers) handler({ ...decoded, from, topic: this.topic });
  };

  constructor(
    private readonly pubsub: GossipSub,
    readonly topic: string,
    private readonly codec: Codec<S>,
    private readonly reputation: Reputation,
    rate: GossipRate = { perSecond: GOSSIP_PER_PEER_PER_SECOND, burst: GOSSIP_BURST_PER_PEER },
    private readonly rules: Omit<GossipTopicOptions<S>, 'rate'> = {},
  ) {
    this.limiter = new PeerRateLimiter(rate.perSecond, rate.burst);
    pubsub.topicValidators.set(topic, (peer, message) => this.validate(peer, message));
    pubsub.addEventListener('message', this.onMessage);
    pubsub.subscribe(topic);
  }

  subscribe(handler: (message: GossipMessage<S>) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async publish<K extends keyof S & string>(type: K, body: Parameters<Codec<S>['encode']>[1]): Promise<number> {
    const result = await this.pubsub.publish(this.topic, this.codec.encode(type, body as never));
    return result.recipients.length;
  }

  /** The peers we know to be subscribed to the topic. */
  subscribers(): string[] {
    return this.pubsub.getSubscribers(this.topic).map((p) => p.toString());
  }

  /** Publishes bytes as they are (already encoded; a test's hostile node sends what the codec would refuse). */
  async publishRaw(bytes: Uint8Array): Promise<number> {
    const result = await this.pubsub.publish(this.topic, bytes);
    return result.recipients.length;
  }

  close(): void {
    this.pubsub.removeEventListener('message', this.onMessage);
    this.pubsub.topicValidators.delete(this.topic);
    this.pubsub.unsubscribe(this.topic);
    this.handlers.clear();
  }

  private validate(peer: PeerId, message: PubsubMessage): TopicValidatorResult {
    const source = peer.toString();
    if (!this.sourceLimiter.take(source)) {
      this.stats.ignored++;
      this.reputation.penalise(source, PENALTY_RATE_LIMIT, `gossip rate from peer on ${this.topic}`);
      return TopicValidatorResult.Ignore;
    }
    // The topic's rate is counted per origin (the signer, StrictSign): an honest mesh neighbour that relays a
    // flooder's messages is not charged for them; the flooder is, wherever it is in the mesh.
    const origin = message.type === 'signed' ? message.from.toString() : source;
    if (!this.limiter.take(origin)) {
      this.stats.ignored++;
      this.reputation.penalise(origin, PENALTY_RATE_LIMIT, `gossip rate on ${this.topic}`);
      return TopicValidatorResult.Ignore;
    }
    const decoded = this.tryDecode(message.data);
    if (!decoded) {
      this.stats.rejected++;
      this.reputation.penalise(source, PENALTY_MALFORMED, `malformed gossip on ${this.topic}`);
      this.rules.onReject?.(origin, `malformed: a message of ${message.data.length} bytes that does not decode as ${this.topic}'s schema (or is over its size limit)`);
      return TopicValidatorResult.Reject;
    }
    const problem = this.rules.check?.(decoded, origin);
    if (typeof problem === 'object') {
      this.stats.ignored++;
      return TopicValidatorResult.Ignore;
    }
    if (problem !== undefined) {
      this.stats.rejected++;
      this.reputation.penalise(origin, PENALTY_MALFORMED, `${problem} (on ${this.topic})`);
      this.rules.onReject?.(origin, problem);
      return TopicValidatorResult.Reject;
    }
    this.decoded.set(message, decoded);
    this.stats.accepted++;
    return TopicValidatorResult.Accept;
  }

  private tryDecode(data: Uint8Array): Message<S> | undefined {
    try {
      return this.codec.decode(data);
    } catch (error) {
      if (error instanceof MalformedMessageError) return undefined;
      throw error;
    }
  }
}
