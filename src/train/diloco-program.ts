/**
 * The two programs of low-communication data parallelism (DiLoCo, NoLoCo), as pure functions of their
 * inputs: a worker's H inner steps on its own shard, and the outer merge of the round's pseudo-gradients.
 * Both are deterministic, so any peer can re-execute either one and compare hashes, and both are
 * committed: every outer round ends in a Merkle root over the workers' deltas and the new state.
 */
import { getParam, prefixed, type Params } from '../nn/index.js';
import type { TokenBatch } from '../data/index.js';
import { concatBytes, u64le } from '../platform/bytes.js';
import { toHex } from '../platform/sha256.js';
import { fromHex } from './hex.js';
import { leafHash, merkleRoot } from './merkle.js';
import { meanParams, nesterovStep, nolocoStep, pseudoGradient, zerosLike, type OuterHyper } from './outer.js';
import type { TrainProgram } from './program.js';
import { stateHash, tensorLeaf, type TrainState } from './state.js';

export type DilocoMode = 'diloco' | 'noloco';

/**
 * The outer state a worker holds between rounds: the outer parameters φ and the outer momentum. In
 * DiLoCo every worker holds the same one; in NoLoCo each worker holds its own (replicas drift apart and
 * are pulled together pair by pair).
 */
export type OuterState = { round: number; params: Params; momentum: Params };

/** One worker's input to a round: its pseudo-gradient and (NoLoCo) the outer parameters it started from. */
export type Contribution = { worker: number; delta: Params; outer?: Params };

/**
 * Worker `worker`'s batch for inner step s: the spec's batch number s * slots + worker. Workers draw from
 * disjoint parts of the data stream (the stream is a function of the batch number), and the shard of a
 * slot depends only on (spec, seed, slot), never on who else is in the run.
 */
export function shardBatcher(batch: (step: number) => TokenBatch, slots: number, worker: number): (innerStep: number) => TokenBatch {
  if (!(Number.isInteger(worker) && worker >= 0 && worker < slots)) throw new RangeError(`worker ${worker} is not a slot in 0..${slots - 1}`);
  return (innerStep) => batch(innerStep * slots + worker);
}

/**
 * The state a worker's inner steps of round r start from: the outer parameters, a fresh AdamW state, step r * H
 * (the run's learning-rate schedule goes on across rounds). A fresh inner state every round, as against one
 * carried from the worker's last round: at H = 10 on the bench's model (200 steps a worker, K = 8) the carried
 * state ends 16.6% above synchronous training's validation loss and the fresh one 2.2% (AdamW's first moment
 * still pushes along the last round's direction, which the outer Nesterov momentum already applies, so the two
 * momenta compound). It also makes a round's start state a function of the outer state alone: anyone
 * re-executes a worker's inner steps from the round's outer state, with nothing of the worker's to trust.
 */
export function innerStart(program: TrainProgram, outer: OuterState, innerSteps: number): TrainState {
  return { step: outer.round * innerSteps, params: outer.params, opt: program.optimizer.init(outer.params) };
}

export type InnerResult = { state: TrainState; losses: number[]; stepHashes: string[] };

/**
 * H inner steps of the spec's optimizer (AdamW) on the worker's shard, from `start`. With `hashSteps`
 * it also returns the state hash before and after every step, numbered from the start as the worker's
 * inner-step job numbers them (diloco-jobs.ts innerStepJob: the job's h_0 .. h_H when `batch` is the
 * shard of the spec's own data), so runCommitment(stepHashes) is the run a dispute of that job bisects.
 */
export function runInnerSteps(
  program: TrainProgram,
  batch: (innerStep: number) => TokenBatch,
  start: TrainState,
  innerSteps: number,
  { hashSteps = false }: { hashSteps?: boolean } = {},
): InnerResult {
  let state = start;
  const losses: number[] = [];
  const jobHash = (s: TrainState) => stateHash({ ...s, step: s.step - start.step });
  const stepHashes = hashSteps ? [jobHash(state)] : [];
  for (let h = 0; h < innerSteps; h++) {
    const result = program.step(state, batch(state.step));
    state = result.state;
    losses.push(result.loss);
    if (hashSteps) stepHashes.push(jobHash(state));
  }
  return { state, losses, stepHashes };
}

/** A fresh outer state: the spec's initial parameters and zero momentum. */
export function initialOuter(program: TrainProgram): OuterState {
  const { params } = program.init();
  return { round: 0, params, momentum: zerosLike(params) };
}

/** The contribution of a worker whose inner steps ended at `inner`. */
export function contributionOf(worker: number, outer: OuterState, inner: Params, mode: DilocoMode): Contribution {
  const delta = pseudoGradient(outer.params, inner);
  return mode === 'noloco' ? { worker, delta, outer: outer.params } : { worker, delta };
}

const byWorker = (a: Contribution, b: Contribution) => a.worker - b.worker;

/**
 * The outer merge. DiLoCo: Nesterov SGD on the mean pseudo-gradient of every contribution. NoLoCo: the
 * worker's own update with its group's mean (the group's contributions, itself included). Either way the
 * contributions are taken sorted by worker, whatever order they arrived in, so the result is the same
 * bits on every machine. With no contribution at all the round passes and the state is unchanged.
 */
export function outerMerge(mode: DilocoMode, state: OuterState, contributions: readonly Contribution[], hyper: OuterHyper): OuterState {
  const sorted = [...contributions].sort(byWorker);
  if (sorted.length === 0) return { ...state, round: state.round + 1 };
  if (mode === 'diloco') {
    const next = nesterovStep(state.params, state.momentum, meanParams(sorted.map((c) => c.delta)), hyper);
    return { round: state.round + 1, ...next };
  }
  const outers = sorted.map((c) => {
    if (!c.outer) throw new TypeError(`NoLoCo contribution of worker ${c.worker} lacks its outer parameters`);
    return c.outer;
  });
  const next = nolocoStep(state, { deltas: sorted.map((c) => c.delta), outers }, hyper);
  return { round: state.round + 1, ...next };
}

/** The outer state as a TrainState (step = round, momentum as `opt.momentum.<name>`): one hash, one checkpoint format. */
export function outerAsTrainState(outer: OuterState): TrainState {
  return { step: outer.round, params: outer.params, opt: { step: outer.round, tensors: prefixed('momentum', outer.momentum) } };
}

/** The inverse of outerAsTrainState (a state fetched by CID and decoded as a checkpoint). */
export function outerFromTrainState(state: TrainState): OuterState {
  const momentum: Params = {};
  for (const name of Object.keys(state.params)) momentum[name] = getParam(state.opt.tensors, `momentum.${name}`);
  return { round: state.step, params: state.params, momentum };
}

export function outerStateHash(outer: OuterState): string {
  return stateHash(outerAsTrainState(outer));
}

/** The commitment to a pseudo-gradient: a Merkle root over its tensors' leaves, named `delta.<name>`. */
export function deltaDigest(delta: Params): string {
  return toHex(merkleRoot(Object.entries(delta).map(([name, t]) => tensorLeaf(`delta.${name}`, t.dtype, t.shape, t.data))));
}

const ROUND_DOMAIN = new TextEncoder().encode('mycel.outer-round.v1');

/**
 * A round's commitment: the Merkle root over a leaf for the previous round's commitment (round 0: the
 * genesis, the hash of the spec's initial outer state), then one leaf per accepted delta, sorted by worker,
 * SHA-256(0x00 || "mycel.outer-round.v1" || u64 LE round || u64 LE worker || delta digest), then one leaf per
 * resulting state, the same with worker 2^53 - 1 for the shared DiLoCo state or the state's owner for NoLoCo;
 * the previous round's leaf is the same with worker 2^53 - 2. So the commitments of a run form a chain from its
 * spec: a joiner checks the state it fetches against the chain (swarm/diloco.ts checkHistory). Any peer that
 * holds the deltas and the previous state recomputes a round's commitment.
 */
export function roundCommitment({ round, previous, deltas, states }: { round: number; previous: string; deltas: readonly { worker: number; digest: string }[]; states: readonly { worker: number; hash: string }[] }): string {
  const leaf = (worker: number, hash: string) => leafHash(concatBytes([ROUND_DOMAIN, u64le(round), u64le(worker), fromHex(hash)]));
  const sortedDeltas = [...deltas].sort((a, b) => a.worker - b.worker);
  const sortedStates = [...states].sort((a, b) => a.worker - b.worker);
  return toHex(merkleRoot([leaf(PREVIOUS_ROUND, previous), ...sortedDeltas.map((d) => leaf(d.worker, d.digest)), ...sortedStates.map((s) => leaf(s.worker, s.hash))]));
}

/** The worker label of DiLoCo's one shared outer state in a round commitment. */
export const SHARED_STATE = Number.MAX_SAFE_INTEGER;
/** The worker label of the previous round's commitment in a round commitment. */
const PREVIOUS_ROUND = Number.MAX_SAFE_INTEGER - 1;

/** The link before round 0 of a run's commitment chain: the hash of the spec's initial outer state. */
export function genesisCommitment(program: TrainProgram): string {
  return outerStateHash(initialOuter(program));
}
