import type { Address, Chain, Client, Hex, Transport } from 'viem';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { read } from './send.js';

type Reader = Client<Transport, Chain | undefined>;
export type SwarmEntry = {
  rolloutsRoot: Hex; policyHash: Hex; usedRoot: Hex; modelConfig: Hex; runRoot: Hex; h0: Hex;
  score: number; openDisputes: number; uses: number;
  committed: boolean; claimed: boolean; refuted: boolean; collected: boolean; useCollected: boolean;
  /** The GRPO step behind the used root lost a step dispute: the used root is void. */
  stepRefuted: boolean;
  held: bigint;
  /** Prizes of step disputes the node won, paid with its commit bond. */
  stepHeld: bigint;
};
/** `openDisputes` counts the round's score and step disputes; `openStepDisputes` the step ones (the previous round's use payout waits for them). */
export type SwarmRound = { beacon: Hex; void: boolean; commits: number; openDisputes: number; openStepDisputes: number; totalScore: bigint; totalUses: bigint };
export type SwarmSchedule = { opens: bigint; deadline: bigint; claimEnd: bigint; challengeEnd: bigint; useEnd: bigint };

/** A node's commitment, claim and payouts of one round. */
export function swarmGetEntry(client: Reader, p: { coordinator: Address; round: bigint; node: Address }): Promise<SwarmEntry> {
  return read<SwarmEntry>(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'getEntry', args: [p.round, p.node] });
}

/** A round's beacon (zero until fixed), whether it is void, and its totals. */
export function swarmGetRound(client: Reader, p: { coordinator: Address; round: bigint }): Promise<SwarmRound> {
  return read<SwarmRound>(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'getRound', args: [p.round] });
}

/** A round's blocks: commits in [opens, deadline), beacon = blockhash(deadline), claims before claimEnd, challenges before challengeEnd, use proofs before useEnd. */
export async function swarmSchedule(client: Reader, p: { coordinator: Address; round: bigint }): Promise<SwarmSchedule> {
  const [opens, deadline, claimEnd, challengeEnd, useEnd] = await read<readonly bigint[]>(client, {
    address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'schedule', args: [p.round],
  });
  return { opens: opens!, deadline: deadline!, claimEnd: claimEnd!, challengeEnd: challengeEnd!, useEnd: useEnd! };
}
