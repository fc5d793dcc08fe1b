import { hexToBytes, type Address, type Hex } from 'viem';
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
