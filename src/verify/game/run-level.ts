/**
 * Run level: the challenger names the step t where the two runs part: equal h_{t-1}, different h_t,
 * each proven in both run commitments. One move, no bisection: any such t is a valid battleground.
 */
import { fromHex } from '../../train/hex.js';
import { leafHash } from '../../train/merkle.js';
import { expectHex, expectHexList, expectInt, opens } from './check.js';
import { InvalidProofError, MalformedMoveError } from './errors.js';
import type { Move, Position, Rules } from './types.js';

export function openStep(rules: Rules, pos: Position, move: Extract<Move, { kind: 'open-step' }>): Position {
  const t = expectInt('open-step', 't', move.t, 1, rules.steps);
  const size = rules.steps + 1;
  for (const party of ['solver', 'challenger'] as const) {
    const side = move[party];
    if (!side || !side.prev || !side.cur) throw new MalformedMoveError('open-step', `${party} openings are missing`);
    const root = party === 'solver' ? pos.solverRoot : pos.challengerRoot;
    for (const [which, index] of [['prev', t - 1], ['cur', t]] as const) {
      const hash = expectHex('open-step', `${party}.${which}.hash`, side[which].hash);
      const proof = expectHexList('open-step', `${party}.${which}.proof`, side[which].proof);
      if (!opens(leafHash(fromHex(hash)), index, size, proof, root)) throw new InvalidProofError(`h_${index} of the ${party} is not leaf ${index} of its run commitment`);
    }
  }
  if (move.solver.prev.hash !== move.challenger.prev.hash) throw new MalformedMoveError('open-step', `the runs already differ at h_${t - 1}: name the first step where they part`);
  if (t === 1 && move.solver.prev.hash !== rules.h0) throw new MalformedMoveError('open-step', "h_0 is not the job's initial state hash");
  if (move.solver.cur.hash === move.challenger.cur.hash) throw new MalformedMoveError('open-step', `the runs agree on h_${t}`);
  return { ...pos, level: 'step', phase: 'commit', turn: 'solver', t, hPrev: move.solver.prev.hash, hSolver: move.solver.cur.hash, hChallenger: move.challenger.cur.hash };
}
