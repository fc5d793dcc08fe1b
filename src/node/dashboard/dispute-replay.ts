/**
 * A dispute replayed from the chain, move by move: each Moved event's transaction is decoded into the TypeScript move
 * (decodeDisputeMove) and applied with the game's `transition`, as the parties themselves do (dispute.ts), so the
 * positions shown are the ones both parties and the contract agreed on, down to the ruling's instruction.
 */
import type { Address, Hash, PublicClient } from 'viem';
import { getTransaction, getTransactionReceipt } from 'viem/actions';
import { decodeDisputeMove } from '../../chain/dispute-decode.js';
import { GAME_MOVES } from '../../chain/dispute-moves.js';
import { describeMove, describeRuling, describeWhere, startGame, transition, type Position, type Rules } from '../../verify/index.js';
import type { DisputeMoveView, DisputeView, RulingView } from './state.js';

export class DisputeReplay {
  private pos: Position | undefined;
  readonly view: DisputeView;

  constructor(
    o: { disputeId: bigint; jobId: bigint; solver: Address; challenger: Address },
    private readonly rules: Rules | undefined,
  ) {
    this.view = { disputeId: o.disputeId.toString(), jobId: o.jobId.toString(), solver: o.solver, challenger: o.challenger, level: 'run', where: 'run', moves: [] };
    if (!rules) this.view.note = 'this node does not have the job\'s spec: moves are listed by kind only';
  }

  /** Starts the position once both roots are known (from the job, after JobChallenged). */
  start(roots: { solver: string; challenger: string }): void {
    if (!this.rules || this.pos) return;
    const strip = (h: string) => (h.startsWith('0x') ? h.slice(2) : h);
    this.pos = startGame(this.rules, { jobId: this.rules.jobId, solverRoot: strip(roots.solver), challengerRoot: strip(roots.challenger) }, 0);
  }

  /** Applies the move of one Moved event (in chain order). */
  async apply(client: PublicClient, log: { transactionHash: Hash; blockNumber: bigint; kind: number }): Promise<void> {
    const [tx, receipt] = await Promise.all([getTransaction(client, { hash: log.transactionHash }), getTransactionReceipt(client, { hash: log.transactionHash })]);
    const by = tx.from.toLowerCase() === this.view.solver.toLowerCase() ? 'solver' : tx.from.toLowerCase() === this.view.challenger.toLowerCase() ? 'challenger' : tx.from;
    const n = this.view.moves.length + 1;
    const base = { n, by, kind: GAME_MOVES[log.kind] ?? `move ${log.kind}`, block: log.blockNumber.toString(), tx: log.transactionHash, gas: receipt.gasUsed.toString() };
    let row: DisputeMoveView = { ...base, text: base.kind, level: this.view.level, where: this.view.where, round: 0 };
    if (this.rules && this.pos && (by === 'solver' || by === 'challenger')) {
      try {
        const move = decodeDisputeMove(tx.input, { by, rules: this.rules, pos: this.pos });
        this.pos = transition(this.rules, this.pos, move, n);
        row = { ...base, kind: move.kind, text: describeMove(move), level: this.pos.level, where: describeWhere(this.pos), round: this.pos.round };
        this.view.level = this.pos.level;
        this.view.where = describeWhere(this.pos);
        if (this.pos.ruling) this.view.ruling = rulingView(this.pos.ruling);
      } catch (error) {
        // A move the replay cannot follow is shown as it is on chain; later ones are listed by kind only.
        this.view.note = `move ${n} could not be replayed: ${(error as Error).message.split('\n')[0]}`;
        this.pos = undefined;
      }
    }
    this.view.moves.push(row);
  }
}

function rulingView(r: NonNullable<Position['ruling']>): RulingView {
  return { loser: r.loser, at: r.at, text: describeRuling(r), reason: r.reason, t: r.t, op: r.op, opName: r.opName, element: r.element, instruction: r.instruction, opcode: r.opcode };
}
