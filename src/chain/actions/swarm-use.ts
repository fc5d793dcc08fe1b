import { hexToBytes, parseEventLogs, type Address, type Chain, type Client, type Hex, type Transport } from 'viem';
import { getContractEvents } from 'viem/actions';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { sha256 } from '../../platform/sha256.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

/**
 * A rollout group's public part, what its leaf binds beside its author: the question's index (its seed is drawn from
 * the round's rollout beacon, the author and the index), the group hash (the chunk root of its rows) and whether its
 * advantages are not all zero (`useful`: only such a group's use is paid).
 */
export type SwarmGroup = { index: number; groupHash: Hex; useful: boolean };

/**
 * A group's leaf in its author's rolloutsRoot and in a usedRoot (contracts/SwarmRollout.sol leaf):
 * SHA-256(0x00 || author || u32 BE index || groupHash || u8 useful).
 */
export function swarmRolloutLeaf(author: Address, g: SwarmGroup): Hex {
  const data = new Uint8Array(58);
  data.set(hexToBytes(author), 1);
  new DataView(data.buffer).setUint32(21, g.index);
  data.set(hexToBytes(g.groupHash), 25);
  data[57] = g.useful ? 1 : 0;
  return `0x${Buffer.from(sha256(data)).toString('hex')}`;
}

/** A leaf's RFC 6962 audit path in a tree of `size` leaves. */
export type SwarmMerklePath = { index: bigint; size: bigint; path: readonly Hex[] };

export type SwarmProveUseParameters = {
  coordinator: Address;
  /** The round of the rollout group (its user trained on it in round + 1). */
  round: bigint;
  /** The useful group (its leaf is swarmRolloutLeaf(sender, {index, groupHash, useful: true})). */
  index: number;
  groupHash: Hex;
  /** The node whose usedRoot of round + 1 holds the leaf. */
  user: Address;
  /** The leaf in the prover's own rolloutsRoot of `round`, and in the user's usedRoot of round + 1. */
  own: SwarmMerklePath;
  used: SwarmMerklePath;
};

/** Proves that another node trained on one of the sender's useful groups (the use share of the round's reward). */
export async function swarmProveUse(client: MycelWalletClient, p: SwarmProveUseParameters): Promise<WriteReturnType> {
  const { result: _, ...rest } = await send(client, {
    address: p.coordinator,
    abi: SwarmCoordinatorAbi,
    functionName: 'proveUse',
    args: [p.round, p.index, p.groupHash, p.user, p.own, p.used],
  });
  return rest;
}

/** A node's used leaves of one round, as its commitment logged them (Committed), with the root the coordinator computed. */
export type SwarmUsedLeaves = { user: Address; usedRoot: Hex; leaves: readonly Hex[] };

/**
 * Every commitment of round `round` with the rollout leaves its GRPO step trained on, read from the coordinator's
 * Committed logs in blocks [fromBlock, toBlock] (round `round`'s commit window holds them all): what a contributor of
 * round `round` - 1 searches for its own leaves to prove their use.
 */
export async function swarmUsedLeaves(client: Client<Transport, Chain | undefined>, p: { coordinator: Address; round: bigint; fromBlock: bigint; toBlock: bigint }): Promise<SwarmUsedLeaves[]> {
  const logs = await getContractEvents(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, eventName: 'Committed', args: { round: p.round }, fromBlock: p.fromBlock, toBlock: p.toBlock });
  return parseEventLogs({ abi: SwarmCoordinatorAbi, logs, eventName: 'Committed' }).map((l) => ({ user: l.args.node, usedRoot: l.args.usedRoot, leaves: l.args.usedLeaves }));
}
