/**
 * A swarm node's duties over GRPO steps on the SwarmCoordinator (docs/swarm-chain.md, "The GRPO step"): run a step
 * program into the node's data dir (its own, to defend it; a peer's rebuilt from the groups it received, to check
 * it), check a peer's committed step by re-executing it and challenge it when the run roots differ (then play the
 * dispute to its ruling as the challenger), and defend the node's own step in every dispute opened against it. The
 * step is src/swarm/grpo-step.ts's program; a dispute is played by the market's party code (node/dispute.ts
 * playDispute over verify's replayParty, through swarm-challenges.ts), as a score dispute is.
 */
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { swarmChallengeStep, swarmGetEntry, swarmRolloutLeaf, swarmSchedule, type SwarmUsedGroup } from '../chain/index.js';
import { runJob, stateLeaves, Store, type JobProgram, type RunRecord, type TrainState } from '../train/index.js';
import { adversary } from '../verify/index.js';
import { grpoStepRun, type GrpoStepProgram, type GrpoStepSpec } from '../swarm/grpo-step.js';
import type { DisputeOutcome } from './dispute.js';
import { defendChallenges, playSwarmDispute, type Played } from './swarm-challenges.js';
import type { SwarmChainContext } from './swarm-chain.js';

const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`;
const plain = (h: Hex) => h.slice(2).toLowerCase();

/** A GRPO step's run kept in the node's data dir: the honest program, the one that ran, its record and next policy. */
export type SwarmStepRun = {
  honest: GrpoStepProgram;
  program: JobProgram<GrpoStepSpec>;
  record: RunRecord<GrpoStepSpec>;
  store: Store;
  /** The policy after the step (the program's h_1 without its slots): what the node commits. */
  next: TrainState;
  runRoot: Hex;
};

/** The used leaves a commit lists for `used` (swarmRolloutLeaf(author, group) each, in order). */
export const usedLeavesOf = (used: readonly SwarmUsedGroup[]): Hex[] => used.map((u) => swarmRolloutLeaf(u.author, u));

/**
 * `honest` with the rows of slots `fake` zeroed where its step reads them (the slots' concat, as the op makes it):
 * a node that lists groups it did not train on (the `fake-use` cheat). Its run is consistent: it trains on the
 * other groups, while its state carries every listed group, as the commitment claims.
 */
export function fakeUseStep(honest: GrpoStepProgram, fake: readonly number[]): JobProgram<GrpoStepSpec> {
  const { slots, completions, width } = honest.layout;
  const block = completions * 3 * width;
  return adversary.tamperAt(honest, 1, (_i, op, _attrs, _inputs, out) => {
    if (op !== 'concat' || out.shape.length !== 3 || out.shape[0] !== slots * completions) return;
    for (const k of fake) (out.data as Float32Array).fill(0, k * block, (k + 1) * block);
  });
}

/** Runs `step` (or `program(step)` in its place, a test's cheat) into the node's data dir; `tag` names the store. */
export async function runSwarmStep(ctx: SwarmChainContext, o: { step: GrpoStepProgram; program?: (honest: GrpoStepProgram) => JobProgram<GrpoStepSpec>; tag: string }): Promise<SwarmStepRun> {
  const program = o.program ? o.program(o.step) : o.step;
  const store = new Store(join(ctx.dataDir, 'swarm-step', `${o.step.id.slice(0, 16)}-${o.program ? 'other' : 'own'}-${o.tag}`));
  const { record, state } = await runJob(program, { store });
  return { honest: o.step, program, record, store, next: o.step.policyOf(state), runRoot: `0x${record.commitment!}` };
}

/** The run root the coordinator computes for a committed step: from the policies' leaves and the used groups. */
export function committedStepRoot(prev: TrainState, next: TrainState, used: readonly SwarmUsedGroup[], step: GrpoStepProgram): Hex {
  return `0x${grpoStepRun(stateLeaves(prev), stateLeaves(next), used.map((u) => plain(u.groupHash)), step.layout).runRoot}`;
}

/**
 * Checks `node`'s GRPO step committed in round `round`: `step` is the step rebuilt by this node (the node's committed
 * policy of round - 1 and the rows of the groups its commit lists, from the rollout messages this node received:
 * swarm/grpo-step.ts rebuildStep), `next` the node's committed policy of round. Runs it and, when its run root is not
 * the one the coordinator derives from the node's commitments, challenges the step and plays the dispute to its ruling
 * as the challenger. Returns 'agreed', or the dispute's outcome.
 */
export async function checkSwarmStep(
  ctx: SwarmChainContext,
  o: { round: bigint; node: Address; prev: TrainState; next: TrainState; used: readonly SwarmUsedGroup[]; step: GrpoStepProgram; signal?: AbortSignal },
): Promise<{ agreed: true } | { agreed: false; disputeId: bigint; outcome: DisputeOutcome }> {
  const entry = await swarmGetEntry(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round, node: o.node });
  if (BigInt(entry.usedRoot) === 0n) throw new RangeError(`${o.node}'s commit of round ${o.round} lists no used group: no step to check`);
  const theirs = committedStepRoot(o.prev, o.next, o.used, o.step);
  const mine = await runSwarmStep(ctx, { step: o.step, tag: `check-${o.node.slice(2, 10).toLowerCase()}` });
  if (mine.runRoot.toLowerCase() === theirs.toLowerCase()) {
    ctx.log(`round ${o.round}: ${o.node}'s GRPO step on ${o.used.length} groups re-executed: agreed`);
    return { agreed: true };
  }
  ctx.log(`round ${o.round}: ${o.node}'s committed policy is not its GRPO step on the ${o.used.length} groups it lists: challenging`);
  const fromBlock = await ctx.publicClient.getBlockNumber({ cacheTime: 0 });
  const challenged = await swarmChallengeStep(ctx.wallet, {
    coordinator: ctx.contracts.coordinator, round: o.round, node: o.node, root: mine.runRoot,
    prevPolicyLeaves: stateLeaves(o.prev).map(hex), nextPolicyLeaves: stateLeaves(o.next).map(hex), used: o.used,
  });
  ctx.tx('swarm challengeStep', challenged.gasUsed);
  const outcome = await playSwarmDispute(ctx, {
    disputeId: challenged.disputeId, round: o.round, role: 'challenger', reference: o.step, run: mine,
    roots: { solver: theirs, challenger: mine.runRoot }, opponent: o.node, fromBlock, ...(o.signal ? { signal: o.signal } : {}),
  });
  ctx.log(`round ${o.round}: dispute ${challenged.disputeId} over ${o.node}'s GRPO step: ${outcome.loser} lost at ${outcome.at}`);
  return { agreed: false, disputeId: challenged.disputeId, outcome };
}

/**
 * Defends the node's GRPO step committed in round `round` (`run`: its step's run, the one whose next policy it
 * committed): plays every dispute opened against it (StepChallenged events from `fromBlock` on) as the solver, until
 * the step challenge window (useEnd(round - 1)) has closed and each is ruled.
 */
export async function defendSwarmStep(
  ctx: SwarmChainContext,
  o: { round: bigint; run: SwarmStepRun; fromBlock: bigint; signal?: AbortSignal },
): Promise<Played[]> {
  const { useEnd: closes } = await swarmSchedule(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round - 1n });
  return defendChallenges(ctx, {
    eventName: 'StepChallenged',
    args: { round: o.round, node: ctx.address },
    fromBlock: o.fromBlock,
    over: (block) => block >= closes,
    ...(o.signal ? { signal: o.signal } : {}),
    play: (c) => {
      ctx.log(`round ${o.round}: ${c.challenger} challenged my GRPO step (dispute ${c.disputeId}): defending`);
      return playSwarmDispute(ctx, {
        disputeId: c.disputeId, round: o.round, role: 'solver', reference: o.run.honest, run: o.run,
        roots: { solver: c.args.runRoot as Hex, challenger: c.challengerRoot }, opponent: c.challenger, fromBlock: c.blockNumber, ...(o.signal ? { signal: o.signal } : {}),
      });
    },
  });
}
