/**
 * The chain side of a SAPO node (`mycel swarm start --rpc`): the loop that drives the node's duties on the
 * SwarmCoordinator. The SAPO round (swarm/round.ts, swarm/sapo-node.ts) knows nothing of the chain; it tells this
 * loop what it published (onPublished) and what it trained on (onFinished). The loop reads the block number, asks
 * the pure planner (swarm/chain-duties.ts) which actions are due, and performs them with node/swarm-chain.ts: commit,
 * fix the beacon, evaluate and claim, defend the claim, watch and re-execute a sample of the peers' claims and
 * challenge the wrong ones (playing each dispute to its ruling), collect bonds and rewards; and, from the used leaves
 * the next round's commitments logged, prove the use of its rollouts by others and collect its use share.
 *
 * The SAPO clock runs on the block number (sapoClock): `now()` here is the last block read. An RPC outage stops the
 * clock and every action: the loop retries, and when the chain answers again it resumes at the current block, where
 * a round whose window passed meanwhile is dropped (never committed or claimed late); the eval runs stay in the data
 * dir, the SAPO state in memory.
 */
import { bytesToHex, formatUnits, getAddress, hexToString, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { getContractEvents, readContract } from 'viem/actions';
import { approve, connect, ContractRevertError, getNode, swarmCollectUse, swarmGetAvailability, swarmGetEntry, swarmGetRound, swarmProgramOnChain, swarmRolloutLeaf, swarmUsedLeaves, type MycelWalletClient, type SwarmGroup, type SwarmUsedGroup } from '../chain/index.js';
import { UsageError } from '../platform/errors.js';
import { checkCoordinator } from '../chain/code.js';
import { SwarmCoordinatorAbi } from '../chain/generated/SwarmCoordinator.js';
import { MycelTokenAbi } from '../chain/generated/MycelToken.js';
import { sha256 } from '../platform/sha256.js';
import { actionKey, dutiesAt, ended, noDuties, roundDone, sapoClock, scheduleOf, started, updateRound, useKey, usesOf, type CoordinatorClock, type DutyAction, type Duties, type RoundDuty } from '../swarm/chain-duties.js';
import { EVAL_TENSORS, type EvalProgram } from '../swarm/eval-program.js';
import { rolloutCodec, type Rollout } from '../swarm/rollout-message.js';
import { openPolicyBlob, type Policy } from '../swarm/rollout-policy.js';
import { authorAddress } from '../swarm/rollout-seeds.js';
import { swarmTokenizer, type BlobFailure, type PublishedGroup } from '../swarm/round.js';
import type { Gpt } from '../nn/index.js';
import type { PolicyModel } from '../swarm/sapo-policy.js';
import type { SapoConfig } from '../swarm/sapo-config.js';
import { publishedGroups, rebuildStep, type GrpoStepProgram, type UsedGroup } from '../swarm/grpo-step.js';
import { groupAdvantages } from '../swarm/grpo.js';
import type { TrainProgram } from '../train/program.js';
import { checkSwarmStep, defendSwarmStep, fakeUseStep, runSwarmStep } from './swarm-step.js';
import { checkSwarmRollouts, defendSwarmRollouts } from './swarm-rollout.js';
import type { Played } from './swarm-challenges.js';
import { stateHash, type TrainState } from '../train/state.js';
import { adversary, rulesOf } from '../verify/index.js';
import {
  checkSwarmClaim,
  claimSwarmScore,
  collectSwarmRound,
  commitSwarmRound,
  defendSwarmClaim,
  evaluatePolicy,
  proveSwarmUse,
  roundBeacon,
  DEFAULT_SWARM_CONFIG,
  swarmModelConfig,
  swarmProgramMismatch,
  derivedSwarmProgram,
  sameRollout,
  type SwarmChainContext,
  type SwarmEvalRun,
  type SwarmProgram,
} from './swarm-chain.js';
import { DisputeReplayError } from './dispute.js';
import { availabilitySettled, forfeitSwarmPolicy, readPublishedPolicy, requestSwarmPolicy } from './swarm-availability.js';

const POLL_MS = 250;
const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';
/** How often the loop reads the round's claims (an eth_getLogs per watched round). */
const WATCH_MS = 1_000;
/** After this many failures of one action (a revert, not an outage) the node gives it up and says why. */
const MAX_FAILURES = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`;
/** A peer's policy whose fetch has not ended yet: a check of it waits. */
const STILL_FETCHING = 'still fetching';

/** The coordinator's round lengths, read from its immutables. */
export async function coordinatorClock(ctx: Pick<SwarmChainContext, 'publicClient' | 'contracts'>): Promise<CoordinatorClock & { token: Address; registry: Address; game: Address; commitBond: bigint; claimBond: bigint }> {
  const read = <T>(functionName: string) => readContract(ctx.publicClient, { address: ctx.contracts.coordinator, abi: SwarmCoordinatorAbi, functionName: functionName as 'START' }) as Promise<T>;
  const [start, commitBlocks, claimBlocks, challengeBlocks, token, registry, game, commitBond, claimBond] = await Promise.all([
    read<bigint>('START'), read<number>('COMMIT_BLOCKS'), read<number>('CLAIM_BLOCKS'), read<number>('CHALLENGE_BLOCKS'), read<Address>('TOKEN'), read<Address>('REGISTRY'), read<Address>('GAME'), read<bigint>('COMMIT_BOND'), read<bigint>('CLAIM_BOND'),
  ]);
  return { start: BigInt(start), commitBlocks: BigInt(commitBlocks), claimBlocks: BigInt(claimBlocks), challengeBlocks: BigInt(challengeBlocks), token, registry, game, commitBond, claimBond };
}

/** The hash a rollout is committed under: SHA-256 of its encoded message (what its author gossiped). */
export const rolloutHashOf = (rollout: Rollout): Hex => hex(sha256(rolloutCodec.encode('rollout', rollout)));

/** The chain address of a swarm peer: its PeerId's secp256k1 key (one key is both). */
export const addressOfPeer = (peerId: string): Address => getAddress(bytesToHex(authorAddress(peerId)));

/** A SAPO group's public part as the chain takes it (its hash as 0x hex). */
export const chainGroupOf = (u: Pick<UsedGroup, 'index' | 'groupHash' | 'useful'>): SwarmGroup => ({ index: u.index, groupHash: `0x${u.groupHash}`, useful: u.useful });

/** A group a GRPO step trained on as the chain takes it: its author's address (from its peer id) and its public part. */
export const chainUsedGroupOf = (u: UsedGroup): SwarmUsedGroup => ({ author: addressOfPeer(u.author), ...chainGroupOf(u) });

/** The swarm id a coordinator was deployed with (its SWARM_ID's first SWARM_ID_LENGTH bytes, UTF-8). */
export async function coordinatorSwarmId(client: PublicClient, coordinator: Address): Promise<string> {
  const read = (functionName: 'SWARM_ID' | 'SWARM_ID_LENGTH') => readContract(client, { address: coordinator, abi: SwarmCoordinatorAbi, functionName });
  const [word, length] = (await Promise.all([read('SWARM_ID'), read('SWARM_ID_LENGTH')])) as [Hex, bigint];
  return hexToString(`0x${word.slice(2, 2 + 2 * Number(length))}`);
}

/**
 * A score-inflating claimer (`--hostile inflate-score`): its scoring op writes every row right, or one fewer when its
 * policy really answered every row (a trained policy sometimes does): its claim is always a lie, which a test can count on.
 */
export function inflateScore(honest: EvalProgram): EvalProgram {
  const K = honest.spec.steps;
  const source = rulesOf(honest).structure(K).stateOutputs.find((o) => o.name === `opt.${EVAL_TENSORS.score}`)!.source as { index: number };
  return adversary.tamperAt(honest, K, (i, _op, _attrs, _inputs, out) => {
    const data = out.data as Float32Array;
    if (i === source.index) data[0] = data[0] === honest.layout.rows ? honest.layout.rows - 1 : honest.layout.rows;
  });
}

export type SwarmChainEvent = { type: 'chain'; round: number; action: string; [k: string]: unknown };

export type SwarmChainNodeOptions = {
  ctx: SwarmChainContext;
  clock: CoordinatorClock;
  modelConfig: Hex;
  /** The fraction of peers' claims re-executed (1: all). */
  checkFraction: number;
  /** The node's key: the sample of claims it checks is drawn from it, so a peer cannot predict it. */
  secret: Uint8Array;
  /** Fetches a peer's policy blob by CID (sapo-node.ts fetchPolicy over libp2p). */
  fetchPolicy(cid: string, provider: string): Promise<Uint8Array | BlobFailure>;
  /**
   * For tests of the coordinator's defences: claim an inflated score ('inflate-score'); claim one and withhold the
   * policy, its blob and its publication on chain when asked ('withhold-policy'); ask for every checked peer's policy
   * on chain instead of fetching it ('request-policies', a griefer paying the requests' bonds).
   */
  hostile?: 'inflate-score' | 'withhold-policy' | 'request-policies' | 'fake-use';
  /**
   * The node's policy program and swarm config, when the coordinator's GRPO step is theirs (openSwarmChain's
   * sameStep): its commits list the groups its steps trained on, it defends each step (re-runs it and plays every
   * dispute opened against it) and checks its peers' steps beside their claims (docs/swarm-chain.md, "The GRPO
   * step"). Without it, its commits list no used groups.
   * 'fake-use' (tests) lists one more group it did not train on: a peer's, after its own, and defends it as such.
   */
  step?: { program: TrainProgram; config: SapoConfig };
  /**
   * The node's policy program and swarm config, when the coordinator referees rollouts with the node's generation
   * (openSwarmChain's sameRollout): it defends each committed group challenged on chain, and checks the groups of the
   * peers whose claims it samples: it re-executes them from the committed policy (fetched by CID) and challenges a
   * group its policy did not generate (swarm-rollout.ts).
   */
  rollout?: { program: TrainProgram; config: SapoConfig };
  onEvent(e: SwarmChainEvent): void;
  signal: AbortSignal;
};

type Commitment = { policy: { model: Gpt; state: TrainState }; groups: SwarmGroup[]; usedLeaves: Hex[] };

export type SwarmChainNode = ReturnType<typeof swarmChainNode>;

export function swarmChainNode(o: SwarmChainNodeOptions) {
  const { ctx, clock } = o;
  let duties: Duties = noDuties();
  let block = 0n;
  let outage: string | undefined;
  const commitments = new Map<bigint, Commitment>();
  /** Per round, the rollout leaves of the peers' rollouts the GRPO step at its end trained on (the next round's used root). */
  const used = new Map<bigint, Hex[]>();
  /**
   * Per round, what its GRPO step was built from, to defend it: the groups listed (batch order), the rollouts they
   * came from (the peers' and its own), and the slot a 'fake-use' node listed without training on it.
   */
  const stepInputs = new Map<bigint, { used: UsedGroup[]; rollouts: Rollout[]; fake?: number }>();
  const ownRollouts = new Map<bigint, Rollout>();
  /** The SAPO rounds finished (their peers' policies are being fetched), and the last round SAPO published in. */
  const sapoFinished = new Set<bigint>();
  let sapoRound = -1n;
  /** Peers' policies by round and policy hash (`${round} 0x…`), fetched at the end of the SAPO round that used them, for checks. */
  const policies = new Map<string, { round: bigint; bytes: Uint8Array; cid: string } | { round: bigint; failure: string } | { round: bigint; model: Gpt; state: TrainState }>();
  /** The node's own policy model: a policy published on chain is rebuilt as one of it. */
  let model: Gpt | undefined;
  const runs = new Map<bigint, SwarmEvalRun>();
  const claimBlocks = new Map<bigint, bigint>();
  const failures = new Map<string, number>();
  const watchedAt = new Map<bigint, number>();
  const tally = { committed: 0, claimed: 0, challenged: 0, won: 0, lost: 0, defended: 0, forfeited: 0, paid: 0n, usesProven: 0, usePaid: 0n };
  const say = (round: bigint, action: string, text: string, extra: Record<string, unknown> = {}) => {
    ctx.log(text);
    o.onEvent({ type: 'chain', round: Number(round), action, message: text, ...extra });
  };
  const tokenizerJson = JSON.stringify(swarmTokenizer().toJSON());

  const sample = (round: bigint, node: Address): boolean => {
    if (o.checkFraction >= 1) return true;
    const h = sha256(new Uint8Array([...o.secret, ...new TextEncoder().encode(`check ${round} ${node.toLowerCase()}`)]));
    return new DataView(h.buffer, h.byteOffset).getUint32(0) / 2 ** 32 < o.checkFraction;
  };

  async function perform(a: DutyAction): Promise<void> {
    const r = a.round;
    switch (a.kind) {
      case 'commit': {
        const c = commitments.get(r)!;
        // Used groups need the node's commit of the round before, where its step started (SwarmNoPreviousCommit):
        // after a missed round, the commit lists none.
        const previous = r > 0n && duties.rounds.get(r - 1n)?.committed === true;
        const usedLeaves = previous && o.step ? c.usedLeaves : [];
        const at = await ctx.publicClient.getBlockNumber({ cacheTime: 0 });
        await commitSwarmRound(ctx, { round: r, policy: c.policy, groups: c.groups, usedLeaves, modelConfig: o.modelConfig });
        if (usedLeaves.length && o.step) void defendStep(r, at);
        // The committed policy generated the groups: the one a dispute over a group starts from.
        if (o.rollout) void defendRollouts(r, at, c.groups, c.policy.state);
        duties = updateRound(duties, r, () => ({ committed: true, rollouts: c.groups.map((group) => ({ group, leaf: swarmRolloutLeaf(ctx.address, group) })) }));
        tally.committed++;
        o.onEvent({ type: 'chain', round: Number(r), action: 'commit', rollouts: c.groups.length, used: usedLeaves.length });
        return;
      }
      case 'beacon': {
        const beacon = await roundBeacon(ctx, r);
        duties = updateRound(duties, r, () => ({ beacon: beacon ?? 'void' }));
        return;
      }
      case 'claim': {
        const beacon = duties.rounds.get(r)!.beacon as Hex;
        const c = commitments.get(r)!;
        const inflates = o.hostile === 'inflate-score' || o.hostile === 'withhold-policy';
        const run = await evaluatePolicy(ctx, { policy: c.policy, beacon, ...(inflates ? { program: inflateScore } : {}) });
        const at = await claimSwarmScore(ctx, r, run);
        runs.set(r, run);
        claimBlocks.set(r, at);
        duties = updateRound(duties, r, () => ({ claimed: true, defending: true }));
        tally.claimed++;
        o.onEvent({ type: 'chain', round: Number(r), action: 'claim', score: run.score });
        // Every dispute opened against the claim is played until the challenge window closes and each is ruled, and a
        // request for its policy is answered by publishing it on chain.
        void defend(r, run, at, c.policy.state);
        return;
      }
      case 'watch': {
        if (Date.now() - (watchedAt.get(r) ?? 0) < WATCH_MS) return;
        watchedAt.set(r, Date.now());
        const s = scheduleOf(clock, r);
        const logs = await getContractEvents(ctx.publicClient, { address: ctx.contracts.coordinator, abi: SwarmCoordinatorAbi, eventName: 'ScoreClaimed', args: { round: r }, fromBlock: s.deadline, toBlock: block });
        const nodes = [...new Set(logs.map((l) => (l as unknown as { args: { node: Address } }).args.node))];
        duties = updateRound(duties, r, (d) => ({ claims: [...new Set([...d.claims, ...nodes])] }));
        return;
      }
      case 'check': {
        // The peers' policies of round r are fetched once SAPO has finished round r (their rollouts name them): a check
        // asked for before that (its claim can come first on a busy machine) waits, proposed again at the next poll.
        // Not past the last third of the challenge window, though: a policy still not in hand then is asked for on
        // chain, while a request is still open (SwarmRequestClosed after the window).
        const hurry = block >= scheduleOf(clock, r).challengeEnd - clock.challengeBlocks / 3n || o.hostile === 'request-policies';
        if (!sapoFinished.has(r) && sapoRound <= r && !hurry) return;
        duties = updateRound(duties, r, (d) => ({ checked: [...d.checked, a.node] }));
        const entry = await swarmGetEntry(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r, node: a.node });
        const beacon = duties.rounds.get(r)!.beacon as Hex;
        const own = commitments.get(r);
        if (own && `0x${stateHash(own.policy.state)}` === entry.policyHash.toLowerCase()) {
          // The peer committed the policy this node committed (same start, no step since): no fetch needed.
          await challengeIfWrong(r, a.node, own.policy, beacon);
          return;
        }
        const known = policies.get(`${r} ${entry.policyHash.toLowerCase()}`);
        if (known && 'state' in known) {
          // Published on chain for a request, read back and checked against the committed hash.
          await challengeIfWrong(r, a.node, { model: known.model, state: known.state }, beacon);
          return;
        }
        if (known && 'failure' in known && known.failure === STILL_FETCHING && !hurry) {
          duties = updateRound(duties, r, (d) => ({ checked: d.checked.filter((x) => x !== a.node) }));
          return;
        }
        let unavailable = !known
          ? 'it was in none of the rollouts this node received'
          : 'failure' in known
            ? known.failure === STILL_FETCHING ? 'its blob is still not fetched with a third of the challenge window left' : `its blob could not be fetched: ${known.failure}`
            : undefined;
        if (o.hostile === 'request-policies') unavailable = 'this node asks for every policy (--hostile request-policies)';
        if (!unavailable && known && 'bytes' in known) {
          const opened = openPolicyBlob(known.bytes, { hash: entry.policyHash.slice(2), cid: known.cid }, tokenizerJson);
          if (opened.ok) {
            await challengeIfWrong(r, a.node, { model: opened.policy.program.model, state: opened.policy.state }, beacon);
            return;
          }
          unavailable = opened.reason;
        }
        // The policy is not available here: ask for it on chain (or follow another checker's request).
        await askForPolicy(r, a.node, entry.modelConfig, unavailable!);
        return;
      }
      case 'await-policy': {
        if (Date.now() - (watchedAt.get(-1n - r) ?? 0) < WATCH_MS) return;
        watchedAt.set(-1n - r, Date.now());
        for (const node of duties.rounds.get(r)!.awaiting ?? []) await followRequest(r, node);
        return;
      }
      case 'collect': {
        // Not before every dispute of the round is ruled (the contract refuses: SwarmDisputesOpen), nor before its
        // availability requests are settled and a late challenge window closed (SwarmRequestsOpen, SwarmTooEarly).
        if ((await swarmGetRound(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r })).openDisputes > 0) return;
        if (!(await availabilitySettled(ctx, { round: r, block, fromBlock: scheduleOf(clock, r).deadline }))) return;
        const paid = await collectSwarmRound(ctx, r, { use: false });
        duties = updateRound(duties, r, () => ({ collected: true }));
        tally.paid += paid.paid;
        o.onEvent({ type: 'chain', round: Number(r), action: 'collect', paid: String(paid.paid) });
        return;
      }
      case 'uses': {
        // All of round r+1's commitments are in once its commit window has closed: their logged used leaves.
        const next = scheduleOf(clock, r + 1n);
        const users = await swarmUsedLeaves(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r + 1n, fromBlock: next.opens, toBlock: next.deadline - 1n });
        duties = updateRound(duties, r, () => ({ users }));
        const uses = usesOf(duties.rounds.get(r)!, ctx.address);
        o.onEvent({ type: 'chain', round: Number(r), action: 'uses', users: users.length, uses: uses.length });
        return;
      }
      case 'prove': {
        const d = duties.rounds.get(r)!;
        const key = useKey(a.user, a.rollout.leaf);
        try {
          await proveSwarmUse(ctx, { round: r, group: a.rollout.group, ownGroups: d.rollouts.map((x) => x.group), user: a.user, userUsedLeaves: d.users!.find((u) => u.user === a.user)!.leaves });
        } catch (error) {
          // Its claim was refuted (before the node learnt it from its dispute): no use share, no more proofs.
          if (error instanceof ContractRevertError && error.errorName === 'SwarmNotEligible') {
            duties = updateRound(duties, r, () => ({ refuted: true }));
            return;
          }
          // A retry of a proof that did land (its receipt was lost): the coordinator has counted it.
          if (!(error instanceof ContractRevertError && error.errorName === 'SwarmUseAlreadyProven')) throw error;
        }
        duties = updateRound(duties, r, (x) => ({ proven: [...x.proven, key] }));
        tally.usesProven++;
        o.onEvent({ type: 'chain', round: Number(r), action: 'prove-use', user: a.user, rollout: a.rollout.group.groupHash });
        return;
      }
      case 'collect-use': {
        const entry = await swarmGetEntry(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r, node: ctx.address });
        if (entry.refuted || !entry.claimed) {
          duties = updateRound(duties, r, () => ({ useOver: 'its claim did not stand: no use share' }));
          return;
        }
        const { paid, gasUsed } = await swarmCollectUse(ctx.wallet, { coordinator: ctx.contracts.coordinator, round: r });
        ctx.tx('swarm collectUse', gasUsed);
        duties = updateRound(duties, r, () => ({ useOver: 'collected' }));
        tally.usePaid += paid;
        say(r, 'collect-use', `round ${r}: collected ${formatUnits(paid, 18)} MYC of use share for ${entry.uses} proven uses of its rollouts`, { paid: String(paid), uses: entry.uses });
        return;
      }
      case 'use-over': {
        duties = updateRound(duties, r, () => ({ useOver: a.reason }));
        o.onEvent({ type: 'chain', round: Number(r), action: 'use-over', reason: a.reason });
        return;
      }
      case 'drop': {
        duties = updateRound(duties, r, () => ({ dropped: a.reason }));
        if (commitments.has(r) && !duties.rounds.get(r)!.committed) say(r, 'drop', `round ${r}: not committed: ${a.reason}`);
        forget(r);
        return;
      }
    }
  }

  /** Re-executes `node`'s evaluation of round `r` and, when the run roots differ, challenges it and plays the dispute. */
  async function challengeIfWrong(r: bigint, node: Address, policy: { model: Gpt; state: TrainState }, beacon: Hex): Promise<void> {
    // The peer's GRPO step behind this commit, checked beside its claim (the policy is the step's result).
    void checkStepOf(r, node, policy.state).catch((error: unknown) => say(r, 'check-step', `round ${r}: checking ${node}'s GRPO step failed: ${(error as Error).message.split('\n')[0]}`, { node }));
    if ((await swarmGetEntry(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r, node })).refuted) {
      say(r, 'check', `round ${r}: ${node}'s claim is already refuted: not checked`, { node });
      return;
    }
    const checked = await checkSwarmClaim(ctx, { round: r, node, policy, beacon, signal: o.signal });
    if (checked.agreed) {
      o.onEvent({ type: 'chain', round: Number(r), action: 'check', node, agreed: true });
      return;
    }
    challenged(r, 'challenge', node, checked);
  }

  /** Counts a challenge this node made and played, and says how its dispute ended (`action` names what it contested). */
  function challenged(r: bigint, action: string, node: Address, d: Played, extra: Record<string, unknown> = {}): void {
    tally.challenged++;
    if (d.outcome.loser === 'solver') tally.won++;
    else tally.lost++;
    o.onEvent({ type: 'chain', round: Number(r), action, node, ...extra, disputeId: String(d.disputeId), loser: d.outcome.loser, at: d.outcome.at });
  }

  /**
   * A peer's committed policy of round `r` (state hash `hash`) as this node holds it, a state of `program`: its own (the
   * same hash), read back from the chain, or its fetched blob opened; or why it holds none.
   */
  function heldPolicy(r: bigint, hash: Hex, program: TrainProgram): Policy | string {
    const plain = hash.slice(2).toLowerCase();
    const own = commitments.get(r);
    if (own && stateHash(own.policy.state) === plain) return { program, state: own.policy.state, hash: plain };
    const known = policies.get(`${r} 0x${plain}`);
    if (known && 'state' in known) return { program, state: known.state, hash: plain };
    if (!known || !('bytes' in known)) return `its policy ${plain.slice(0, 12)}… was not fetched${known && 'failure' in known ? ` (${known.failure})` : ''}`;
    const opened = openPolicyBlob(known.bytes, { hash: plain, cid: known.cid }, tokenizerJson);
    return opened.ok ? opened.policy : opened.reason;
  }

  /**
   * Checks `node`'s GRPO step behind its commit of round `r` (docs/swarm-chain.md, "The GRPO step"): from its committed
   * policy of round r-1 and the groups its commit lists, found among the rollouts this node received in round r-1;
   * re-executes it and challenges it when it is not the committed policy (then plays the dispute). A step whose start
   * or groups this node does not hold is not checkable: skipped and said.
   */
  async function checkStepOf(r: bigint, node: Address, next: TrainState): Promise<void> {
    if (!o.step || r === 0n) return;
    const read = (round: bigint) => swarmGetEntry(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round, node });
    const [entry, before] = await Promise.all([read(r), read(r - 1n)]);
    if (BigInt(entry.usedRoot) === 0n || entry.stepRefuted) return;
    const skip = (why: string) => say(r, 'check-step-skipped', `round ${r}: cannot check ${node}'s GRPO step: ${why}`, { node });
    const { program, config } = o.step;
    const held = heldPolicy(r - 1n, before.policyHash, program);
    const inputs = stepInputs.get(r - 1n);
    if (typeof held === 'string' || !inputs) return skip(`its policy of round ${r - 1n} or that round's rollouts are not at hand`);
    const prev = held.state;
    const s = scheduleOf(clock, r);
    const logged = (await swarmUsedLeaves(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r, fromBlock: s.opens, toBlock: s.deadline - 1n })).find((u) => u.user.toLowerCase() === node.toLowerCase());
    if (!logged) return skip('its Committed log was not found');
    const byLeaf = new Map<string, UsedGroup>();
    for (const rollout of inputs.rollouts) {
      for (const g of publishedGroups(rollout.groups, program.tokenizer, config, program.model.config.contextLength)) {
        const group: UsedGroup = { author: rollout.node, index: g.group.index, groupHash: g.hash, useful: g.useful };
        byLeaf.set(swarmRolloutLeaf(addressOfPeer(rollout.node), chainGroupOf(group)).toLowerCase(), group);
      }
    }
    const used = logged.leaves.map((l) => byLeaf.get(l.toLowerCase()));
    if (used.some((u) => !u)) return skip(`${used.filter((u) => !u).length} of the groups it lists are in no rollout this node received`);
    const rebuilt = rebuildStep(program, prev, used as UsedGroup[], inputs.rollouts, config);
    if ('missing' in rebuilt) return skip(`${rebuilt.missing.length} group(s) not found`);
    const checked = await checkSwarmStep(ctx, { round: r, node, prev, next, used: (used as UsedGroup[]).map(chainUsedGroupOf), step: rebuilt.program, signal: o.signal });
    if (checked.agreed) {
      o.onEvent({ type: 'chain', round: Number(r), action: 'check-step', node, agreed: true });
      return;
    }
    challenged(r, 'challenge-step', node, checked);
  }

  /**
   * Checks `author`'s groups of round `r` (its rollout message as received) once its policy blob is fetched and every
   * commit of the round is in (docs/swarm-chain.md, "The rollout program"): re-executes them from that policy and
   * challenges a group it did not generate (then plays the dispute). Skipped, and said, when the policy could not be
   * fetched or opened, or the message is not what the author committed.
   */
  async function checkRolloutsOf(r: bigint, author: Address, rollout: Rollout): Promise<void> {
    const s = scheduleOf(clock, r);
    const key = `${r} 0x${rollout.policy}`;
    const fetched = () => { const p = policies.get(key); return !p || !('failure' in p) || p.failure !== STILL_FETCHING; };
    while ((block < s.deadline || !fetched()) && block < s.challengeEnd && !o.signal.aborted) await sleep(POLL_MS);
    if (o.signal.aborted) return;
    const skip = (why: string) => say(r, 'check-rollouts-skipped', `round ${r}: cannot check ${author}'s rollout groups: ${why}`, { node: author });
    const policy = heldPolicy(r, `0x${rollout.policy}`, o.rollout!.program);
    if (typeof policy === 'string') return skip(policy);
    const checked = await checkSwarmRollouts(ctx, { round: r, author, rollout, policy, config: o.rollout!.config, signal: o.signal });
    if ('skipped' in checked) return skip(checked.skipped);
    if (checked.agreed) {
      o.onEvent({ type: 'chain', round: Number(r), action: 'check-rollouts', node: author, agreed: true });
      return;
    }
    challenged(r, 'challenge-rollout', author, checked, { index: checked.index });
  }

  /**
   * Asks for `node`'s committed policy of round `r` on chain (a request by another checker does as well) and awaits
   * it; a policy of another model than this node's cannot be checked here, requested or not.
   */
  async function askForPolicy(r: bigint, node: Address, modelConfig: Hex, why: string): Promise<void> {
    if (modelConfig.toLowerCase() !== o.modelConfig.toLowerCase() || !model) {
      say(r, 'check-skipped', `round ${r}: cannot check ${node}'s score: ${why}, and its policy is of another model than this node's`, { node });
      return;
    }
    const availability = await swarmGetAvailability(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r, node });
    if (availability.requester === ZERO_ADDRESS) {
      try {
        await requestSwarmPolicy(ctx, { round: r, node, why });
        o.onEvent({ type: 'chain', round: Number(r), action: 'request-policy', node });
      } catch (error) {
        // Another checker asked first (it is as good: the publication is public; in the same block, the transaction
        // reverts after its simulation passed); too late, or refuted: nothing to check.
        const requester = (await swarmGetAvailability(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r, node })).requester;
        if (requester === ZERO_ADDRESS) {
          if (!(error instanceof ContractRevertError)) throw error;
          say(r, 'check-skipped', `round ${r}: cannot check ${node}'s score: ${why}; its policy cannot be requested either (${error.errorName})`, { node });
          return;
        }
      }
    } else ctx.log(`round ${r}: ${node}'s policy could not be fetched (${why}); ${availability.requester} already asked for it on chain`);
    duties = updateRound(duties, r, (d) => ({ awaiting: [...(d.awaiting ?? []).filter((x) => x !== node), node] }));
  }

  /** One look at the request against `node`'s claim of round `r`: published (then checked), forfeited, or due to be. */
  async function followRequest(r: bigint, node: Address): Promise<void> {
    const availability = await swarmGetAvailability(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r, node });
    const done = (patch: Partial<RoundDuty> = {}) => (duties = updateRound(duties, r, (d) => ({ awaiting: (d.awaiting ?? []).filter((x) => x !== node), ...patch })));
    if (availability.challengeEnd > 0n) {
      const entry = await swarmGetEntry(ctx.publicClient, { coordinator: ctx.contracts.coordinator, round: r, node });
      const { policyLeafCount } = (await swarmProgramOnChain(ctx.publicClient, { coordinator: ctx.contracts.coordinator, modelConfig: entry.modelConfig }))!;
      const read = await readPublishedPolicy(ctx, { round: r, node, policyHash: entry.policyHash, leafCount: policyLeafCount, fromBlock: scheduleOf(clock, r).deadline });
      if ('failure' in read) {
        say(r, 'check-skipped', `round ${r}: cannot check ${node}'s score: its policy was published on chain, but ${read.failure}`, { node });
        done();
        return;
      }
      policies.set(`${r} ${entry.policyHash.toLowerCase()}`, { round: r, model: model!, state: read.state });
      say(r, 'policy-published', `round ${r}: ${node} published its policy on chain; checking its claim until block ${availability.challengeEnd}`, { node });
      // Checked as a fetched policy is, in the claim's late challenge window.
      done({ late: [...(duties.rounds.get(r)!.late ?? []), node], checked: duties.rounds.get(r)!.checked.filter((x) => x !== node) });
      return;
    }
    if (availability.forfeited) {
      say(r, 'forfeited', `round ${r}: ${node} did not publish its policy: its claim is refuted`, { node });
      done();
      return;
    }
    if (availability.open && block >= availability.deadline) {
      try {
        const { prize } = await forfeitSwarmPolicy(ctx, { round: r, node });
        tally.forfeited++;
        o.onEvent({ type: 'chain', round: Number(r), action: 'forfeit', node, prize: String(prize) });
      } catch (error) {
        // Someone else ended it first.
        if (!(error instanceof ContractRevertError && error.errorName === 'SwarmNoRequest')) throw error;
      }
      done();
    }
  }

  /**
   * Plays every dispute `playAll` finds against the node (its claim, step or groups of `round`) to its ruling, counting
   * each as `action`; a failed chain read starts it again a second later, until it returns or the node stops.
   */
  async function defendRetrying(round: bigint, action: string, what: string, playAll: () => Promise<Played[]>, onPlayed?: (d: Played) => void): Promise<void> {
    for (;;) {
      try {
        for (const d of await playAll()) {
          tally.defended++;
          onPlayed?.(d);
          o.onEvent({ type: 'chain', round: Number(round), action, disputeId: String(d.disputeId), loser: d.outcome.loser, at: d.outcome.at });
        }
        return;
      } catch (error) {
        if (o.signal.aborted) return;
        say(round, 'retry', `round ${round}: defending ${what}: ${(error as Error).message.split('\n')[0]}: retrying`);
        await sleep(1_000);
      }
    }
  }

  async function defend(round: bigint, run: SwarmEvalRun, fromBlock: bigint, policy: TrainState): Promise<void> {
    await defendRetrying(round, 'defend', 'the claim', () => defendSwarmClaim(ctx, { round, run, fromBlock, policy, withhold: o.hostile === 'withhold-policy', signal: o.signal }), (d) => {
      if (d.outcome.loser === 'solver' || d.outcome.loser === 'both') duties = updateRound(duties, round, () => ({ refuted: true }));
    });
    duties = updateRound(duties, round, () => ({ defending: false }));
  }

  /** Re-runs the node's GRPO step behind its commit of round `round` and plays every dispute against it (retried like a claim's defence). */
  async function defendStep(round: bigint, fromBlock: bigint): Promise<void> {
    const inputs = stepInputs.get(round - 1n);
    const start = commitments.get(round - 1n)?.policy.state;
    if (!inputs || !start || !o.step) return;
    const rebuilt = rebuildStep(o.step.program, start, inputs.used, inputs.rollouts, o.step.config);
    if ('missing' in rebuilt) {
      say(round, 'defend-step', `round ${round}: cannot rebuild my GRPO step (${rebuilt.missing.length} group(s) not found): it cannot be defended`);
      return;
    }
    const fake = inputs.fake;
    const run = await runSwarmStep(ctx, { step: rebuilt.program, ...(fake === undefined ? {} : { program: (h: GrpoStepProgram) => fakeUseStep(h, [fake]) }), tag: `own-${round}` });
    const committed = commitments.get(round)?.policy.state;
    if (committed && stateHash(run.next) !== stateHash(committed)) say(round, 'defend-step', `round ${round}: my GRPO step re-run (${inputs.used.length} groups${fake === undefined ? '' : `, slot ${fake} listed without training on it`}) does not give my committed policy: it cannot be defended`);
    await defendRetrying(round, 'defend-step', 'the GRPO step', () => defendSwarmStep(ctx, { round, run, fromBlock, signal: o.signal }));
  }

  /** Plays every dispute opened against the node's groups of round `round` (generated by `policy`, committed with them), retried like a claim's defence. */
  async function defendRollouts(round: bigint, fromBlock: bigint, groups: readonly SwarmGroup[], policy: TrainState): Promise<void> {
    const { program, config } = o.rollout!;
    // The rows it published, which it defends (its program's, unless it is hostile).
    const published = publishedGroups(ownRollouts.get(round)?.groups ?? [], program.tokenizer, config, program.model.config.contextLength);
    const rows = new Map(published.map((g) => [g.group.index, g.rows]));
    await defendRetrying(round, 'defend-rollout', 'my rollout groups', () => defendSwarmRollouts(ctx, { round, groups, rows, policy: { program, state: policy }, config, fromBlock, signal: o.signal }));
  }

  function forget(round: bigint): void {
    commitments.delete(round);
    runs.delete(round);
    used.delete(round - 1n);
    stepInputs.delete(round - 2n);
    ownRollouts.delete(round - 2n);
    for (const [hash, p] of policies) if (p.round <= round) policies.delete(hash);
    sapoFinished.delete(round);
  }

  function run(a: DutyAction): void {
    duties = started(duties, a);
    perform(a)
      .then(() => {
        failures.delete(actionKey(a));
        const d = duties.rounds.get(a.round);
        if (d && roundDone(d) && a.kind !== 'drop') forget(a.round);
      })
      .catch((error: unknown) => {
        if (o.signal.aborted) return;
        const n = (failures.get(actionKey(a)) ?? 0) + 1;
        failures.set(actionKey(a), n);
        const why = (error as Error).message.split('\n')[0];
        if (n >= MAX_FAILURES) {
          say(a.round, 'give-up', `round ${a.round}: ${a.kind} failed ${n} times, giving it up: ${why}`, { error: why });
          if (a.kind === 'commit' || a.kind === 'claim' || a.kind === 'collect') duties = updateRound(duties, a.round, () => ({ dropped: `${a.kind} failed: ${why}` }));
          if (a.kind === 'uses' || a.kind === 'collect-use') duties = updateRound(duties, a.round, () => ({ useOver: `${a.kind} failed: ${why}` }));
          if (a.kind === 'prove') duties = updateRound(duties, a.round, (d) => ({ useSkipped: [...d.useSkipped, useKey(a.user, a.rollout.leaf)] }));
        } else say(a.round, 'retry', `round ${a.round}: ${a.kind} failed (${why}); retrying`, { error: why });
        // A check is retried only if it failed before its challenge was sent (a retry re-reads the claim: refuted or not).
        if (a.kind === 'check' && !(error instanceof DisputeReplayError)) duties = updateRound(duties, a.round, (d) => ({ checked: n >= MAX_FAILURES ? d.checked : d.checked.filter((x) => x !== a.node) }));
      })
      .finally(() => {
        duties = ended(duties, a);
      });
  }

  return {
    /** The SAPO clock's `now`, on blocks (sapoClock). */
    now: () => sapoClock(clock).now(block),
    genesisMs: sapoClock(clock).genesisMs,
    roundMs: sapoClock(clock).roundMs,
    block: () => block,
    tally,

    /**
     * SAPO published round `round`'s rollout: its commitment's inputs (its rollouts root has one leaf per published
     * group, `groups`: what its users' GRPO steps list; the message's own hash when no group fits the context).
     */
    published(p: { round: number; rollout: Rollout; groups?: readonly PublishedGroup[]; policy: TrainState; model: Gpt }): void {
      const round = BigInt(p.round);
      sapoRound = round;
      // No group fits the context: the message's own hash stands for it (never useful, never paid).
      const groups = p.groups?.length ? p.groups.map((g): SwarmGroup => ({ index: g.index, groupHash: `0x${g.hash}`, useful: g.useful })) : [{ index: 0, groupHash: rolloutHashOf(p.rollout), useful: false }];
      ownRollouts.set(round, p.rollout);
      commitments.set(round, { policy: { model: p.model, state: p.policy }, groups, usedLeaves: used.get(round - 1n) ?? [] });
      model = p.model;
      duties = updateRound(duties, round, () => ({ ready: true }));
    },

    /**
     * SAPO finished round `round`: the groups its GRPO step trained on in batch order (`used`: the next commit's used
     * leaves, rolloutLeaf(author, groupHash) each, its own groups included), and the peers' policies to fetch for checks
     * (those of the rollouts it refused too: their authors' claims and groups are checked all the same).
     */
    finished(f: { round: number; received: readonly Rollout[]; refused: readonly Rollout[]; trainedFrom: readonly string[]; used: readonly UsedGroup[] }): void {
      const round = BigInt(f.round);
      sapoFinished.add(round);
      const listed = [...f.used];
      let fake: number | undefined;
      if (o.hostile === 'fake-use' && o.step) {
        // A peer's group it did not train on, listed after the real ones (its slot is zero in its step: the policy is
        // its honest step's), for the peer to prove a use of.
        const { program, config } = o.step;
        const taken = new Set(listed.map((u) => u.groupHash));
        // A group that would teach something (mixed rewards): listing one of equal rewards changes nothing in a step.
        const extra = f.received.flatMap((r) => publishedGroups(r.groups, program.tokenizer, config, program.model.config.contextLength).map((g) => ({ author: r.node, groupHash: g.hash, group: g.group })))
          .find((g) => !taken.has(g.groupHash) && groupAdvantages(g.group.completions.map((c) => c.reward)) !== undefined);
        if (extra && listed.length < config.own + config.external) {
          fake = listed.length;
          listed.push({ author: extra.author, index: extra.group.index, groupHash: extra.groupHash, useful: true });
        }
      }
      const own = ownRollouts.get(round);
      stepInputs.set(round, { used: listed, rollouts: [...f.received, ...(own ? [own] : [])], ...(fake === undefined ? {} : { fake }) });
      used.set(round, listed.map((u) => swarmRolloutLeaf(addressOfPeer(u.author), chainGroupOf(u))));
      // Refused rollouts are not trained on, but their authors' claims and groups are checked all the same.
      for (const r of [...f.received, ...f.refused]) {
        const key = `${round} 0x${r.policy}`;
        const author = addressOfPeer(r.node);
        if (!sample(round, author)) continue;
        if (!policies.has(key)) {
          policies.set(key, { round, failure: STILL_FETCHING });
          void o.fetchPolicy(r.cid, r.node).then((got) => {
            policies.set(key, got instanceof Uint8Array ? { round, bytes: got, cid: r.cid } : { round, failure: got.reason });
          });
        }
        if (o.rollout) void checkRolloutsOf(round, author, r).catch((error: unknown) => say(round, 'check-rollouts', `round ${round}: checking ${author}'s rollout groups failed: ${(error as Error).message.split('\n')[0]}`, { node: author }));
      }
    },

    /** Polls the chain and performs what is due, until `until()` holds or the signal aborts. */
    async loop(until: () => boolean): Promise<void> {
      while (!o.signal.aborted && !until()) {
        try {
          block = await ctx.publicClient.getBlockNumber({ cacheTime: 0 });
          if (outage) ctx.log(`the chain answers again at block ${block} (${outage}); resuming at round ${(block - clock.start) / clock.commitBlocks}`);
          outage = undefined;
        } catch (error) {
          if (!outage) {
            outage = (error as Error).message.split('\n')[0];
            ctx.log(`the chain does not answer (${outage}): retrying`);
          }
          await sleep(1_000);
          continue;
        }
        // Every round in flight on the chain is watched, committed in or not.
        if (block >= clock.start) {
          const current = (block - clock.start) / clock.commitBlocks;
          for (let r = current; r >= 0n && r + 5n >= current; r--) {
            const s = scheduleOf(clock, r);
            if (block < s.challengeEnd && !duties.rounds.has(r)) duties = updateRound(duties, r, () => ({}));
          }
        }
        for (const a of dutiesAt(duties, { block, clock, self: ctx.address, sample })) run(a);
        await sleep(POLL_MS);
      }
    },

    /** Whether every round up to `last` the node committed in is done (collected, or given up). */
    settled(last: bigint): boolean {
      const open = (r: bigint) => [...duties.busy].some((k) => !k.startsWith('watch ') && BigInt(k.split(' ')[1]) === r);
      return [...duties.rounds.values()].every((r) => r.round > last || ((roundDone(r) || (!r.committed && !r.ready)) && !open(r.round)));
    },
  };
}

/** Lets the coordinator take the node's bonds: approves it for `amount` when its allowance is lower. */
export async function approveBonds(ctx: SwarmChainContext, o: { token: Address; amount: bigint }): Promise<void> {
  const allowance = (await readContract(ctx.publicClient, { address: o.token, abi: MycelTokenAbi, functionName: 'allowance', args: [ctx.address, ctx.contracts.coordinator] })) as bigint;
  if (allowance >= o.amount) return;
  const { gasUsed } = await approve(ctx.wallet, { token: o.token, spender: ctx.contracts.coordinator, amount: o.amount });
  ctx.tx('approve', gasUsed);
}

/**
 * The node's chain side, checked before the swarm starts: the chain answers (ChainUnreachableError names the fix),
 * `coordinator` is a SwarmCoordinator there that admits the node's policy model, and the node may bond.
 */
export async function openSwarmChain(o: { rpcUrl: string; privateKey: Hex; coordinator: Address; model: PolicyModel; config?: SapoConfig; dataDir: string; log(text: string): void }) {
  const account = privateKeyToAccount(o.privateKey);
  const clients = await connect({ rpcUrl: o.rpcUrl, account });
  const publicClient = clients.publicClient as PublicClient;
  const base = { publicClient, contracts: { coordinator: o.coordinator, disputeGame: o.coordinator } };
  const clock = await coordinatorClock(base).catch((cause: unknown) => {
    throw new UsageError(`--coordinator ${o.coordinator} is not a SwarmCoordinator on the chain at ${o.rpcUrl}.`, { metaMessages: ['Pass the coordinator address that `mycel chain deploy --swarm` printed, on the chain it was deployed to.'], cause });
  });
  // This build's coordinator code (its rules are in its code and immutables), on its token, registry and game.
  await checkCoordinator(publicClient, { coordinator: o.coordinator, token: clock.token, registry: clock.registry, disputeGame: clock.game });
  // Only registered nodes commit (SwarmNotRegistered): said before the swarm starts, with the fix.
  const registered = await getNode(publicClient, { registry: clock.registry, node: account.address });
  if (!registered.registered || registered.unlockAt !== 0n) {
    throw new UsageError(`The account ${account.address} (--key-file) is ${registered.registered ? 'unbonding from' : 'not registered in'} the node registry ${clock.registry}, so the coordinator refuses its commitments.`, {
      metaMessages: [`Register it with a stake first: mycel wallet stake 100 --rpc ${o.rpcUrl} --market <the JobMarket's address> --key-file <this key file>.`],
    });
  }
  const modelConfig = swarmModelConfig(o.model);
  const program = await swarmProgramOnChain(publicClient, { coordinator: o.coordinator, modelConfig });
  if (!program) throw new UsageError(`The coordinator ${o.coordinator} does not admit this node's policy model (model config ${modelConfig.slice(0, 10)}…).`, { metaMessages: ['Start the node with the --model the swarm was deployed for (mycel devnet uses micro).'] });
  // The programs it would be disputed by (its evaluation, its GRPO step under this swarm config), derived here.
  const config = o.config ?? DEFAULT_SWARM_CONFIG;
  const derived = derivedSwarmProgram(o.model, config);
  const mismatch = swarmProgramMismatch(program, derived);
  if (mismatch === 'eval') {
    throw new UsageError(`The coordinator ${o.coordinator} admits this node's policy model with another evaluation program than this build derives (its facts or its policies' leaf count).`, {
      metaMessages: ['Run the mycel version that deployed it, or deploy a coordinator with this build (mycel chain deploy --swarm).'],
    });
  }
  // Nothing plays step disputes in the node yet (docs/swarm-chain.md, Limits): another swarm config is said, not refused.
  // Another swarm config's step: its steps would be refereed by other rules, so it lists no used groups (nothing of
  // its to dispute) and checks no step; said at start.
  // Its rollouts are refereed by the coordinator's rollout program from the swarm's beacon: another generation (tasks,
  // --completions, --max-tokens, swarm id) could be refuted by anyone who disputes its groups; said at start.
  const swarmId = await coordinatorSwarmId(publicClient, o.coordinator);
  const rolloutNote = sameRollout(program, derived) && swarmId === config.swarmId
    ? undefined
    : `the coordinator referees rollouts of swarm ${JSON.stringify(swarmId)} with its own generation program (addition only, its completions and tokens), not this node's: anyone could refute its groups on chain`;
  const grpoNote = mismatch === 'grpo' ? 'the coordinator\'s GRPO step (its facts or slots) is not this node\'s under its swarm config (--split, --completions): it commits no used groups and checks no GRPO step' : undefined;
  const note = [grpoNote, rolloutNote].filter((x) => x !== undefined).join('; ') || undefined;
  const ctx: SwarmChainContext = {
    publicClient,
    wallet: clients.walletClient as MycelWalletClient,
    address: account.address,
    confirmations: 0,
    contracts: { coordinator: o.coordinator, disputeGame: clock.game },
    dataDir: o.dataDir,
    log: o.log,
    tx: () => undefined,
  };
  // Bonds for a few rounds in flight at once: a commit and a claim each, and a challenge.
  await approveBonds(ctx, { token: clock.token, amount: (clock.commitBond + 2n * clock.claimBond) * 16n });
  const balance = () => readContract(publicClient, { address: clock.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [account.address] }) as Promise<bigint>;
  return { ctx, clock, modelConfig, balance, note, sameStep: mismatch === undefined, sameRollout: rolloutNote === undefined };
}
