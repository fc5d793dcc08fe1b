/**
 * A role's view of contract events: the confirmed logs of one event from a known block on, as an async stream
 * (watchConfirmed underneath, so a log is acted on once, after `ctx.confirmations` blocks, and never if a reorg
 * dropped it). Roles start from the block they joined at (or the dispute's opening), never from block 0; with a
 * `cursor` (cursor.ts), from where they stopped before a restart, passing over the events handled then.
 */
import type { Abi, Address, Log } from 'viem';
import { watchConfirmed } from '../chain/watch.js';
import type { NodeContext } from './context.js';
import type { EventCursor } from './cursor.js';

export type ConfirmedLog<A> = Log<bigint, number, false> & { args: A };

/** How many failed polls in a row go by between two progress lines about them (the RPC may be briefly down). */
const REPORT_POLL_ERRORS_EVERY = 30;

export async function* confirmedEvents<A>(
  ctx: Pick<NodeContext, 'publicClient' | 'confirmations' | 'log'>,
  o: { address: Address; abi: Abi; eventName: string; fromBlock: bigint; signal?: AbortSignal; /** Read from it; the caller marks each log done. */ cursor?: EventCursor },
): AsyncGenerator<ConfirmedLog<A>> {
  const queue: ConfirmedLog<A>[] = [];
  let wake: (() => void) | undefined;
  let failures = 0;
  const stop = watchConfirmed(ctx.publicClient, {
    address: o.address,
    abi: o.abi,
    eventName: o.eventName,
    fromBlock: o.cursor?.fromBlock ?? o.fromBlock,
    confirmations: ctx.confirmations,
    onLog: (log) => {
      failures = 0;
      const position = { block: log.blockNumber!, logIndex: log.logIndex! };
      if (o.cursor?.handled(position)) return;
      o.cursor?.take(position);
      queue.push(log as unknown as ConfirmedLog<A>);
      wake?.();
    },
    ...(o.cursor ? { onPolled: (below: bigint) => o.cursor!.idle(below) } : {}),
    onError: (error) => {
      if (failures++ % REPORT_POLL_ERRORS_EVERY === 0) ctx.log(`cannot read ${o.eventName} events (retrying): ${(error as Error).message.split('\n')[0]}`);
    },
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const onAbort = () => wake?.();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      o.signal?.throwIfAborted();
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    stop();
  }
}
