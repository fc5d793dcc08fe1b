/**
 * A generated adversary's side of an on-chain dispute, played against whatever plays the other side (a node role, or
 * another driver). Like the node's own playDispute it rebuilds the TS position from the DisputeGame's Moved events,
 * but on its turn it follows its plan (test/verify/adversary-game.ts's actions): its base strategy's move, silence
 * (it lets the chain's blocks pass its deadline: anvil mines them at once), a stall to the last block of its clock,
 * a tampered move, another move kind, malformed calldata, or, on the other party's turn, a move out of turn. Every
 * move it sends that the contract refuses is counted, with the contract's reason; a move out of turn, of the wrong
 * kind or malformed must never be accepted.
 */
import { encodeFunctionData, type Address, type Hex } from 'viem';
import { getContractEvents, getTransaction } from 'viem/actions';
import { send, type MycelWalletClient } from '../../src/chain/actions/send.js';
import { DisputeGameAbi } from '../../src/chain/generated/DisputeGame.js';
import { decodeDisputeMove } from '../../src/chain/dispute-decode.js';
import { encodeDisputeMove, GAME_LEVELS, GAME_PHASES, GAME_TURNS, type JobFacts } from '../../src/chain/dispute-moves.js';
import { MycelError } from '../../src/platform/errors.js';
import { ContractRevertError, TransactionRevertedError } from '../../src/chain/errors.js';
import { expectedMove, startGame, transition, type Move, type Party, type Position, type Rules } from '../../src/verify/index.js';
import { tamper, type Action } from '../verify/adversary-game.js';
import { readDispute, type GameChain } from '../chain/dispute-replay.js';

export type DriverReport = {
  /** Moves of this driver the contract accepted / refused (with the refusals' first lines). */
  sent: number;
  refused: string[];
  /** Refused calls whose error names no fix (a decoded contract error's hint, or the retry a lost race calls for): must be empty. */
  unexplained: string[];
  /** Out-of-turn, wrong-kind or malformed moves the contract accepted: must be 0. */
  junkAccepted: number;
  /** Blocks this driver mined to stay silent or to stall (time passing, on a chain that mines on demand). */
  mined: number;
};

export type DriverOptions = {
  disputeId: bigint;
  role: 'solver' | 'challenger';
  wallet: MycelWalletClient;
  /** The base strategy; undefined: a party with no tree behind its root (it can only stay silent). */
  party?: Party;
  rules: Rules;
  facts: JobFacts;
  parties: { solver: Address; challenger: Address };
  roots: { solver: string; challenger: string };
  fromBlock: bigint;
  actions: readonly Action[];
  seed: number;
  signal: AbortSignal;
  /** Told each action as it is taken (a slow run can be followed). */
  trace?: (line: string) => void;
};

const same = (p: Position, d: { level: number; phase: number; turn: number; round: number }) =>
  GAME_LEVELS[d.level] === p.level && GAME_PHASES[d.phase] === p.phase && GAME_TURNS[d.turn] === p.turn && d.round === p.round;

const strip = (h: string) => (h.startsWith('0x') ? h.slice(2) : h);

export async function driveAdversary(c: GameChain, o: DriverOptions): Promise<DriverReport> {
  const report: DriverReport = { sent: 0, refused: [], unexplained: [], junkAccepted: 0, mined: 0 };
  let pos = startGame(o.rules, { jobId: o.rules.jobId, solverRoot: strip(o.roots.solver), challengerRoot: strip(o.roots.challenger) }, 0);
  let applied = 0;
  let k = 0;
  let silentSince = -1; // the move count at which this driver went silent (it then waits to be timed out)
  const next = (): Action => o.actions[k++] ?? 'honest';
  const roleOf = (from: Address): Move['by'] => (from.toLowerCase() === o.parties.solver.toLowerCase() ? 'solver' : 'challenger');
  const block = async () => Number(await c.publicClient.getBlockNumber({ cacheTime: 0 }));
  const mineTo = async (target: number) => {
    const now = await block();
    if (target > now) {
      await c.advance(BigInt(target - now));
      report.mined += target - now;
    }
  };
  /** Sends a DisputeGame call; true if the chain accepted it. */
  const call = async (functionName: string, args: readonly unknown[]): Promise<boolean> => {
    try {
      await send(o.wallet, { address: c.game, abi: DisputeGameAbi, functionName, args });
      report.sent++;
      return true;
    } catch (error) {
      // A refusal is a decoded contract error (a MycelError naming the reason), never an opaque revert.
      if (!(error instanceof MycelError)) throw error;
      report.refused.push(`${functionName}: ${error.message.split('\n')[0]}`);
      // A move that lost a race (both parties may prove at the one-step phase) is mined and reverts: its error says
      // to read the state again, which is what to do.
      if (error.metaMessages.length === 0 || (!(error instanceof ContractRevertError) && !(error instanceof TransactionRevertedError))) report.unexplained.push(`${functionName}: ${error.message}`);
      return false;
    }
  };
  const sendMove = (at: Position, move: Move) => {
    let encoded: { functionName: string; args: readonly unknown[] };
    try {
      encoded = encodeDisputeMove(o.rules, o.facts, o.disputeId, at, move);
    } catch (error) {
      report.refused.push(`${move.kind}: not encodable (${(error as Error).message.split('\n')[0]})`);
      return Promise.resolve(false);
    }
    return call(encoded.functionName, encoded.args);
  };
  // A party whose own move the chain keeps refusing (its tree does not fit the job's rules, say) gives up: it goes
  // silent, and its clock decides. Refusals do not mine blocks, so without this nothing would move on.
  const refusedAt = new Map<number, number>();
  const giveUp = async (deadline: number) => {
    silentSince = applied;
    await mineTo(deadline + 1);
  };
  const moveOrGiveUp = async (at: Position, move: Move, deadline: number) => {
    if (await sendMove(at, move)) return;
    const n = (refusedAt.get(applied) ?? 0) + 1;
    refusedAt.set(applied, n);
    if (n >= 3) await giveUp(deadline);
  };
  const junk = async (accepted: Promise<boolean>) => {
    if (await accepted) report.junkAccepted++;
  };
  for (;;) {
    o.signal.throwIfAborted();
    const d = await readDispute(c, o.disputeId);
    if (GAME_LEVELS[d.level] === 'done') return report;
    // Replay what the chain has accepted since the last look.
    const logs = await getContractEvents(c.publicClient, { address: c.game, abi: DisputeGameAbi, eventName: 'Moved', args: { disputeId: o.disputeId }, fromBlock: o.fromBlock, toBlock: 'latest' });
    for (; applied < logs.length; applied++) {
      const tx = await getTransaction(c.publicClient, { hash: logs[applied].transactionHash });
      const move = decodeDisputeMove(tx.input, { by: roleOf(tx.from), rules: o.rules, pos });
      pos = transition(o.rules, pos, move, applied + 1); // a timeout emits no Moved: it ends the game (DisputeRuled)
    }
    if (!same(pos, d)) {
      await new Promise((r) => setTimeout(r, 30));
      continue;
    }
    const now = await block();
    if (pos.turn !== o.role && pos.turn !== 'either') {
      if (now > d.deadline) {
        await call('timeout', [o.disputeId]); // the other party let its clock run out
        continue;
      }
      if (o.actions[k] === 'out-of-turn') {
        k++;
        // The move it would make if it were its turn, sent now: refused (DisputeNotYourTurn), the position unchanged.
        const mine = o.party && (await o.party.move({ ...pos, turn: o.role }, o.rules).catch(() => undefined));
        await junk(mine ? sendMove({ ...pos, turn: o.role }, { ...mine, by: o.role } as Move) : call('timeout', [o.disputeId]));
        continue;
      }
      await new Promise((r) => setTimeout(r, 30));
      continue;
    }
    if (pos.turn === 'either') {
      // The one-step proof: either party may send it; the referee rules on the facts, whoever sends them.
      if (now > d.deadline) await call('timeout', [o.disputeId]);
      else if (silentSince === applied) await new Promise((r) => setTimeout(r, 30));
      else {
        const proof = o.party && (await o.party.move(pos, o.rules));
        if (proof) await moveOrGiveUp(pos, proof, d.deadline);
        else await giveUp(d.deadline);
      }
      continue;
    }
    if (silentSince === applied) {
      await new Promise((r) => setTimeout(r, 30)); // silent: waits for the other party to claim the timeout
      continue;
    }
    const action = o.party ? next() : 'silent';
    o.trace?.(`dispute ${o.disputeId} ${o.role}: ${action} at ${pos.level}/${pos.phase} (move ${applied}, block ${now}, deadline ${d.deadline})`);
    const own = o.party && (await o.party.move(pos, o.rules));
    switch (action) {
      case 'honest':
      case 'out-of-turn': // its turn: nothing to try out of turn, it moves
        if (own) await moveOrGiveUp(pos, own, d.deadline);
        else await giveUp(d.deadline);
        break;
      case 'silent':
        await giveUp(d.deadline);
        break;
      case 'stall':
        // The move lands in the last block of its clock (a deadline is the last block a move may be in).
        await mineTo(d.deadline - 1);
        if (own) await moveOrGiveUp(pos, own, d.deadline);
        else await giveUp(d.deadline);
        break;
      case 'tamper':
        if (own) await sendMove(pos, tamper(own, o.seed + k));
        break;
      case 'wrong-kind': {
        const kind = expectedMove(pos) === 'claim' ? 'reveal' : 'claim';
        await junk(call(kind, [o.disputeId, [], 0n, `0x${'00'.repeat(32)}`, `0x${'00'.repeat(32)}`]));
        break;
      }
      case 'malformed': {
        // The selector of the move it should send, with arguments cut short.
        const data = own ? encodeCall(o, pos, own) : undefined;
        if (data) {
          const cut = data.slice(0, 10 + 2 * (1 + (o.seed % 60))) as Hex;
          try {
            await c.publicClient.call({ account: o.wallet.account, to: c.game, data: cut });
            report.junkAccepted++;
          } catch (error) {
            report.refused.push(`malformed: ${(error as Error).message.split('\n')[0]}`);
          }
        }
        break;
      }
    }
  }
}

function encodeCall(o: DriverOptions, pos: Position, move: Move): Hex | undefined {
  try {
    const { functionName, args } = encodeDisputeMove(o.rules, o.facts, o.disputeId, pos, move);
    return encodeFunctionData({ abi: DisputeGameAbi, functionName: functionName as never, args: args as never });
  } catch {
    return undefined;
  }
}
