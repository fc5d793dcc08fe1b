import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/platform/sha256.js';
import { leafHash, merkleProof, merkleRoot, nodeHash, rootFromProof } from '../../src/train/index.js';

/** RFC 6962's recursive definition, written directly, to check the bottom-up implementation. */
function rfcRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(rfcRoot(leaves.slice(0, k)), rfcRoot(leaves.slice(k)));
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(new Uint8Array([i, i >> 8])));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('RFC 6962 Merkle trees', () => {
  it('match the recursive definition for every size up to 70', () => {
    for (let n = 1; n <= 70; n++) expect(hex(merkleRoot(leaves(n))), `n=${n}`).toBe(hex(rfcRoot(leaves(n))));
    expect(hex(merkleRoot([]))).toBe(hex(sha256(new Uint8Array(0))));
  });

  it('separate leaves from nodes', () => {
    const [a, b] = leaves(2);
    expect(hex(leafHash(new Uint8Array([...a, ...b])))).not.toBe(hex(nodeHash(a, b)));
  });

  it('give audit paths that verify for every leaf, and fail when tampered', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 33]) {
      const ls = leaves(n);
      const root = hex(merkleRoot(ls));
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(ls, i);
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(hex(rootFromProof(ls[i], i, n, proof)!)).toBe(root);
        if (proof.length > 0) {
          const bad = proof.map((p) => p.slice());
          bad[0][0] ^= 1;
          expect(hex(rootFromProof(ls[i], i, n, bad)!)).not.toBe(root);
          expect(rootFromProof(ls[i], i, n, proof.slice(1))).toBeUndefined();
        }
        if (n > 1) expect(hex(rootFromProof(ls[(i + 1) % n], i, n, proof)!)).not.toBe(root);
      }
    }
  });
});
