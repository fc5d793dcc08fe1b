/**
 * A blob is addressed by the CID of its manifest: the size, the chunk size and the SHA-256 of every chunk.
 * Fetching the manifest first lets a receiver verify each chunk the moment it arrives, from any provider,
 * in any order. The CID is CIDv1, codec raw (the manifest's exact bytes), multihash sha2-256.
 */
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';
import { sha256 } from 'multiformats/hashes/sha2';
import type { Uint8ArrayList } from 'uint8arraylist';
import { z } from 'zod';
import { createSha256 } from '../../platform/sha256.js';
import { createCodec } from '../codec.js';
import { MAX_MANIFEST_BYTES } from '../constants.js';
import { BadCidError, MalformedMessageError } from '../errors.js';

const SHA256_BYTES = 32;

export const MANIFEST_SCHEMAS = {
  manifest: z
    .object({
      size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
      chunkSize: z.number().int().positive().max(64 * 1024 * 1024),
      /** Concatenated 32-byte SHA-256 digests, one per chunk. */
      hashes: z.instanceof(Uint8Array),
    })
    .strict()
    .refine((m) => m.hashes.byteLength === Math.ceil(m.size / m.chunkSize) * SHA256_BYTES, 'hash count does not match size'),
};
const manifestCodec = createCodec(MANIFEST_SCHEMAS, { maxBytes: MAX_MANIFEST_BYTES });

export type Manifest = { size: number; chunkSize: number; hashes: Uint8Array };

export function chunkCount(m: Manifest): number {
  return Math.ceil(m.size / m.chunkSize);
}

export function chunkLength(m: Manifest, index: number): number {
  return Math.min(m.chunkSize, m.size - index * m.chunkSize);
}

export function chunkHash(m: Manifest, index: number): Uint8Array {
  return m.hashes.subarray(index * SHA256_BYTES, (index + 1) * SHA256_BYTES);
}

export function sha256Bytes(data: Uint8Array | Uint8ArrayList): Uint8Array {
  // platform's SHA-256 (native in Node, @noble/hashes in a browser tab, which serves its policy blob with this file).
  const hash = createSha256();
  // A received chunk arrives as a list of frames; hashing them one by one saves a 1 MiB copy per chunk.
  if (data instanceof Uint8Array) hash.update(data);
  else for (const piece of data) hash.update(piece);
  return hash.digest();
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export function chunkMatches(m: Manifest, index: number, data: Uint8Array | Uint8ArrayList): boolean {
  return data.byteLength === chunkLength(m, index) && equal(sha256Bytes(data), chunkHash(m, index));
}

export function encodeManifest(m: Manifest): { bytes: Uint8Array; cid: CID } {
  const bytes = manifestCodec.encode('manifest', m as z.input<(typeof MANIFEST_SCHEMAS)['manifest']>);
  return { bytes, cid: CID.createV1(raw.code, createDigest(sha256.code, sha256Bytes(bytes))) };
}

/** Decodes manifest bytes received for `cid`; throws MalformedMessageError unless they hash to it. */
export function decodeManifest(cid: CID, bytes: Uint8Array): Manifest {
  if (!equal(sha256Bytes(bytes), cid.multihash.digest)) throw new MalformedMessageError('Manifest does not match its CID.');
  return manifestCodec.decode(bytes).body;
}

export function parseBlobCid(text: string): CID {
  let cid: CID;
  try {
    cid = CID.parse(text.trim());
  } catch (error) {
    throw new BadCidError(text, error);
  }
  if (cid.version !== 1 || cid.code !== raw.code || cid.multihash.code !== sha256.code) throw new BadCidError(text);
  return cid;
}
