/**
 * The commitment to a tensor that a dispute can open one element at a time: an RFC 6962 Merkle root
 * over the tensor's little-endian bytes cut into chunks of CHUNK_ELEMENTS elements, bound to its dtype
 * and shape. One element is proven by its 256-byte chunk and a path of log2(chunks) hashes, which is
 * what a contract's one-step check pays for in calldata; a flat SHA-256 of the whole tensor could only
 * be checked by sending the whole tensor.
 */
import { DTYPE_CODE, leBytes, merkleRootOfLevel, sha256Batch, type DType, type Storage } from '../tensor/index.js';
import { createSha256 } from '../platform/sha256.js';
import type { Hash } from './merkle.js';

/**
 * 64 elements (256 bytes). The chunk is most of a one-step load's calldata, which chains with EIP-7623 pay at 40 gas
 * a byte: 1 KiB chunks put a load from a 64 Ki-element tensor at 110k gas, 256-byte ones at ~82k (each doubling of
 * the tensor adds one 32-byte path hash, ~1.3k). Hashing costs more calls (a leaf and a node hash per 256 bytes),
 * on the state hasher's worker thread, overlapped with the next step (`npm run bench -- train`, hash_fraction).
 */
export const CHUNK_ELEMENTS = 64;

/** The leaf hashes of a tensor's chunks, in order (the last chunk may be shorter). */
export function chunkLeaves(data: Storage): Hash[] {
  const packed = sha256Batch().leaves(leBytes(data), CHUNK_ELEMENTS * 4);
  return Array.from({ length: packed.length / 32 }, (_, i) => packed.subarray(32 * i, 32 * i + 32));
}

/** The Merkle root over a tensor's chunks (merkle.ts merkleRoot(chunkLeaves(data)), hashed in batches). */
export function chunkRoot(data: Storage): Hash {
  const leaves = sha256Batch().leaves(leBytes(data), CHUNK_ELEMENTS * 4);
  return merkleRootOfLevel(leaves, leaves.length / 32);
}

/** SHA-256(u32 LE dtype code, u32 LE rank, u32 LE dims..., Merkle root over the chunks). */
export function tensorCommitment(dtype: DType, shape: readonly number[], data: Storage): Hash {
  return commitmentFromChunkRoot(dtype, shape, chunkRoot(data));
}

/** The same commitment from the chunk tree's root (what a verifier rebuilds from one opened chunk). */
export function commitmentFromChunkRoot(dtype: DType, shape: readonly number[], chunkRoot: Hash): Hash {
  const header = new Uint32Array([DTYPE_CODE[dtype], shape.length, ...shape]);
  return createSha256().update(leBytes(header)).update(chunkRoot).digest();
}
