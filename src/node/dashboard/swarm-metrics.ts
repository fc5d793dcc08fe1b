/**
 * The swarm view's feed: follows a SAPO metrics file (sapo-metrics.jsonl, written a line per node and round by
 * `mycel swarm start` and `mycel swarm local`) as it grows, and gives each new round to the observer. It reads only the
 * bytes appended since the last look; a line still being written waits for its newline; a line that is not a round
 * (a crash cut it, or another file) is skipped. The format is the swarm's own (swarm/sapo-metrics.ts), unchanged.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { METRICS_FILE } from '../../swarm/sapo-metrics.js';
import type { RoundMetrics } from '../../swarm/round.js';
import type { Observer } from './observer.js';

const POLL_MS = 1_000;

/** The fields the view uses; the rest of a line is kept as the swarm wrote it. */
const Round = z.object({
  round: z.number().int().nonnegative(), node: z.string().max(200), reward: z.number(), accuracy: z.number(),
  rolloutsIn: z.number(), rolloutsOut: z.number(), rejected: z.number(), dropped: z.array(z.string()),
}).passthrough();

/** The metrics file for a path: the file itself, or sapo-metrics.jsonl in the folder (or its sapo/ folder). */
export async function swarmMetricsFile(path: string): Promise<string> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isDirectory()) return path;
  for (const candidate of [join(path, 'sapo', METRICS_FILE), join(path, METRICS_FILE)]) if (await stat(candidate).catch(() => undefined)) return candidate;
  return join(path, METRICS_FILE);
}

/** Parses the complete lines of `text`; returns the rounds and how many bytes were consumed (up to the last newline). */
export function parseRounds(text: string): { rounds: RoundMetrics[]; consumed: number } {
  const end = text.lastIndexOf('\n') + 1;
  const rounds = text.slice(0, end).split('\n').flatMap((line) => {
    if (!line.trim()) return [];
    try {
      const parsed = Round.safeParse(JSON.parse(line));
      return parsed.success ? [parsed.data as unknown as RoundMetrics] : [];
    } catch {
      return [];
    }
  });
  return { rounds, consumed: Buffer.byteLength(text.slice(0, end)) };
}

/** Follows the file (it may not exist yet) until the returned function is called. */
export function watchSwarmMetrics(observer: Observer, file: string, pollMs = POLL_MS): () => void {
  let offset = 0;
  let busy = false;
  const look = async () => {
    if (busy) return;
    busy = true;
    try {
      const size = (await stat(file).catch(() => undefined))?.size;
      if (size === undefined) return;
      if (size < offset) offset = 0; // the file was replaced: read it again
      if (size === offset) return;
      const handle = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(size - offset);
        await handle.read(buffer, 0, buffer.length, offset);
        const { rounds, consumed } = parseRounds(buffer.toString('utf8'));
        offset += consumed;
        for (const r of rounds) observer.recordSwarmRound(r, file);
      } finally {
        await handle.close();
      }
    } finally {
      busy = false;
    }
  };
  void look();
  const timer = setInterval(() => void look().catch(() => undefined), pollMs);
  timer.unref();
  return () => clearInterval(timer);
}
