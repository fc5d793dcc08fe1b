/**
 * NoLoCo's groups (arXiv 2506.10911): each round, every worker averages with one partner drawn from a
 * permutation that every worker derives from the run's seed and the round, so no message is needed to
 * agree on pairs and there is no all-reduce.
 */
import { Rng } from '../tensor/index.js';

/** The counter-RNG stream of NoLoCo's pairing (clear of the init, data and sampling streams). */
export const PAIRING_STREAM = 0x10c0_0001;
/** Draw offsets per round: a permutation of n workers reads n - 1 words, so rounds never share a word. */
const WORDS_PER_ROUND = 2 ** 20;

/**
 * The groups of round `round` over the round's roster: a seeded permutation of the roster (sorted first,
 * so the order the roster was learnt in does not matter) cut into consecutive pairs; with an odd count the
 * last worker joins the last pair (a group of three), so nobody is left alone. Each group is sorted.
 */
export function nolocoGroups(seed: number, round: number, roster: readonly number[]): number[][] {
  const workers = [...new Set(roster)].sort((a, b) => a - b);
  if (workers.length > WORDS_PER_ROUND) throw new RangeError(`at most ${WORDS_PER_ROUND} workers, got ${workers.length}`);
  if (workers.length <= 1) return workers.length ? [workers] : [];
  const order = new Rng(seed, PAIRING_STREAM, round * WORDS_PER_ROUND).permutation(workers.length);
  const groups: number[][] = [];
  for (let i = 0; i + 1 < order.length; i += 2) groups.push([workers[order[i]], workers[order[i + 1]]]);
  if (order.length % 2 === 1) groups[groups.length - 1].push(workers[order[order.length - 1]]);
  return groups.map((g) => g.sort((a, b) => a - b));
}

/** The group `worker` belongs to this round (itself alone if it is not on the roster). */
export function nolocoGroupOf(seed: number, round: number, roster: readonly number[], worker: number): number[] {
  return nolocoGroups(seed, round, roster).find((g) => g.includes(worker)) ?? [worker];
}
