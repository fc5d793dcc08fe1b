import { encode as cborEncode } from 'cborg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ScoredGossipSub } from '../../src/p2p/host.js';
import type { GossipMessage } from '../../src/p2p/gossip.js';
import { startNet, waitFor, type TestNet } from './helpers.js';

const TOPIC = 'mycel/test/1';
const SCHEMAS = { hello: z.object({ n: z.number().int(), text: z.string().max(64) }).strict() };

describe('five nodes on loopback from one bootstrap peer', () => {
  let net: TestNet;
  beforeAll(async () => {
    net = await startNet(5);
  });
  afterAll(async () => {
    await net?.stop();
  });

  it('discover each other', async () => {
    const ids = net.nodes.map((n) => n.peerId.toString());
    await waitFor(
      () => net.nodes.every((n) => new Set(n.peers().map((p) => p.peerId)).size === ids.length - 1),
      20_000,
      'every node to be connected to the four others',
    );
    for (const node of net.nodes) {
      expect(new Set(node.peers().map((p) => p.peerId))).toEqual(new Set(ids.filter((id) => id !== node.peerId.toString())));
    }
  });

  it('gossip reaches every node', async () => {
    const received = net.nodes.map(() => [] as GossipMessage<typeof SCHEMAS>[]);
    const topics = net.nodes.map((n, i) => {
      const t = n.topic(TOPIC, SCHEMAS, { maxBytes: 1024 });
      t.subscribe((m) => received[i].push(m));
      return t;
    });
    // Wait until the sender's mesh/fanout sees all four subscribers.
    await waitFor(() => net.nodes[0].host.services.pubsub.getSubscribers(TOPIC).length === 4, 15_000, 'subscriptions');
    await topics[0].publish('hello', { n: 1, text: 'hi' });
    await waitFor(() => received.slice(1).every((r) => r.length === 1), 10_000, 'gossip at every node');
    expect(received[1][0]).toMatchObject({ type: 'hello', body: { n: 1, text: 'hi' }, from: net.nodes[0].peerId.toString() });
    expect(received[0]).toEqual([]);
  });

  it('drops malformed and oversized gossip, lowers the sender score and stays up', async () => {
    const [victim, , , , hostile] = net.nodes;
    const victimTopic = victim.topic(TOPIC, SCHEMAS, { maxBytes: 1024 });
    const got: unknown[] = [];
    victimTopic.subscribe((m) => got.push(m.body));
    const raw = hostile.host.services.pubsub; // the hostile node bypasses the codec and publishes raw bytes
    const garbage = [
      Uint8Array.of(1, 0xff, 0xfe),                              // not CBOR
      Uint8Array.of(9, ...cborEncode({ t: 'hello', d: { n: 1, text: 'x' } })), // unknown version
      Uint8Array.of(1, ...cborEncode({ t: 'hello', d: { n: 'one', text: 'x' } })), // off-schema
      Uint8Array.of(1, ...cborEncode({ t: 'nope', d: {} })),     // unknown type
      Uint8Array.of(1, ...cborEncode({ t: 'hello', d: { n: 1, text: 'x'.repeat(2000) } })), // oversized
    ];
    const before = victimTopic.stats.rejected;
    for (const g of garbage) await raw.publish(TOPIC, g);
    await waitFor(() => victimTopic.stats.rejected - before >= garbage.length, 10_000, 'rejections');
    expect(got).toEqual([]);
    const pubsub = victim.host.services.pubsub as ScoredGossipSub;
    await waitFor(() => pubsub.getScore(hostile.peerId.toString()) < 0, 5_000, 'a negative gossip score');
    expect(victim.reputation.score(hostile.peerId.toString())).toBeLessThan(0);
    // Still up and still serving honest peers.
    await net.nodes[1].topic(TOPIC, SCHEMAS, { maxBytes: 1024 }).publish('hello', { n: 2, text: 'still here' });
    await waitFor(() => got.length === 1, 10_000, 'a valid message after the garbage');
    expect(got[0]).toEqual({ n: 2, text: 'still here' });
  });
});
