// The outer merge of a DiLoCo round disputed on anvil: the merge job's rules are posted like any job's, a closer
// that forged one element of the new outer parameters commits its run root, the honest worker challenges, and the
// TypeScript game's moves, replayed on the real JobMarket and DisputeGame, end in a ruling against the forger.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { REFEREE_LOSERS } from '../../src/chain/referee.js';
import { GAME_LEVELS } from '../../src/chain/dispute-moves.js';
import { mergeJob } from '../../src/train/diloco-jobs.js';
import { DILOCO_OUTER } from '../../src/train/outer.js';
import { simulateDiloco } from '../../src/swarm/diloco-sim.js';
import { adversary, rulesOf } from '../../src/verify/index.js';
import { runOf } from '../verify/game-helpers.js';
import { disputeJob, innerJobContributions, microRun, writerOf } from '../swarm/diloco-helpers.js';
import { acceptedMoves, openJobDispute, readDispute, replayOnChain, setupGameChain, type GameChain } from './dispute-replay.js';

const setup = microRun('diloco', { rounds: 1 });
const workers = simulateDiloco(setup).workers;
const job = mergeJob(setup.program, { mode: 'diloco', hyper: DILOCO_OUTER, outer: workers.get(0)!.outer, contributions: innerJobContributions(setup.program, workers, 'diloco') });
const rules = rulesOf(job);
let c: GameChain;

beforeAll(async () => {
  c = await setupGameChain(rules);
}, 120_000);
afterAll(() => c?.anvil.stop());

test('a forged merge loses on chain as in TypeScript', async () => {
  const honest = await runOf(job);
  const forged = await runOf(adversary.flipOpOutput(job, 1, writerOf(job, 1, 'params.ln_f.bias'), 3, 22));
  const game = await disputeJob(job, forged, honest);
  expect(game.ruling.loser).toBe('solver');
  const roots = { solver: forged.record.commitment!, challenger: honest.record.commitment! };
  const [solver, challenger] = [c.wallets[2], c.wallets[3]];
  const { disputeId } = await openJobDispute(c, rules, solver, challenger, roots);
  await replayOnChain(c, rules, disputeId, acceptedMoves(rules, game, roots), { solver, challenger });
  const d = await readDispute(c, disputeId);
  expect(GAME_LEVELS[d.level]).toBe('done');
  expect(REFEREE_LOSERS[d.loser]).toBe('solver');
}, 120_000);
