// `npm run bench -- adversary [--json] [--cases N] [--onchain M] [--seed S]`: generated adversaries against an honest
// party (test/verify/adversary-game.ts), one row per attack kind: each base run (a consistent liar at one op, a
// parameter changed outside any op, a skipped step, a wrong h_0, another job's run, a fake self-consistent run,
// another learning rate) with generated plans, each move tactic (withholding, stalling to the deadline, tampered,
// another move kind, malformed, out of turn) mixed with honest moves on a random base, and many disputes on one root
// (accomplices that lose on purpose, then the honest challenger). N cases per kind in the TS game, the first M of
// them also end to end on anvil through the JobMarket and the real DisputeGame (test/chain/adversary-replay.ts).
// Row: {attack, cases, onchain_cases, honest_losses, cheats_paid, max_gas}; honest_losses and cheats_paid count
// games the honest party lost or a cheating solver won, in TS or on chain (or whose tokens did not add up).
import fc from 'fast-check';
import { rules } from '../test/verify/game-helpers.js';
import { ACTIONS, BASES, makeParties, makeRuns, planArb, playAdversarial, type Action, type Plan } from '../test/verify/adversary-game.js';
import { setupGameChain } from '../test/chain/dispute-replay.js';
import { settleOnChain } from '../test/chain/adversary-replay.js';
import { makeReporter } from './report.js';

const flag = (args: string[], name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('Usage: npm run bench -- adversary [--json] [--cases 50] [--onchain 2] [--seed 1]   (generated adversaries vs an honest party, per attack kind)');
    return;
  }
  const n = flag(args, '--cases', 50);
  const m = flag(args, '--onchain', 2);
  const seed = flag(args, '--seed', 1);
  const report = makeReporter(args);
  const runs = await makeRuns();
  const parties = makeParties(runs);
  const c = await setupGameChain(rules);
  try {
    const play = (plan: Plan) => playAdversarial(rules, plan, parties.honest(plan.role === 'solver' ? 'challenger' : 'solver'), parties.base(plan.base, plan.role), runs);
    const kind = async (attack: string, plans: Plan[]) => {
      let [honestLosses, cheatsPaid, onchain, maxGas] = [0, 0, 0, 0n];
      for (const [i, plan] of plans.entries()) {
        const o = await play(plan);
        const bad = o.honestLost || o.honestRejected.length > 0 || o.outOfTurnAccepted > 0 || o.ticks > o.bound;
        if (bad) honestLosses++;
        if (o.cheatPaid) cheatsPaid++;
        if (i < m) {
          const chain = await settleOnChain(c, rules, o);
          onchain++;
          if (chain.maxGas > maxGas) maxGas = chain.maxGas;
          if (chain.loser !== o.ruling.loser || !chain.conserved || !chain.settledWithin) honestLosses++;
          if (plan.role === 'solver' && chain.phase === 'Finalized') cheatsPaid++;
        }
      }
      report({ attack, cases: plans.length, onchain_cases: onchain, honest_losses: honestLosses, cheats_paid: cheatsPaid, max_gas: Number(maxGas) });
    };
    const sample = <T>(arb: fc.Arbitrary<T>, s: number) => fc.sample(arb, { numRuns: n, seed: seed * 1_000 + s });
    for (const [i, base] of BASES.entries()) await kind(base, sample(planArb([base]), i));
    const tactic = (a: Action) => planArb().map((p) => ({ ...p, actions: p.actions.map((x, j) => (j % 2 === 0 ? a : x === a ? a : 'honest')) }));
    for (const [i, a] of ACTIONS.filter((x) => x !== 'honest').entries()) await kind(a === 'silent' ? 'withhold' : a, sample(tactic(a), 100 + i));

    // Many disputes on one root: accomplices (generated challengers) lose on purpose, the honest challenger wins.
    let [honestLosses, cheatsPaid, onchain, maxGas] = [0, 0, 0, 0n];
    const solverBases = BASES.filter((b) => b !== 'other-job');
    const scenarios = sample(fc.record({ solver: fc.constantFrom(...solverBases), accomplices: fc.array(fc.constantFrom(...BASES), { minLength: 1, maxLength: 3 }) }), 200);
    for (const s of scenarios) {
      const honestGame = await play({ base: s.solver, role: 'solver', actions: [], seed: 0 });
      const others = s.accomplices.filter((b) => b !== s.solver);
      const games = [];
      // Each accomplice plays its own wrong run to the end against the solver, and loses.
      for (const b of others) games.push(await playAdversarial(rules, { base: b, role: 'challenger', actions: [], seed: 0 }, parties.base(s.solver, 'solver'), parties.base(b, 'challenger'), { ...runs, good: runs.bases[s.solver] }));
      if (honestGame.honestLost || honestGame.ruling.loser !== 'solver') honestLosses++;
      if ([honestGame, ...games].every((g) => g.ruling.loser === 'challenger')) cheatsPaid++;
      // On chain the two games are replayed one after the other while both are open: an accomplice that loses only by
      // timeout would make the chain wait out its clock, which the other game's clock runs through too.
      const played = games.find((g) => g.ruling.at !== 'timeout');
      if (onchain < m && played) {
        // On chain: the accomplice challenges first (a second, concurrent dispute on the same job) and times out;
        // the honest challenger's dispute still refutes the solver.
        const settled = await settleOnChain(c, rules, honestGame, played);
        onchain++;
        if (settled.maxGas > maxGas) maxGas = settled.maxGas;
        if (settled.loser !== 'solver' || !settled.conserved || settled.phase !== 'Refuted') honestLosses++;
      }
    }
    report({ attack: 'many-disputes', cases: scenarios.length, onchain_cases: onchain, honest_losses: honestLosses, cheats_paid: cheatsPaid, max_gas: Number(maxGas) });
  } finally {
    await c.anvil.stop();
  }
}
