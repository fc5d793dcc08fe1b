/**
 * Descent of two Merkle trees of the same size (the run tree, the step tree, an output's chunk tree, the state tree of h_t), DESCENT_DEPTH
 * levels per exchange: each party reveals the frontier of its disputed node that many levels down
 * (the RFC 6962 subtrees, up to 2^DESCENT_DEPTH of them; a subtree that is already a leaf stops
 * early), and the game goes to the FIRST frontier node where they differ. Every frontier node left of
 * it is equal in both trees, so the leaf the descent ends on is the leftmost difference and every
 * leaf left of it is equal in both trees.
 */
import { expectHexList, hexNode, splitOf } from './check.js';
import { InvalidProofError, MalformedMoveError } from './errors.js';
import { chunkCount } from './commitments.js';
import { atRunLeaf } from './run-level.js';
import { stepLeafCount } from './structure.js';
import type { Hex, Move, Position, Rules } from './types.js';

/**
 * Tree levels one exchange descends (and log2 of the parts an element-level exchange splits into). A game
 * rule: contracts/DisputeGame.sol has the same DESCENT_DEPTH. 4 (16 nodes a reveal): on chain each level
 * costs least there (docs/verification.md, Decisions 2).
 */
export const DESCENT_DEPTH = 4;

export type Part = { offset: number; size: number };

/** The subtrees of the frontier `depth` levels below a node over `n` leaves, left to right. */
export function frontier(n: number, depth = DESCENT_DEPTH): Part[] {
  if (n === 1 || depth === 0) return [{ offset: 0, size: n }];
  const k = splitOf(n);
  return [...frontier(k, depth - 1), ...frontier(n - k, depth - 1).map((p) => ({ offset: p.offset + k, size: p.size }))];
}

/** The node over `n` leaves that a frontier of hashes (in frontier(n) order) hashes to. */
export function nodeOfFrontier(nodes: readonly Hex[], n: number, depth = DESCENT_DEPTH): Hex {
  let at = 0;
  const fold = (size: number, d: number): Hex => {
    if (size === 1 || d === 0) return nodes[at++];
    const k = splitOf(size);
    const left = fold(k, d - 1);
    return hexNode(left, fold(size - k, d - 1));
  };
  return fold(n, depth);
}

export function reveal(rules: Rules, pos: Position, move: Extract<Move, { kind: 'reveal' }>): Position {
  const parts = frontier(pos.n);
  const nodes = expectHexList('reveal', 'nodes', move.nodes, parts.length);
  if (nodes.length !== parts.length) throw new MalformedMoveError('reveal', `a node over ${pos.n} leaves has a frontier of ${parts.length} nodes`);
  const node = move.by === 'solver' ? pos.nodeSolver : pos.nodeChallenger;
  if (nodeOfFrontier(nodes, pos.n) !== node) throw new InvalidProofError(`the frontier does not hash to the ${move.by}'s node over leaves ${pos.lo}..${pos.lo + pos.n - 1}`);
  if (move.by === 'solver') return { ...pos, pending: nodes, turn: 'challenger' };
  // Some node differs: the two frontiers hash to different nodes.
  const i = nodes.findIndex((h, j) => h !== pos.pending[j]);
  const { offset, size } = parts[i];
  const next: Position = { ...pos, lo: pos.lo + offset, n: size, nodeSolver: pos.pending[i], nodeChallenger: nodes[i], pending: [], turn: 'solver' };
  return next.n === 1 ? atLeaf(rules, next) : next;
}

/** The descent reached one leaf: go down a level. */
export function atLeaf(rules: Rules, pos: Position): Position {
  if (pos.level === 'run') return atRunLeaf(rules, pos);
  if (pos.level === 'op') return { ...pos, phase: 'open', turn: 'solver' };
  // One leaf of h_t, every leaf left of it agreed: the referee checks that one against its source (referee.ts ruleState).
  if (pos.level === 'state') return { ...pos, phase: 'prove', turn: 'either' };
  const s = rules.structure(pos.t);
  if (pos.lo < stepLeafCount(s) - 1) return { ...pos, level: 'op', phase: 'commit', op: pos.lo, turn: 'solver' };
  // All op outputs agree and h_t differs: descend the two state trees of h_t (Decisions 5).
  const next: Position = { ...pos, level: 'state', phase: 'bisect', turn: 'solver', lo: 0, n: s.stateLeafCount, nodeSolver: pos.hSolver, nodeChallenger: pos.hChallenger };
  return next.n === 1 ? atLeaf(rules, next) : next;
}

export const chunksOf = (rules: Rules, pos: Position) => chunkCount(rules.structure(pos.t).ops[pos.op].output.shape.reduce((a, b) => a * b, 1));
