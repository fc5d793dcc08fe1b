/**
 * The hashes every level binds to, rebuilt from their parts so that a referee can check one opening
 * without the whole object: a tensor commitment from its chunk root, a state-tree leaf from a tensor
 * commitment, the state header leaf, the batch tree. Formats are src/train's (state.ts,
 * tensor-commitment.ts); this file only recomputes them piecewise.
 */
import { leBytes } from '../../tensor/index.js';
// The modules themselves, not train/index.js: that barrel brings the checkpoint store (node:fs), which a browser
// node's worker (it builds a job's facts) cannot load.
import { leafHash, merkleRoot, type Hash } from '../../train/merkle.js';
import { headerLeaf, namedLeaf } from '../../train/state.js';
import { CHUNK_ELEMENTS, commitmentFromChunkRoot, tensorCommitment } from '../../train/tensor-commitment.js';
import type { TokenBatch } from '../../data/index.js';

export { CHUNK_ELEMENTS, commitmentFromChunkRoot, headerLeaf, namedLeaf };

export const chunkCount = (size: number) => Math.max(1, Math.ceil(size / CHUNK_ELEMENTS));

/** The leaf hash of one chunk of 32-bit words. */
export const chunkLeaf = (words: Int32Array) => leafHash(leBytes(words));

/** The batch tensors of a step in tree order, as the model sees them. */
export const BATCH_NAMES = ['inputs', 'targets', 'mask'] as const;

/** Shapes as program.ts's loss() wraps them: inputs (B, T), targets and mask (B*T). */
export function batchShape(b: TokenBatch, name: (typeof BATCH_NAMES)[number]): number[] {
  const [B, T] = b.shape;
  return name === 'inputs' ? [B, T] : [B * T];
}

export function batchLeaves(b: TokenBatch): Hash[] {
  return BATCH_NAMES.map((name) => namedLeaf(name, tensorCommitment(name === 'mask' ? 'float32' : 'int32', batchShape(b, name), b[name])));
}

/** The batch commitment of a step: the Merkle root over its named tensors (computed by anyone from (spec, t)). */
export function batchCommitment(b: TokenBatch): Hash {
  return merkleRoot(batchLeaves(b));
}
