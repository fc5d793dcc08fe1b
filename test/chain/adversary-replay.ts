/**
 * A generated adversarial game (test/verify/adversary-game.ts) played through the contracts: a job is posted with its
 * rules, claimed and committed, the challenger challenges, every move the TS game accepted is sent to the real
 * DisputeGame from its party's wallet (a timeout once the chain's clock for the silent party has run out), and the
 * market settles the job (finalize after the window when the solver won). Returns the on-chain ruling, the largest
 * gas of one transaction, and whether the tokens add up: what the parties and the market hold, plus what was burned,
 * is what they held before.
 */
import type { Hex } from 'viem';
import { challenge, finalize, getJob } from '../../src/chain/index.js';
import { GAME_LEVELS } from '../../src/chain/dispute-moves.js';
import { REFEREE_LOSERS } from '../../src/chain/referee.js';
import { send } from '../../src/chain/actions/send.js';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { MycelTokenAbi } from '../../src/chain/generated/MycelToken.js';
import { readContract } from 'viem/actions';
import type { Rules } from '../../src/verify/index.js';
import type { Outcome } from '../verify/adversary-game.js';
import { CLOCK_BLOCKS, openJobDispute, readDispute, replayOnChain, type GameChain } from './dispute-replay.js';

export type ChainOutcome = { loser: string; maxGas: bigint; conserved: boolean; phase: string; settledWithin: boolean };

/**
 * `accomplice`: a second game against the same solver root (another challenger's, from wallet 5), opened right after
 * the first on the same job and replayed before it: two concurrent disputes on one job.
 */
export async function settleOnChain(c: GameChain, rules: Rules, o: Outcome, accomplice?: Outcome): Promise<ChainOutcome> {
  const [submitter, solver, challenger, second] = [c.wallets[1], c.wallets[2], c.wallets[3], c.wallets[5]];
  const who = [submitter, solver, challenger, second].map((w) => w.account.address);
  const supply = () => readContract(c.publicClient, { address: c.token, abi: MycelTokenAbi, functionName: 'totalSupply' });
  const held = async () => (await Promise.all([...who, c.market].map((a) => c.balance(a)))).reduce((s, b) => s + b, 0n);
  const [held0, supply0] = [await held(), await supply()];
  const { jobId, disputeId, challengeGas } = await openJobDispute(c, rules, solver, challenger, o.roots);
  const opened = await c.publicClient.getBlockNumber({ cacheTime: 0 });
  let maxGas = challengeGas;
  const replay = async (id: bigint, moves: Outcome['accepted'], parties: { solver: typeof solver; challenger: typeof solver }) => {
    for (const step of moves) {
      if (step.move.kind === 'timeout') {
        // The chain's clock, not the TS ticks: mine until the silent party's deadline has passed.
        const d = await readDispute(c, id);
        const now = Number(await c.publicClient.getBlockNumber({ cacheTime: 0 }));
        if (now <= d.deadline) await c.advance(BigInt(d.deadline - now + 1));
        const { gasUsed } = await send(c.wallets[4], { address: c.game, abi: DisputeGameAbi, functionName: 'timeout', args: [id] });
        if (gasUsed > maxGas) maxGas = gasUsed;
        continue;
      }
      const [m] = await replayOnChain(c, rules, id, [step], parties);
      if (m.gas > maxGas) maxGas = m.gas;
    }
    const d = await readDispute(c, id);
    if (GAME_LEVELS[d.level] !== 'done') throw new Error(`the on-chain dispute ${id} did not end (level ${GAME_LEVELS[d.level]})`);
    return d;
  };
  if (accomplice) {
    const { disputeId: other, gasUsed } = await challenge(second, { market: c.market, jobId, root: `0x${accomplice.roots.challenger}` as Hex });
    if (gasUsed > maxGas) maxGas = gasUsed;
    await replay(other, accomplice.accepted, { solver, challenger: second });
  }
  const d = await replay(disputeId, o.accepted, { solver, challenger });
  let job = await getJob(c.publicClient, { market: c.market, jobId });
  if (job.phase === 'Committed') {
    const now = await c.publicClient.getBlockNumber({ cacheTime: 0 });
    if (now < job.challengeEnds) await c.advance(job.challengeEnds - now);
    const f = await finalize(solver, { market: c.market, jobId });
    if (f.gasUsed > maxGas) maxGas = f.gasUsed;
    job = await getJob(c.publicClient, { market: c.market, jobId });
  }
  const settledAt = await c.publicClient.getBlockNumber({ cacheTime: 0 });
  const burned = supply0 - (await supply());
  return {
    loser: REFEREE_LOSERS[d.loser] as string,
    maxGas,
    conserved: held0 === (await held()) + burned,
    phase: job.phase,
    // Nothing locked past its bound: the job settles within the window plus its disputes (2 x the chess clock each).
    settledWithin: settledAt - opened <= job.challengeWindow + (accomplice ? 4n : 2n) * BigInt(CLOCK_BLOCKS) + 2n,
  };
}
