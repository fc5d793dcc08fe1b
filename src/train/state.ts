/**
 * A training state and its hash. The hash covers everything the next step depends on: the step,
 * the optimizer's step counter and every parameter and optimizer tensor (by name, in canonical
 * order). The data RNG position is a function of (seed, step), so the step pins it.
 *
 * The hash is a Merkle root (RFC 6962) whose leaves are a header and one leaf per tensor, and each
 * tensor enters through its chunked commitment (tensor-commitment.ts). So a dispute can prove one
 * element of one tensor of a committed state with two short Merkle paths, without the whole state.
 */
import { concatBytes, u64le } from '../platform/bytes.js';
import type { OptState, Params } from '../nn/index.js';
import { toHex } from '../platform/sha256.js';
import { leafHash, merkleRoot, type Hash } from './merkle.js';
import { tensorCommitment } from './tensor-commitment.js';

export type TrainState = { step: number; params: Params; opt: OptState };

const encoder = new TextEncoder();
const STATE_DOMAIN = encoder.encode('mycel.state.v2');


/** The leaves of a state's tree: header, then `params.<name>` and `opt.<name>` tensors in canonical order. */
export function stateLeaves({ step, params, opt }: TrainState): Hash[] {
  const leaves = [headerLeaf(step, opt.step)];
  for (const [group, tensors] of [['params', params], ['opt', opt.tensors]] as const) {
    for (const [name, t] of Object.entries(tensors)) leaves.push(tensorLeaf(`${group}.${name}`, t.dtype, t.shape, t.data));
  }
  return leaves;
}

/** The header leaf: SHA-256(0x00 || "mycel.state.v2" || u64 LE step || u64 LE optimizer step). */
export function headerLeaf(step: number, optStep: number): Hash {
  return leafHash(concatBytes([STATE_DOMAIN, u64le(step), u64le(optStep)]));
}

/** A named tensor's leaf: SHA-256(0x00 || u64 LE name length || name (UTF-8) || tensor commitment). */
export function namedLeaf(name: string, commitment: Hash): Hash {
  const bytes = encoder.encode(name);
  return leafHash(concatBytes([u64le(bytes.length), bytes, commitment]));
}

export function tensorLeaf(name: string, ...tensor: Parameters<typeof tensorCommitment>): Hash {
  return namedLeaf(name, tensorCommitment(...tensor));
}

export function stateDigest(state: TrainState): Uint8Array {
  return merkleRoot(stateLeaves(state));
}

export function stateHash(state: TrainState): string {
  return toHex(stateDigest(state));
}

