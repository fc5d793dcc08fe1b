/**
 * The rules of a DiLoCo / NoLoCo outer round, as pure functions: which contributions a worker accepts
 * (and why it refuses the others), which it re-executes, and what the round commits. The network (p2p
 * blobs and a gossip topic) and the clock stay at the edges; they hand these functions what arrived.
 */
import type { Params } from '../nn/index.js';
import { Rng } from '../tensor/index.js';
import type { TokenBatch } from '../data/index.js';
import { deltaDigest, roundCommitment, type Contribution, type DilocoMode } from '../train/diloco-program.js';
import type { OuterHyper } from '../train/outer.js';
import type { TrainProgram } from '../train/program.js';

/** The counter-RNG stream that picks which contributions are re-executed each round. */
export const SPOT_CHECK_STREAM = 0x10c0_0002;
const WORDS_PER_ROUND = 2 ** 20;

/** A contribution as announced: who, for which round, and the digest of its delta. */
/** What every worker of a run agrees on, in process (diloco-sim) or over libp2p (diloco-worker). */
export type DilocoSetup = {
  program: TrainProgram;
  /** The spec's batch numbering (program.batch, or a training split of a text). */
  batch: (step: number) => TokenBatch;
  mode: DilocoMode;
  innerSteps: number;
  /** Worker slots: the shard stride, so a slot's data does not depend on who else is in. */
  slots: number;
  rounds: number;
  hyper: OuterHyper;
  seed: number;
};

export type Claim = { round: number; worker: number; digest: string };

/** Why a contribution was left out of a round; every refusal is logged with its reason. */
export type Refusal = { worker: number; round: number; reason: string };

/** The shapes every delta must have: the model's parameter names and shapes, in canonical order. */
export type ParamShapes = readonly (readonly [name: string, shape: readonly number[]])[];

export function shapesOf(params: Params): ParamShapes {
  return Object.entries(params).map(([name, t]) => [name, [...t.shape]] as const);
}

/** What a round expects of an announcement: the round number and the workers on the roster. */
export type RoundView = { round: number; roster: ReadonlySet<number> };

/** Checks an announcement against the round: a worker not on the roster, or another round, is refused. */
export function checkClaim(view: RoundView, claim: Claim): string | undefined {
  if (!view.roster.has(claim.worker)) return `worker ${claim.worker} is not on this run's roster (${[...view.roster].sort((a, b) => a - b).join(', ') || 'empty'})`;
  if (claim.round < view.round) return `its round ${claim.round} is over (the run is at round ${view.round}): a replayed delta`;
  if (claim.round > view.round) return `its round ${claim.round} is ahead of the run's round ${view.round}`;
  return undefined;
}

/**
 * Checks a received delta: every parameter of the model, with its shape, float32 and finite, nothing else,
 * and its digest equal to the one announced.
 */
export function checkDelta(shapes: ParamShapes, delta: Params, claimedDigest: string): string | undefined {
  const names = Object.keys(delta);
  if (names.length !== shapes.length) return `it has ${names.length} tensors, the model has ${shapes.length}`;
  for (let i = 0; i < shapes.length; i++) {
    const [name, shape] = shapes[i];
    const t = delta[name];
    if (!t) return `it lacks tensor ${name}`;
    if (names[i] !== name) return `its tensor ${names[i]} is out of canonical order (expected ${name})`;
    if (t.dtype !== 'float32') return `tensor ${name} is ${t.dtype}, not float32`;
    if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) return `tensor ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`;
    const data = t.data as Float32Array;
    for (let k = 0; k < data.length; k++) if (!Number.isFinite(data[k])) return `tensor ${name} holds a non-finite value at ${k}`;
  }
  const digest = deltaDigest(delta);
  if (digest !== claimedDigest) return `its tensors hash to ${digest}, but it claims ${claimedDigest}`;
  return undefined;
}

/**
 * The workers whose inner steps are re-executed this round: each worker on its own with probability
 * `fraction`, drawn from (seed, round), so every peer picks the same ones and a cheat cannot know in
 * advance whether it will be checked.
 */
export function spotCheckSelection(seed: number, round: number, workers: readonly number[], fraction: number): number[] {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`a spot-check fraction in [0, 1], got ${fraction}`);
  const sorted = [...new Set(workers)].sort((a, b) => a - b);
  if (fraction === 0) return [];
  if (fraction === 1) return sorted;
  // One word per worker slot, indexed by the worker id, so the draw of a worker does not depend on who else is in.
  const threshold = Math.floor(fraction * 2 ** 32);
  return sorted.filter((w) => new Rng(seed, SPOT_CHECK_STREAM, round * WORDS_PER_ROUND + (w % WORDS_PER_ROUND)).words(1)[0] < threshold);
}

/**
 * Splits the round's contributions into the accepted ones and refusals: a worker re-executed (its honest
 * delta given by `reexecute`) whose delta differs is excluded with the reason.
 */
export function spotCheck(
  contributions: readonly Contribution[],
  checked: readonly number[],
  reexecute: (worker: number) => Params,
  round: number,
): { accepted: Contribution[]; refused: Refusal[] } {
  const accepted: Contribution[] = [];
  const refused: Refusal[] = [];
  for (const c of contributions) {
    if (!checked.includes(c.worker)) {
      accepted.push(c);
      continue;
    }
    const honest = deltaDigest(reexecute(c.worker));
    const sent = deltaDigest(c.delta);
    if (honest === sent) accepted.push(c);
    else refused.push({ worker: c.worker, round, reason: `re-execution of its inner steps gives delta ${honest}, it sent ${sent}: a forged delta` });
  }
  return { accepted, refused };
}

/** One link of a run's commitment chain: what round `round`'s commitment commits (its previous link aside). */
export type RoundLink = { round: number; deltas: { worker: number; digest: string }[]; states: { worker: number; hash: string }[]; commitment: string };

/** Why a link does not follow `previous` (its commitment is not the root of its contents), or undefined. */
export function checkLink(previous: string, link: RoundLink): string | undefined {
  const recomputed = roundCommitment({ ...link, previous });
  return recomputed === link.commitment ? undefined : `round ${link.round}'s commitment ${link.commitment} is not what its deltas, states and the previous commitment give (${recomputed})`;
}

/**
 * What a joiner checks before it trains from a state fetched by CID: that the state is committed by the last
 * link of a chain of round commitments that starts at the run's genesis (the hash of the spec's initial
 * outer state) and ends at the close it was announced with. Every link is recomputed from the one before, so
 * a state blob that hashes to its own claim but is not the state the rounds committed is refused, and so is a
 * history made up past a link that does not follow. (The chain binds the state to the rounds' claims; it does
 * not re-execute the merges: each of those is a merge job the dispute game referees.)
 */
export function checkHistory(genesis: string, links: readonly RoundLink[], head: { round: number; commitment: string; state: string }): string | undefined {
  if (links.length !== head.round + 1) return `the history has ${links.length} rounds, the close is of round ${head.round}`;
  let previous = genesis;
  for (let r = 0; r < links.length; r++) {
    if (links[r].round !== r) return `link ${r} of the history is of round ${links[r].round}`;
    const problem = checkLink(previous, links[r]);
    if (problem) return problem;
    previous = links[r].commitment;
  }
  if (previous !== head.commitment) return `the history ends at commitment ${previous}, the close claims ${head.commitment}`;
  if (!links[head.round].states.some((s) => s.hash === head.state)) return `state ${head.state} is not a state that round ${head.round}'s commitment commits: a forged state`;
  return undefined;
}
