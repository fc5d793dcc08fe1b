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
import type { Tensor } from '../tensor/index.js';
import { toHex } from '../platform/sha256.js';
import { leafHash, merkleRoot, type Hash } from './merkle.js';
import { tensorCommitment } from './tensor-commitment.js';

export type TrainState = { step: number; params: Params; opt: OptState };

const encoder = new TextEncoder();
const STATE_DOMAIN = encoder.encode('mycel.state.v2');


/**
 * A state's tensors under their state names, in canonical order: `params.<name>` then `opt.<name>`,
 * each group in insertion order. The state tree, checkpoints and the dispute game all use this order.
 */
export function stateTensors({ params, opt }: TrainState): [string, Tensor][] {
  return [
    ...Object.entries(params).map(([name, t]): [string, Tensor] => [`params.${name}`, t]),
    ...Object.entries(opt.tensors).map(([name, t]): [string, Tensor] => [`opt.${name}`, t]),
  ];
}

/** The leaves of a state's tree: the header, then one leaf per tensor of stateTensors. */
export function stateLeaves(state: TrainState): Hash[] {
  return [headerLeaf(state.step, state.opt.step), ...stateTensors(state).map(([name, t]) => tensorLeaf(name, t.dtype, t.shape, t.data))];
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

