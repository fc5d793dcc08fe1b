import { describe, expect, it } from 'vitest';
import { stalePolicies } from '../../src/swarm/sapo-node.js';

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
