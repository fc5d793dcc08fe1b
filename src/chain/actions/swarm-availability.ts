import { decodeFunctionData, parseEventLogs, type Address, type Chain, type Client, type Hash, type Hex, type Transport } from 'viem';
import { getTransaction } from 'viem/actions';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { read, send, type MycelWalletClient, type WriteReturnType } from './send.js';

type Reader = Client<Transport, Chain | undefined>;

/**
 * One leaf of a policy's state tree as SwarmCoordinator.publishPolicy takes it: index 0 is the header (`data` = u64 LE
 * step ‖ u64 LE optimizer step, no name or shape), any other a tensor (state name as UTF-8, dtype code, shape, its
 * little-endian bytes); `path` opens the leaf at `index` in the committed policy hash.
 */
export type SwarmPolicyPart = { index: number; name: Hex; dtype: number; shape: readonly number[]; data: Hex; path: readonly Hex[] };

/** A data-availability request against a node's claim (SwarmCoordinator.getAvailability). */
export type SwarmAvailability = { requester: Address; deadline: bigint; challengeEnd: bigint; published: number; open: boolean; forfeited: boolean };

/** Asks for a node's committed policy of a round (approve the coordinator for requestBond() first). */
export async function swarmRequestPolicy(client: MycelWalletClient, p: { coordinator: Address; round: bigint; node: Address }): Promise<WriteReturnType & { deadline: bigint }> {
  const { result: _, ...rest } = await send(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'requestPolicy', args: [p.round, p.node] });
  const [event] = parseEventLogs({ abi: SwarmCoordinatorAbi, logs: rest.logs, eventName: 'PolicyRequested' });
  return { ...rest, deadline: event!.args.deadline };
}

/** Publishes leaves of the sender's committed policy of a round, for the request open against it. */
export async function swarmPublishPolicy(client: MycelWalletClient, p: { coordinator: Address; round: bigint; parts: readonly SwarmPolicyPart[] }): Promise<WriteReturnType & { complete: boolean }> {
  const { result: _, ...rest } = await send(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'publishPolicy', args: [p.round, p.parts] });
  return { ...rest, complete: parseEventLogs({ abi: SwarmCoordinatorAbi, logs: rest.logs, eventName: 'PolicyAvailable' }).length > 0 };
}

/** Ends an unanswered request after its deadline: the node's claim is refuted, the requester paid. */
export async function swarmForfeitUnavailable(client: MycelWalletClient, p: { coordinator: Address; round: bigint; node: Address }): Promise<WriteReturnType & { prize: bigint; burned: bigint }> {
  const { result: _, ...rest } = await send(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'forfeitUnavailable', args: [p.round, p.node] });
  const [event] = parseEventLogs({ abi: SwarmCoordinatorAbi, logs: rest.logs, eventName: 'PolicyForfeited' });
  return { ...rest, prize: event!.args.prize, burned: event!.args.burned };
}

export function swarmGetAvailability(client: Reader, p: { coordinator: Address; round: bigint; node: Address }): Promise<SwarmAvailability> {
  return read<SwarmAvailability>(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'getAvailability', args: [p.round, p.node] });
}

/** Until which block a node's claim can be challenged (later than the round's challengeEnd once a requested policy was published). */
export function swarmChallengeEndOf(client: Reader, p: { coordinator: Address; round: bigint; node: Address }): Promise<bigint> {
  return read<bigint>(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'challengeEndOf', args: [p.round, p.node] });
}

/**
 * The policy parts a publish transaction carried, read back from its calldata (the coordinator keeps only which leaves
 * arrived). A transaction that reached the coordinator through another contract (a smart account) has other calldata:
 * that is an error naming the transaction, whose data a tracing node can still recover (docs/swarm-chain.md).
 */
export async function swarmPublishedParts(client: Reader, p: { coordinator: Address; hash: Hash }): Promise<{ round: bigint; parts: SwarmPolicyPart[] }> {
  const tx = await getTransaction(client, { hash: p.hash });
  if (tx.to?.toLowerCase() !== p.coordinator.toLowerCase()) throw new RangeError(`the publish transaction ${p.hash} was not sent to the coordinator itself (to ${tx.to}): its parts are not in its calldata`);
  const call = decodeFunctionData({ abi: SwarmCoordinatorAbi, data: tx.input });
  if (call.functionName !== 'publishPolicy') throw new RangeError(`the transaction ${p.hash} calls ${call.functionName}, not publishPolicy`);
  const [round, parts] = call.args as unknown as [bigint, readonly { index: number; name: Hex; dtype: number; shape: readonly number[]; data: Hex; path: readonly Hex[] }[]];
  return { round, parts: parts.map((x) => ({ index: Number(x.index), name: x.name, dtype: Number(x.dtype), shape: x.shape.map(Number), data: x.data, path: [...x.path] })) };
}

/** A round's unsettled data-availability requests and its latest late challenge window (0: none). */
export function swarmGetRoundAvailability(client: Reader, p: { coordinator: Address; round: bigint }): Promise<{ openRequests: number; challengeEnd: bigint }> {
  return read<{ openRequests: number; challengeEnd: bigint }>(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'getRoundAvailability', args: [p.round] });
}
