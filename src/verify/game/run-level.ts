/**
 * Run level: the two run trees (leaf i = leafHash(h_i), i = 0..T) are descended like every other tree (descend.ts):
 * each party reveals the frontier of its OWN tree, so no move needs the opponent's step hashes, and a party that does
 * not reveal loses by timeout. The descent ends on the leftmost leaf where the trees differ:
 *   leaf 0  the parties disagree on h_0: the job's h_0 (the rules) decides, at once (attack 1: a run that starts from
 *           another state is refuted here, whoever committed it);
 *   leaf t  h_{t-1} is agreed (leaf t-1 is the same in both trees) and h_t is not: the step level plays step t. Each
 *           party opens its own h_t there (commit-step), the solver also h_{t-1} in its own tree.
 */
import { toHex } from '../../platform/sha256.js';
import { fromHex } from '../../train/hex.js';
import { leafHash } from '../../train/merkle.js';
import type { Position, Ruling, Rules } from './types.js';

/** The position a dispute starts from: the descent of the two run trees, the solver revealing first. */
export const runStart = (rules: Rules, pos: Position): Position => ({ ...pos, level: 'run', phase: 'bisect', turn: 'solver', lo: 0, n: rules.steps + 1, nodeSolver: pos.solverRoot, nodeChallenger: pos.challengerRoot });

/** The run descent reached leaf `pos.lo`: rule on h_0, or play step lo. */
export function atRunLeaf(rules: Rules, pos: Position): Position {
  if (pos.lo > 0) return { ...pos, level: 'step', phase: 'commit', turn: 'solver', t: pos.lo };
  const h0 = toHex(leafHash(fromHex(rules.h0)));
  const solverRight = pos.nodeSolver === h0;
  const challengerRight = pos.nodeChallenger === h0;
  const loser = solverRight ? 'challenger' : challengerRight ? 'solver' : 'both';
  const ruling: Ruling = {
    loser, at: 'initial', t: 0, op: -1, opName: '', element: -1, instruction: -1, opcode: 'none',
    reason: `leaf 0 of the ${loser === 'both' ? "solver's and the challenger's run trees is" : `${loser}'s run tree is`} not the job's h_0 ${rules.h0}`,
  };
  return { ...pos, level: 'done', phase: 'over', turn: 'none', ruling };
}
