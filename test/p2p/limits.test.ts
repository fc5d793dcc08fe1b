// Rate limits and reputation: a peer over its budget is throttled and penalised (then banned and
// disconnected), while the node stays up and keeps serving honest peers. Reputation decays with a half-life.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BAN_SCORE, BLOB_PROTOCOL, PENALTY_RATE_LIMIT, STREAM_BURST_PER_PEER } from '../../src/p2p/constants.js';

import { Reputation } from '../../src/p2p/reputation.js';
import { startNet, tempDir, waitFor, type TestNet } from './helpers.js';

/** Blob streams the flooder opens at once: below MAX_INBOUND_BLOB_STREAMS, so only the rate is tested. */
const WAVE = 16;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('rate limits on loopback', () => {
  let net: TestNet | undefined;
  afterEach(async () => {
    await net?.stop();
    net = undefined;
  });

  it('throttles, penalises and bans a peer that opens blob streams too fast; honest peers are still served', async () => {
    net = await startNet(3);
    const [server, hostile, honest] = net.nodes;
    await waitFor(() => server.peers().length >= 2, 10_000, 'connections');
    const hostileId = hostile.peerId.toString();
    const penalties: string[] = [];
    let opened = 0;
    let firstPenaltyAt = -1;
    server.reputation.onPenalty((peer, _score, reason) => {
      if (peer !== hostileId) return;
      if (firstPenaltyAt < 0) firstPenaltyAt = opened;
      penalties.push(reason);
    });
    // Open (and drop) blob streams in waves of concurrent dials until the server cuts us off. One at a time,
    // a busy machine opened fewer than STREAMS_PER_PEER_PER_SECOND a second, so the bucket refilled as fast
    // as it drained and the flood was never over the rate: the test failed at load ~15.
    const openAndDrop = async (): Promise<boolean> => {
      opened++;
      try {
        const stream = await hostile.host.dialProtocol(server.peerId, BLOB_PROTOCOL);
        stream.abort(new Error('flood'));
        return true;
      } catch {
        return false;
      }
    };
    while (!server.reputation.isBanned(hostileId) && opened < STREAM_BURST_PER_PEER * 20) {
      const wave = await Promise.all(Array.from({ length: WAVE }, openAndDrop));
      if (wave.every((ok) => !ok)) break;
    }
    await waitFor(() => server.reputation.isBanned(hostileId), 5_000, 'the flooder to be banned');
    // Nothing was refused within the burst; then each refused stream cost PENALTY_RATE_LIMIT.
    expect(firstPenaltyAt).toBeGreaterThanOrEqual(STREAM_BURST_PER_PEER - 1);
    expect(penalties.every((r) => r === 'blob stream rate')).toBe(true);
    expect(penalties.length).toBeGreaterThanOrEqual(Math.ceil(BAN_SCORE / PENALTY_RATE_LIMIT));
    await waitFor(() => server.host.getConnections(hostile.peerId).length === 0, 5_000, 'the flooder to be disconnected');
    // A new connection from the banned peer is refused by the gater (the dialer may or may not notice at once).
    await hostile.host.hangUp(server.peerId).catch(() => undefined);
    const redialed = await hostile.host.dial(server.peerId, { signal: AbortSignal.timeout(3_000) }).then(() => true, () => false);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.host.getConnections(hostile.peerId).filter((c) => c.status === 'open').length, `redial ${redialed ? 'resolved' : 'failed'}`).toBe(0);

    // The server is up and still serves an honest peer.
    const dir = await tempDir();
    const bytes = randomBytes(3 * 1024 * 1024);
    await writeFile(join(dir, 'in.bin'), bytes);
    const { cid } = await server.putFile(join(dir, 'in.bin'));
    await honest.fetch(cid);
    await honest.exportBlob(cid, join(dir, 'out.bin'));
    expect(sha(await readFile(join(dir, 'out.bin')))).toBe(sha(bytes));
    expect(server.reputation.score(honest.peerId.toString())).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('ignores and penalises gossip over the per-origin rate, and still delivers honest gossip', async () => {
    net = await startNet(3);
    const [victim, hostile, honest] = net.nodes;
    const TOPIC = 'mycel/test/rate';
    const schemas = { m: z.object({ n: z.number().int() }).strict() };
    const rate = { perSecond: 2, burst: 5 };
    const received: { from: string; n: number }[] = [];
    victim.topic(TOPIC, schemas, { rate }).subscribe((m) => received.push({ from: m.from, n: m.body.n }));
    const victimTopic = victim.topic(TOPIC, schemas);
    const hostileTopic = hostile.topic(TOPIC, schemas);
    const honestTopic = honest.topic(TOPIC, schemas);
    await waitFor(() => hostile.host.services.pubsub.getSubscribers(TOPIC).length === 2 && honest.host.services.pubsub.getSubscribers(TOPIC).length === 2, 15_000, 'subscriptions');
    const flood = 40;
    for (let n = 0; n < flood; n++) await hostileTopic.publish('m', { n });
    const hostileId = hostile.peerId.toString();
    await waitFor(() => victimTopic.stats.accepted + victimTopic.stats.ignored >= flood || victim.reputation.isBanned(hostileId), 10_000, 'the flood to arrive');
    const fromHostile = received.filter((r) => r.from === hostileId).length;
    // At most the burst plus what refilled while the flood was published.
    expect(fromHostile).toBeGreaterThanOrEqual(rate.burst);
    expect(fromHostile).toBeLessThan(flood / 2);
    expect(victimTopic.stats.ignored).toBeGreaterThanOrEqual(flood / 2);
    expect(victim.reputation.score(hostileId)).toBeLessThan(0);
    // The victim is up, and an honest peer's gossip still arrives (its own budget is untouched).
    await honestTopic.publish('m', { n: 1000 });
    await waitFor(() => received.some((r) => r.from === honest.peerId.toString() && r.n === 1000), 10_000, 'honest gossip');
    expect(victim.reputation.score(honest.peerId.toString())).toBe(0);
  });
});

describe('reputation', () => {
  it('decays with a half-life: a ban lifts, a repeat offender stays out, a quiet peer is forgotten', () => {
    let now = 0;
    const rep = new Reputation({ halfLifeMs: 1000, now: () => now });
    rep.penalise('p', -160, 'bad chunk');
    expect(rep.isBanned('p')).toBe(true);
    now = 500;
    expect(rep.score('p')).toBeCloseTo(-160 / Math.SQRT2, 6);
    now = 1000;
    expect(rep.score('p')).toBeCloseTo(-80, 6);
    expect(rep.isBanned('p')).toBe(false); // the ban lifted after one half-life
    rep.penalise('p', -50, 'again');
    expect(rep.score('p')).toBeCloseTo(-130, 6); // penalties add to the decayed score
    expect(rep.isBanned('p')).toBe(true);
    now = 1000 + 3000;
    expect(rep.score('p')).toBeCloseTo(-130 / 8, 6);
    now = 1000 + 10_000;
    expect(rep.score('p')).toBe(0); // below REPUTATION_FORGET_BELOW: forgotten
    expect(() => new Reputation({ halfLifeMs: 0 })).toThrow(RangeError);
  });
});
