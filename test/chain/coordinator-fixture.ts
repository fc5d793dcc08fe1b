/**
 * Shared by the coordinator tests and bench/chain.ts: one anvil with token, registry, market and the real DisputeGame
 * (or MockResolver, for the property test, which models the game as ruling for the honest party) and a
 * SwarmCoordinator whose pool is funded at deployment; registered, funded nodes; tiny swarm policies and their real
 * evaluation runs on a round's beacon (src/swarm/eval-program.ts), or synthetic run trees that open a chosen score.
 */
import { hexToBytes, keccak256, parseUnits, toHex as viemHex, type Address, type Hex, type PublicClient, type TestClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { readContract } from 'viem/actions';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients, deployContract } from '../../src/chain/clients.js';
import { deployMycel, deploySwarmCoordinator } from '../../src/chain/deploy.js';
import { send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { approve, register, swarmCommit, swarmFixBeacon, swarmGetRound, swarmRolloutLeaf, swarmSchedule, type SwarmGroup, type SwarmSchedule } from '../../src/chain/index.js';
import { MockResolverAbi, MockResolverBytecode } from '../../src/chain/generated/MockResolver.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import { headerLeaf, leafHash, merkleProof, merkleRoot, runJob, stateHash, stateLeaves, type Hash, type JobProgram, type RunRecord, type TrainState } from '../../src/train/index.js';
import { evalH0, evalProgram, evalTreeOf, scoreLeaf, type EvalProgram, type EvalSpec } from '../../src/swarm/eval-program.js';
import { buildProgram, policySpec, type PolicyModel } from '../../src/swarm/sapo-policy.js';
import { parseSapoConfig } from '../../src/swarm/sapo-config.js';
import type { Gpt } from '../../src/nn/index.js';
import { tempStore } from '../train/helpers.js';
import { DEFAULT_SWARM_CONFIG, swarmModelConfig, swarmProgramOf } from '../../src/node/swarm-chain.js';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { encodeDisputeMove, jobFacts, type JobFacts } from '../../src/chain/dispute-moves.js';
import { playGame, replayParty, rulesOf, type GameResult } from '../../src/verify/index.js';
import { acceptedMoves } from './dispute-replay.js';

export const T = (n: number | string) => parseUnits(String(n), 18);
/** The tests' policy model: small enough that an evaluation run takes well under a second. */
export const TINY: PolicyModel = { contextLength: 16, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 };
export const MODEL_CONFIG = swarmModelConfig(TINY);
export const TIMING = { commitBlocks: 10, claimBlocks: 20, challengeBlocks: 20 };
export const ECONOMICS = { commitBond: T(1), claimBond: T(10), rewardPerRound: T(100), rounds: 50, useShareBps: 2_000 };
/** Each party's chess clock in the game, in blocks. */
export const CLOCK = 30;
export const ZERO: Hex = `0x${'00'.repeat(32)}`;

export const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString('hex')}`;
const bytes = (h: string): Uint8Array => hexToBytes((h.startsWith('0x') ? h : `0x${h}`) as Hex);

export type SwarmChain = {
  anvil: Anvil;
  wallets: MycelWalletClient[];
  publicClient: PublicClient;
  testClient: TestClient;
  token: Address;
  registry: Address;
  game: Address;
  coordinator: Address;
  /** With `mock`: the MockResolver standing for the game. */
  mock: boolean;
  /** The coordinator's deployment gas; `programsGas` its SwarmPrograms'. */
  deployGas: bigint;
  programsGas: bigint;
  balance(who: Address): Promise<bigint>;
  totalSupply(): Promise<bigint>;
  block(): Promise<bigint>;
  /**
   * Mines until the latest block is `n` (nothing when it is already later). A call is simulated at the latest block
   * (anvil's eth_call sees its number) and its transaction mined in the next one.
   */
  mineTo(n: bigint): Promise<void>;
  schedule(round: bigint): Promise<SwarmSchedule>;
  stop(): Promise<void>;
};

/** Deploys everything; wallets 1..`nodes` are funded, registered and have approved the coordinator. */
export async function setupSwarmChain({ mock = false, nodes = 6 }: { mock?: boolean; nodes?: number } = {}): Promise<SwarmChain> {
  const anvil = await startAnvil({ gasLimit: 1_000_000_000n });
  const clients = anvil.accounts.map((a) => createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(a.privateKey) }));
  const wallets = clients.map((c) => c.walletClient as MycelWalletClient);
  const { publicClient, testClient } = clients[0];
  const resolver = mock ? (await deployContract(wallets[0], { abi: MockResolverAbi, bytecode: MockResolverBytecode })).address : undefined;
  const d = await deployMycel(wallets[0], {
    ...(resolver ? { resolver } : { disputeGame: { clock: CLOCK } }),
    minStake: T(100),
    unbondingDelay: 1_000n,
    minChallengeWindow: 50n,
  });
  const game = resolver ?? d.disputeGame!;
  const swarm = await deploySwarmCoordinator(wallets[0], {
    token: d.token,
    registry: d.registry,
    game,
    timing: TIMING,
    economics: ECONOMICS,
    programs: [tinyProgram()],
    swarmId: SWARM_ID,
  });
  for (const w of wallets.slice(1, nodes + 1)) {
    await send(wallets[0], { address: d.token, abi: MycelTokenAbi, functionName: 'transfer', args: [w.account.address, T(10_000)] });
    await approve(w, { token: d.token, spender: d.registry, amount: T(100) });
    await approve(w, { token: d.token, spender: swarm.coordinator, amount: T(5_000) });
    await register(w, { registry: d.registry, stake: T(100) });
  }
  const block = () => publicClient.getBlockNumber({ cacheTime: 0 });
  return {
    anvil,
    wallets,
    publicClient: publicClient as PublicClient,
    testClient: testClient as TestClient,
    token: d.token,
    registry: d.registry,
    game,
    coordinator: swarm.coordinator,
    mock,
    deployGas: swarm.gasUsed,
    programsGas: swarm.swarmProgramsGas,
    balance: (who) => readContract(publicClient, { address: d.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [who] }),
    totalSupply: () => readContract(publicClient, { address: d.token, abi: MycelTokenAbi, functionName: 'totalSupply' }),
    block,
    async mineTo(n) {
      // In batches: a thousand blocks at once can outlast an RPC timeout on a loaded machine.
      for (let left = Number(n - (await block())); left > 0; left -= 100) await testClient.mine({ blocks: Math.min(left, 100) });
    },
    schedule: (round) => swarmSchedule(publicClient, { coordinator: swarm.coordinator, round }),
    stop: () => anvil.stop(),
  };
}

/** The swarm id the tests' coordinators are deployed with (the SAPO default): rollout beacons are roundBeacon(SWARM_ID, round). */
export const SWARM_ID = DEFAULT_SWARM_CONFIG.swarmId;

let program: ReturnType<typeof swarmProgramOf> | undefined;
/** What the coordinator admits for the tiny model (its eval program's facts, its policies' leaf count), computed once. */
export function tinyProgram() {
  return (program ??= swarmProgramOf(TINY));
}
/** The tiny model's evaluation program facts. */
export const programFacts = () => ({ root: tinyProgram().factsRoot, size: tinyProgram().factsSize, steps: Number(tinyProgram().steps) });

export type Policy = { model: Gpt; state: TrainState; leaves: Hash[]; hash: Hex };

/** A swarm policy of the tiny model, initialized from `seed`. */
export function policyOf(seed: number): Policy {
  const program = buildProgram(policySpec(parseSapoConfig({ tasks: [{ name: 'addition' }] }), { model: TINY, seed, steps: 1, batchSize: 4 }));
  const state = program.init();
  return { model: program.model, state, leaves: stateLeaves(state), hash: `0x${stateHash(state)}` };
}

/** A claim's arguments: run root, score bits, the policy's leaves and the openings of h_K and the score leaf. */
export type Claim = { runRoot: Hex; scoreBits: number; policyLeaves: Hex[]; proof: { hK: Hex; hKPath: Hex[]; scorePath: Hex[] } };

export type EvalRun = Claim & { program: EvalProgram; record: RunRecord<EvalSpec>; store: Awaited<ReturnType<typeof tempStore>>; score: number };

/** `policy`'s real evaluation run on `beacon` (optionally a cheating program in its place), and its claim. */
export async function evalRun(policy: Policy, beacon: Hex, cheat?: (honest: EvalProgram) => EvalProgram): Promise<EvalRun> {
  const honest = evalProgram(policy.model, policy.state, bytes(beacon));
  const program = cheat ? cheat(honest) : honest;
  const store = await tempStore();
  const { record } = await runJob(program, { store });
  let state = program.init();
  for (let t = 0; t < program.spec.steps; t++) state = program.step(state).state;
  const score = honest.score(state);
  const scoreBits = new Uint32Array(new Float32Array([score]).buffer)[0];
  const K = program.spec.steps;
  const runLeaves = record.stepHashes.map((h) => leafHash(bytes(h)));
  const { scoreIndex } = evalTreeOf(policy.leaves.length);
  return {
    program,
    record,
    store,
    score,
    runRoot: `0x${record.commitment!}`,
    scoreBits,
    policyLeaves: policy.leaves.map(hex),
    proof: { hK: `0x${record.stepHashes[K]}`, hKPath: merkleProof(runLeaves, K).map(hex), scorePath: merkleProof(stateLeaves(state), scoreIndex).map(hex) },
  };
}

/**
 * A claim of `score` whose run tree is synthetic: leaf 0 is the real h_0 of `policy` on `beacon`, leaf K an h_K whose
 * last leaf holds the score, the others filler. claimScore accepts it (it checks h_0's inputs and the openings, not
 * the run), and only a dispute could tell; the property test's game is the mock, ruling by the generated truth.
 */
export function syntheticClaim(policy: Policy, beacon: Hex, score: number, salt = 0): Claim {
  const { h0 } = evalH0(bytes(beacon), policy.leaves);
  const K = programFacts().steps;
  const { size, scoreIndex } = evalTreeOf(policy.leaves.length);
  const stateLeafs: Hash[] = Array.from({ length: size }, (_, i) => (i === 0 ? headerLeaf(K, K) : leafHash(Uint8Array.of(i, salt & 0xff))));
  const scoreBits = new Uint32Array(new Float32Array([score]).buffer)[0];
  stateLeafs[scoreIndex] = scoreLeaf(scoreBits);
  const hK = merkleRoot(stateLeafs);
  const hashes: Hash[] = [bytes(h0), ...Array.from({ length: K - 1 }, (_, t) => leafHash(Uint8Array.of(0xee, t, salt & 0xff))), hK];
  const runLeaves = hashes.map((h) => leafHash(h));
  return {
    runRoot: hex(merkleRoot(runLeaves)),
    scoreBits,
    policyLeaves: policy.leaves.map(hex),
    proof: { hK: hex(hK), hKPath: merkleProof(runLeaves, K).map(hex), scorePath: merkleProof(stateLeafs, scoreIndex).map(hex) },
  };
}

/** A node's rollout groups of a round: leaves naming it, their root, and each leaf's path. */
export function rolloutsOf(node: Address, groups: readonly SwarmGroup[]) {
  const leaves = groups.map((g) => swarmRolloutLeaf(node, g));
  const asBytes = leaves.map(bytes);
  return {
    leaves,
    root: leaves.length ? hex(merkleRoot(asBytes)) : ZERO,
    path: (i: number) => ({ index: BigInt(i), size: BigInt(leaves.length), path: merkleProof(asBytes, i).map(hex) }),
  };
}

/** A used root over rollout leaves (of any contributors), with each leaf's path. */
export function usedOf(leaves: readonly Hex[]) {
  const asBytes = leaves.map(bytes);
  return {
    leaves,
    root: leaves.length ? hex(merkleRoot(asBytes)) : ZERO,
    path: (leaf: Hex) => {
      const i = leaves.indexOf(leaf);
      return { index: BigInt(i), size: BigInt(leaves.length), path: merkleProof(asBytes, i).map(hex) };
    },
  };
}

/** A rollout hash (any 32 bytes the node's rollout hashes to). */
export const rolloutHash = (node: number, round: number, i: number): Hex => keccak256(viemHex(`rollout ${node}/${round}/${i}`));
/** A synthetic group: question `i`, the hash rolloutHash(node, round, i), useful unless said. */
export const rolloutGroup = (node: number, round: number, i: number, useful = true): SwarmGroup => ({ index: i, groupHash: rolloutHash(node, round, i), useful });

/** Commits `wallet` in `round` (mining up to its commit window first). */
export async function commitIn(c: SwarmChain, wallet: MycelWalletClient, round: bigint, o: { rolloutsRoot?: Hex; policyHash: Hex; usedLeaves?: readonly Hex[] }) {
  const s = await c.schedule(round);
  await c.mineTo(s.opens);
  return swarmCommit(wallet, { coordinator: c.coordinator, round, rolloutsRoot: o.rolloutsRoot ?? keccak256(viemHex(`rollouts ${wallet.account.address} ${round}`)), policyHash: o.policyHash, usedLeaves: o.usedLeaves ?? [], modelConfig: MODEL_CONFIG });
}

/** Mines past the round's commit window and fixes its beacon; returns it. */
export async function beaconOf(c: SwarmChain, round: bigint): Promise<Hex> {
  const s = await c.schedule(round);
  await c.mineTo(s.deadline + 1n);
  const r = await swarmGetRound(c.publicClient, { coordinator: c.coordinator, round });
  if (r.beacon !== ZERO) return r.beacon;
  const fixed = await swarmFixBeacon(c.wallets[0], { coordinator: c.coordinator, round });
  if (!fixed.beacon) throw new Error(`round ${round} went void`);
  return fixed.beacon;
}

export type PlayedDispute = { gas: bigint; rounds: number; transactions: number; ruling: GameResult['ruling']; facts: JobFacts; moves: { kind: string; by: string; level: string; gas: bigint }[] };

/** A party's run of a program, kept in its store: what it plays a dispute with. */
// Any program kind (an eval, a GRPO step): the game only needs its run and its reference.
export type RecordedRun = { program: JobProgram<any>; store: Awaited<ReturnType<typeof tempStore>>; record: RunRecord<any> };

/**
 * Plays the TS game between the node's run (solver) and the challenger's over `honest`'s rules, then sends each
 * accepted move to the on-chain game from its party's wallet: a dispute (score or step) played on chain.
 */
export async function playRecordedDispute(
  c: SwarmChain, disputeId: bigint, honest: RecordedRun["program"], runs: { solver: RecordedRun; challenger: RecordedRun }, wallets: { solver: MycelWalletClient; challenger: MycelWalletClient },
): Promise<PlayedDispute> {
  const rules = rulesOf(honest);
  const facts = jobFacts(rules);
  const party = (run: RecordedRun, role: 'solver' | 'challenger') => replayParty({ role, program: run.program, reference: honest, store: run.store, record: run.record });
  const roots = { solver: runs.solver.record.commitment!, challenger: runs.challenger.record.commitment! };
  const game = await playGame(rules, party(runs.solver, 'solver'), party(runs.challenger, 'challenger'), { solverRoot: roots.solver, challengerRoot: roots.challenger });
  let gas = 0n;
  const moves = acceptedMoves(rules, game, roots);
  const played: PlayedDispute['moves'] = [];
  for (const { before, move } of moves) {
    const call = encodeDisputeMove(rules, facts, disputeId, before, move);
    const { gasUsed } = await send(wallets[move.by], { address: c.game, abi: DisputeGameAbi, functionName: call.functionName, args: call.args });
    gas += gasUsed;
    played.push({ kind: move.kind, by: move.by, level: before.level, gas: gasUsed });
  }
  return { gas, rounds: game.totalRounds, transactions: moves.length, ruling: game.ruling, facts, moves: played };
}

/** A score dispute played on chain (playRecordedDispute over the eval program). */
export const playScoreDispute = (
  c: SwarmChain, disputeId: bigint, honest: EvalProgram, runs: { solver: EvalRun; challenger: EvalRun }, wallets: { solver: MycelWalletClient; challenger: MycelWalletClient },
): Promise<PlayedDispute> => playRecordedDispute(c, disputeId, honest, runs, wallets);
