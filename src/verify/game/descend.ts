/**
 * Binary descent of two Merkle trees of the same size (the step tree, an output's chunk tree): each
 * exchange, both parties reveal the children of their disputed node; the game goes left if the left
 * children differ, else right. So the leaf it ends on is the leftmost difference, and every leaf
 * left of it is equal in both trees (each left subtree passed by was equal).
 */
import { expectHex, hexNode, splitOf } from './check.js';
import { InvalidProofError } from './errors.js';
import { chunkCount } from './commitments.js';
import { stepLeafCount } from './structure.js';
import type { Move, Position, Rules } from './types.js';

export function reveal(rules: Rules, pos: Position, move: Extract<Move, { kind: 'reveal' }>): Position {
  const left = expectHex('reveal', 'left', move.left);
  const right = expectHex('reveal', 'right', move.right);
  const node = move.by === 'solver' ? pos.nodeSolver : pos.nodeChallenger;
  if (hexNode(left, right) !== node) throw new InvalidProofError(`the children do not hash to the ${move.by}'s node over leaves ${pos.lo}..${pos.lo + pos.n - 1}`);
  if (move.by === 'solver') return { ...pos, pending: [left, right], turn: 'challenger' };
  const k = splitOf(pos.n);
  const [sl, sr] = pos.pending;
  const next: Position =
    sl !== left
      ? { ...pos, n: k, nodeSolver: sl, nodeChallenger: left, pending: [], turn: 'solver' }
      : { ...pos, lo: pos.lo + k, n: pos.n - k, nodeSolver: sr, nodeChallenger: right, pending: [], turn: 'solver' };
  return next.n === 1 ? atLeaf(rules, next) : next;
}

/** The descent reached one leaf: go down a level. */
export function atLeaf(rules: Rules, pos: Position): Position {
  if (pos.level === 'op') return { ...pos, phase: 'open', turn: 'solver' };
  const last = stepLeafCount(rules.structure(pos.t)) - 1;
  // All op outputs agree and h_t differs: the referee assembles h_t from them (referee.ts).
  if (pos.lo === last) return { ...pos, phase: 'prove', turn: 'either' };
  return { ...pos, level: 'op', phase: 'commit', op: pos.lo, turn: 'solver' };
}

export const chunksOf = (rules: Rules, pos: Position) => chunkCount(rules.structure(pos.t).ops[pos.op].output.shape.reduce((a, b) => a * b, 1));
