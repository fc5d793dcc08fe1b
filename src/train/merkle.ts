/**
 * Merkle trees over 32-byte hashes, as RFC 6962 (Certificate Transparency) defines them:
 * leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right), and a tree of n leaves splits
 * at the largest power of two below n. The prefixes keep a leaf from posing as a node; the split
 * rule gives every leaf count one tree, so a commitment to a run of any length is unambiguous.
 * A contract verifies the same proofs with the SHA-256 precompile.
 */
import { sha256Prefixed } from '../platform/sha256.js';
import { merkleRootOfLevel } from '../tensor/index.js';

export type Hash = Uint8Array;

export function leafHash(data: Uint8Array): Hash {
  return sha256Prefixed(0, data);
}

const pair = new Uint8Array(64);

export function nodeHash(left: Hash, right: Hash): Hash {
  pair.set(left, 0);
  pair.set(right, 32);
  return sha256Prefixed(1, pair);
}

/**
 * Where RFC 6962 splits a tree of n > 1 leaves: the largest power of two below n. Integer doubling, not
 * Math.log2, whose results ECMAScript leaves to the engine.
 */
export function splitOf(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The root over leaf hashes (already hashed with leafHash). An empty tree's root is SHA-256(""). */
export function merkleRoot(leaves: readonly Hash[]): Hash {
  // Bottom-up over complete subtrees (each level hashed in one batch) gives the same root as RFC 6962's top-down split.
  const level = new Uint8Array(32 * leaves.length);
  leaves.forEach((leaf, i) => level.set(leaf, 32 * i));
  return merkleRootOfLevel(level, leaves.length);
}

/** The audit path of leaf `index`: sibling hashes from the leaf up to the root (RFC 6962, 2.1.1). */
export function merkleProof(leaves: readonly Hash[], index: number): Hash[] {
  if (!(index >= 0 && index < leaves.length)) throw new RangeError(`leaf ${index} of ${leaves.length}`);
  if (leaves.length === 1) return [];
  const k = splitOf(leaves.length);
  return index < k
    ? [...merkleProof(leaves.slice(0, k), index), merkleRoot(leaves.slice(k))]
    : [...merkleProof(leaves.slice(k), index - k), merkleRoot(leaves.slice(0, k))];
}

/** Recomputes the root from a leaf hash and its audit path (RFC 6962, 2.1.1.2 in reverse). */
export function rootFromProof(leaf: Hash, index: number, size: number, proof: readonly Hash[]): Hash | undefined {
  if (!(index >= 0 && index < size)) return undefined;
  // Walk down from the root to find, at each level, whether the leaf is on the left and the subtree size.
  const sides: boolean[] = [];
  let [at, n] = [index, size];
  while (n > 1) {
    const k = splitOf(n);
    sides.push(at < k);
    if (at < k) n = k;
    else [at, n] = [at - k, n - k];
  }
  if (sides.length !== proof.length) return undefined;
  let hash = leaf;
  for (let i = 0; i < proof.length; i++) {
    const leftSide = sides[sides.length - 1 - i];
    hash = leftSide ? nodeHash(hash, proof[i]) : nodeHash(proof[i], hash);
  }
  return hash;
}
