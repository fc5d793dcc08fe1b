/**
 * One party's side of an on-chain dispute. The party's moves come from the same `replayParty` strategy the TS game
 * uses; each is checked locally with the game's `transition` before it is sent (a move the game would reject is
 * never sent), then sent as its DisputeGame call (encodeDisputeMove).
 *
 * The chain is the only record of the game: both parties rebuild the TS position from the DisputeGame's confirmed
 * Moved events since the dispute opened, decoding each move from its transaction's calldata (decodeDisputeMove),
 * their own moves included. A party moves only when the position it replayed equals the contract's stored one.
 */
import { anySignal } from 'any-signal';
import type { Address, Hash } from 'viem';
import { getBlockNumber, getContractEvents, getTransaction, readContract } from 'viem/actions';
import { send } from '../chain/actions/send.js';
import { DisputeGameAbi } from '../chain/generated/DisputeGame.js';
import { encodeDisputeMove, GAME_LEVELS, GAME_PHASES, GAME_TURNS, GAME_AT, type JobFacts } from '../chain/dispute-moves.js';
import { decodeDisputeMove, DisputeMoveDecodeError } from '../chain/dispute-decode.js';
import { REFEREE_LOSERS } from '../chain/referee.js';
import { startGame, transition, type Move, type Party as Strategy, type Position, type Rules } from '../verify/index.js';
import { MycelError } from '../platform/errors.js';
import { sleep, type NodeContext } from './context.js';
import { confirmedEvents } from './events.js';

/** The chain's game and this node's replay of it disagree: the contracts are not the ones this build's game mirrors. */
export class DisputeReplayError extends MycelError {
  override name = 'DisputeReplayError';
  constructor(disputeId: bigint, problem: string) {
    super(`Dispute ${disputeId}: ${problem}.`, {
      metaMessages: [
        'The DisputeGame on chain and this node\'s TypeScript game should rule alike move for move.',
        'Run the mycel version that deployed the contracts (mycel node run checks their code at start), and report the dispute id if they match.',
      ],
    });
  }
}

/** What playing a dispute needs of a node: its chain clients and contracts, and where it reports (a browser tab's worker gives these too). */
/** What playing a dispute needs: of the contracts only the game (a market job's or a swarm coordinator's dispute alike). */
export type DisputeContext = Pick<NodeContext, 'publicClient' | 'wallet' | 'confirmations' | 'log' | 'tx'> & { contracts: Pick<NodeContext['contracts'], 'disputeGame'> };

type OnChain = { level: number; phase: number; turn: number; round: number; loser: number; ruledAt: number; deadline: number };

export type DisputeOutcome = { loser: string; at: string; moves: number };

/** How often a party re-reads the stored dispute while it waits for its turn or for the chain to catch up. */
const POLL_MS = 50;

const readDispute = (ctx: DisputeContext, id: bigint) =>
  readContract(ctx.publicClient, { address: ctx.contracts.disputeGame, abi: DisputeGameAbi, functionName: 'getDispute', args: [id] }) as Promise<OnChain>;

const same = (p: Position, d: OnChain) =>
  GAME_LEVELS[d.level] === p.level && GAME_PHASES[d.phase] === p.phase && GAME_TURNS[d.turn] === p.turn && d.round === p.round;

/** The move a Moved event records, decoded from its transaction (whose sender is the party that moved). */
async function chainMove(ctx: DisputeContext, hash: Hash, roleOf: (sender: Address) => Move['by'], at: { rules: Rules; pos: Position }): Promise<Move> {
  const tx = await getTransaction(ctx.publicClient, { hash });
  if (tx.to?.toLowerCase() !== ctx.contracts.disputeGame.toLowerCase()) throw new DisputeMoveDecodeError(`transaction ${hash} calls ${tx.to}, not the DisputeGame ${ctx.contracts.disputeGame}`);
  return decodeDisputeMove(tx.input, { by: roleOf(tx.from), ...at });
}

export async function playDispute(
  ctx: DisputeContext,
  o: {
    disputeId: bigint;
    jobId: bigint;
    rules: Rules;
    facts: JobFacts;
    party: Strategy;
    roots: { solver: string; challenger: string };
    parties: { solver: Address; challenger: Address };
    /** A block at or before the dispute's opening: its moves are read from there on. */
    fromBlock: bigint;
    signal?: AbortSignal;
  },
): Promise<DisputeOutcome> {
  const strip = (h: string) => (h.startsWith('0x') ? h.slice(2) : h);
  const roleOf = (who: Address): Move['by'] => {
    if (who.toLowerCase() === o.parties.solver.toLowerCase()) return 'solver';
    if (who.toLowerCase() === o.parties.challenger.toLowerCase()) return 'challenger';
    throw new DisputeMoveDecodeError(`${who} moved in dispute ${o.disputeId} but is not one of its parties`);
  };
  let pos = startGame(o.rules, { jobId: o.rules.jobId, solverRoot: strip(o.roots.solver), challengerRoot: strip(o.roots.challenger) }, 0);
  let applied = 0;
  let sent = 0;
  let rejectedAt = -1;
  const ac = new AbortController();
  const signal = anySignal([o.signal, ac.signal]); // not AbortSignal.any, which Node 20 never lets go of: cleared below
  // The game's moves as the chain confirms them, in order; `pos` advances only through these.
  const moves: Hash[] = [];
  let watchFailed: unknown;
  const watching = (async () => {
    for await (const log of confirmedEvents<{ disputeId: bigint }>(ctx, { address: ctx.contracts.disputeGame, abi: DisputeGameAbi, eventName: 'Moved', fromBlock: o.fromBlock, signal })) {
      if (log.args.disputeId === o.disputeId) moves.push(log.transactionHash);
    }
  })();
  watching.catch((error) => {
    if (!signal.aborted) watchFailed = error;
  });
  try {
    for (;;) {
      const d = await readDispute(ctx, o.disputeId);
      if (GAME_LEVELS[d.level] === 'done') {
        // Every move up to the ruling is replayed, not only those the watcher has delivered yet: the outcome counts
        // the dispute's moves on chain, and the replayed position must reach the chain's ruling. A timeout emits no
        // Moved event (it ends the game in DisputeRuled): it is the ruling itself, counted as the last move.
        // A node's logs may trail its state by a moment (anvil mining on an interval too): read them again a few times.
        for (let tries = 0; tries < 5 && (tries === 0 || (pos.level !== 'done' && GAME_AT[d.ruledAt] !== 'timeout')); tries++) {
          if (tries > 0) await sleep(500, o.signal);
          const all = await getContractEvents(ctx.publicClient, { address: ctx.contracts.disputeGame, abi: DisputeGameAbi, eventName: 'Moved', args: { disputeId: o.disputeId }, fromBlock: o.fromBlock, toBlock: 'latest' });
          for (; applied < all.length; applied++) pos = transition(o.rules, pos, await chainMove(ctx, all[applied].transactionHash, roleOf, { rules: o.rules, pos }), applied + 1);
        }
        const at = GAME_AT[d.ruledAt];
        if (at === 'timeout' && pos.level !== 'done') pos = transition(o.rules, pos, { kind: 'timeout', by: o.party.role }, pos.deadline + 1);
        const loser = REFEREE_LOSERS[d.loser] as string;
        if (pos.ruling?.loser !== loser) throw new DisputeReplayError(o.disputeId, `the chain ruled against ${loser} (${at}), but its ${applied} moves replayed here rule against ${pos.ruling?.loser ?? 'nobody'}`);
        return { loser, at, moves: applied + (at === 'timeout' ? 1 : 0) };
      }
      if (watchFailed) throw watchFailed;
      for (; applied < moves.length; applied++) pos = transition(o.rules, pos, await chainMove(ctx, moves[applied], roleOf, { rules: o.rules, pos }), applied + 1);
      const mine = pos.turn === o.party.role || pos.turn === 'either';
      if (mine && same(pos, d)) {
        const move = await o.party.move(pos, o.rules);
        let ok = false;
        if (move) {
          try {
            transition(o.rules, pos, move, applied + 1);
            ok = true;
          } catch (error) {
            // The game would reject it: it is not sent (the deadline then decides).
            if (rejectedAt !== applied) ctx.log(`dispute ${o.disputeId}: my ${move.kind} at the ${pos.level} level is not a legal move, not sent: ${(error as Error).message}`);
            rejectedAt = applied;
          }
        }
        if (ok && move) {
          const call = encodeDisputeMove(o.rules, o.facts, o.disputeId, pos, move);
          try {
            const { gasUsed } = await send(ctx.wallet, { address: ctx.contracts.disputeGame, abi: DisputeGameAbi, functionName: call.functionName as never, args: call.args as never });
            ctx.tx(`dispute ${move.kind}`, gasUsed, o.jobId);
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
        // The other party is silent past its deadline (a block number): it loses by timeout.
        if ((await getBlockNumber(ctx.publicClient)) > BigInt(d.deadline)) {
          try {
            const { gasUsed } = await send(ctx.wallet, { address: ctx.contracts.disputeGame, abi: DisputeGameAbi, functionName: 'timeout', args: [o.disputeId] });
            ctx.tx('dispute timeout', gasUsed, o.jobId);
            ctx.log(`dispute ${o.disputeId}: the other party timed out`);
          } catch {
            /* it moved meanwhile */
          }
        }
      }
      await sleep(POLL_MS, o.signal);
    }
  } finally {
    ac.abort();
    signal.clear();
  }
}
