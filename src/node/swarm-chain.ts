/**
 * A swarm node's part on the SwarmCoordinator (docs/swarm-chain.md), one function per duty of a round: commit the
 * round (policy hash, rollouts root, used root), read or fix its beacon, evaluate the committed policy on the
 * beacon's held-out tasks and claim the score, check a peer's claim by re-executing its evaluation and challenge it
 * (then play the dispute to its ruling), defend the node's own claim in every dispute opened against it, prove the
 * use of its rollouts by others, and collect. The evaluation is src/swarm/eval-program.ts's program, run and kept in
 * the node's data dir like any job's run, so a dispute is played by the same party code as a market job's
 * (swarm-challenges.ts playSwarmDispute: node/dispute.ts playDispute over verify's replayParty).
 *
 * What is not here: the SAPO node's loop calling these each round (`mycel swarm start --rpc` does not yet), and
 * fetching a peer's policy blob to check it (the caller passes the policy).
 */
import { join } from 'node:path';
import { formatUnits, hexToBytes, keccak256, toBytes, type Address, type Hex } from 'viem';
import {
  swarmChallengeScore,
  swarmClaimScore,
  swarmCollect,
  swarmCollectUse,
  swarmChallengeEndOf,
  swarmCommit,
  swarmFixBeacon,
  swarmGetAvailability,
  swarmGetEntry,
  swarmGetRound,
  swarmProveUse,
  swarmRolloutLeaf,
  type SwarmGroup,
  type SwarmMerklePath,
  type SwarmProgramOnChain,
} from '../chain/index.js';
import { SwarmCoordinatorAbi } from '../chain/generated/SwarmCoordinator.js';
import { canonicalJson, leafHash, merkleProof, merkleRoot, runJob, stateHash, stateLeaves, Store, type Hash, type RunRecord, type TrainState } from '../train/index.js';
import { evalFacts, evalProgram, evalTreeOf, type EvalProgram, type EvalSpec } from '../swarm/eval-program.js';
import { buildProgram, policySpec, type PolicyModel } from '../swarm/sapo-policy.js';
import { SWARM_START_TEMPERATURE, parseSapoConfig, swarmTask, type SapoConfig } from '../swarm/sapo-config.js';
import { grpoLayout } from '../swarm/grpo-step.js';
import { grpoStepFacts } from '../swarm/grpo-step-facts.js';
import { rolloutFacts } from '../swarm/rollout-facts.js';
import type { AdditionConfig } from '../data/index.js';
import { MycelError } from '../platform/errors.js';
import type { Gpt } from '../nn/index.js';
import type { DisputeContext, DisputeOutcome } from './dispute.js';
import { publishSwarmPolicy } from './swarm-availability.js';
import { defendChallenges, playSwarmDispute, type Played } from './swarm-challenges.js';

export type SwarmChainContext = Omit<DisputeContext, 'contracts'> & {
  contracts: { disputeGame: Address; coordinator: Address };
  address: Address;
  /** Where the node keeps its evaluation runs (one store per round and policy). */
  dataDir: string;
};

/** A policy: its model and its state (the state whose hash the node commits). */
export type SwarmPolicy = { model: Gpt; state: TrainState };

const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`;
const bytes = (h: string): Uint8Array => hexToBytes((h.startsWith('0x') ? h : `0x${h}`) as Hex);

/** A tree of rollout leaves (the node's own, or those it trained on) and each leaf's audit path. */
export function rolloutTree(leaves: readonly Hex[]): { root: Hex; path(leaf: Hex): SwarmMerklePath } {
  const asBytes = leaves.map(bytes);
  return {
    root: leaves.length ? hex(merkleRoot(asBytes)) : `0x${'00'.repeat(32)}`,
    path(leaf) {
      const i = leaves.findIndex((l) => l.toLowerCase() === leaf.toLowerCase());
      if (i < 0) throw new RangeError(`the rollout leaf ${leaf} is not in this tree`);
      return { index: BigInt(i), size: BigInt(leaves.length), path: merkleProof(asBytes, i).map(hex) };
    },
  };
}

/**
 * Commits round `round`: the policy's hash, the root of the node's rollouts of the round (leaves naming it), and the
 * root of the rollout leaves of the previous round its training step used.
 */
export async function commitSwarmRound(
  ctx: SwarmChainContext,
  o: { round: bigint; policy: SwarmPolicy; groups: readonly SwarmGroup[]; usedLeaves: readonly Hex[]; modelConfig: Hex },
): Promise<void> {
  const rollouts = rolloutTree(o.groups.map((g) => swarmRolloutLeaf(ctx.address, g)));
  const { gasUsed } = await swarmCommit(ctx.wallet, {
    coordinator: ctx.contracts.coordinator,
    round: o.round,
    rolloutsRoot: rollouts.root,
    policyHash: `0x${stateHash(o.policy.state)}`,
    usedLeaves: o.usedLeaves,
    modelConfig: o.modelConfig,
  });
  ctx.tx('swarm commit', gasUsed);
  ctx.log(`round ${o.round}: committed policy ${stateHash(o.policy.state).slice(0, 10)}…, ${o.groups.length} rollout groups, ${o.usedLeaves.length} used`);
}

/** The round's beacon, fixed by this node if nobody has yet; undefined when the round is void. */
export async function roundBeacon(ctx: SwarmChainContext, round: bigint): Promise<Hex | undefined> {
  const r = await swarmGetRound(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round });
  if (r.void) return undefined;
  if (BigInt(r.beacon) !== 0n) return r.beacon;
  let fixed: Awaited<ReturnType<typeof swarmFixBeacon>>;
  try {
    fixed = await swarmFixBeacon(ctx.wallet, { coordinator: ctx.contracts.coordinator, round });
  } catch (error) {
    // Another node fixed it first (its transaction landed between our read and ours): the beacon is there to read.
    const again = await swarmGetRound(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round });
    if (BigInt(again.beacon) !== 0n) return again.beacon;
    throw error;
  }
  ctx.tx('swarm fixBeacon', fixed.gasUsed);
  if (fixed.voided) ctx.log(`round ${round}: nobody fixed the beacon within 256 blocks: the round is void, its bonds come back`);
  return fixed.beacon;
}

export type SwarmEvalRun = {
  /** The eval program the claim is about (the honest one of this policy and beacon) and the one that ran. */
  honest: EvalProgram;
  program: EvalProgram;
  record: RunRecord<EvalSpec>;
  store: Store;
  score: number;
  claim: { runRoot: Hex; scoreBits: number; policyLeaves: Hex[]; proof: { hK: Hex; hKPath: Hex[]; scorePath: Hex[] } };
};

/**
 * Runs the evaluation of `policy` on `beacon` (its run kept in the data dir) and builds the claim of its score.
 * `program` replaces the honest program (for tests of cheats).
 */
export async function evaluatePolicy(ctx: SwarmChainContext, o: { policy: SwarmPolicy; beacon: Hex; program?: (honest: EvalProgram) => EvalProgram; tag?: string }): Promise<SwarmEvalRun> {
  const honest = evalProgram(o.policy.model, o.policy.state, bytes(o.beacon));
  const program = o.program ? o.program(honest) : honest;
  const store = new Store(join(ctx.dataDir, 'swarm-eval', `${o.beacon.slice(2, 18)}-${stateHash(o.policy.state).slice(0, 16)}-${o.program ? 'other' : 'own'}${o.tag ? `-${o.tag}` : ''}`));
  const { record } = await runJob(program, { store });
  let state = program.init();
  for (let t = 0; t < program.spec.steps; t++) state = program.step(state).state;
  if (stateHash(state) !== record.stepHashes.at(-1)) throw new Error('the evaluation replayed in memory does not end in the run\'s last state hash');
  const score = honest.score(state);
  const leaves = stateLeaves(o.policy.state);
  const runLeaves: Hash[] = record.stepHashes.map((h) => leafHash(bytes(h)));
  const K = program.spec.steps;
  return {
    honest,
    program,
    record,
    store,
    score,
    claim: {
      runRoot: `0x${record.commitment!}`,
      scoreBits: new Uint32Array(new Float32Array([score]).buffer)[0],
      policyLeaves: leaves.map(hex),
      proof: { hK: `0x${record.stepHashes[K]}`, hKPath: merkleProof(runLeaves, K).map(hex), scorePath: merkleProof(stateLeaves(state), evalTreeOf(leaves.length).scoreIndex).map(hex) },
    },
  };
}

/** Claims the evaluated score of round `round`; returns the block of the claim (where its challenges start). */
export async function claimSwarmScore(ctx: SwarmChainContext, round: bigint, run: SwarmEvalRun): Promise<bigint> {
  const { gasUsed, hash } = await swarmClaimScore(ctx.wallet, { coordinator: ctx.contracts.coordinator, round, ...run.claim });
  ctx.tx('swarm claimScore', gasUsed);
  ctx.log(`round ${round}: claimed score ${run.score} (run root ${run.claim.runRoot.slice(0, 10)}…)`);
  return (await ctx.publicClient.getTransactionReceipt({ hash })).blockNumber;
}

/**
 * Checks `node`'s claim of round `round` by running the evaluation of its policy (which the caller has: in the swarm,
 * its policy blob) and, when the run roots differ, challenges it and plays the dispute to its ruling as the
 * challenger. Returns 'agreed', or the dispute's outcome.
 */
export async function checkSwarmClaim(
  ctx: SwarmChainContext,
  o: { round: bigint; node: Address; policy: SwarmPolicy; beacon: Hex; signal?: AbortSignal },
): Promise<{ agreed: true } | { agreed: false; disputeId: bigint; outcome: DisputeOutcome }> {
  const entry = await swarmGetEntry(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round, node: o.node });
  if (!entry.claimed) throw new RangeError(`${o.node} has no claim in round ${o.round}`);
  // Its own store: evaluations of one policy for several claims (or the node's own) may run at once.
  const mine = await evaluatePolicy(ctx, { policy: o.policy, beacon: o.beacon, tag: `check-${o.node.slice(2, 10).toLowerCase()}` });
  if (mine.claim.runRoot.toLowerCase() === entry.runRoot.toLowerCase()) {
    ctx.log(`round ${o.round}: ${o.node}'s score ${entry.score} re-executed: agreed`);
    return { agreed: true };
  }
  ctx.log(`round ${o.round}: ${o.node} claimed ${entry.score}, its evaluation scores ${mine.score}: challenging`);
  const fromBlock = await ctx.publicClient.getBlockNumber({ cacheTime: 0 });
  const challenged = await swarmChallengeScore(ctx.wallet, { coordinator: ctx.contracts.coordinator, round: o.round, node: o.node, root: mine.claim.runRoot });
  ctx.tx('swarm challengeScore', challenged.gasUsed);
  const outcome = await playSwarmDispute(ctx, {
    disputeId: challenged.disputeId, round: o.round, role: 'challenger', reference: mine.honest, run: mine,
    roots: { solver: entry.runRoot, challenger: mine.claim.runRoot }, opponent: o.node, fromBlock, ...(o.signal ? { signal: o.signal } : {}),
  });
  ctx.log(`round ${o.round}: dispute ${challenged.disputeId} over ${o.node}'s score: ${outcome.loser} lost at ${outcome.at}`);
  return { agreed: false, disputeId: challenged.disputeId, outcome };
}

/**
 * Defends the node's claim of round `round`: plays every dispute opened against it (ScoreChallenged events from the
 * claim's block on) as the solver, until the claim's challenge window has closed and each is ruled. With `policy`, it
 * also answers a data-availability request against the claim by publishing the policy on chain (docs/swarm-chain.md,
 * "Data availability"), which opens a late challenge window that it defends too; `withhold` (a test's cheat) leaves
 * the request unanswered.
 */
export async function defendSwarmClaim(
  ctx: SwarmChainContext,
  o: { round: bigint; run: SwarmEvalRun; fromBlock: bigint; policy?: TrainState; withhold?: boolean; signal?: AbortSignal },
): Promise<Played[]> {
  let answered = false;
  return defendChallenges(ctx, {
    eventName: 'ScoreChallenged',
    args: { round: o.round, node: ctx.address },
    fromBlock: o.fromBlock,
    ...(o.signal ? { signal: o.signal } : {}),
    async over(block) {
      // A request can come until the round's challengeEnd; a publication moves the claim's challengeEnd later.
      const [challengeEnd, availability] = await Promise.all([
        swarmChallengeEndOf(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round, node: ctx.address }),
        swarmGetAvailability(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round, node: ctx.address }),
      ]);
      if (availability.open && !answered && o.policy) {
        answered = true;
        if (o.withhold) ctx.log(`round ${o.round}: ${availability.requester} asked for my policy: withholding it`);
        else await publishSwarmPolicy(ctx, { round: o.round, state: o.policy });
      }
      const requestOver = !availability.open || block >= availability.deadline;
      return block >= challengeEnd && requestOver;
    },
    play: (c) => {
      ctx.log(`round ${o.round}: ${c.challenger} challenged my score (dispute ${c.disputeId}): defending`);
      return playSwarmDispute(ctx, {
        disputeId: c.disputeId, round: o.round, role: 'solver', reference: o.run.honest, run: o.run,
        roots: { solver: o.run.claim.runRoot, challenger: c.challengerRoot }, opponent: c.challenger, fromBlock: c.blockNumber, ...(o.signal ? { signal: o.signal } : {}),
      });
    },
  });
}

/** Proves that `user` trained on this node's useful group `group` of round `round` (`ownGroups`: all its committed groups of the round, in order). */
export async function proveSwarmUse(
  ctx: SwarmChainContext,
  o: { round: bigint; group: SwarmGroup; ownGroups: readonly SwarmGroup[]; user: Address; userUsedLeaves: readonly Hex[] },
): Promise<void> {
  const leaf = swarmRolloutLeaf(ctx.address, o.group);
  const own = rolloutTree(o.ownGroups.map((g) => swarmRolloutLeaf(ctx.address, g)));
  const used = rolloutTree(o.userUsedLeaves);
  const { gasUsed } = await swarmProveUse(ctx.wallet, { coordinator: ctx.contracts.coordinator, round: o.round, index: o.group.index, groupHash: o.group.groupHash, user: o.user, own: own.path(leaf), used: used.path(leaf) });
  ctx.tx('swarm proveUse', gasUsed);
}

/** Collects the round: bonds and score share (after its challenge window), and the use share (after its use window). */
export async function collectSwarmRound(ctx: SwarmChainContext, round: bigint, { use = true }: { use?: boolean } = {}): Promise<{ paid: bigint; usePaid: bigint }> {
  const collected = await swarmCollect(ctx.wallet, { coordinator: ctx.contracts.coordinator, round });
  ctx.tx('swarm collect', collected.gasUsed);
  let usePaid = 0n;
  const entry = await swarmGetEntry(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round, node: ctx.address });
  if (use && entry.claimed && !entry.refuted) {
    const u = await swarmCollectUse(ctx.wallet, { coordinator: ctx.contracts.coordinator, round });
    ctx.tx('swarm collectUse', u.gasUsed);
    usePaid = u.paid;
  }
  ctx.log(`round ${round}: collected ${formatUnits(collected.paid, 18)} MYC (bonds and score share) and ${formatUnits(usePaid, 18)} MYC (use share)`);
  return { paid: collected.paid, usePaid };
}

/** The model config a coordinator names a policy model by: keccak256 of its canonical JSON. */
export function swarmModelConfig(model: PolicyModel): Hex {
  return keccak256(toBytes(canonicalJson(model)));
}

/** What a coordinator admits for one policy model: its eval program, its policies' leaf count, its GRPO step and its rollout program. */
export type SwarmProgram = SwarmProgramOnChain;

/** The swarm config a coordinator's programs assume when none is given (`mycel swarm start --tasks addition`'s: the SAPO preset on addition, the eval's task). */
export const DEFAULT_SWARM_CONFIG: SapoConfig = parseSapoConfig({ tasks: [{ name: 'addition' }], temperature: SWARM_START_TEMPERATURE });

/** A swarm config whose rollouts a coordinator cannot draw: it draws questions of the addition task only, on chain. */
export class SwarmRolloutTaskError extends MycelError {
  override name = 'SwarmRolloutTaskError';
  constructor(tasks: readonly string[]) {
    super(`The swarm asks ${tasks.join(', ')} questions; a swarm coordinator draws a rollout's question on chain with the addition task only (contracts/SwarmRollout.sol), so it cannot referee these rollouts.`, {
      metaMessages: ['Run the swarm on addition alone (a swarm config with tasks [{ name: "addition" }]) to commit to a coordinator, or run it off chain.'],
    });
  }
}

/**
 * What a coordinator admits for policies of `model` trained by swarm `config` (deploySwarmCoordinator's `programs`
 * entry): its eval program's facts tree and steps (evalFacts), its policies' state-tree leaf count, its GRPO step's
 * facts and slot layout (grpoStepFacts: own + external slots of `completions` rows over the context), and its rollout
 * program's facts (rolloutFacts) with the tokens a completion generates and the digits of the swarm's addition task.
 * Traces the three programs once.
 * @throws SwarmRolloutTaskError when the swarm asks other tasks than addition
 */
export function swarmProgramOf(model: PolicyModel, config: SapoConfig = DEFAULT_SWARM_CONFIG): SwarmProgram {
  const derived = derivedSwarmProgram(model, config);
  if (!derived.rollout) throw new SwarmRolloutTaskError(config.tasks.map((t) => t.name));
  return { ...derived, rollout: derived.rollout };
}

/** swarmProgramOf's programs as a node derives them for its own swarm config: no rollout program when the swarm asks other tasks than addition. */
export function derivedSwarmProgram(model: PolicyModel, config: SapoConfig): Omit<SwarmProgram, 'rollout'> & { rollout?: SwarmProgram['rollout'] } {
  const addition = config.tasks.length === 1 ? swarmTask(config, 'addition') : undefined;
  const facts = evalFacts(model);
  const policy = buildProgram(policySpec(config, { model, steps: 1 }));
  const step = grpoStepFacts(model, config);
  const rollout = addition && rolloutFacts(model, config);
  return {
    modelConfig: swarmModelConfig(model),
    factsRoot: facts.root,
    factsSize: facts.size,
    steps: BigInt(facts.steps),
    policyLeafCount: stateLeaves(policy.init()).length,
    grpo: { factsRoot: step.root, factsSize: step.size, layout: grpoLayout(config, model.contextLength) },
    ...(addition && rollout ? { rollout: { factsRoot: rollout.root, factsSize: rollout.size, maxTokens: config.maxTokens, digits: (addition.task.resolve(addition.config) as AdditionConfig).digits } } : {}),
  };
}

/**
 * Which of the coordinator's admitted programs (programOf) differs from what this node derives itself, the facts it
 * would be disputed by: 'eval' (its evaluation program or its policies' leaf count), 'grpo' (its GRPO step's facts or
 * slots: another swarm config), or undefined when both are the node's (its rollout program: sameRollout).
 */
export function swarmProgramMismatch(onChain: Omit<SwarmProgram, 'modelConfig'>, derived: ReturnType<typeof derivedSwarmProgram>): 'eval' | 'grpo' | undefined {
  const same = (x: Hex, y: Hex) => x.toLowerCase() === y.toLowerCase();
  if (!same(onChain.factsRoot, derived.factsRoot) || onChain.factsSize !== derived.factsSize || onChain.steps !== derived.steps || onChain.policyLeafCount !== derived.policyLeafCount) return 'eval';
  const [g, d] = [onChain.grpo, derived.grpo];
  if (!same(g.factsRoot, d.factsRoot) || g.factsSize !== d.factsSize || g.layout.slots !== d.layout.slots || g.layout.completions !== d.layout.completions || g.layout.width !== d.layout.width) return 'grpo';
  return undefined;
}

/** Whether the coordinator referees rollouts with the generation program this node runs (its facts, K and the addition digits; none when the swarm asks other tasks). */
export function sameRollout(onChain: Pick<SwarmProgram, 'rollout'>, derived: ReturnType<typeof derivedSwarmProgram>): boolean {
  const [r, e] = [onChain.rollout, derived.rollout];
  return e !== undefined && r.factsRoot.toLowerCase() === e.factsRoot.toLowerCase() && r.factsSize === e.factsSize && r.maxTokens === e.maxTokens && r.digits === e.digits;
}
