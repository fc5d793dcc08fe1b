/** The training game's generated adversaries against a one-step or many-step program's honest run (test/swarm's disputes). */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Party, Rules } from '../../src/verify/index.js';
import { BASES, planArb, playAdversarial, type Base, type Role, type Runs } from './adversary-game.js';

/**
 * fast-check: each base run of `bases` with a generated move plan, in either role, never beats the honest run `good`:
 * no honest move is rejected, the honest party never loses, a cheating solver is never paid, no out-of-turn move is
 * accepted, and the game ends within its bound. `party` makes a run's party (made once per run and role).
 */
export async function plansNeverWin<R>(rules: Rules, good: R, bases: Partial<Record<Base, R>>, party: (run: R, role: Role) => Party, numRuns: number): Promise<void> {
  const runs = { good, bases } as unknown as Runs;
  const cache = new Map<string, Party>();
  const cached = (run: R, role: Role, key: string) => cache.get(`${key}/${role}`) ?? cache.set(`${key}/${role}`, party(run, role)).get(`${key}/${role}`)!;
  await fc.assert(
    fc.asyncProperty(planArb(BASES.filter((b) => bases[b])), async (plan) => {
      const honestRole = plan.role === 'solver' ? 'challenger' : 'solver';
      const o = await playAdversarial(rules, plan, cached(good, honestRole, 'good'), cached(bases[plan.base]!, plan.role, plan.base), runs);
      expect(o.honestRejected).toEqual([]);
      expect(o.honestLost).toBe(false);
      expect(o.cheatPaid).toBe(false);
      expect(o.outOfTurnAccepted).toBe(0);
      expect(o.ticks).toBeLessThanOrEqual(o.bound);
    }),
    { numRuns },
  );
}
