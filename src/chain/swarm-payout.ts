/**
 * The SwarmCoordinator's payout rule in TypeScript (contracts/SwarmCoordinator.sol, `collect` and `collectUse`): what
 * a round pays each node from the pool, given the round's claims and proven uses. For figures over many rounds that
 * no chain settles (bench swarm's rewards in the poisoned setting); test/chain/swarm-payout.test.ts plays generated
 * rounds through the real coordinator on anvil and checks that every payout equals this one, wei for wei.
 */

/** A node's entry of a round, as the coordinator has it once the round's disputes are ruled. */
export type PayoutEntry = {
  /** The claimed score (a count of right answers); 0 without a claim. */
  score: number;
  claimed: boolean;
  refuted: boolean;
  /** Proven uses of its rollouts of the round (each (leaf, user) once). */
  uses: number;
};

/** The deployment's economics that the payout reads. */
export type PayoutRules = { rewardPerRound: bigint; rounds: number; useShareBps: number };

/** What one node is paid from the pool for one round: its score share (at collect) and its use share (at collectUse). */
export type Payout = { score: bigint; use: bigint };

/**
 * Round `round`'s payouts, in the order of `entries`. A claim that stood is paid (1 − use share) of the round's reward
 * × its score / the round's standing scores, and the use share × its proven uses / the proven uses of the round's
 * standing claims (on chain only a node with a standing claim may prove, and a refutation takes its uses out of the
 * total); a refuted claim, or none, is paid nothing. Solidity's integer
 * division, rounding down: what no node is paid stays in the pool. A void round pays nothing.
 */
export function roundPayouts(round: number, entries: readonly PayoutEntry[], rules: PayoutRules, o: { void?: boolean } = {}): Payout[] {
  const total = round < rules.rounds ? rules.rewardPerRound : 0n;
  const usePart = (total * BigInt(rules.useShareBps)) / 10_000n;
  const standing = entries.filter((e) => e.claimed && !e.refuted);
  const totalScore = standing.reduce((s, e) => s + BigInt(e.score), 0n);
  const totalUses = standing.reduce((s, e) => s + BigInt(e.uses), 0n);
  return entries.map((e) => {
    if (o.void || !e.claimed || e.refuted) return { score: 0n, use: 0n };
    return {
      score: totalScore === 0n ? 0n : ((total - usePart) * BigInt(e.score)) / totalScore,
      use: totalUses === 0n ? 0n : (usePart * BigInt(e.uses)) / totalUses,
    };
  });
}
