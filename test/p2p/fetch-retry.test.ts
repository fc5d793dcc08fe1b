// A provider that could not be reached is tried again when the DHT names it again: a hinted provider (the peer that
// announced a blob, a peer id only) whose address the node did not know failed to dial, and the DHT's provider record
// of the same peer, which carries its addresses, was skipped as already tried (bench scale, 50 nodes: no replica
// fetched from its publisher).
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeerId } from '@libp2p/interface';
import { Uint8ArrayList } from 'uint8arraylist';
import { describe, expect, it } from 'vitest';
import { fetchBlob, type FetchOptions } from '../../src/p2p/blob/fetch.js';
import type { BlobRequester } from '../../src/p2p/blob/protocol.js';
import { BlobStore } from '../../src/p2p/blob/store.js';
import { Reputation } from '../../src/p2p/reputation.js';
import { tempDir } from './helpers.js';

const publisher = { toString: () => 'publisher', equals: () => false } as unknown as PeerId;

/**
 * Fetches a blob held by `publisher`, whose first dial fails (no address known) and every later one succeeds, with
 * the given lookup; checks the bytes and returns how many dials there were and how long the fetch took.
 */
async function fetchAfterFailedDial(o: { timeoutMs: number; findProviders: FetchOptions['findProviders'] }): Promise<{ opens: number; ms: number }> {
  const dir = await tempDir();
  try {
    const file = join(dir, 'in.bin');
    const bytes = randomBytes(5_000);
    await writeFile(file, bytes);
    const source = new BlobStore(join(dir, 'source'));
    const { cid, manifest } = await source.importFile(file);
    const manifestBytes = (await source.manifestBytes(cid))!;
    const requester = {
      manifest: async () => ({ bytes: manifestBytes, manifest }),
      chunk: async (_cid: unknown, index: number) => new Uint8ArrayList((await source.readChunk(cid, manifest, index))!),
      close() {},
      abort() {},
    } as unknown as BlobRequester;
    let opens = 0;
    const store = new BlobStore(join(dir, 'receiver'));
    const started = Date.now();
    await fetchBlob({
      cid,
      store,
      reputation: new Reputation(),
      timeoutMs: o.timeoutMs,
      findProviders: o.findProviders,
      open: async () => {
        if (++opens === 1) throw new Error('The dial request has no valid addresses for peer: publisher');
        return requester;
      },
    });
    const ms = Date.now() - started;
    expect(Buffer.from(await readFile(store.paths(cid).data)).equals(bytes)).toBe(true);
    await source.close();
    await store.close();
    return { opens, ms };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('fetchBlob and an unreachable provider', () => {
  it('dials a provider again when the DHT names it after its first dial failed', async () => {
    // The hint first; the DHT names the same peer on every lookup (now with its addresses in the peer store).
    const { opens } = await fetchAfterFailedDial({
      timeoutMs: 10_000,
      findProviders: async function* () {
        yield publisher;
      },
    });
    // Before the fix the second open never came, and the fetch failed with NoProvidersError after 10 s.
    expect(opens).toBeGreaterThan(1);
  });

  // A fetch waits for its lookup (up to 30 s). A publisher named by peer id only whose first dial failed was tried
  // again only once the lookup named it again or ended: while a slow lookup ran, nothing was fetched.
  it('dials the provider again while the lookup still runs', async () => {
    // The hint, then a lookup that names no one for as long as it is let run.
    const { ms } = await fetchAfterFailedDial({
      timeoutMs: 1_000,
      findProviders: async function* (_cid, signal) {
        yield publisher;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      },
    });
    // Before the fix: the second dial came only when the lookup was cut, 30 s in (NoProvidersError at 31 s).
    expect(ms).toBeLessThan(15_000);
  }, 60_000);
});
