/**
 * Step level: each party commits its step tree (op output commitments in trace order, then h_t),
 * binding it to its h_t with the path of leaf N. The game then descends both trees (descend.ts) to
 * the leftmost leaf where they differ: every leaf left of it is the same in both trees.
 */
import { fromHex } from '../../train/hex.js';
import { leafHash } from '../../train/merkle.js';
import { expectHex, expectHexList, opens } from './check.js';
import { InvalidProofError, MalformedMoveError } from './errors.js';
import { stepLeafCount } from './structure.js';
import type { Move, Position, Rules } from './types.js';

export function commitStep(rules: Rules, pos: Position, move: Extract<Move, { kind: 'commit-step' }>): Position {
  const root = expectHex('commit-step', 'root', move.root);
  const proof = expectHexList('commit-step', 'proof', move.proof);
  const size = stepLeafCount(rules.structure(pos.t));
  const h = move.by === 'solver' ? pos.hSolver : pos.hChallenger;
  if (!opens(leafHash(fromHex(h)), size - 1, size, proof, root)) throw new InvalidProofError(`the last leaf of the step tree is not the ${move.by}'s h_${pos.t}`);
  if (move.by === 'solver') return { ...pos, stepRootSolver: root, turn: 'challenger' };
  if (root === pos.stepRootSolver) throw new MalformedMoveError('commit-step', 'equal step roots cannot end in different h_t');
  return { ...pos, stepRootChallenger: root, phase: 'bisect', turn: 'solver', lo: 0, n: size, nodeSolver: pos.stepRootSolver, nodeChallenger: root };
}
