import { randomBytes, createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BadCidError, NoProvidersError } from '../../src/p2p/errors.js';
import { parseBlobCid } from '../../src/p2p/blob/manifest.js';
import { BlobStore, MAX_OPEN_BLOBS } from '../../src/p2p/blob/store.js';
import type { MycelNode } from '../../src/p2p/node.js';
import { startNet, tempDir, waitFor, type TestNet } from './helpers.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('blobs between nodes on loopback', () => {
  let net: TestNet | undefined;
  afterEach(async () => {
    await net?.stop();
    net = undefined;
  });

  // A node's roles fetch with one signal that lives as long as they run. Node 20's AbortSignal.any keeps every
  // signal made from it (its dependants) for good, and a fetch made a few per chunk: the soak's heap grew by every
  // job. What a finished fetch leaves on the long-lived signal must be nothing.
  it('leaves nothing on a long-lived signal once its fetches are done', async () => {
    net = await startNet(2);
    const [a, b] = net.nodes;
    await waitFor(() => b.peers().length > 0, 10_000, 'connection');
    const dir = await tempDir();
    const lifetime = new AbortController();
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `in-${i}.bin`);
      await writeFile(file, randomBytes(3 * 1024 * 1024 + 7));
      const { cid } = await a.putFile(file);
      await b.fetch(cid, { signal: lifetime.signal });
    }
    const dependants = Object.getOwnPropertySymbols(lifetime.signal).find((s) => s.description === 'kDependantSignals');
    const kept = dependants ? ((lifetime.signal as unknown as Record<symbol, Set<unknown>>)[dependants]?.size ?? 0) : 0;
    expect(kept).toBe(0);
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
  });

  it('moves a 10 MB blob with integrity', async () => {
    net = await startNet(2);
    const [a, b] = net.nodes;
    await waitFor(() => b.peers().length > 0, 10_000, 'connection');
    const dir = await tempDir();
    const file = join(dir, 'in.bin');
    const bytes = randomBytes(10 * 1024 * 1024);
    await writeFile(file, bytes);
    const { cid, chunks } = await a.putFile(file);
    expect(chunks).toBe(10);
    const seen: number[] = [];
    const stats = await b.fetch(cid, { onProgress: (done) => seen.push(done) });
    expect(stats.providersUsed).toEqual([a.peerId.toString()]);
    await b.exportBlob(cid, join(dir, 'out.bin'));
    expect(sha(await readFile(join(dir, 'out.bin')))).toBe(sha(bytes));
    expect(seen.at(-1)).toBe(bytes.byteLength);
    // The server knows who has had the whole blob (a node about to stop waits for its checkers), until it is removed.
    // (counted once the fetcher has closed its stream: it has read every chunk)
    await waitFor(() => a.peersServed(cid).size > 0, 10_000, 'the served peer counted');
    expect([...a.peersServed(cid)]).toEqual([b.peerId.toString()]);
    expect(b.peersServed(cid).size).toBe(0);
    await a.removeBlob(cid);
    expect(a.peersServed(cid).size).toBe(0);
  });

  async function putRandom(node: MycelNode, mb: number): Promise<{ cid: string; bytes: Buffer; dir: string }> {
    const dir = await tempDir();
    const bytes = randomBytes(mb * 1024 * 1024);
    await writeFile(join(dir, 'in.bin'), bytes);
    const { cid } = await node.putFile(join(dir, 'in.bin'));
    return { cid, bytes, dir };
  }

  it('catches a provider that serves a corrupted chunk and finishes from another', async () => {
    net = await startNet(3);
    const [good, fetcher, evil] = net.nodes;
    await waitFor(() => fetcher.peers().length >= 2 && evil.peers().length >= 1, 10_000, 'connections');
    const { cid, bytes, dir } = await putRandom(good, 8);
    await evil.putFile(join(dir, 'in.bin'));
    // The hostile provider's copy rots on disk: it serves chunks that do not match the manifest.
    await writeFile(evil.store.paths(parseBlobCid(cid)).data, randomBytes(bytes.byteLength));
    const stats = await fetcher.fetch(cid);
    expect(stats.providersDropped[evil.peerId.toString()]).toMatch(/bad chunk/);
    expect(fetcher.reputation.score(evil.peerId.toString())).toBeLessThan(0);
    expect(stats.chunksFrom[good.peerId.toString()]).toBe(8);
    await fetcher.exportBlob(cid, join(dir, 'out.bin'));
    expect(sha(await readFile(join(dir, 'out.bin')))).toBe(sha(bytes));
  });

  it('completes from another provider when one is killed mid-transfer', async () => {
    net = await startNet(3);
    const [first, fetcher, second] = net.nodes;
    await waitFor(() => fetcher.peers().length >= 2, 10_000, 'connections');
    const { cid, bytes, dir } = await putRandom(first, 32);
    await second.putFile(join(dir, 'in.bin'));
    let killed: Promise<void> | undefined;
    const stats = await fetcher.fetch(cid, {
      onProgress: (done) => {
        if (!killed && done > 0) killed = first.stop();
      },
    });
    await killed;
    expect(killed).toBeDefined();
    expect(Object.keys(stats.providersDropped)).toContain(first.peerId.toString());
    expect(stats.chunksFrom[second.peerId.toString()]).toBeGreaterThan(0);
    await fetcher.exportBlob(cid, join(dir, 'out.bin'));
    expect(sha(await readFile(join(dir, 'out.bin')))).toBe(sha(bytes));
  });

  it('resumes an interrupted transfer and leaves no file that looks complete', async () => {
    net = await startNet(2);
    const [a, b] = net.nodes;
    await waitFor(() => b.peers().length > 0, 10_000, 'connection');
    const { cid, bytes, dir } = await putRandom(a, 12);
    const stop = new AbortController();
    await expect(b.fetch(cid, { signal: stop.signal, onProgress: (done) => done >= 3 * 1024 * 1024 && stop.abort() })).rejects.toThrow();
    const files = await readdir(b.store.dir);
    expect(files.some((f) => f.endsWith('.data'))).toBe(false);
    expect(files.some((f) => f.endsWith('.part'))).toBe(true);
    const stats = await b.fetch(cid);
    expect(stats.resumedBytes).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    await b.exportBlob(cid, join(dir, 'out.bin'));
    expect(sha(await readFile(join(dir, 'out.bin')))).toBe(sha(bytes));
    expect((await readdir(b.store.dir)).filter((f) => f.endsWith('.part') || f.endsWith('.have'))).toEqual([]);
  });

  it('says so when no one provides a CID, within the timeout', async () => {
    net = await startNet(2);
    const [, b] = net.nodes;
    const nobody = 'bafkreiftazjwnbcw44tzm5qmo6fgdttpmfeurxq5mwnrtgi2isk4rivfzu';
    const started = Date.now();
    await expect(b.fetch(nobody, { timeoutMs: 1500 })).rejects.toBeInstanceOf(NoProvidersError);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(b.fetch('not-a-cid')).rejects.toBeInstanceOf(BadCidError);
  });
});

describe('the blob store', () => {
  it(`serves any number of blobs with at most ${MAX_OPEN_BLOBS} files open (it kept one per blob for as long as it ran)`, async () => {
    const dir = await tempDir();
    const store = new BlobStore(join(dir, 'blobs'));
    const fds = async () => (await readdir('/proc/self/fd')).length;
    const blobs = [];
    for (let i = 0; i < MAX_OPEN_BLOBS + 36; i++) {
      await writeFile(join(dir, `f${i}`), randomBytes(100));
      blobs.push(await store.importFile(join(dir, `f${i}`)));
    }
    const before = await fds();
    // Read side by side, as peers ask: each read gets its bytes even when its handle is evicted meanwhile.
    const chunks = await Promise.all(blobs.map((b) => store.readChunk(b.cid, b.manifest, 0)));
    expect(chunks.every((c) => c?.byteLength === 100)).toBe(true);
    expect(store.openHandles).toBe(MAX_OPEN_BLOBS);
    await waitFor(async () => (await fds()) - before <= MAX_OPEN_BLOBS, 5_000, 'evicted handles closed');
    // The most recently read is still open; an evicted one opens again.
    expect(await store.readChunk(blobs[0].cid, blobs[0].manifest, 0)).toEqual(chunks[0]);
    await store.close();
    await waitFor(async () => (await fds()) <= before, 5_000, 'every handle closed');
  });
});
