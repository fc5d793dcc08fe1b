/**
 * Generated adversaries end to end through the contracts (a smaller set than test/verify/adversaries.test.ts): each
 * case is played in TS against the honest party, then posted, claimed, committed, challenged and replayed move by move
 * on the real JobMarket + DisputeGame on anvil, and settled. The contracts rule as TS does, the honest party never
 * loses, a cheating solver is never paid, the tokens add up (holdings plus burns are conserved), and the job settles
 * within its window plus twice the chess clock. MYCEL_LONG=1 runs more cases.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rules } from '../verify/game-helpers.js';
import { cases, makeParties, makeRuns, planArb, playAdversarial, type Runs } from '../verify/adversary-game.js';
import { setupGameChain, type GameChain } from './dispute-replay.js';
import { settleOnChain } from './adversary-replay.js';

let runs: Runs;
let parties: ReturnType<typeof makeParties>;
let c: GameChain;

beforeAll(async () => {
  runs = await makeRuns();
  parties = makeParties(runs);
  c = await setupGameChain(rules);
}, 180_000);
afterAll(() => c?.anvil.stop());

describe('generated adversaries through the contracts', () => {
  test('the chain rules as TS, the honest party is paid, a cheat never is, tokens add up, nothing stays locked', async () => {
    await fc.assert(
      fc.asyncProperty(planArb(), async (plan) => {
        const o = await playAdversarial(rules, plan, parties.honest(plan.role === 'solver' ? 'challenger' : 'solver'), parties.base(plan.base, plan.role), runs);
        const chain = await settleOnChain(c, rules, o);
        expect(chain.loser).toBe(o.ruling.loser);
        expect(chain.loser).toBe(plan.role);
        expect(chain.phase).toBe(plan.role === 'solver' ? 'Refuted' : 'Finalized');
        expect(chain.conserved).toBe(true);
        expect(chain.settledWithin).toBe(true);
        expect(chain.maxGas).toBeLessThan(1_000_000n);
      }),
      { numRuns: cases(4, 40) },
    );
  }, cases(600_000, 14_400_000));
});
