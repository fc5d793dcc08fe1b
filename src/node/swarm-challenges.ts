/**
 * What every swarm dispute a node plays shares (its score claim, its GRPO step, its rollout groups, as the solver or the
 * challenger): playing one over a program the node ran, and the loop of every defence, which watches the
 * coordinator's events that open a dispute against the node, starts playing each new one as the solver, and returns
 * the outcomes once the window for challenges has closed and every dispute is ruled.
 */
import { parseEventLogs, type Address, type Hex } from 'viem';
import { getContractEvents } from 'viem/actions';
import { SwarmCoordinatorAbi } from '../chain/generated/SwarmCoordinator.js';
import { jobFacts } from '../chain/dispute-moves.js';
import { replayParty, rulesOf, type PartyOptions } from '../verify/index.js';
import type { JobProgram } from '../train/index.js';
import { playDispute, type DisputeOutcome } from './dispute.js';
import type { SwarmChainContext } from './swarm-chain.js';

/** A dispute the node played to its ruling. */
export type Played = { disputeId: bigint; outcome: DisputeOutcome };

/** A challenge as its event logged it: the fields every kind has, and the rest of its arguments. */
export type Challenge = { disputeId: bigint; challenger: Address; challengerRoot: Hex; blockNumber: bigint; args: Readonly<Record<string, unknown>> };

const POLL_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `eventName` logs matching `args` from `fromBlock` on and calls `play` once per new dispute (undefined, or an
 * outcome of undefined: not played, left to the game's clock). `over(block)` runs first at each poll, with the block read: whatever the caller
 * does each poll (answering a data-availability request), and whether the window has closed; the loop ends after the
 * poll at which it has (or the signal aborts). A play that fails is thrown then, not before: the caller retries the
 * whole loop, and a dispute already under way is resumed from the chain.
 */
export async function defendChallenges(
  ctx: SwarmChainContext,
  o: {
    eventName: 'ScoreChallenged' | 'StepChallenged' | 'RolloutChallenged';
    args: Readonly<Record<string, unknown>>;
    fromBlock: bigint;
    over(block: bigint): boolean | Promise<boolean>;
    play(c: Challenge): Promise<DisputeOutcome | undefined> | undefined;
    signal?: AbortSignal;
  },
): Promise<Played[]> {
  const playing = new Map<bigint, Promise<Played | undefined | { failed: unknown }>>();
  const left = new Set<bigint>();
  for (;;) {
    const block = await ctx.publicClient.getBlockNumber({ cacheTime: 0 });
    const done = await o.over(block);
    const logs = await getContractEvents(ctx.publicClient, { address: ctx.contracts.coordinator, abi: SwarmCoordinatorAbi, eventName: o.eventName, args: o.args as never, fromBlock: o.fromBlock, toBlock: block });
    for (const log of parseEventLogs({ abi: SwarmCoordinatorAbi, logs, eventName: o.eventName })) {
      const args = log.args as unknown as Challenge['args'] & Omit<Challenge, 'blockNumber' | 'args'>;
      if (playing.has(args.disputeId) || left.has(args.disputeId)) continue;
      const played = o.play({ disputeId: args.disputeId, challenger: args.challenger, challengerRoot: args.challengerRoot, blockNumber: log.blockNumber, args });
      if (played) playing.set(args.disputeId, played.then((outcome) => outcome && { disputeId: args.disputeId, outcome }, (failed: unknown) => ({ failed })));
      else left.add(args.disputeId);
    }
    if (done || o.signal?.aborted) break;
    await sleep(POLL_MS);
  }
  const results = await Promise.all(playing.values());
  const failure = results.find((r) => r !== undefined && 'failed' in r);
  if (failure) throw failure.failed;
  return results.filter((r): r is Played => r !== undefined);
}

/**
 * Plays dispute `disputeId` over round `round`'s program to its ruling as `role`: `reference` is the honest program
 * (its rules and facts are the deployment's), `run` this node's run in its data dir (of `reference`, or of what it
 * claimed instead), `roots` the two parties' run roots, `opponent` the other party.
 */
export function playSwarmDispute(
  ctx: SwarmChainContext,
  o: { disputeId: bigint; round: bigint; role: 'solver' | 'challenger'; reference: JobProgram; run: Pick<PartyOptions, 'program' | 'store' | 'record'>; roots: { solver: Hex; challenger: Hex }; opponent: Address; fromBlock: bigint; signal?: AbortSignal },
): Promise<DisputeOutcome> {
  const rules = rulesOf(o.reference);
  return playDispute(ctx, {
    disputeId: o.disputeId,
    jobId: o.round,
    rules,
    facts: jobFacts(rules),
    party: replayParty({ role: o.role, reference: o.reference, ...o.run }),
    roots: o.roots,
    parties: o.role === 'solver' ? { solver: ctx.address, challenger: o.opponent } : { solver: o.opponent, challenger: ctx.address },
    fromBlock: o.fromBlock,
    ...(o.signal ? { signal: o.signal } : {}),
  });
}
