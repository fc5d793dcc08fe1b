/**
 * decodeDisputeMove is encodeDisputeMove's inverse: every accepted move of real TypeScript games (a solver that
 * flipped an op output, a challenger that did, and a solver that skipped a step, caught at the state level) is encoded as its DisputeGame calldata and decoded back to the
 * same Move. Generic over move kinds, so a change to the game's moves or the contract's calls that the decoder does
 * not follow fails here.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { encodeFunctionData, type Hex } from 'viem';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { encodeDisputeMove, jobFacts } from '../../src/chain/dispute-moves.js';
import { decodeDisputeMove, DisputeMoveDecodeError } from '../../src/chain/dispute-decode.js';
import { adversary, playGame, replayParty, transition, type GameResult } from '../../src/verify/index.js';
import { honest, rules, runOf, type Run } from '../verify/game-helpers.js';
import { acceptedMoves } from './dispute-replay.js';

const DISPUTE_ID = 7n;
const games: { name: string; game: GameResult; roots: { solver: string; challenger: string } }[] = [];

/** Plays `solver` against `challenger`, the honest side re-executing the job's program. */
async function played(name: string, solver: Run, challenger: Run) {
  const party = (run: Run, role: 'solver' | 'challenger', other: Run) =>
    replayParty({ role, program: run.program, reference: honest, store: run.store, record: run.record });
  const roots = { solver: solver.record.commitment!, challenger: challenger.record.commitment! };
  const game = await playGame(rules, party(solver, 'solver', challenger), party(challenger, 'challenger', solver), { solverRoot: roots.solver, challengerRoot: roots.challenger });
  games.push({ name, game, roots });
}

beforeAll(async () => {
  const good = await runOf(honest);
  const writer = (t: number) => (rules.structure(t).stateOutputs.find((s) => s.name === 'params.blocks.0.qkv.weight')!.source as { index: number }).index;
  await played('cheating solver', await runOf(adversary.flipOpOutput(honest, 3, writer(3), 37, 3)), good);
  await played('cheating challenger', good, await runOf(adversary.flipOpOutput(honest, 2, writer(2), 5, 7)));
  await played('solver that skips a step', await runOf(adversary.skipStep(honest, 3)), good);
}, 180_000);

describe('decodeDisputeMove', () => {
  test('decodes every accepted on-chain move of played games back to the TS move', () => {
    const facts = jobFacts(rules);
    const kinds = new Set<string>();
    for (const { name, game, roots } of games) {
      const moves = acceptedMoves(rules, game, roots);
      expect(moves.length, name).toBeGreaterThan(5);
      for (const [i, { before, move, after }] of moves.entries()) {
        const call = encodeDisputeMove(rules, facts, DISPUTE_ID, before, move);
        const data = encodeFunctionData({ abi: DisputeGameAbi, functionName: call.functionName as never, args: call.args as never });
        const decoded = decodeDisputeMove(data, { by: move.by, rules, pos: before });
        expect(decoded, `${name}: move ${i} (${move.kind})`).toEqual(move);
        // The decoded move drives the TS game to the same position.
        expect(transition(rules, before, decoded, i + 1)).toEqual(transition(rules, before, move, i + 1));
        expect(after.round).toBeGreaterThanOrEqual(before.round);
        kinds.add(move.kind);
      }
    }
    expect([...kinds]).toEqual(expect.arrayContaining(['commit-step', 'reveal', 'commit-op', 'open-chunk', 'commit-element', 'claim', 'prove', 'prove-state']));
  });

  test('rejects calldata that is not a DisputeGame move', () => {
    const notAMove = encodeFunctionData({ abi: DisputeGameAbi, functionName: 'getDispute', args: [1n] });
    const at = { by: 'solver' as const, rules, pos: games[0].game.moves[0].position };
    expect(() => decodeDisputeMove(notAMove, at)).toThrow(DisputeMoveDecodeError);
    expect(() => decodeDisputeMove('0xdeadbeef' as Hex, at)).toThrow(/not a DisputeGame call/);
  });
});
