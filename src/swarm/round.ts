/**
 * A SAPO node's round, as pure functions of (state, messages) -> (state, messages); the network, the
 * clock and the disk are the caller's (sapo-node.ts over libp2p, sapo-sim.ts in one process).
 *
 *   startRound:  (node, round)            -> (node, { rollout to publish, policy blob to serve })
 *   reexecPlan:  (node, peer rollouts)    -> the policy blobs re-execution needs (the caller fetches them)
 *   finishRound: (node, { rollouts, blobs }) -> (node, { verdicts, metrics })
 *
 * A round: own questions from the beacon -> L completions each -> rewards from the task's verifier ->
 * publish -> collect the round's peer rollouts -> check them -> a GRPO step on I own + J external
 * questions (groups whose rewards are all equal dropped): grpo-step.ts's program, whose state holds the
 * groups trained on, so the step can be disputed. A node behind the clock skips to the
 * current round: its unpublished work is dropped, never replayed into a later round.
 */
import { CharTokenizer, TASK_ALPHABET, type Tokenizer } from '../data/index.js';
import { Rng } from '../tensor/index.js';
// The modules, not train/index.js (it brings the checkpoint store, node:fs): a browser tab's worker runs rounds with this file.
import type { TrainProgram } from '../train/program.js';
import { stateHash, type TrainState } from '../train/state.js';
import { groupAdvantages } from './grpo.js';
import { groupFits, groupHash, groupRows, grpoStepProgram, publishedGroups, rowsUseful, type GrpoStepProgram, type UsedGroup } from './grpo-step.js';
import { checkRollout, reexecute, type RejectKind, type Verdict } from './rollout-check.js';
import { signRollout, type Rollout, type RolloutGroup } from './rollout-message.js';
import { openPolicyBlob, policyBlob, type PolicyBlob } from './rollout-policy.js';
import { generateRollouts, promptFits, rolloutInputs, rolloutLayout } from './rollout-program.js';
import { authorAddress, reexecSeed, rolloutQuestion, rolloutSeed, roundBeacon, seedNumber, taskFor, textSeed, uniformRow } from './rollout-seeds.js';
import type { SapoConfig } from './sapo-config.js';

/** The RNG stream from which a node draws which peer questions it trains on and which it re-executes. */
export const SAPO_STREAM = 0x5a90;

export type SapoNode = {
  readonly id: string;
  /** The raw secp256k1 key that signs its rollouts. */
  readonly key: Uint8Array;
  readonly config: SapoConfig;
  /** The tasks this node asks (all of the swarm's, or a subset in a non-IID swarm). */
  readonly asks: readonly string[];
  readonly program: TrainProgram;
  readonly policy: TrainState;
  readonly blob: PolicyBlob;
  /** The round this node is in (its next startRound is for this round or a later one). */
  readonly round: number;
  /** Peers dropped from sampling, with the reason. */
  readonly dropped: ReadonlyMap<string, string>;
  /** This round's own rollout, once started. */
  readonly own?: Rollout;
};

export type RoundVerdict = { peer: string; round: number; kind: RejectKind; reason: string };

export type RoundMetrics = {
  round: number;
  node: string;
  /** Mean reward of the node's own completions this round. */
  reward: number;
  /** Fraction of its own questions with at least one correct completion. */
  accuracy: number;
  rolloutsOut: number;
  rolloutsIn: number;
  trainedOwn: number;
  trainedExternal: number;
  /** The author of each external question trained on. */
  externalFrom: string[];
  reexecuted: number;
  rejected: number;
  dropped: string[];
  loss: number | undefined;
  /** RL health: the share of own questions whose L rewards were all equal (no advantage, dropped). */
  ownEqual?: number;
  /** Mean |advantage| over the trained completions (0 when nothing trained). */
  meanAbsAdvantage?: number;
  /** The GRPO step's gradient norm before clipping (undefined when nothing trained). */
  gradNorm?: number;
  policy: string;
};

/** The tokenizer every swarm policy uses: one character per token over every task's alphabet. */
export const swarmTokenizer = (): Tokenizer => CharTokenizer.fromText(TASK_ALPHABET);

export function createSapoNode(o: { id: string; key: Uint8Array; config: SapoConfig; asks?: readonly string[]; program: TrainProgram; policy: TrainState; round?: number }): SapoNode {
  const asks = o.asks ?? o.config.tasks.map((t) => t.name);
  for (const name of asks) if (!o.config.tasks.some((t) => t.name === name)) throw new RangeError(`task ${name} is not one of the swarm's`);
  if (JSON.stringify(o.program.tokenizer.toJSON()) !== JSON.stringify(swarmTokenizer().toJSON())) throw new RangeError('a swarm policy must use the swarm tokenizer (task data)');
  return { id: o.id, key: o.key, config: o.config, asks, program: o.program, policy: o.policy, blob: policyBlob(o.program, o.policy), round: o.round ?? 0, dropped: new Map() };
}

/** The node with `peer` dropped from sampling (the edge found it cheating before the round saw it). */
export function dropPeer(node: SapoNode, peer: string, reason: string): SapoNode {
  if (node.dropped.has(peer)) return node;
  return { ...node, dropped: new Map(node.dropped).set(peer, reason) };
}

/** The node's own questions for `round` with its current policy: the rollout it publishes. */
export function startRound(node: SapoNode, round: number): { node: SapoNode; rollout: Rollout; blob: PolicyBlob } {
  if (round < node.round) throw new RangeError(`round ${round} is behind the node's round ${node.round}`);
  const { config, program } = node;
  const beacon = roundBeacon(config.swarmId, round);
  const author = authorAddress(node.id);
  const layout = rolloutLayout(config, program.model.config.contextLength);
  // A question whose prompt leaves no room for maxTokens in the context is not generated (the program cannot).
  const questions = Array.from({ length: config.own }, (_, index) => {
    const seed = rolloutSeed(beacon, author, index);
    const task = taskFor(seed, node.asks);
    return { index, task, seed, ...rolloutQuestion(seed, task, config)! };
  }).filter((q) => promptFits(program.tokenizer.encode(q.prompt).length, layout));
  const generated = generateRollouts(program.model, node.policy.params, questions.map((q) => rolloutInputs(q, q.seed, program.tokenizer, layout)), config, program.tokenizer);
  const groups: RolloutGroup[] = questions.map((q, i) => ({
    index: q.index,
    task: q.task,
    taskSeed: seedNumber(q.seed),
    prompt: q.prompt,
    answer: q.answer,
    completions: generated[i].completions.map((tokens, k) => ({ seed: uniformRow(k), tokens: [...tokens], reward: generated[i].rewards[k] })),
  }));
  const rollout = signRollout({ v: 1, round, node: node.id, policy: node.blob.hash, cid: node.blob.cid, groups }, node.key);
  return { node: { ...node, round, own: rollout }, rollout, blob: node.blob };
}

/** A published group as its leaf binds it: its question's index, its hash and whether it is useful. */
export type PublishedGroup = { index: number; hash: string; useful: boolean };

/**
 * A rollout's groups that fit this node's context, in index order: the groups it publishes (the leaves of its
 * committed rollouts root) or a peer's it may train on.
 */
export function publishedGroupsOf(node: SapoNode, rollout: Rollout): PublishedGroup[] {
  return publishedGroups(rollout.groups, node.program.tokenizer, node.config, node.program.model.config.contextLength).map((g) => ({ index: g.group.index, hash: g.hash, useful: g.useful }));
}

/** The rollouts worth keeping from what arrived: one per peer (the first), none from self or dropped peers. */
function candidates(node: SapoNode, rollouts: readonly { from?: string; rollout: Rollout }[]): { kept: { from?: string; rollout: Rollout }[]; verdicts: RoundVerdict[] } {
  const seen = new Set<string>();
  const kept: { from?: string; rollout: Rollout }[] = [];
  const verdicts: RoundVerdict[] = [];
  for (const r of rollouts) {
    const peer = r.from ?? r.rollout.node;
    if (r.rollout.node === node.id && peer === node.id) continue;
    const dropped = node.dropped.get(peer);
    if (dropped !== undefined) {
      verdicts.push({ peer, round: node.round, kind: 'dropped-peer', reason: `ignored: dropped earlier (${dropped})` });
      continue;
    }
    if (seen.has(r.rollout.node)) {
      verdicts.push({ peer, round: node.round, kind: 'duplicate', reason: `a second rollout of ${r.rollout.node} for round ${node.round}` });
      continue;
    }
    seen.add(r.rollout.node);
    kept.push(r);
  }
  return { kept, verdicts };
}

/**
 * Which questions of a peer's rollout this node re-executes: each with probability reexecFraction,
 * drawn from a seed keyed by this node's private key (reexecSeed), so the peer cannot predict it and
 * cannot forge only the questions no one will re-execute.
 */
function reexecSample(node: SapoNode, rollout: Rollout): RolloutGroup[] {
  const { reexecFraction } = node.config;
  if (reexecFraction <= 0 || rollout.groups.length === 0) return [];
  const rng = new Rng(reexecSeed(node.key, node.config.swarmId, rollout.node, node.round), SAPO_STREAM);
  return rollout.groups.filter(() => rng.uniform([1]).item() < reexecFraction);
}

/** The policy blobs re-execution needs this round (the caller fetches them by CID, checked in finishRound). */
export function reexecPlan(node: SapoNode, rollouts: readonly { from?: string; rollout: Rollout }[]): { peer: string; hash: string; cid: string }[] {
  return candidates(node, rollouts)
    .kept.filter((r) => reexecSample(node, r.rollout).length > 0 && checkRollout(node.config, node.program.tokenizer, r.rollout, { round: node.round, from: r.from }).ok)
    .map((r) => ({ peer: r.rollout.node, hash: r.rollout.policy, cid: r.rollout.cid }));
}

/** Why no usable blob came for a claim: no one served it, or what its author served did not hash to the CID. */
export type BlobFailure = { kind: 'unknown-policy' | 'bad-policy-blob'; reason: string };

export type RoundInbox = {
  rollouts: readonly { from?: string; rollout: Rollout }[];
  /**
   * The policy blobs fetched for re-execution, by blobKey(peer, cid): what was served for that peer's
   * claim, or why nothing usable was (undefined or absent: no one served it). Checked here against the
   * CID and the state hash.
   */
  blobs: ReadonlyMap<string, Uint8Array | BlobFailure | undefined>;
  /**
   * Opens a fetched blob (openPolicyBlob unless given). The in-process swarm passes a memo of it:
   * its 8 nodes are handed the same bytes for the same claim, and opening them (CID, decode, state
   * hash) is a pure function, so each distinct blob is checked once per round instead of once per node.
   */
  open?: typeof openPolicyBlob;
};

export const blobKey = (peer: string, cid: string) => `${peer} ${cid}`;

/**
 * Checks the round's peer rollouts, trains on I own + J external questions, and moves to the next round. `used`: the
 * groups trained on in batch order (own first, then the external ones as drawn), what the step's slots hold; `step`:
 * the step's program (undefined when no group was useful: then the policy is unchanged).
 */
export function finishRound(node: SapoNode, inbox: RoundInbox): { node: SapoNode; verdicts: RoundVerdict[]; metrics: RoundMetrics; used: UsedGroup[]; step: GrpoStepProgram | undefined } {
  const { config, program } = node;
  const own = node.own;
  if (!own || own.round !== node.round) throw new RangeError(`finishRound before startRound of round ${node.round}`);
  const tokenizerJson = JSON.stringify(program.tokenizer.toJSON());
  const { kept, verdicts } = candidates(node, inbox.rollouts);
  const dropped = new Map(node.dropped);
  const accepted: RolloutGroup[] = [];
  const authors = new Map<RolloutGroup, string>();
  let reexecuted = 0;
  const penalise = (peer: string, v: Verdict & { ok: false }) => {
    verdicts.push({ peer, round: node.round, kind: v.kind, reason: v.reason });
    dropped.set(peer, `${v.kind}: ${v.reason}`);
  };
  for (const { from, rollout } of kept) {
    const peer = from ?? rollout.node;
    const cheap = checkRollout(config, program.tokenizer, rollout, { round: node.round, from });
    // A rollout of another round is stale or early, not proof of cheating: it is ignored without a drop.
    if (!cheap.ok && cheap.kind === 'wrong-round') {
      verdicts.push({ peer, round: node.round, kind: cheap.kind, reason: cheap.reason });
      continue;
    }
    if (!cheap.ok) {
      penalise(peer, cheap);
      continue;
    }
    const sample = reexecSample(node, rollout);
    if (sample.length > 0) {
      const bytes = inbox.blobs.get(blobKey(rollout.node, rollout.cid));
      if (!(bytes instanceof Uint8Array)) {
        penalise(peer, { ok: false, ...(bytes ?? { kind: 'unknown-policy', reason: `no peer served the policy ${rollout.policy.slice(0, 12)} (CID ${rollout.cid})` }) });
        continue;
      }
      const opened = (inbox.open ?? openPolicyBlob)(bytes, { hash: rollout.policy, cid: rollout.cid }, tokenizerJson);
      if (!opened.ok) {
        penalise(peer, { ok: false, kind: 'bad-policy-blob', reason: opened.reason });
        continue;
      }
      reexecuted += sample.length;
      const replay = reexecute(config, opened.policy, rollout, sample);
      if (!replay.ok) {
        penalise(peer, replay);
        continue;
      }
    }
    accepted.push(...rollout.groups);
    for (const g of rollout.groups) authors.set(g, rollout.node);
  }

  // Training set: I own questions and J drawn among the accepted external ones, each with a
  // non-zero-advantage group, and short enough for this node's context.
  const seqLen = program.model.config.contextLength;
  const useful = (g: RolloutGroup) => groupFits(g, program.tokenizer, config, seqLen) && groupAdvantages(g.completions.map((c) => c.reward)) !== undefined;
  const ownUseful = own.groups.filter(useful);
  const pool = accepted.filter(useful);
  const rng = new Rng(textSeed(`${node.id}/train`), SAPO_STREAM, node.round * 1024 + 512);
  const external: RolloutGroup[] = [];
  while (external.length < config.external && pool.length > 0) external.push(pool.splice(rng.integers([1], 0, pool.length).item(), 1)[0]);

  const trained = [...ownUseful.map((group) => ({ group, author: node.id })), ...external.map((group) => ({ group, author: authors.get(group)! }))];
  const rows = trained.map(({ group }) => groupRows(group, program.tokenizer, config, seqLen));
  const used: UsedGroup[] = trained.map(({ group, author }, i) => ({ author, index: group.index, groupHash: groupHash(rows[i]), useful: rowsUseful(rows[i]) }));
  const advantages = trained.flatMap(({ group }) => [...groupAdvantages(group.completions.map((c) => c.reward))!]);
  let policy = node.policy;
  let loss: number | undefined;
  let gradNorm: number | undefined;
  const step = rows.length > 0 ? grpoStepProgram(program, policy, rows, config) : undefined;
  if (step) {
    const result = step.step(step.init());
    policy = step.policyOf(result.state);
    loss = result.loss;
    gradNorm = result.gradNorm;
  }

  const rewards = own.groups.flatMap((g) => g.completions.map((c) => c.reward));
  const metrics: RoundMetrics = {
    round: node.round,
    node: node.id,
    reward: rewards.length ? rewards.reduce((a, b) => a + b, 0) / rewards.length : 0,
    accuracy: own.groups.length ? own.groups.filter((g) => g.completions.some((c) => c.reward === 1)).length / own.groups.length : 0,
    rolloutsOut: own.groups.length,
    rolloutsIn: accepted.length,
    trainedOwn: ownUseful.length,
    trainedExternal: external.length,
    externalFrom: external.map((g) => authors.get(g)!),
    reexecuted,
    rejected: verdicts.length,
    dropped: [...dropped.keys()],
    loss,
    ownEqual: own.groups.length ? own.groups.filter((g) => groupAdvantages(g.completions.map((c) => c.reward)) === undefined).length / own.groups.length : 0,
    meanAbsAdvantage: advantages.length ? advantages.reduce((a, x) => a + Math.abs(x), 0) / advantages.length : 0,
    gradNorm,
    policy: policy === node.policy ? node.blob.hash : stateHash(policy),
  };
  const blob = policy === node.policy ? node.blob : policyBlob(program, policy, metrics.policy);
  return { node: { ...node, policy, blob, round: node.round + 1, dropped, own: undefined }, verdicts, metrics, used, step };
}
