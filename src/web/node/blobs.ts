/**
 * The tab's blobs: served from memory over the blob protocol by one BlobServer (the one a Node peer runs, with an
 * in-memory store), and fetched from a named peer chunk by chunk, each chunk checked against the manifest and the
 * manifest against the CID. A tab keeps no blob store of its own: what it serves is what it made (policies, step
 * hashes, checkpoints), for as long as it stays.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { CID } from 'multiformats/cid';
import { BLOB_CHUNK_BYTES } from '../../p2p/constants.js';
import { chunkCount, chunkLength, chunkMatches, encodeManifest, parseBlobCid, sha256Bytes, type Manifest } from '../../p2p/blob/manifest.js';
import { BLOB_PROTOCOL, BlobRequester, BlobServer } from '../../p2p/blob/protocol.js';
import { Reputation } from '../../p2p/reputation.js';
import type { TabHost } from './libp2p.js';

const served = new Map<string, { bytes: Uint8Array; manifest: Manifest; manifestBytes: Uint8Array }>();
let server: Promise<void> | undefined;

/** Serves `bytes` over the blob protocol from now on; returns its CID (the one a Node peer's store gives the same bytes). */
export async function serveBytes(host: TabHost, bytes: Uint8Array): Promise<string> {
  const count = Math.ceil(bytes.length / BLOB_CHUNK_BYTES);
  const hashes = new Uint8Array(count * 32);
  for (let i = 0; i < count; i++) hashes.set(sha256Bytes(bytes.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES)), i * 32);
  const manifest: Manifest = { size: bytes.length, chunkSize: BLOB_CHUNK_BYTES, hashes };
  const { bytes: manifestBytes, cid } = encodeManifest(manifest);
  served.set(cid.toString(), { bytes, manifest, manifestBytes });
  const of = (c: CID) => served.get(c.toString());
  server ??= new BlobServer(host as unknown as ConstructorParameters<typeof BlobServer>[0], {
    store: {
      manifestBytes: async (c) => of(c)?.manifestBytes,
      manifest: async (c) => of(c)?.manifest,
      readChunk: async (c, m, i) => of(c)?.bytes.subarray(i * m.chunkSize, i * m.chunkSize + chunkLength(m, i)),
    },
    reputation: new Reputation(),
  }).start();
  await server;
  return cid.toString();
}

/** Stops serving a blob (a settled job's checkpoints), and frees its bytes. */
export function unserve(cid: string): void {
  served.delete(cid);
}

/** Why a blob could not be had from a peer: it does not serve it, or what it served is not the blob (or too large). */
export type FetchFailure = { kind: 'unknown' | 'bad'; reason: string };

/** A blob from `peer`, checked against its CID chunk by chunk; at most `maxBytes`. */
export async function fetchBlobFrom(host: TabHost, peer: string, cidText: string, o: { maxBytes: number; timeoutMs: number }): Promise<Uint8Array | FetchFailure> {
  let requester: BlobRequester | undefined;
  try {
    const cid = parseBlobCid(cidText);
    const peerId = peerIdFromString(peer);
    const signal = AbortSignal.timeout(o.timeoutMs);
    requester = new BlobRequester(peerId, await host.dialProtocol(peerId, BLOB_PROTOCOL, { signal, runOnLimitedConnection: true }));
    const got = await requester.manifest(cid, signal);
    if (!got) return { kind: 'unknown', reason: `the peer does not serve blob ${cidText}` };
    if (got.manifest.size > o.maxBytes) return { kind: 'bad', reason: `blob ${cidText} is ${got.manifest.size} bytes, more than the ${o.maxBytes} this tab takes` };
    const bytes = new Uint8Array(got.manifest.size);
    for (let i = 0; i < chunkCount(got.manifest); i++) {
      const chunk = await requester.request('chunk', cid, i, signal);
      if (!chunk || !chunkMatches(got.manifest, i, chunk)) return { kind: 'bad', reason: `chunk ${i} of blob ${cidText} served by the peer does not hash to its manifest` };
      bytes.set(chunk, i * got.manifest.chunkSize);
    }
    return bytes;
  } catch (error) {
    return { kind: 'unknown', reason: `blob ${cidText} could not be fetched from the peer (${(error as Error).message.split('\n')[0]})` };
  } finally {
    requester?.close();
  }
}
