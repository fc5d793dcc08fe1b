import { decodeAbiParameters, type AbiParameter, type Address, type Chain, type Client, type Hex, type Transport } from 'viem';
import { SwarmCoordinatorAbi } from '../generated/SwarmCoordinator.js';
import { read } from './send.js';

type Reader = Client<Transport, Chain | undefined>;
export type SwarmEntry = {
  rolloutsRoot: Hex; policyHash: Hex; usedRoot: Hex; modelConfig: Hex; runRoot: Hex; h0: Hex;
  score: number; openDisputes: number; uses: number;
  committed: boolean; claimed: boolean; refuted: boolean; collected: boolean; useCollected: boolean;
  /** The GRPO step behind the used root lost a step dispute: the used root is void. */
  stepRefuted: boolean;
  /** A refuted step or rollout group of this commit took its commit bond. */
  commitBondLost: boolean;
  held: bigint;
  /** Prizes of step and rollout disputes the node won, paid with its commit bond. */
  stepHeld: bigint;
};
/**
 * `openDisputes` counts the round's score, step and rollout disputes; `openStepDisputes` the step ones (the previous
 * round's use payout waits for them), `openRolloutDisputes` the rollout ones (the round's use payout waits for them).
 */
export type SwarmRound = { beacon: Hex; void: boolean; commits: number; openDisputes: number; openStepDisputes: number; openRolloutDisputes: number; totalScore: bigint; totalUses: bigint };
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

/**
 * A model config's programs as a coordinator admits them (SwarmCoordinator.EvalProgram): its evaluation program's
 * facts and steps, its policies' state-tree leaf count, its GRPO step (swarm/grpo-step-facts.ts grpoStepFacts; its
 * slot layout, grpoLayout) and its rollout program (swarm/rollout-facts.ts rolloutFacts; K tokens, addition of
 * `digits` digits).
 */
export type SwarmProgramOnChain = {
  modelConfig: Hex;
  factsRoot: Hex;
  factsSize: bigint;
  steps: bigint;
  policyLeafCount: number;
  grpo: { factsRoot: Hex; factsSize: bigint; layout: { slots: number; completions: number; width: number } };
  rollout: { factsRoot: Hex; factsSize: bigint; maxTokens: number; digits: number };
};

/** The EvalProgram tuple as the coordinator's constructor takes it (its `programs` input, one element). */
const EVAL_PROGRAM: AbiParameter = (() => {
  const ctor = SwarmCoordinatorAbi.find((x) => x.type === 'constructor')!;
  const programs = ctor.inputs.find((x) => x.name === 'programs')!;
  return { ...programs, type: 'tuple' } as AbiParameter;
})();

/**
 * The programs the coordinator admitted for `modelConfig` (programOf, which returns them ABI-encoded to keep the
 * coordinator under EIP-170), or undefined when none is.
 */
export async function swarmProgramOnChain(client: Reader, p: { coordinator: Address; modelConfig: Hex }): Promise<SwarmProgramOnChain | undefined> {
  const encoded = await read<Hex>(client, { address: p.coordinator, abi: SwarmCoordinatorAbi, functionName: 'programOf', args: [p.modelConfig] });
  if (encoded === '0x') return undefined;
  return decodeAbiParameters([EVAL_PROGRAM], encoded)[0] as SwarmProgramOnChain;
}
