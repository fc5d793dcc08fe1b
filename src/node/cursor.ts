/**
 * Where a role stopped reading the market's events, kept in its store (state.ts) so that a restarted node catches up
 * on what was posted while it was down instead of starting at the head. The stored position means "every event at
 * or before it was handled": an event counts as handled once its work is durable (the job is held, or settled, or
 * skipped), so a crash at any point replays at most the events whose work was not yet durable, and the roles already
 * tolerate seeing an event twice (a job no longer Open is passed over; a held job is resumed, not taken again).
 * Events come in chain order and may be handled concurrently (the verifier checks jobs side by side), so the position
 * never passes the first event still in hand. With no event in hand it follows the watcher's confirmed blocks, so a
 * node that heard nothing for a week does not rescan a week of blocks.
 */
import type { NodeState } from './state.js';

/** A log's place in the chain. */
export type EventPosition = { block: bigint; logIndex: number };

/** After every log of the block (logIndex is a uint in the chain's encoding; this is above any real one). */
const END_OF_BLOCK = Number.MAX_SAFE_INTEGER;

const before = (a: EventPosition, b: EventPosition) => a.block < b.block || (a.block === b.block && a.logIndex < b.logIndex);
const key = (p: EventPosition) => `${p.block}:${p.logIndex}`;

export class EventCursor {
  private readonly inHand = new Map<string, EventPosition>();
  private saved: EventPosition;
  /** The first block to read the events from. */
  readonly fromBlock: bigint;

  /**
   * `start`: the block to read from when the store has no position for `name` (a first start), or always when
   * `overrideStored` (the operator asked for a block). The position before it is saved at once: a node stopped before
   * it heard any event still resumes from there.
   */
  constructor(private readonly state: NodeState, private readonly name: string, start: bigint, overrideStored = false) {
    const stored = overrideStored ? undefined : state.cursor(name);
    this.saved = stored ?? { block: start - 1n, logIndex: END_OF_BLOCK };
    // The stored block is read again: its events after the stored position are not handled yet.
    this.fromBlock = stored ? stored.block : start;
    if (!stored) this.write();
  }

  /** Whether the event was handled before a restart (it is then passed over). */
  handled(p: EventPosition): boolean {
    return !before(this.saved, p);
  }

  /** An event the node has taken in hand: the position will not pass it until it is `done`. */
  take(p: EventPosition): void {
    this.inHand.set(key(p), p);
  }

  /** The event's work is durable: the position may pass it. */
  done(p: EventPosition): void {
    this.inHand.delete(key(p));
    this.advance({ block: p.block, logIndex: p.logIndex });
  }

  /** The watcher has read every block below `confirmedBelow`: with nothing in hand, the position follows it. */
  idle(confirmedBelow: bigint): void {
    this.advance({ block: confirmedBelow - 1n, logIndex: END_OF_BLOCK });
  }

  private advance(to: EventPosition): void {
    let limit = to;
    for (const p of this.inHand.values()) {
      const justBefore = { block: p.block, logIndex: p.logIndex - 1 };
      if (before(justBefore, limit)) limit = justBefore;
    }
    if (!before(this.saved, limit)) return;
    this.saved = limit;
    this.write();
  }

  private write(): void {
    // LMDB commits writes in order; a write that fails leaves an older position, which only replays events.
    void this.state.setCursor(this.name, this.saved).catch(() => undefined);
  }
}
