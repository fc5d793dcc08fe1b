/**
 * What a verifier's sampling policy buys: the probability that re-executing K of a run's T steps, chosen from a
 * public seed revealed after the commitment (sampleSteps), catches a cheat. A cheat that changes c of the steps
 * (each changed step's committed hash is not what re-executing that step from the committed state before it gives)
 * is caught when a sampled step is one of them: with K distinct steps drawn uniformly, the chance that all K miss
 * the c cheated ones is C(T-c, K) / C(T, K) (hypergeometric). docs/verification.md ("Sampling") works through it.
 */

/** P(at least one of K distinct uniformly chosen steps out of T is one of the c cheated steps). */
export function catchProbability(steps: number, sampled: number, cheated = 1): number {
  if (!(steps >= 1 && sampled >= 0 && cheated >= 0)) throw new RangeError('catchProbability needs steps >= 1, sampled >= 0 and cheated >= 0');
  const [T, K, c] = [steps, Math.min(sampled, steps), Math.min(cheated, steps)];
  if (c === 0) return 0;
  if (K > T - c) return 1;
  // C(T-c, K) / C(T, K) = prod_{i=0}^{K-1} (T-c-i) / (T-i), in a product that never overflows.
  let miss = 1;
  for (let i = 0; i < K; i++) miss *= (T - c - i) / (T - i);
  return 1 - miss;
}

/** The fewest sampled steps whose catch probability reaches `target` (for a cheat of `cheated` steps). */
export function stepsForCatch(steps: number, target: number, cheated = 1): number {
  if (!(target >= 0 && target <= 1)) throw new RangeError('target must be a probability from 0 to 1');
  for (let k = 0; k <= steps; k++) if (catchProbability(steps, k, cheated) >= target) return k;
  return steps;
}

/**
 * The catch probability that makes cheating a losing bet: a cheater gains `gain` when undetected and loses `stake`
 * when caught, so cheating pays only while (1 - p) * gain > p * stake, that is p < gain / (gain + stake).
 */
export const deterringProbability = (gain: number, stake: number) => gain / (gain + stake);

/** V verifiers sampling independently (each from its own seed): the chance that at least one catches the cheat. */
export const anyOfCatch = (p: number, verifiers: number) => 1 - (1 - p) ** verifiers;
