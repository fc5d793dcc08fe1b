import { hexToBytes, parseEventLogs, type Address, type Chain, type Client, type Hex, type Transport } from 'viem';
import { getContractEvents } from 'viem/actions';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { sha256 } from '../../platform/sha256.js';
import { send, type MycelWalletClient, type WriteReturnType } from './send.js';

/** A rollout's leaf in a rolloutsRoot or usedRoot (SwarmCoordinator.rolloutLeaf): SHA-256(0x00 || contributor || rollout hash). */
export function swarmRolloutLeaf(contributor: Address, rolloutHash: Hex): Hex {
  const data = new Uint8Array(53);
  data.set(hexToBytes(contributor), 1);
  data.set(hexToBytes(rolloutHash), 21);
  return `0x${Buffer.from(sha256(data)).toString('hex')}`;
}

/** A leaf's RFC 6962 audit path in a tree of `size` leaves. */
export type SwarmMerklePath = { index: bigint; size: bigint; path: readonly Hex[] };

export type SwarmProveUseParameters = {
  coordinator: Address;
  /** The round of the rollout (its user trained on it in round + 1). */
  round: bigint;
  rolloutHash: Hex;
  /** The node whose usedRoot of round + 1 holds the leaf. */
  user: Address;
  /** The leaf in the prover's own rolloutsRoot of `round`, and in the user's usedRoot of round + 1. */
  own: SwarmMerklePath;
  used: SwarmMerklePath;
};

/** Proves that another node trained on one of the sender's rollouts (the use share of the round's reward). */
export async function swarmProveUse(client: MycelWalletClient, p: SwarmProveUseParameters): Promise<WriteReturnType> {
  const { result: _, ...rest } = await send(client, {
    address: p.coordinator,
    abi: SwarmCoordinatorAbi,
    functionName: 'proveUse',
    args: [p.round, p.rolloutHash, p.user, p.own, p.used],
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
