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
import { fetchBlob } from '../../src/p2p/blob/fetch.js';
import type { BlobRequester } from '../../src/p2p/blob/protocol.js';
import { BlobStore } from '../../src/p2p/blob/store.js';
import { Reputation } from '../../src/p2p/reputation.js';
import { tempDir } from './helpers.js';

describe('fetchBlob and an unreachable provider', () => {
  it('dials a provider again when the DHT names it after its first dial failed', async () => {
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
      const peer = { toString: () => 'publisher', equals: () => false } as unknown as PeerId;
      let opens = 0;
      const store = new BlobStore(join(dir, 'receiver'));
      await fetchBlob({
        cid,
        store,
        reputation: new Reputation(),
        timeoutMs: 10_000,
        // The hint first; the DHT names the same peer on every lookup (now with its addresses in the peer store).
        findProviders: async function* () {
          yield peer;
        },
        open: async () => {
          // Before the fix the second open never came, and the fetch failed with NoProvidersError after 10 s.
          if (++opens === 1) throw new Error('The dial request has no valid addresses for peer: publisher');
          return requester;
        },
      });
      expect(opens).toBeGreaterThan(1);
      expect(Buffer.from(await readFile(store.paths(cid).data)).equals(bytes)).toBe(true);
      await source.close();
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
