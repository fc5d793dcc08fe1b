/**
 * One party's side of an on-chain dispute. The party's moves come from the same `replayParty` strategy the TS game
 * uses; each is checked locally with the game's `transition` before it is sent (a move the game would reject is
 * never sent), then sent as its DisputeGame call (encodeDisputeMove). Both parties keep the TS position in step with
 * the chain: every accepted move is also appended to the dispute's move log in the shared dir, and a party only
 * moves when the position it replayed from the log equals the contract's stored position.
 */
import type { Hex } from 'viem';
import { readContract } from 'viem/actions';
import { send } from '../chain/actions/send.js';
import { DisputeGameAbi } from '../chain/generated/DisputeGame.js';
import { encodeDisputeMove, GAME_LEVELS, GAME_PHASES, GAME_TURNS, GAME_AT, type JobFacts } from '../chain/dispute-moves.js';
import { REFEREE_LOSERS } from '../chain/referee.js';
import { startGame, transition, type Move, type Party, type Position, type Rules } from '../verify/index.js';
import { chainNow, sleep, SharedDir, type NodeContext } from './context.js';

type OnChain = { level: number; phase: number; turn: number; round: number; loser: number; ruledAt: number; deadline: bigint };

export type DisputeOutcome = { loser: string; at: string; moves: number };

const readDispute = (ctx: NodeContext, id: bigint) =>
  readContract(ctx.publicClient, { address: ctx.contracts.disputeGame, abi: DisputeGameAbi, functionName: 'getDispute', args: [id] }) as Promise<OnChain>;

const same = (p: Position, d: OnChain) =>
  GAME_LEVELS[d.level] === p.level && GAME_PHASES[d.phase] === p.phase && GAME_TURNS[d.turn] === p.turn && d.round === p.round;

export async function playDispute(
  ctx: NodeContext,
  o: { disputeId: bigint; jobId: bigint; rules: Rules; facts: JobFacts; party: Party; roots: { solver: string; challenger: string }; signal?: AbortSignal },
): Promise<DisputeOutcome> {
  const shared = new SharedDir(ctx.sharedDir);
  const logPath = shared.movesPath(o.disputeId);
  const strip = (h: string) => (h.startsWith('0x') ? h.slice(2) : h);
  let pos = startGame(o.rules, { jobId: o.rules.jobId, solverRoot: strip(o.roots.solver), challengerRoot: strip(o.roots.challenger) }, 0);
  let applied = 0;
  let sent = 0;
  for (;;) {
    const d = await readDispute(ctx, o.disputeId);
    if (GAME_LEVELS[d.level] === 'done') {
      return { loser: REFEREE_LOSERS[d.loser] as string, at: GAME_AT[d.ruledAt], moves: applied };
    }
    // Catch up with the move log.
    const lines = ((await shared.get(logPath)) ?? '').split('\n').filter(Boolean);
    for (; applied < lines.length; applied++) pos = transition(o.rules, pos, JSON.parse(lines[applied]) as Move, applied + 1);
    const mine = pos.turn === o.party.role || pos.turn === 'either';
    if (mine && same(pos, d)) {
      const move = await o.party.move(pos, o.rules);
      let ok = false;
      if (move) {
        try {
          transition(o.rules, pos, move, applied + 1);
          ok = true;
        } catch {
          /* the game would reject it: do not send it */
        }
      }
      if (ok && move) {
        const call = encodeDisputeMove(o.rules, o.facts, o.disputeId, pos, move);
        try {
          const { gasUsed } = await send(ctx.wallet, { address: ctx.contracts.disputeGame, abi: DisputeGameAbi, functionName: call.functionName as never, args: call.args as never });
          ctx.tx(`dispute ${move.kind}`, gasUsed, o.jobId);
          await shared.append(logPath, JSON.stringify(move));
          sent++;
          if (sent === 1 || move.kind === 'prove' || move.kind === 'prove-state') ctx.log(`dispute ${o.disputeId}: ${move.kind} at ${pos.level} level (round ${pos.round})`);
          continue;
        } catch (error) {
          // The other party moved first ('either'), or the position moved on: read the chain again.
          if (pos.turn !== 'either') throw error;
        }
      }
    }
    if (!mine && same(pos, d)) {
      // The other party is silent past its deadline: it loses by timeout.
      const now = await chainNow(ctx);
      if (now > d.deadline) {
        try {
          const { gasUsed } = await send(ctx.wallet, { address: ctx.contracts.disputeGame, abi: DisputeGameAbi, functionName: 'timeout', args: [o.disputeId] });
          ctx.tx('dispute timeout', gasUsed, o.jobId);
          ctx.log(`dispute ${o.disputeId}: the other party timed out`);
        } catch {
          /* it moved meanwhile */
        }
      }
    }
    await sleep(50, o.signal);
  }
}

export type { Hex };
