import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CompactMemoryDatastore, ownBuffer } from '../../src/p2p/datastore.js';
import type { MycelNode } from '../../src/p2p/node.js';
import { startNet, tempDir, waitFor, type TestNet } from './helpers.js';

/** The host's datastore (libp2p keeps it in its components; MycelNode does not expose it). */
const datastoreOf = (node: MycelNode) => (node.host as unknown as { components: { datastore: CompactMemoryDatastore } }).components.datastore;

async function providerRecords(node: MycelNode): Promise<Uint8Array[]> {
  const values: Uint8Array[] = [];
  for await (const { value } of datastoreOf(node).query({ prefix: '/dht/provider' })) values.push(value);
  return values;
}

describe('the host datastore keeps no shared buffer alive', () => {
  it('copies a view of a larger buffer, keeps a buffer of its own', () => {
    const pooled = Buffer.from('abc'); // a slice of Node's 8 KiB pool
    expect(pooled.buffer.byteLength).toBeGreaterThan(3);
    const owned = ownBuffer(pooled);
    expect([...owned]).toEqual([...pooled]);
    expect(owned.buffer.byteLength).toBe(3);
    owned[0] = 0;
    expect(pooled[0]).toBe(0x61); // a copy, not a view (Buffer#slice would share)
    const whole = new Uint8Array(4);
    expect(ownBuffer(whole)).toBe(whole);
  });

  let net: TestNet | undefined;
  afterEach(async () => {
    await net?.stop();
    net = undefined;
  });

  it("a node's DHT provider records, its own and its peers', each hold only their own bytes", async () => {
    net = await startNet(2);
    const [a, b] = net.nodes;
    await waitFor(() => a.peers().length > 0 && b.peers().length > 0, 10_000, 'connection');
    const dir = await tempDir();
    try {
      for (let i = 0; i < 5; i++) {
        const file = join(dir, `blob-${i}`);
        await writeFile(file, randomBytes(100));
        await a.putFile(file);
      }
      // a stores its own records; b stores a's, received with ADD_PROVIDER.
      await waitFor(async () => (await providerRecords(a)).length >= 5 && (await providerRecords(b)).length >= 5, 10_000, 'provider records');
      for (const node of [a, b]) {
        for (const value of await providerRecords(node)) expect(value.buffer.byteLength).toBe(value.byteLength);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a removed blob's own provider record goes with it (kad-dht would keep it and re-provide it every day)", async () => {
    net = await startNet(2);
    const [a, b] = net.nodes;
    await waitFor(() => a.peers().length > 0 && b.peers().length > 0, 10_000, 'connection');
    const dir = await tempDir();
    try {
      const cids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const file = join(dir, `blob-${i}`);
        await writeFile(file, randomBytes(100));
        cids.push((await a.putFile(file)).cid);
      }
      const own = async () => {
        const keys: string[] = [];
        for await (const { key } of datastoreOf(a).query({ prefix: '/dht/provider' })) if (key.toString().endsWith(a.peerId.toString())) keys.push(key.toString());
        return keys;
      };
      await waitFor(async () => (await own()).length >= 3, 10_000, 'own provider records');
      await a.removeBlob(cids[0]);
      await a.removeBlob(cids[1]);
      expect(await own()).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
