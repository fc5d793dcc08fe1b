/**
 * Shared by test/chain/dispute-game.test.ts and bench/chain.ts: an anvil with token, registry, market and the REAL
 * DisputeGame as its resolver; a job taken to a dispute between two run roots; and the replay of a TypeScript game's
 * accepted moves on chain, one transaction per move, with the on-chain dispute read back after each.
 */
import { parseUnits, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { readContract } from 'viem/actions';
import { startAnvil, type Anvil } from '../../src/chain/anvil.js';
import { createClients } from '../../src/chain/clients.js';
import { deployMycel, type DeployMycelReturnType } from '../../src/chain/deploy.js';
import { send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { approve, challenge, claimJob, commitRoot, postJob, register } from '../../src/chain/index.js';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { JobMarketAbi } from '../../src/chain/generated/JobMarket.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import { encodeDisputeMove, jobFacts, type JobFacts } from '../../src/chain/dispute-moves.js';
import { adversary, startGame, type GameResult, type Move, type Position, type Rules } from '../../src/verify/index.js';
import { dispute, honest, rules as microRules, runOf, type Run } from '../verify/game-helpers.js';

export const TOKENS = (n: number | string) => parseUnits(String(n), 18);
export const STAKE = TOKENS(5);
export const REWARD = TOKENS(25);
/** Each party's chess clock per dispute, in blocks (DisputeGame deadlines are block numbers). */
export const CLOCK_BLOCKS = 100;
/** The jobs' challenge window, in blocks (the market's least). */
export const WINDOW_BLOCKS = 50n;

export type GameChain = DeployMycelReturnType & {
  anvil: Anvil;
  wallets: MycelWalletClient[];
  publicClient: PublicClient;
  game: Address;
  facts: JobFacts;
  balance(who: Address): Promise<bigint>;
  /** Mines `blocks` empty blocks. */
  advance(blocks: bigint): Promise<void>;
};

/** Deploys with the real DisputeGame; funds, approves and registers wallets 1..5 (1: submitter). */
export async function setupGameChain(rules: Rules): Promise<GameChain> {
  const anvil = await startAnvil({ gasLimit: 1_000_000_000n });
  const clients = anvil.accounts.map((a) => createClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: privateKeyToAccount(a.privateKey) }));
  const wallets = clients.map((c) => c.walletClient as MycelWalletClient);
  const { publicClient, testClient } = clients[0];
  const d = await deployMycel(wallets[0], { disputeGame: { clock: CLOCK_BLOCKS }, minStake: TOKENS(100), unbondingDelay: 1_000n, minChallengeWindow: WINDOW_BLOCKS });
  for (const w of wallets.slice(1, 6)) {
    await send(wallets[0], { address: d.token, abi: MycelTokenAbi, functionName: 'transfer', args: [w.account.address, TOKENS(10_000)] });
    await approve(w, { token: d.token, spender: d.registry, amount: TOKENS(100) });
    await approve(w, { token: d.token, spender: d.market, amount: TOKENS(5_000) });
  }
  for (const w of wallets.slice(2, 6)) await register(w, { registry: d.registry, stake: TOKENS(100) });
  return {
    ...d,
    anvil,
    wallets,
    publicClient: publicClient as PublicClient,
    game: d.disputeGame!,
    facts: jobFacts(rules),
    balance: (who) => readContract(publicClient, { address: d.token, abi: MycelTokenAbi, functionName: 'balanceOf', args: [who] }),
    async advance(blocks) {
      // In batches: anvil builds each block, and a thousand at once can outlast an RPC timeout on a loaded machine.
      for (let left = Number(blocks); left > 0; left -= 100) await testClient.mine({ blocks: Math.min(left, 100) });
    },
  };
}

/** Posts a job (the submitter sets the game rules while it is Open), claims, commits, challenges. */
export async function openJobDispute(c: GameChain, rules: Rules, solver: MycelWalletClient, challenger: MycelWalletClient, roots: { solver: string; challenger: string }) {
  const submitter = c.wallets[1];
  const { jobId } = await postJob(submitter, { market: c.market, specHash: `0x${'5e'.repeat(32)}`, steps: BigInt(rules.steps), reward: REWARD, stake: STAKE, deadlineIn: 3_600n });
  await send(submitter, { address: c.market, abi: JobMarketAbi, functionName: 'setRules', args: [jobId, c.facts.h0, c.facts.root, c.facts.size] });
  await claimJob(solver, { market: c.market, jobId });
  await commitRoot(solver, { market: c.market, jobId, root: `0x${roots.solver}` as Hex });
  const { disputeId, gasUsed } = await challenge(challenger, { market: c.market, jobId, root: `0x${roots.challenger}` as Hex });
  return { jobId, disputeId, challengeGas: gasUsed };
}

export type OnChainDispute = {
  level: number; phase: number; turn: number; round: number; deadline: number; clockSolver: number; clockChallenger: number; t: bigint; op: number; element: bigint; lo: number; n: number;
  valueSolver: number; valueChallenger: number; loser: number; ruledAt: number;
  stepContext: Hex; nodeSolver: Hex; nodeChallenger: Hex; agreed: Hex; pending: Hex;
};

export const readDispute = (c: GameChain, id: bigint) =>
  readContract(c.publicClient, { address: c.game, abi: DisputeGameAbi, functionName: 'getDispute', args: [id] }) as Promise<OnChainDispute>;

/** The accepted moves of a TS game, each with the position it was played at. */
export function acceptedMoves(rules: Rules, game: GameResult, roots: { solver: string; challenger: string }): { before: Position; move: Move; after: Position }[] {
  let before = startGame(rules, { jobId: rules.jobId, solverRoot: roots.solver, challengerRoot: roots.challenger }, 0);
  return game.moves.filter((m) => !m.rejected).map((m) => {
    const step = { before, move: m.move, after: m.position };
    before = m.position;
    return step;
  });
}

export type ReplayedMove = { kind: Move['kind']; by: Move['by']; level: Position['level']; gas: bigint; after: Position; chain: OnChainDispute };

/** Sends each accepted TS move as its DisputeGame call from its party's wallet; reads the dispute back after each. */
export async function replayOnChain(
  c: GameChain, rules: Rules, disputeId: bigint, moves: { before: Position; move: Move; after: Position }[],
  parties: { solver: MycelWalletClient; challenger: MycelWalletClient }, onMove?: (m: ReplayedMove) => void,
): Promise<ReplayedMove[]> {
  const out: ReplayedMove[] = [];
  for (const { before, move, after } of moves) {
    const call = encodeDisputeMove(rules, c.facts, disputeId, before, move);
    const { gasUsed } = await send(parties[move.by], { address: c.game, abi: DisputeGameAbi, functionName: call.functionName, args: call.args });
    const replayed = { kind: move.kind, by: move.by, level: before.level, gas: gasUsed, after, chain: await readDispute(c, disputeId) };
    out.push(replayed);
    onMove?.(replayed);
  }
  return out;
}

/** The op of step t that writes params.blocks.0.qkv.weight in the tests' micro job: what the tests' cheaters flip. */
export const qkvWriter = (t: number) =>
  (microRules.structure(t).stateOutputs.find((s) => s.name === 'params.blocks.0.qkv.weight')!.source as { index: number }).index;

/** The tests' dispute: a solver that flipped bit 3 of element 37 of step t's qkv writer, against an honest challenger. */
export async function qkvCheatGame(t: number): Promise<{ good: Run; cheat: Run; roots: { solver: string; challenger: string }; game: GameResult }> {
  const good = await runOf(honest);
  const cheat = await runOf(adversary.flipOpOutput(honest, t, qkvWriter(t), 37, 3));
  return { good, cheat, roots: { solver: cheat.record.commitment!, challenger: good.record.commitment! }, game: await dispute(cheat, good) };
}
