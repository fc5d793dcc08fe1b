/** Shared checks of moves: field shapes and Merkle openings against hex roots. */
import { toHex } from '../../platform/sha256.js';
import { fromHex } from '../../train/hex.js';
import { nodeHash, rootFromProof, type Hash } from '../../train/merkle.js';
import { MalformedMoveError } from './errors.js';
import type { Hex } from './types.js';

const HEX = /^[0-9a-f]{64}$/;

export function expectHex(kind: string, field: string, value: unknown): Hex {
  if (typeof value !== 'string' || !HEX.test(value)) throw new MalformedMoveError(kind, `${field} must be 64 lowercase hex digits`);
  return value;
}

export function expectHexList(kind: string, field: string, value: unknown, max = 64): Hex[] {
  if (!Array.isArray(value) || value.length > max) throw new MalformedMoveError(kind, `${field} must be a list of at most ${max} hashes`);
  return value.map((v, i) => expectHex(kind, `${field}[${i}]`, v));
}

export function expectInt(kind: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new MalformedMoveError(kind, `${field} must be an integer in ${min}..${max}`);
  return value;
}

export function expectWords(kind: string, field: string, value: unknown, length: number): number[] {
  if (!Array.isArray(value) || value.length !== length || value.some((w) => typeof w !== 'number' || !Number.isInteger(w) || w < -(2 ** 31) || w >= 2 ** 32)) {
    throw new MalformedMoveError(kind, `${field} must be ${length} 32-bit words`);
  }
  return value.map((w) => w | 0);
}

/** Whether `leaf` is leaf `index` of a tree of `size` leaves with root `root`. */
export function opens(leaf: Hash, index: number, size: number, proof: readonly Hex[], root: Hex): boolean {
  const computed = rootFromProof(leaf, index, size, proof.map(fromHex));
  return computed !== undefined && toHex(computed) === root;
}

export const hexNode = (left: Hex, right: Hex): Hex => toHex(nodeHash(fromHex(left), fromHex(right)));

/** RFC 6962's split (one definition, in train/merkle.ts). */
export { splitOf } from '../../train/merkle.js';
