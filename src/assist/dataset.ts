/**
 * A person's episodes as one dataset blob, for the network: the episodes (each under its SHA-256), the person's
 * secp256k1 public key and address (the key that is also their node's PeerId and account), and their signature over
 * the domain tag and the sorted episode ids (each id commits to its episode's bytes). The blob is addressed as every
 * mycel blob is (p2p/blob/manifest.ts: the CID of its chunk manifest), so a node's blob store serves it as it is.
 * Unpacking checks the CID, the signature, the address and every episode (hash and replay), and refuses on any
 * mismatch. Node only (the manifest hashes with node:crypto).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { encodeManifest, sha256Bytes } from '../p2p/blob/manifest.js';
import { BLOB_CHUNK_BYTES } from '../p2p/constants.js';
import { concatBytes } from '../platform/bytes.js';
import { MycelError } from '../platform/errors.js';
import { decodeEpisode, encodeEpisode, type Episode } from './episode.js';

export const DATASET_FORMAT = 'mycel.assist.dataset.v1';
const DOMAIN = new TextEncoder().encode(DATASET_FORMAT);

export class DatasetError extends MycelError {
  override name = 'DatasetError';
  constructor(why: string) {
    super(`This dataset blob is refused: ${why}.`, { metaMessages: ['Fetch it again from another provider, or ask its author for it; nothing of it was used.'] });
  }
}

type Stored = { format: typeof DATASET_FORMAT; signer: string; publicKey: string; signature: string; episodes: { id: string; bytes: string }[] };

/** The blob's CID as a node's blob store computes it (the manifest of its 1 MiB chunks). */
export function blobCid(bytes: Uint8Array): string {
  const chunks = Math.ceil(bytes.length / BLOB_CHUNK_BYTES);
  const hashes = new Uint8Array(chunks * 32);
  for (let i = 0; i < chunks; i++) hashes.set(sha256Bytes(bytes.subarray(i * BLOB_CHUNK_BYTES, (i + 1) * BLOB_CHUNK_BYTES)), i * 32);
  return encodeManifest({ size: bytes.length, chunkSize: BLOB_CHUNK_BYTES, hashes }).cid.toString();
}

const signedBytes = (ids: readonly string[]) => concatBytes([DOMAIN, ...ids.map((id) => hexToBytes(`0x${id}`))]);

/** Packs episodes (sorted by id, duplicates dropped) and signs them with a raw 32-byte secp256k1 key. */
export function packDataset(episodes: readonly Episode[], privateKey: Uint8Array): { cid: string; bytes: Uint8Array; signer: string; ids: string[] } {
  const byId = new Map(episodes.map((e) => {
    const { id, bytes } = encodeEpisode(e);
    return [id, bytes] as const;
  }));
  const ids = [...byId.keys()].sort();
  const publicKey = secp256k1.getPublicKey(privateKey, false);
  const signer = publicKeyToAddress(bytesToHex(publicKey));
  const stored: Stored = {
    format: DATASET_FORMAT,
    signer,
    publicKey: bytesToHex(publicKey),
    signature: bytesToHex(secp256k1.sign(signedBytes(ids), privateKey)),
    episodes: ids.map((id) => ({ id, bytes: Buffer.from(byId.get(id)!).toString('base64') })),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(stored));
  return { cid: blobCid(bytes), bytes, signer, ids };
}

/** The signer and the episodes of a dataset blob received as `cid`; a DatasetError on any mismatch. */
export function unpackDataset(cid: string, bytes: Uint8Array): { signer: string; episodes: { id: string; episode: Episode }[] } {
  const actual = blobCid(bytes);
  if (actual !== cid) throw new DatasetError(`its bytes have the CID ${actual}, not ${cid}`);
  let stored: Stored;
  try {
    stored = JSON.parse(new TextDecoder().decode(bytes)) as Stored;
    if (stored.format !== DATASET_FORMAT || !Array.isArray(stored.episodes)) throw new Error(`format ${String(stored.format)}`);
  } catch (e) {
    throw new DatasetError(`it is not a ${DATASET_FORMAT} blob (${(e as Error).message})`);
  }
  const ids = stored.episodes.map((e) => e.id);
  if (ids.some((id, i) => !/^[0-9a-f]{64}$/.test(id) || (i > 0 && ids[i - 1] >= id))) throw new DatasetError('its episode ids are not distinct SHA-256 hashes in order');
  const publicKey = hexToBytes(stored.publicKey as `0x${string}`);
  let valid = false;
  try {
    valid = secp256k1.verify(hexToBytes(stored.signature as `0x${string}`), signedBytes(ids), publicKey);
  } catch {
    valid = false;
  }
  if (!valid) throw new DatasetError('its signature is not its public key\'s over its episodes');
  if (publicKeyToAddress(bytesToHex(secp256k1.Point.fromBytes(publicKey).toBytes(false))) !== stored.signer) throw new DatasetError(`its signer ${stored.signer} is not the address of its public key`);
  const episodes = stored.episodes.map(({ id, bytes: b64 }) => {
    try {
      return { id, episode: decodeEpisode(id, new Uint8Array(Buffer.from(b64, 'base64'))) };
    } catch (e) {
      throw new DatasetError((e as MycelError).shortMessage ?? (e as Error).message);
    }
  });
  return { signer: stored.signer, episodes };
}
