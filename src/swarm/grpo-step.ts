/**
 * A node's GRPO step of a round as a one-step program the dispute game can referee, with its batch in the state, so
 * that the groups it trained on are committed by the state hashes themselves (docs/verification.md, "The GRPO step
 * program"; issue 13: "a GRPO step commits the Merkle root of the rollouts it trained on").
 *
 * The unit used, proven and paid is a rollout *group*: one question of a rollout message with its L completions. Its
 * **rows** are a float32 tensor [L, 3, W] (W = the policy's contextLength): for completion k, channel 0 = the row's
 * inputs, channel 1 = its targets (token ids as float32, exact below 2^24), channel 2 = its mask (the completion's
 * advantage on its targets and its end, 0 elsewhere): exactly grpoBatch's row of that completion. A group whose
 * rewards are all equal has mask 0 everywhere. Its **groupHash** is the chunk root of the rows (tensor-commitment.ts
 * chunkRoot: what the tensor commitment binds to dtype and shape), computed by anyone holding the signed group.
 *
 * **The state.** h_0 = the header (step 0, optimizer step 0), the policy's tensors (params.*, opt.* as they are), then
 * S = own + external slots `opt.grpo.00`, `opt.grpo.01`, ... (two digits), each a group's rows: the groups trained on
 * in batch order (own first, then the external ones as drawn), then the all-zero rows (their hash: zeroGroupHash).
 * **The step** concatenates the slots ([S·L, 3, W]), takes the channels, casts inputs and targets to int32, and
 * takes the GRPO loss (grpoLoss), the policy spec's gradient clipping and the policy's optimizer at the swarm's
 * constant lr; the slots are carried unchanged. So h_1 = header (1, 1), the next policy's tensors, the same slots.
 * The headers are fixed rather than the policies' own because the game's state level proves h_{t-1}'s header as
 * (t-1, optimizer step) (verify/referee.ts ruleState); nothing in the step reads them. A contract builds both from
 * the committed policies' leaves and the group hashes (grpoStepLeaves), without the rows; the step program (ops,
 * shapes, constants) depends only on (model config, swarm config), so its facts are fixed per deployment.
 */
// The modules, not train/index.js (node:fs): a browser tab's worker runs rounds with this file.
import type { Tokenizer } from '../data/index.js';
import { clipGradNorm, valueAndGrad, type Params } from '../nn/index.js';
import { cast, concat, reshape, slice, Tensor } from '../tensor/index.js';
import { MycelError } from '../platform/errors.js';
import { toHex } from '../platform/sha256.js';
import { fromHex } from '../train/hex.js';
import { merkleRoot, type Hash } from '../train/merkle.js';
import { runCommitment } from '../train/commitment.js';
import type { JobProgram, TrainProgram } from '../train/program.js';
import { headerLeaf, namedLeaf, stateHash, type TrainState } from '../train/state.js';
import { chunkRoot, commitmentFromChunkRoot } from '../train/tensor-commitment.js';
import { groupAdvantages, grpoBatch, grpoLoss } from './grpo.js';
import type { Rollout, RolloutGroup } from './rollout-message.js';
import type { SapoConfig } from './sapo-config.js';
import { NO_BATCH, swarmProgramId } from './swarm-program.js';

/** A GRPO step that cannot be built as asked, and what to do instead. */
export class GrpoStepError extends MycelError {
  override name = 'GrpoStepError';
  constructor(problem: string, fix: string) {
    super(`The GRPO step cannot run: ${problem}.`, { metaMessages: [fix] });
  }
}

/** The shapes a deployment fixes: S slots of L completions of W positions. */
export type GrpoLayout = { slots: number; completions: number; width: number };

export function grpoLayout(config: Pick<SapoConfig, 'own' | 'external' | 'completions'>, contextLength: number): GrpoLayout {
  return { slots: config.own + config.external, completions: config.completions, width: contextLength };
}

/** Slot i's name among the optimizer's tensors (its state name is `opt.` + this). */
export const slotName = (i: number) => `grpo.${String(i).padStart(2, '0')}`;

const rowsShape = (l: GrpoLayout) => [l.completions, 3, l.width];

/** Whether every completion of `group` fits a row of `width` positions (its prompt, maxTokens tokens, its end). */
export function groupFits(group: RolloutGroup, tokenizer: Tokenizer, config: Pick<SapoConfig, 'maxTokens'>, width: number): boolean {
  return tokenizer.encode(group.prompt).length + config.maxTokens <= width;
}

/** A group's rows [L, 3, W]: grpoBatch's inputs, targets and mask of each completion, with the group's advantages. */
export function groupRows(group: RolloutGroup, tokenizer: Tokenizer, config: Pick<SapoConfig, 'maxTokens'>, width: number): Tensor {
  const L = group.completions.length;
  const advantages = groupAdvantages(group.completions.map((c) => c.reward)) ?? new Float32Array(L);
  const prompt = tokenizer.encode(group.prompt);
  const samples = group.completions.map((c, k) => ({ prompt, completion: Int32Array.from(c.tokens), ended: c.tokens.length < config.maxTokens, advantage: advantages[k] }));
  const batch = grpoBatch(samples, tokenizer, width);
  const rows = new Float32Array(L * 3 * width);
  for (let k = 0; k < L; k++) {
    const row = (a: Int32Array | Float32Array) => a.subarray(k * width, (k + 1) * width);
    rows.set(row(batch.inputs), (3 * k) * width);
    rows.set(row(batch.targets), (3 * k + 1) * width);
    rows.set(row(batch.mask), (3 * k + 2) * width);
  }
  return new Tensor(rows, [L, 3, width]);
}

/** A group's hash: the chunk root of its rows (hex). */
export const groupHash = (rows: Tensor): string => toHex(chunkRoot(rows.data));

/** The hash of an empty slot's all-zero rows. */
export const zeroGroupHash = (layout: GrpoLayout): string => groupHash(Tensor.zeros(rowsShape(layout)));

/**
 * Whether a group's rows teach anything: some mask entry is non-zero (the rollout program's `useful`; a group whose
 * rewards are all equal has zero advantages, so a zero mask, and changes nothing in a step).
 */
export function rowsUseful(rows: Tensor): boolean {
  const [L, , W] = rows.shape as [number, number, number];
  const data = rows.data as Float32Array;
  for (let k = 0; k < L; k++) for (let j = 0; j < W; j++) if (data[(3 * k + 2) * W + j] !== 0) return true;
  return false;
}

/** The groups of a node's rollout message that fit the context, in index order, with their rows, hashes and useful bits. */
export function publishedGroups(groups: readonly RolloutGroup[], tokenizer: Tokenizer, config: Pick<SapoConfig, 'maxTokens'>, width: number): { group: RolloutGroup; rows: Tensor; hash: string; useful: boolean }[] {
  return groups.filter((g) => groupFits(g, tokenizer, config, width)).map((group) => {
    const rows = groupRows(group, tokenizer, config, width);
    return { group, rows, hash: groupHash(rows), useful: rowsUseful(rows) };
  });
}

/** A group a GRPO step trained on: its author (the SAPO node id), its question's index, its hash and its useful bit (what its leaf binds). */
export type UsedGroup = { author: string; index: number; groupHash: string; useful: boolean };

/**
 * The leaves of h_t (t = 0 or 1) of the step whose policy (before the step for h_0, after it for h_1) has state-tree
 * leaves `policyLeaves` and whose slots hold the groups `groupHashes` (then zero rows): what the contract builds.
 */
export function grpoStepLeaves(policyLeaves: readonly Hash[], groupHashes: readonly string[], layout: GrpoLayout, t: 0 | 1): Hash[] {
  if (groupHashes.length > layout.slots) throw new GrpoStepError(`${groupHashes.length} groups were given and the step has ${layout.slots} slots`, `List at most own + external = ${layout.slots} groups.`);
  const zero = zeroGroupHash(layout);
  const slots = Array.from({ length: layout.slots }, (_, i) => namedLeaf(`opt.${slotName(i)}`, commitmentFromChunkRoot('float32', rowsShape(layout), fromHex(groupHashes[i] ?? zero))));
  return [headerLeaf(t, t), ...policyLeaves.slice(1), ...slots];
}

/** h_0, h_1 and the run root (the run tree over [h_0, h_1], as the game's run level hashes it) of a one-step program, from its states' leaves. */
export function oneStepRun(h0Leaves: readonly Hash[], h1Leaves: readonly Hash[]): { h0: string; h1: string; runRoot: string } {
  const h0 = toHex(merkleRoot([...h0Leaves]));
  const h1 = toHex(merkleRoot([...h1Leaves]));
  return { h0, h1, runRoot: runCommitment([h0, h1]) };
}

/** h_0, h_1 and the run root of a step, from its policies' leaves. */
export function grpoStepRun(prevLeaves: readonly Hash[], nextLeaves: readonly Hash[], groupHashes: readonly string[], layout: GrpoLayout): { h0: string; h1: string; runRoot: string } {
  return oneStepRun(grpoStepLeaves(prevLeaves, groupHashes, layout, 0), grpoStepLeaves(nextLeaves, groupHashes, layout, 1));
}

export type GrpoStepSpec = {
  kind: 'swarm-grpo-step';
  version: 1;
  /** The policy program's id and the start policy's state hash. */
  policy: string;
  start: string;
  /** The slots' group hashes, the zero slots' included. */
  groups: string[];
  lr: number;
  epsLow: number;
  epsHigh: number;
  steps: 1;
  checkpointEvery: 1;
};

export type GrpoStepProgram = JobProgram<GrpoStepSpec> & {
  layout: GrpoLayout;
  /** A state of this program without its slots: the policy (after the step: the node's next policy). */
  policyOf(state: TrainState): TrainState;
};


/**
 * The GRPO step of `start` (a state of `policy`) on `groups` (rows from groupRows, in batch order, at most own +
 * external) with the swarm's lr and clip bounds.
 */
export function grpoStepProgram(policy: TrainProgram, start: TrainState, groups: readonly Tensor[], config: SapoConfig): GrpoStepProgram {
  const layout = grpoLayout(config, policy.model.config.contextLength);
  const shape = rowsShape(layout);
  if (groups.length > layout.slots) throw new GrpoStepError(`${groups.length} groups were given and the step has ${layout.slots} slots`, `Train on at most own + external = ${layout.slots} groups.`);
  const wrong = groups.findIndex((g) => g.dtype !== 'float32' || g.shape.join() !== shape.join());
  if (wrong >= 0) throw new GrpoStepError(`group ${wrong} is ${groups[wrong].dtype} [${groups[wrong].shape}] and a slot is float32 [${shape}]`, 'Build each group with groupRows over the policy\'s context and the swarm\'s completions.');
  const clash = Object.keys(start.opt.tensors).find((name) => name.startsWith('grpo.'));
  if (clash) throw new GrpoStepError(`the policy has an optimizer tensor named ${clash}, which a slot would shadow`, 'Start from a swarm policy (its optimizer tensors are Adam\'s m.*, v.* and beta powers).');
  const names = Array.from({ length: layout.slots }, (_, i) => slotName(i));
  const slots = Object.fromEntries(names.map((name, i) => [name, groups[i] ?? Tensor.zeros(shape)]));
  const spec: GrpoStepSpec = {
    kind: 'swarm-grpo-step', version: 1, policy: policy.id, start: stateHash(start), groups: names.map((n) => groupHash(slots[n])),
    lr: config.lr, epsLow: config.epsLow, epsHigh: config.epsHigh, steps: 1, checkpointEvery: 1,
  };
  const lossAndGrads = valueAndGrad((params: Params, inputs: Tensor, targets: Tensor, mask: Tensor) => grpoLoss(policy.model, params, inputs, targets, mask, config));
  const clip = policy.spec.optimizer.clip;
  const rate = Math.fround(config.lr);
  const rows = layout.slots * layout.completions;
  const W = layout.width;
  const withoutSlots = (tensors: Params): Params => Object.fromEntries(Object.entries(tensors).filter(([name]) => !names.includes(name)));

  return {
    spec,
    id: swarmProgramId(spec),
    tokensPerStep: rows * W,
    tokenizer: policy.tokenizer,
    layout,
    batch: () => NO_BATCH,
    init: () => ({ step: 0, params: start.params, opt: { step: 0, tensors: { ...start.opt.tensors, ...slots } } }),
    step(state) {
      if (state.step !== 0) throw new GrpoStepError(`the program has one step and this state is after step ${state.step}`, 'Run the step from the program\'s init() state.');
      const batch = concat(names.map((n) => state.opt.tensors[n]), 0); // [S·L, 3, W]
      const channel = (c: number) => reshape(slice(batch, 1, c, c + 1), [rows, W]);
      const targets = reshape(cast(channel(1), 'int32'), [rows * W]);
      const { value, grads } = lossAndGrads(state.params, cast(channel(0), 'int32'), targets, reshape(channel(2), [rows * W]));
      const clipped = clip === undefined ? { grads, norm: undefined } : clipGradNorm(grads, clip);
      const next = policy.optimizer.update(state.params, clipped.grads, state.opt, rate);
      // The optimizer returns its own tensors only: the slots are put back, unchanged, after them.
      const carried = Object.fromEntries(names.map((n) => [n, state.opt.tensors[n]]));
      return { state: { step: 1, params: next.params, opt: { step: next.state.step, tensors: { ...next.state.tensors, ...carried } } }, loss: value.item(), gradNorm: clipped.norm, lr: rate };
    },
    policyOf: (state) => ({ step: state.step, params: state.params, opt: { step: state.opt.step, tensors: withoutSlots(state.opt.tensors) } }),
  };
}

/**
 * A committed step re-executable by a checker: the program of `start` (the node's committed policy before the step)
 * on the used groups, with their rows from the rollout messages the checker received (the node's own among them), or
 * the used groups none of them holds (not checkable). Rows are found by their hash alone: the hash fixes them,
 * whoever sent them.
 */
export function rebuildStep(policy: TrainProgram, start: TrainState, used: readonly UsedGroup[], rollouts: readonly Rollout[], config: SapoConfig): { program: GrpoStepProgram } | { missing: UsedGroup[] } {
  const width = policy.model.config.contextLength;
  const rows = new Map<string, Tensor>();
  for (const r of rollouts) for (const g of publishedGroups(r.groups, policy.tokenizer, config, width)) rows.set(g.hash, g.rows);
  const missing = used.filter((u) => !rows.has(u.groupHash));
  return missing.length ? { missing } : { program: grpoStepProgram(policy, start, used.map((u) => rows.get(u.groupHash)!), config) };
}
