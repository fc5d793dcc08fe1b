import { fromHex } from './hex.js';
import { leafHash, merkleRoot } from './merkle.js';
import { toHex } from '../platform/sha256.js';

/** The run commitment: the Merkle root over the step hashes h_0..h_T (each a leaf). */
export function runCommitment(stepHashes: readonly string[]): string {
  return toHex(merkleRoot(stepHashes.map((h) => leafHash(fromHex(h)))));
}
