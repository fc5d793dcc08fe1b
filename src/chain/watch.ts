/**
 * Reorg-safe event watching: logs are delivered only once their block has `confirmations` blocks on top, and only
 * if that block is still the canonical one when it is confirmed.
 *
 * Each poll re-reads the logs of every not-yet-confirmed block (so a log that a reorg removed is dropped and one it
 * added is picked up), then, for each block that became confirmed, checks that the canonical block hash still
 * matches the hash its logs were read at. On a mismatch (a reorg between reading and confirming) nothing of that
 * block is delivered and it is read again on the next poll. Delivered logs are never delivered again.
 *
 * ```ts
 * const stop = watchConfirmed(publicClient, { address: market, abi: JobMarketAbi, eventName: 'JobPosted', confirmations: 3, onLog })
 * ```
 */
import type { Abi, Address, Chain, Client, Hash, Log, Transport } from 'viem';
import { getBlock, getBlockNumber, getContractEvents } from 'viem/actions';

/** The part of a log the bookkeeping needs. */
export type LogPosition = { blockNumber: bigint; blockHash: Hash; logIndex: number };

/** What one poll needs from a chain; {@link watchConfirmed} wires it to viem, tests to a fake. */
export type ChainView<L extends LogPosition> = {
  blockNumber(): Promise<bigint>;
  /** The logs of blocks `from..to` inclusive. */
  logs(from: bigint, to: bigint): Promise<L[]>;
  /** The canonical hash of block `n`, or undefined when the chain is shorter. */
  blockHash(n: bigint): Promise<Hash | undefined>;
};

/**
 * The bookkeeping of {@link watchConfirmed}, without timers: `poll()` reads the chain once and returns the logs
 * that became confirmed, in chain order.
 */
export class ConfirmationTracker<L extends LogPosition> {
  /** The lowest block not yet confirmed: everything below it was delivered (or had no logs). */
  cursor: bigint | undefined;
  /** Logs of unconfirmed blocks, by block number, as last read. */
  readonly pending = new Map<bigint, L[]>();

  constructor(
    private readonly chain: ChainView<L>,
    readonly confirmations: number,
    fromBlock?: bigint,
  ) {
    if (!Number.isInteger(confirmations) || confirmations < 0) throw new RangeError(`confirmations must be a whole number >= 0, got ${confirmations}`);
    this.cursor = fromBlock;
  }

  /** Replaces what is known of blocks `from..to` with `logs` (a re-read after a reorg drops and adds logs). */
  record(from: bigint, to: bigint, logs: readonly L[]): void {
    for (const n of [...this.pending.keys()]) if (n >= from && n <= to) this.pending.delete(n);
    for (const log of logs) {
      if (log.blockNumber < from || log.blockNumber > to) continue;
      const list = this.pending.get(log.blockNumber) ?? [];
      list.push(log);
      this.pending.set(log.blockNumber, list);
    }
  }

  async poll(): Promise<L[]> {
    const head = await this.chain.blockNumber();
    this.cursor ??= head;
    // A reorg to a shorter chain: forget what was read above the head.
    for (const n of [...this.pending.keys()]) if (n > head) this.pending.delete(n);
    if (head < this.cursor) return [];
    this.record(this.cursor, head, await this.chain.logs(this.cursor, head));
    const delivered: L[] = [];
    const safe = head - BigInt(this.confirmations);
    while (this.cursor <= safe) {
      const logs = this.pending.get(this.cursor) ?? [];
      if (logs.length > 0) {
        const canonical = await this.chain.blockHash(this.cursor);
        if (logs.some((l) => l.blockHash !== canonical)) {
          // Reorged since the read: drop it and read this block again next poll.
          this.pending.delete(this.cursor);
          break;
        }
        delivered.push(...[...logs].sort((a, b) => a.logIndex - b.logIndex));
      }
      this.pending.delete(this.cursor);
      this.cursor += 1n;
    }
    return delivered;
  }
}

export type WatchConfirmedParameters = {
  address: Address;
  abi: Abi;
  eventName: string;
  /** Blocks on top of a log's block before it is delivered (0: as soon as it is mined). */
  confirmations: number;
  /** First block to watch; default: the head when watching starts. */
  fromBlock?: bigint;
  onLog: (log: Log & { args?: unknown; eventName?: string }) => void | Promise<void>;
  /** After each poll whose logs were all delivered: every block below `confirmedBelow` has been read. */
  onPolled?: (confirmedBelow: bigint) => void;
  /** Called with a poll's error; polling goes on. Default: rethrown from nowhere, i.e. ignored. */
  onError?: (error: unknown) => void;
  /** Default: the client's pollingInterval. */
  pollingInterval?: number;
  /** Stops watching when aborted. */
  signal?: AbortSignal;
};

type DecodedLog = Log<bigint, number, false> & LogPosition & { args?: unknown; eventName?: string };

/** Polls decoded logs of one event and delivers each once confirmed. Returns a function that stops watching. */
export function watchConfirmed(client: Client<Transport, Chain | undefined>, params: WatchConfirmedParameters): () => void {
  const view: ChainView<DecodedLog> = {
    blockNumber: () => getBlockNumber(client, { cacheTime: 0 }),
    logs: async (from, to) =>
      (await getContractEvents(client, { address: params.address, abi: params.abi, eventName: params.eventName, fromBlock: from, toBlock: to } as never)) as unknown as DecodedLog[],
    blockHash: async (n) => {
      try {
        return (await getBlock(client, { blockNumber: n })).hash ?? undefined;
      } catch {
        return undefined;
      }
    },
  };
  const tracker = new ConfirmationTracker(view, params.confirmations, params.fromBlock);
  const interval = params.pollingInterval ?? client.pollingInterval;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  params.signal?.addEventListener('abort', stop, { once: true });
  const tick = async () => {
    if (stopped) return;
    try {
      for (const log of await tracker.poll()) {
        if (stopped) return;
        await params.onLog(log);
      }
      if (tracker.cursor !== undefined) params.onPolled?.(tracker.cursor);
    } catch (error) {
      params.onError?.(error);
    }
    if (!stopped) timer = setTimeout(tick, interval);
  };
  if (params.signal?.aborted) stop();
  else void tick();
  return stop;
}
