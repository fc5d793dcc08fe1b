// A fetch that is aborted while its part file is still opening closes that file itself: nothing else holds it, and
// Node would close it on garbage collection with a warning ("Closing file descriptor N on garbage collection"),
// which the soak printed (issue 11).
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeerId } from '@libp2p/interface';
import { describe, expect, it, vi } from 'vitest';
import { fetchBlob } from '../../src/p2p/blob/fetch.js';
import type { BlobRequester } from '../../src/p2p/blob/protocol.js';
import { BlobStore, type PartialBlob } from '../../src/p2p/blob/store.js';
import { Reputation } from '../../src/p2p/reputation.js';
import { tempDir } from './helpers.js';

describe('fetchBlob aborted mid-way', () => {
  it('closes a part file that finished opening after the fetch ended', async () => {
    const dir = await tempDir();
    try {
      // A real blob (its manifest and CID) held by a "provider" that answers the manifest request.
      const file = join(dir, 'in.bin');
      await writeFile(file, randomBytes(5_000));
      const source = new BlobStore(join(dir, 'source'));
      const { cid, manifest } = await source.importFile(file);
      const manifestBytes = (await source.manifestBytes(cid))!;
      const requester = { manifest: async () => ({ bytes: manifestBytes, manifest }), close() {}, abort() {} } as unknown as BlobRequester;
      const peer = { toString: () => 'provider-1', equals: () => false } as unknown as PeerId;

      const store = new BlobStore(join(dir, 'receiver'));
      const ac = new AbortController();
      let fetching: Promise<unknown> = Promise.resolve();
      let opened: PartialBlob | undefined;
      let close: ReturnType<typeof vi.spyOn> | undefined;
      const begin = store.beginPartial.bind(store);
      // The part file opens only after the fetch was aborted and has ended.
      store.beginPartial = async (...args) => {
        ac.abort(new Error('stopped'));
        await fetching;
        opened = await begin(...args);
        close = vi.spyOn(opened, 'close');
        return opened;
      };
      fetching = fetchBlob({
        cid,
        store,
        reputation: new Reputation(),
        timeoutMs: 5_000,
        findProviders: async function* () {
          yield peer;
        },
        open: async () => requester,
        signal: ac.signal,
      }).catch((error: unknown) => error);
      expect(String(await fetching)).toMatch(/stopped/);
      await vi.waitFor(() => expect(close).toHaveBeenCalled(), { timeout: 5_000 });
      await source.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
