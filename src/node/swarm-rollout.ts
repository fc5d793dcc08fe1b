/**
 * A node's two sides of the rollout dispute (docs/swarm-chain.md, "The rollout program"). A node's published groups of
 * a round are the outputs of the rollout program of their questions with the policy it committed with them. So a
 * challenge of one of its groups is answered by running that program and playing the dispute as the solver (its run
 * root is the one the coordinator derives from the group's leaf); and a peer's group whose tokens its policy does not
 * generate is challenged with this node's run of the program, the dispute played as the challenger.
 */
import { join } from 'node:path';
import { hexToBytes, type Address, type Hex } from 'viem';
import { swarmChallengeRollout, swarmGetEntry, swarmRolloutLeaf, swarmSchedule, type SwarmGroup } from '../chain/index.js';
import { groupHash, publishedGroups } from '../swarm/grpo-step.js';
import type { Rollout } from '../swarm/rollout-message.js';
import type { Policy } from '../swarm/rollout-policy.js';
import { generateRollouts, ROLLOUT_TENSORS, rolloutInputs, rolloutLayout, rolloutProgram, rolloutRun, type RolloutProgram } from '../swarm/rollout-program.js';
import { rolloutQuestion, rolloutSeed, roundBeacon } from '../swarm/rollout-seeds.js';
import type { SapoConfig } from '../swarm/sapo-config.js';
import { runJob, stateLeaves, Store, type RunRecord, type TrainProgram, type TrainState } from '../train/index.js';
import { adversary, rulesOf } from '../verify/index.js';
import type { Tensor } from '../tensor/index.js';
import type { DisputeOutcome } from './dispute.js';
import { rolloutTree, type SwarmChainContext } from './swarm-chain.js';
import { defendChallenges, playSwarmDispute, type Played } from './swarm-challenges.js';

const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`;

/** A group's rollout program run into the node's data dir: the program, where it ran, its record and run root. */
type GroupRun = { program: RolloutProgram; store: Store; record: RunRecord<RolloutProgram['spec']>; runRoot: Hex };

/** The inputs of `author`'s question `index` of round `round`, as the coordinator draws them (the swarm's addition task: the only one on chain). */
function groupInputs(o: { round: bigint; author: Address; index: number; program: TrainProgram; config: SapoConfig }) {
  const layout = rolloutLayout(o.config, o.program.model.config.contextLength);
  const seed = rolloutSeed(roundBeacon(o.config.swarmId, Number(o.round)), hexToBytes(o.author), o.index);
  return { inputs: rolloutInputs(rolloutQuestion(seed, 'addition', o.config)!, seed, o.program.tokenizer, layout), layout };
}

/**
 * The rollout program of `author`'s group `group` of round `round` with `policy`, and the run root the coordinator
 * derives for the group as committed (from the policy's leaves and the group's leaf fields): the author's root.
 */
function groupProgram(o: { round: bigint; author: Address; group: SwarmGroup; policy: { program: TrainProgram; state: TrainState }; config: SapoConfig }) {
  const { inputs, layout } = groupInputs({ ...o, index: o.group.index, program: o.policy.program });
  const committed: Hex = `0x${rolloutRun(stateLeaves(o.policy.state), inputs, { groupHash: o.group.groupHash.slice(2), useful: o.group.useful }, layout).runRoot}`;
  return { program: rolloutProgram(o.policy.program, o.policy.state, inputs, o.config), committed };
}

/** Runs the group's program into `<data dir>/swarm-rollout/<tag>`. */
async function runGroup(ctx: SwarmChainContext, program: RolloutProgram, tag: string): Promise<GroupRun> {
  const store = new Store(join(ctx.dataDir, 'swarm-rollout', tag));
  const { record } = await runJob(program, { store });
  return { program, store, record, runRoot: `0x${record.commitment!}` };
}

/** The op of the program's step that writes state tensor `name` (before the reshapes that give it its shape). */
export function writerOf(program: RolloutProgram, name: string): number {
  const { ops, stateOutputs } = rulesOf(program).structure(1);
  let index = (stateOutputs.find((o) => o.name === `opt.${name}`)!.source as { index: number }).index;
  while (ops[index]!.op === 'reshape') index = (ops[index]!.inputs[0]!.source as { index: number }).index;
  return index;
}

/**
 * `honest` writing `published`'s rows and useful flag instead of its own: the run of a group its author published
 * though its policy did not generate it (`--hostile not-reproduced`). It is consistent with the author's commitment,
 * so its dispute is played to the one instruction that refutes it.
 */
export function publishedGroupProgram(honest: RolloutProgram, published: { rows: Tensor; useful: boolean }): RolloutProgram {
  const rows = writerOf(honest, ROLLOUT_TENSORS.rows);
  const useful = writerOf(honest, ROLLOUT_TENSORS.useful);
  return adversary.tamperAt(honest, 1, (i, _op, _attrs, _inputs, out) => {
    if (i === rows) (out.data as Float32Array).set(published.rows.data as Float32Array);
    if (i === useful) (out.data as Float32Array)[0] = published.useful ? 1 : 0;
  });
}

/**
 * Defends the node's groups committed in round `round` (`groups`, in its rolloutsRoot; generated by `policy`, the
 * policy committed with them, under swarm `config`): plays every dispute opened against one of them
 * (RolloutChallenged events from `fromBlock` on) as the solver with the group's rollout program, until the round's
 * challenge window has closed and each is ruled. A group the program does not give (its policy did not generate it)
 * is played as published when its rows are in `rows` (by question index: a hostile node's), else left to the clock.
 */
export async function defendSwarmRollouts(
  ctx: SwarmChainContext,
  o: { round: bigint; groups: readonly SwarmGroup[]; rows?: ReadonlyMap<number, Tensor>; policy: { program: TrainProgram; state: TrainState }; config: SapoConfig; fromBlock: bigint; signal?: AbortSignal },
): Promise<Played[]> {
  const byLeaf = new Map(o.groups.map((g) => [swarmRolloutLeaf(ctx.address, g).toLowerCase(), g]));
  const { challengeEnd: closes } = await swarmSchedule(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round });
  /** The run of a group the node defends (once per group: several challengers may dispute it at once), or none when it cannot be. */
  const runs = new Map<number, Promise<{ honest: RolloutProgram; program: RolloutProgram; run: GroupRun } | undefined>>();
  const runOf = async (group: SwarmGroup) => {
    const { program: honest, committed } = groupProgram({ ...o, author: ctx.address, group });
    const run = await runGroup(ctx, honest, `${o.round}-${group.index}`);
    if (run.runRoot.toLowerCase() === committed.toLowerCase()) return { honest, program: honest, run };
    const rows = o.rows?.get(group.index);
    if (!rows) return undefined;
    const program = publishedGroupProgram(honest, { rows, useful: group.useful });
    return { honest, program, run: await runGroup(ctx, program, `${o.round}-${group.index}-published`) };
  };
  const defendGroup = async (group: SwarmGroup, c: { disputeId: bigint; challenger: Address; challengerRoot: Hex; blockNumber: bigint }): Promise<DisputeOutcome | undefined> => {
    if (!runs.has(group.index)) runs.set(group.index, runOf(group));
    const ran = await runs.get(group.index)!;
    if (!ran) {
      ctx.log(`round ${o.round}: my rollout group ${group.index} is not my policy's generation and its rows are not at hand: dispute ${c.disputeId} cannot be defended`);
      return undefined;
    }
    const { honest, program, run } = ran;
    const outcome = await playSwarmDispute(ctx, {
      disputeId: c.disputeId, round: o.round, role: 'solver', reference: honest, run: { ...run, program },
      roots: { solver: run.runRoot, challenger: c.challengerRoot }, opponent: c.challenger, fromBlock: c.blockNumber, ...(o.signal ? { signal: o.signal } : {}),
    });
    ctx.log(`round ${o.round}: dispute ${c.disputeId} over my rollout group ${group.index}: ${outcome.loser} lost at ${outcome.at}`);
    return outcome;
  };
  return defendChallenges(ctx, {
    eventName: 'RolloutChallenged',
    args: { round: o.round, author: ctx.address },
    fromBlock: o.fromBlock,
    over: (block) => block >= closes,
    ...(o.signal ? { signal: o.signal } : {}),
    play: (c) => {
      const leaf = c.args.leaf as Hex;
      const group = byLeaf.get(leaf.toLowerCase());
      // (A leaf in its rolloutsRoot that is not among `groups`: the caller passed another round's groups.)
      if (!group) {
        ctx.log(`round ${o.round}: ${c.challenger} challenged the group leaf ${leaf.slice(0, 10)}…, which is not among the groups given: not defended`);
        return undefined;
      }
      ctx.log(`round ${o.round}: ${c.challenger} challenged my rollout group ${group.index} (dispute ${c.disputeId}): defending`);
      return defendGroup(group, c);
    },
  });
}

/** What a check of a peer's groups found: all its policy's output, a challenge played, or why it could not be checked. */
export type RolloutCheck = { agreed: true } | { skipped: string } | { agreed: false; index: number; disputeId: bigint; outcome: DisputeOutcome };

/**
 * Checks `author`'s groups of round `round` as its rollout message gave them (`rollout`, received over gossip) against
 * the policy it committed with them (`policy`, its blob, fetched by the CID the message names): generates every
 * group's question, drawn as the coordinator draws it, with that policy and, at the first group whose rows or useful
 * bit differ from the committed ones (tokens, rewards or the question itself), runs the group's rollout program and
 * challenges the group with its run root (then plays the dispute to its ruling as the challenger). One
 * challenge per commit: the first refuted group takes the author's commit bond. Not checkable (skipped, with the
 * reason): a message whose policy is not the committed one, or whose groups are not the committed rolloutsRoot.
 */
export async function checkSwarmRollouts(
  ctx: SwarmChainContext,
  o: { round: bigint; author: Address; rollout: Rollout; policy: Policy; config: SapoConfig; signal?: AbortSignal },
): Promise<RolloutCheck> {
  const { program } = o.policy;
  const published = publishedGroups(o.rollout.groups, program.tokenizer, o.config, program.model.config.contextLength);
  if (published.length === 0) return { skipped: 'none of its groups fits the context: its rollouts root is its message\'s hash, which no dispute opens' };
  const entry = await swarmGetEntry(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: o.round, node: o.author });
  if (!entry.committed) return { skipped: 'it did not commit the round' };
  if (entry.policyHash.toLowerCase() !== `0x${o.policy.hash}`) return { skipped: `its rollout names the policy ${o.policy.hash.slice(0, 12)}… and it committed ${entry.policyHash.slice(0, 14)}…` };
  const groups = published.map((g): SwarmGroup => ({ index: g.group.index, groupHash: `0x${g.hash}`, useful: g.useful }));
  const tree = rolloutTree(groups.map((g) => swarmRolloutLeaf(o.author, g)));
  if (tree.root.toLowerCase() !== entry.rolloutsRoot.toLowerCase()) return { skipped: 'the groups of its rollout message are not the ones it committed' };
  const generated = generateRollouts(program.model, o.policy.state.params, groups.map((g) => groupInputs({ ...o, program, index: g.index }).inputs), o.config, program.tokenizer);
  const wrong = groups.findIndex((g, i) => `0x${groupHash(generated[i]!.rows)}` !== g.groupHash || generated[i]!.useful !== g.useful);
  if (wrong < 0) {
    ctx.log(`round ${o.round}: ${o.author}'s ${groups.length} rollout groups re-executed: agreed`);
    return { agreed: true };
  }
  const group = groups[wrong]!;
  const { program: honest, committed: theirs } = groupProgram({ ...o, group });
  const mine = await runGroup(ctx, honest, `check-${o.round}-${o.author.slice(2, 10).toLowerCase()}-${group.index}`);
  // (The program's rows are SAPO's generation bit for bit: other rows give another run root.)
  if (mine.runRoot.toLowerCase() === theirs.toLowerCase()) throw new RangeError(`round ${o.round}: ${o.author}'s group ${group.index} was generated to other rows, yet its rollout program gives the committed run root`);
  ctx.log(`round ${o.round}: ${o.author}'s rollout group ${group.index} is not its committed policy's generation of its question: challenging`);
  const fromBlock = await ctx.publicClient.getBlockNumber({ cacheTime: 0 });
  const challenged = await swarmChallengeRollout(ctx.wallet, {
    coordinator: ctx.contracts.coordinator, round: o.round, group: { author: o.author, ...group },
    proof: tree.path(swarmRolloutLeaf(o.author, group)), policyLeaves: stateLeaves(o.policy.state).map(hex), root: mine.runRoot,
  });
  ctx.tx('swarm challengeRollout', challenged.gasUsed);
  const outcome = await playSwarmDispute(ctx, {
    disputeId: challenged.disputeId, round: o.round, role: 'challenger', reference: honest, run: mine,
    roots: { solver: theirs, challenger: mine.runRoot }, opponent: o.author, fromBlock, ...(o.signal ? { signal: o.signal } : {}),
  });
  ctx.log(`round ${o.round}: dispute ${challenged.disputeId} over ${o.author}'s rollout group ${group.index}: ${outcome.loser} lost at ${outcome.at}`);
  return { agreed: false, index: group.index, disputeId: challenged.disputeId, outcome };
}
