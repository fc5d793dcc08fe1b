/**
 * A whole DiLoCo / NoLoCo run of several workers in one process, round by round, with the round rules of
 * diloco.ts: churn (workers offline, late past the cut-off, joining), forged deltas and spot-checks. It is
 * deterministic and does no I/O: the benchmark runs it, the tests use it as the model that the worker
 * processes must agree with, and each worker's state at a round boundary is what a worker commits.
 */
import type { Params } from '../nn/index.js';
import {
  contributionOf,
  deltaDigest,
  genesisCommitment,
  initialOuter,
  innerStart,
  outerMerge,
  outerStateHash,
  roundCommitment,
  runInnerSteps,
  shardBatcher,
  SHARED_STATE,
  type Contribution,
  type OuterState,
} from '../train/diloco-program.js';
import type { TrainProgram } from '../train/program.js';
import { spotCheck, spotCheckSelection, type Refusal, type DilocoSetup } from './diloco.js';
import { nolocoGroupOf } from './noloco.js';

/** What a worker keeps between rounds: its outer state (its inner AdamW state starts afresh every round, innerStart). */
export type WorkerState = { outer: OuterState };

/** `commitment`: the last round's commitment, the head of the run's commitment chain. */
export type SimSnapshot = { round: number; workers: Map<number, WorkerState>; commitment: string };

export type RoundRecord = {
  round: number;
  /** Workers online this round (late ones included), sorted. */
  roster: number[];
  accepted: number[];
  late: number[];
  refused: Refusal[];
  /** Mean inner-step loss over the accepted workers' steps. */
  loss: number;
  /** The accepted deltas' digests, sorted by worker, and the round's commitment (a link of the run's chain). */
  deltas: { worker: number; digest: string }[];
  commitment: string;
  /** Hashes of the outer states after the round: one shared (DiLoCo) or one per worker (NoLoCo). */
  states: { worker: number; hash: string }[];
  innerSteps: number;
};

export type SimOptions = DilocoSetup & {
  /** Workers online in a round (default: every slot). A worker seen for the first time joins. */
  online?: (round: number) => readonly number[];
  /** Online workers whose delta misses the round's cut-off. */
  late?: (round: number) => readonly number[];
  /** An adversary: replaces a worker's delta (return undefined to send the honest one). */
  forge?: (round: number, worker: number, honest: Params) => Params | undefined;
  spotCheckFraction?: number;
  onRound?: (record: RoundRecord, snapshot: SimSnapshot) => void;
};

/** Runs rounds from `from` (or the start) until `options.rounds` rounds are done; returns the snapshot. */
export function simulateDiloco(options: SimOptions, from?: SimSnapshot): SimSnapshot {
  const { program, mode, innerSteps, slots, hyper, seed } = options;
  const workers = new Map(from?.workers ?? []);
  let round = from?.round ?? 0;
  let previous = from?.commitment ?? genesisCommitment(program);
  const everyone = Array.from({ length: slots }, (_, i) => i);
  while (round < options.rounds) {
    const roster = [...new Set(options.online?.(round) ?? everyone)].sort((a, b) => a - b);
    const late = new Set(options.late?.(round) ?? []);
    for (const w of roster) if (!workers.has(w)) workers.set(w, joiner(program, workers));
    for (const w of roster) rebase(workers, w, round);

    const contributions: Contribution[] = [];
    const honest = new Map<number, Params>();
    const losses: number[] = [];
    for (const w of roster) {
      if (late.has(w)) continue;
      const { outer } = workers.get(w)!;
      const inner = runInnerSteps(program, shardBatcher(options.batch, slots, w), innerStart(program, outer, innerSteps), innerSteps);
      const c = contributionOf(w, outer, inner.state.params, mode);
      honest.set(w, c.delta);
      losses.push(...inner.losses);
      contributions.push({ ...c, delta: options.forge?.(round, w, c.delta) ?? c.delta });
    }
    const checked = spotCheckSelection(seed, round, contributions.map((c) => c.worker), options.spotCheckFraction ?? 0);
    // Re-execution is a real re-run of the worker's inner steps from the round's start state.
    const reexecute = (w: number) => {
      const { outer } = workers.get(w)!;
      const inner = runInnerSteps(program, shardBatcher(options.batch, slots, w), innerStart(program, outer, innerSteps), innerSteps);
      return contributionOf(w, outer, inner.state.params, mode).delta;
    };
    const { accepted, refused } = spotCheck(contributions, checked, reexecute, round);
    const acceptedIds = accepted.map((c) => c.worker);

    const states: { worker: number; hash: string }[] = [];
    if (mode === 'diloco') {
      const anyone = workers.get(roster[0])!.outer;
      const next = outerMerge('diloco', anyone, accepted, hyper);
      for (const w of roster) workers.set(w, { outer: next });
      states.push({ worker: SHARED_STATE, hash: outerStateHash(next) });
    } else {
      const nextOf = new Map<number, OuterState>();
      for (const w of acceptedIds) {
        const group = nolocoGroupOf(seed, round, roster, w).filter((g) => acceptedIds.includes(g));
        nextOf.set(w, outerMerge('noloco', workers.get(w)!.outer, accepted.filter((c) => group.includes(c.worker)), hyper));
      }
      for (const [w, next] of nextOf) {
        workers.set(w, { outer: next });
        states.push({ worker: w, hash: outerStateHash(next) });
      }
    }
    const deltas = accepted.map((c) => ({ worker: c.worker, digest: deltaDigest(c.delta) }));
    const record: RoundRecord = {
      round,
      roster,
      accepted: acceptedIds,
      late: roster.filter((w) => late.has(w)),
      refused,
      loss: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : NaN,
      deltas,
      commitment: roundCommitment({ round, previous, deltas, states }),
      states,
      innerSteps: acceptedIds.length * innerSteps,
    };
    round++;
    previous = record.commitment;
    options.onRound?.(record, { round, workers, commitment: previous });
  }
  return { round, workers, commitment: previous };
}

/**
 * A worker that was not in the last round (offline, late, excluded) starts this round from the outer state
 * of the lowest up-to-date worker, as a networked worker rebases on the state of the round's closer (the
 * lowest worker on the roster): DiLoCo's shared state, or that worker's own in NoLoCo.
 */
function rebase(workers: Map<number, WorkerState>, w: number, round: number): void {
  if (workers.get(w)!.outer.round === round) return;
  const current = [...workers.entries()].filter(([, s]) => s.outer.round === round).sort(([a], [b]) => a - b);
  if (current.length === 0) return; // nobody is ahead: keep going from its own state
  workers.set(w, { outer: current[0][1].outer });
}

/** A new worker: the current outer state of the lowest up-to-date worker (fetched by CID in a real run). */
function joiner(program: TrainProgram, workers: Map<number, WorkerState>): WorkerState {
  const newest = [...workers.entries()].sort(([a, x], [b, y]) => y.outer.round - x.outer.round || a - b)[0];
  return { outer: newest ? newest[1].outer : initialOuter(program) };
}
