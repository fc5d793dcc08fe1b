/**
 * Step level: each party commits its step tree (op output commitments in trace order, then h_t), binding it to its
 * h_t with the path of leaf N; h_t is the preimage of the run-tree leaf the run descent ended on (run-level.ts), so
 * each party opens its own. The solver also opens the agreed h_{t-1}, leaf t-1 of its own run tree. The game then
 * descends both step trees (descend.ts) to the leftmost leaf where they differ: every leaf left of it is the same in
 * both trees.
 */
import { toHex } from '../../platform/sha256.js';
import { fromHex } from '../../train/hex.js';
import { leafHash } from '../../train/merkle.js';
import { expectHex, expectHexList, opens } from './check.js';
import { InvalidProofError, MalformedMoveError } from './errors.js';
import { stepLeafCount } from './structure.js';
import type { Move, Position, Rules } from './types.js';

export function commitStep(rules: Rules, pos: Position, move: Extract<Move, { kind: 'commit-step' }>): Position {
  const root = expectHex('commit-step', 'root', move.root);
  const proof = expectHexList('commit-step', 'proof', move.proof);
  const h = expectHex('commit-step', 'h', move.h);
  const size = stepLeafCount(rules.structure(pos.t));
  const runLeaf = move.by === 'solver' ? pos.nodeSolver : pos.nodeChallenger;
  if (toHex(leafHash(fromHex(h))) !== runLeaf) throw new InvalidProofError(`h is not the ${move.by}'s h_${pos.t}, leaf ${pos.t} of its run tree`);
  if (!opens(leafHash(fromHex(h)), size - 1, size, proof, root)) throw new InvalidProofError(`the last leaf of the step tree is not the ${move.by}'s h_${pos.t}`);
  if (move.by === 'solver') {
    if (!move.prev || typeof move.prev !== 'object') throw new MalformedMoveError('commit-step', `the solver opens h_${pos.t - 1} (prev: its hash and its path in the solver's run tree)`);
    const prev = expectHex('commit-step', 'prev.hash', move.prev.hash);
    const prevProof = expectHexList('commit-step', 'prev.proof', move.prev.proof);
    if (!opens(leafHash(fromHex(prev)), pos.t - 1, rules.steps + 1, prevProof, pos.solverRoot)) throw new InvalidProofError(`prev is not h_${pos.t - 1}, leaf ${pos.t - 1} of the solver's run tree`);
    return { ...pos, stepRootSolver: root, hPrev: prev, hSolver: h, turn: 'challenger' };
  }
  if (root === pos.stepRootSolver) throw new MalformedMoveError('commit-step', 'equal step roots cannot end in different h_t');
  return { ...pos, stepRootChallenger: root, hChallenger: h, phase: 'bisect', turn: 'solver', lo: 0, n: size, nodeSolver: pos.stepRootSolver, nodeChallenger: root };
}
