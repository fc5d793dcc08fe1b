import { getContractAddress, parseEventLogs, type Address, type Chain, type Client, type Hex, type Transport } from 'viem';
import { getContractEvents } from 'viem/actions';
import { SwarmAvailabilityAbi } from '../generated/SwarmAvailability.js';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { read, send, type MycelWalletClient, type WriteReturnType } from './send.js';

type Reader = Client<Transport, Chain | undefined>;

/**
 * The SwarmAvailability of a coordinator: the coordinator's constructor creates it, as its first CREATE, so its
 * address is the coordinator's at nonce 1 (a contract's nonce starts at 1); checkCoordinator checks that the
 * coordinator's AVAILABILITY is this address and this build's code. The actions below take the coordinator and
 * call its SwarmAvailability.
 */
export const swarmAvailabilityAddress = (coordinator: Address): Address => getContractAddress({ from: coordinator, nonce: 1n });

/**
 * One leaf of a policy's state tree as SwarmAvailability.publishPolicy takes it: index 0 is the header (`data` = u64 LE
 * step ‖ u64 LE optimizer step, no name or shape), any other a tensor (state name as UTF-8, dtype code, shape, its
 * little-endian bytes); `path` opens the leaf at `index` in the committed policy hash.
 */
export type SwarmPolicyPart = { index: number; name: Hex; dtype: number; shape: readonly number[]; data: Hex; path: readonly Hex[] };

/** A data-availability request against a node's claim (SwarmAvailability.getAvailability). */
export type SwarmAvailability = { requester: Address; deadline: bigint; challengeEnd: bigint; published: number; open: boolean; forfeited: boolean };

/** Asks for a node's committed policy of a round (approve the coordinator, which holds the bonds, for the SwarmAvailability's REQUEST_BOND first). */
export async function swarmRequestPolicy(client: MycelWalletClient, p: { coordinator: Address; round: bigint; node: Address }): Promise<WriteReturnType & { deadline: bigint }> {
  const { result: _, ...rest } = await send(client, { address: swarmAvailabilityAddress(p.coordinator), abi: SwarmAvailabilityAbi, functionName: 'requestPolicy', args: [p.round, p.node] });
  const [event] = parseEventLogs({ abi: SwarmAvailabilityAbi, logs: rest.logs, eventName: 'PolicyRequested' });
  return { ...rest, deadline: event!.args.deadline };
}

/** Publishes leaves of the sender's committed policy of a round, for the request open against it. */
export async function swarmPublishPolicy(client: MycelWalletClient, p: { coordinator: Address; round: bigint; parts: readonly SwarmPolicyPart[] }): Promise<WriteReturnType & { complete: boolean }> {
  const { result: _, ...rest } = await send(client, { address: swarmAvailabilityAddress(p.coordinator), abi: SwarmAvailabilityAbi, functionName: 'publishPolicy', args: [p.round, p.parts] });
  return { ...rest, complete: parseEventLogs({ abi: SwarmAvailabilityAbi, logs: rest.logs, eventName: 'PolicyAvailable' }).length > 0 };
}

/** Ends an unanswered request after its deadline: the node's claim is refuted, the requester paid. */
export async function swarmForfeitUnavailable(client: MycelWalletClient, p: { coordinator: Address; round: bigint; node: Address }): Promise<WriteReturnType & { prize: bigint; burned: bigint }> {
  const { result: _, ...rest } = await send(client, { address: swarmAvailabilityAddress(p.coordinator), abi: SwarmAvailabilityAbi, functionName: 'forfeitUnavailable', args: [p.round, p.node] });
  const [event] = parseEventLogs({ abi: SwarmAvailabilityAbi, logs: rest.logs, eventName: 'PolicyForfeited' });
  return { ...rest, prize: event!.args.prize, burned: event!.args.burned };
}

export function swarmGetAvailability(client: Reader, p: { coordinator: Address; round: bigint; node: Address }): Promise<SwarmAvailability> {
  return read<SwarmAvailability>(client, { address: swarmAvailabilityAddress(p.coordinator), abi: SwarmAvailabilityAbi, functionName: 'getAvailability', args: [p.round, p.node] });
}

/** Until which block a node's claim can be challenged (later than the round's challengeEnd once a requested policy was published). */
export function swarmChallengeEndOf(client: Reader, p: { coordinator: Address; round: bigint; node: Address }): Promise<bigint> {
  return read<bigint>(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'challengeEndOf', args: [p.round, p.node] });
}

/**
 * The leaves of `node`'s policy of `round` published so far, from the SwarmAvailability's PolicyLeafPublished logs (each
 * checked against the committed policy when it was published; in the log however the transaction reached the
 * contract). Without paths: they are for rebuilding the state, whose hash the reader checks.
 */
export async function swarmPublishedParts(client: Reader, p: { coordinator: Address; round: bigint; node: Address; fromBlock: bigint }): Promise<SwarmPolicyPart[]> {
  const logs = await getContractEvents(client, { address: swarmAvailabilityAddress(p.coordinator), abi: SwarmAvailabilityAbi, eventName: 'PolicyLeafPublished', args: { round: p.round, node: p.node }, fromBlock: p.fromBlock });
  return parseEventLogs({ abi: SwarmAvailabilityAbi, logs, eventName: 'PolicyLeafPublished' }).map(({ args: x }) => ({ index: Number(x.index), name: x.name, dtype: Number(x.dtype), shape: x.shape.map(Number), data: x.data, path: [] }));
}

/** A round's unsettled data-availability requests and its latest late challenge window (0: none). */
export function swarmGetRoundAvailability(client: Reader, p: { coordinator: Address; round: bigint }): Promise<{ openRequests: number; challengeEnd: bigint }> {
  return read<{ openRequests: number; challengeEnd: bigint }>(client, { address: swarmAvailabilityAddress(p.coordinator), abi: SwarmAvailabilityAbi, functionName: 'getRoundAvailability', args: [p.round] });
}
