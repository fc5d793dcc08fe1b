import { describe, expect, it } from 'vitest';
import { judgeRound, stalePolicies } from '../../src/swarm/sapo-node.js';

describe('pruning policy blobs', () => {
  it('keeps the blobs used in the round just finished and the one before, and only those', () => {
    const lastUsed = new Map([
      ['start', 0],
      ['r1', 1],
      ['peer-r2', 2],
      ['r3', 3],
    ]);
    expect(stalePolicies(lastUsed, 0)).toEqual([]);
    expect(stalePolicies(lastUsed, 1)).toEqual([]);
    expect(stalePolicies(lastUsed, 2)).toEqual(['start']);
    expect(stalePolicies(lastUsed, 3)).toEqual(['start', 'r1']);
    expect(stalePolicies(lastUsed, 5).sort()).toEqual(['peer-r2', 'r1', 'r3', 'start']);
  });
});

describe('removing a blob from the store', () => {
  it('deletes it, even while a handle to it is open for serving, and keeps the others', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { BlobStore } = await import('../../src/p2p/blob/store.js');
    const dir = await mkdtemp(join(tmpdir(), 'mycel-store-'));
    try {
      const store = new BlobStore(join(dir, 'blobs'));
      await writeFile(join(dir, 'a'), 'policy of round 0');
      await writeFile(join(dir, 'b'), 'policy of round 1');
      const a = await store.importFile(join(dir, 'a'));
      const b = await store.importFile(join(dir, 'b'));
      expect(await store.readChunk(a.cid, a.manifest, 0)).toBeDefined();
      await store.remove(a.cid);
      expect(await store.has(a.cid)).toBe(false);
      expect(await store.readChunk(a.cid, a.manifest, 0)).toBeUndefined();
      expect(Buffer.from((await store.readChunk(b.cid, b.manifest, 0))!).toString()).toBe('policy of round 1');
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('judging a rollout by its round', () => {
  it('keeps the rounds a node behind the clock will skip to, ignores late ones, drops replays, rejects rounds ahead of the clock', () => {
    const sent = (...rounds: number[]) => new Set(rounds);
    // In step with the clock: this round and the next are taken.
    expect(judgeRound(3, { node: 3, clock: 3, sent: sent(2) })).toEqual({});
    expect(judgeRound(4, { node: 3, clock: 3, sent: sent(2) })).toEqual({});
    // Stalled at round 1 while the clock went on to 4: its peers' rounds 2..5 are honest work, not a wrong round.
    for (const round of [2, 3, 4, 5]) expect(judgeRound(round, { node: 1, clock: 4, sent: undefined })).toEqual({});
    // Paced by its peers ahead of the clock: the node's own round bounds it.
    expect(judgeRound(8, { node: 7, clock: 2, sent: sent(6) })).toEqual({});
    // Ahead of the node and of the clock: wrong.
    expect(judgeRound(6, { node: 1, clock: 4, sent: undefined }).reject).toMatch(/^wrong-round: .*round 6.*round 1.*round 4/);
    expect(judgeRound(6, { node: 1, clock: 4, sent: undefined }).drop).toBeUndefined();
    // A round this node finished: late, ignored without blame.
    expect(judgeRound(2, { node: 3, clock: 3, sent: sent(1) })).toEqual({ ignore: 'late: rollout of round 2, this node is in round 3' });
    // An older round arriving after the peer's newer one (gossip over two paths): taken, not a replay.
    expect(judgeRound(3, { node: 3, clock: 3, sent: sent(4) })).toEqual({});
    // A second rollout of a round this peer already sent (taken or refused): a replay, the peer is dropped.
    for (const round of [4, 3]) {
      const verdict = judgeRound(round, { node: 3, clock: 3, sent: sent(3, 4) });
      expect(verdict.reject).toMatch(/^replay: a second rollout of round \d/);
      expect(verdict.drop).toBe(verdict.reject);
    }
  });
});
