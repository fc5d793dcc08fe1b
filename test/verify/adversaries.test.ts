/**
 * Property tests of the dispute game against generated adversaries (fast-check): each case is a base strategy (a
 * consistent liar at one op, a parameter changed outside any op, a skipped step, a wrong h_0, another job's run, a
 * fake but self-consistent run, another learning rate) in either role, with a generated plan of moves (honest,
 * silent, stalling to its deadline, tampered, another move kind, malformed, out of turn), played against the honest
 * party. Properties: the honest party never loses and none of its moves is rejected; a cheating solver never wins;
 * no out-of-turn move is accepted; every dispute ends within 2 x the chess clock. Then many disputes on one root: a
 * cheating solver against any number of challengers (its accomplices, with wrong runs or with the right run thrown on
 * purpose, generated adversaries, and one honest one)
 * loses the honest one's game, whatever the others do, so it is never paid (the market pays only a solver that won
 * every dispute). Hundreds of cases here; MYCEL_LONG=1 runs thousands.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { rules } from './game-helpers.js';
import { BASES, cases, makeParties, makeRuns, planArb, playAdversarial, type Runs } from './adversary-game.js';

let runs: Runs;
let parties: ReturnType<typeof makeParties>;

beforeAll(async () => {
  runs = await makeRuns();
  parties = makeParties(runs);
}, 120_000);

const play = (plan: Parameters<typeof playAdversarial>[1]) =>
  playAdversarial(rules, plan, parties.honest(plan.role === 'solver' ? 'challenger' : 'solver'), parties.base(plan.base, plan.role), runs);

describe('generated adversaries against an honest party', () => {
  test('the honest party never loses, a cheat is never paid, moves out of turn are refused, every game ends in time', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(planArb(), async (plan) => {
        const o = await play(plan);
        seen.set(`${plan.base}/${o.ruling.at}`, (seen.get(`${plan.base}/${o.ruling.at}`) ?? 0) + 1);
        expect(o.honestRejected).toEqual([]);
        expect(o.honestLost).toBe(false);
        expect(o.cheatPaid).toBe(false);
        expect(o.outOfTurnAccepted).toBe(0);
        expect(o.ticks).toBeLessThanOrEqual(o.bound);
      }),
      { numRuns: cases(200, 3_000), seed: process.env.MYCEL_SEED ? Number(process.env.MYCEL_SEED) : undefined },
    );
    console.log(`generated adversaries: ${[...seen.values()].reduce((a, b) => a + b, 0)} games by base/ruling: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
    // Every attack kind was played, and games ended at more than one level (not only by timeout).
    for (const base of BASES) expect([...seen.keys()].some((k) => k.startsWith(`${base}/`))).toBe(true);
    expect(new Set([...seen.keys()].map((k) => k.split('/')[1])).size).toBeGreaterThan(2);
  }, cases(300_000, 14_400_000));

  test('an adversary that plays its base strategy to the end is caught where its run is wrong, not only by timeout', async () => {
    for (const base of BASES) {
      const o = await play({ base, role: 'solver', actions: [], seed: 0 });
      expect(o.ruling.loser, base).toBe('solver');
      expect(o.honestRejected).toEqual([]);
    }
    expect((await play({ base: 'wrong-h0', role: 'solver', actions: [], seed: 0 })).ruling.at).toBe('initial');
    expect((await play({ base: 'other-job', role: 'challenger', actions: [], seed: 0 })).ruling).toMatchObject({ loser: 'challenger', at: 'initial' });
    expect((await play({ base: 'op-liar', role: 'solver', actions: [], seed: 0 })).ruling.at).toBe('instruction');
    expect((await play({ base: 'state-liar', role: 'solver', actions: [], seed: 0 })).ruling.at).toBe('state');
  }, 120_000);
});

describe('many disputes on one root, from many keys', () => {
  test('a cheating solver loses the honest challenger’s game whatever its accomplices and other challengers do', async () => {
    const solverBases = ['op-liar', 'state-liar', 'skip-step', 'wrong-h0', 'fake-run', 'other-lr'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...solverBases),
        // `thrown`: an accomplice with the RIGHT root (the honest run) that goes silent at its first turn, losing on purpose.
        fc.array(fc.record({ base: fc.constantFrom(...BASES), actions: fc.array(fc.constantFrom('honest', 'silent', 'stall', 'tamper'), { maxLength: 10 }), seed: fc.nat(), thrown: fc.boolean() }), { maxLength: 4 }),
        fc.nat(5),
        async (solverBase, others, honestAt) => {
          // Each challenger plays its own game against the same solver strategy (the solver's run is fixed by its root).
          const solver = parties.base(solverBase, 'solver');
          const challengers = others.filter((c) => c.thrown || c.base !== solverBase);
          const outcomes = [];
          for (const [i, c] of challengers.entries()) {
            if (i === honestAt) outcomes.push({ honest: true, ...(await playAdversarial(rules, { base: solverBase, role: 'solver', actions: [], seed: 0 }, parties.honest('challenger'), solver, runs)) });
            // An accomplice or another wrong challenger: the solver plays honestly by its own run against it. A thrown
            // game is the honest run's, played by an accomplice that goes silent: it must shield nothing either.
            const o = c.thrown
              ? await playAdversarial(rules, { base: c.base, role: 'challenger', actions: ['silent', ...c.actions], seed: c.seed }, solver, parties.honest('challenger'), {
                good: runs.bases[solverBase], bases: { ...runs.bases, [c.base]: runs.good },
              })
              : await playAdversarial(rules, { base: c.base, role: 'challenger', actions: c.actions, seed: c.seed }, solver, parties.base(c.base, 'challenger'), {
                ...runs, good: runs.bases[solverBase],
              });
            if (c.thrown) expect(o.ruling).toMatchObject({ loser: 'challenger', at: 'timeout' });
            outcomes.push({ honest: false, ...o });
          }
          if (!outcomes.some((o) => o.honest)) outcomes.push({ honest: true, ...(await playAdversarial(rules, { base: solverBase, role: 'solver', actions: [], seed: 0 }, parties.honest('challenger'), solver, runs)) });
          // The honest challenger's game rules against the solver: the market slashes it at that first loss, so
          // whatever the other games said (an accomplice losing on purpose included), the cheat is never paid.
          const honestGame = outcomes.find((o) => o.honest)!;
          expect(honestGame.ruling.loser).toBe('solver');
          const solverWonAll = outcomes.every((o) => (o.honestRole === 'solver' ? o.ruling.loser === 'challenger' : o.ruling.loser === 'challenger'));
          expect(solverWonAll).toBe(false);
        },
      ),
      { numRuns: cases(40, 500) },
    );
  }, cases(300_000, 14_400_000));
});
