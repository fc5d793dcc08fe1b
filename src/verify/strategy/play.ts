/**
 * Plays a whole game between two strategies against the transition function, as a chain would: each
 * move is checked by `transition`; a rejected move leaves the position as it was. One clock tick per
 * move; a party that returns no move lets the clock run out and loses by timeout.
 */
import { encodeMove } from '../game/encoding.js';
import { startGame, transition } from '../game/transition.js';
import type { Level, Move, Position, Ruling, Rules } from '../game/types.js';
import type { Party } from './party.js';

export type PlayedMove = { move: Move; level: Level; bytes: number; position: Position; rejected?: string };

export type GameResult = {
  ruling: Ruling;
  final: Position;
  moves: PlayedMove[];
  roundsPerLevel: Record<'run' | 'step' | 'op' | 'state' | 'element' | 'onestep', number>;
  totalRounds: number;
  bytes: number;
};

export async function playGame(rules: Rules, solver: Party, challenger: Party, { solverRoot, challengerRoot, onMove }: { solverRoot: string; challengerRoot: string; onMove?: (m: PlayedMove) => void }): Promise<GameResult> {
  let now = 0;
  let pos = startGame(rules, { jobId: rules.jobId, solverRoot, challengerRoot }, now);
  const moves: PlayedMove[] = [];
  const rounds = { run: 0, step: 0, op: 0, state: 0, element: 0, onestep: 0 };
  let bytes = 0;
  while (!pos.ruling) {
    now++;
    const order = pos.turn === 'either' ? [solver, challenger] : [pos.turn === 'solver' ? solver : challenger];
    let moved = false;
    for (const party of order) {
      const move = await party.move(pos, rules);
      if (!move) continue;
      const level = pos.level;
      const size = encodeMove(move).length;
      try {
        const next = transition(rules, pos, move, now);
        bytes += size;
        if (next.round > pos.round) rounds[pos.phase === 'prove' ? 'onestep' : (level as keyof typeof rounds)]++;
        pos = next;
        moved = true;
        const played = { move, level, bytes: size, position: pos };
        moves.push(played);
        onMove?.(played);
        break;
      } catch (error) {
        const played = { move, level, bytes: size, position: pos, rejected: (error as Error).message.split('\n')[0] };
        moves.push(played);
        onMove?.(played);
      }
    }
    if (!moved) pos = transition(rules, pos, { kind: 'timeout', by: pos.turn === 'solver' ? 'challenger' : 'solver' }, pos.deadline + 1);
  }
  const totalRounds = Object.values(rounds).reduce((a, b) => a + b, 0);
  return { ruling: pos.ruling!, final: pos, moves, roundsPerLevel: rounds, totalRounds, bytes };
}
