/**
 * A node's log file: pino JSON lines (one object per event: time, level, node, msg, and the event's fields) in
 * `<dir>/node.N.log`, rolled over by pino-roll during the run once a file passes `maxBytes` (the newest `keep` old
 * files are kept), with `<dir>/current.log` a symlink to the file being written. The console keeps its own readable
 * lines (the CLI's Output); this file is for `tail -f`, log shippers and jq. Used by `mycel node start`, `mycel node
 * run` and the devnet's node processes.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, stdTimeFunctions, type Logger } from 'pino';
import pinoRoll from 'pino-roll';
import type { NodeEvent } from './context.js';

export const LOG_MAX_BYTES = 10 * 2 ** 20;
export const LOG_KEEP = 5;
/** The symlink pino-roll keeps to the file being written. */
export const currentLog = (dir: string) => join(dir, 'current.log');

export type NodeLog = {
  logger: Logger;
  /** Writes a NodeEvent as one line (per-step losses are left out: `train` events carry the progress). */
  event(e: NodeEvent): void;
  close(): Promise<void>;
};

export async function openNodeLog(dir: string, name: string, { maxBytes = LOG_MAX_BYTES, keep = LOG_KEEP } = {}): Promise<NodeLog> {
  // Made here: pino-roll links current.log before its stream has made the folder.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stream = await pinoRoll({ file: join(dir, 'node'), extension: '.log', size: `${Math.max(1, Math.ceil(maxBytes / 1024))}k`, limit: { count: keep }, symlink: true, mkdir: true });
  const logger = pino({ base: { node: name, pid: process.pid }, timestamp: stdTimeFunctions.isoTime }, stream);
  return {
    logger,
    event(e) {
      const { type, node: _node, ...fields } = e;
      if (e.type === 'step') return;
      if (e.type === 'log') logger.info(e.text);
      else if (e.type === 'refused' || e.type === 'unverified') logger.warn({ event: type, ...fields }, `job ${e.jobId}: ${type}: ${e.reason}`);
      else logger.info({ event: type, ...fields }, type);
    },
    close: () =>
      new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.end();
      }),
  };
}
