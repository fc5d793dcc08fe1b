/**
 * `mycel node start --detach` and its companions: the node runs as a background process whose pid is in
 * `<data dir>/node.pid`. The node writes its own log (node/log.ts: pino JSON lines in `<data dir>/logs/node.N.log`,
 * rolled over during the run, `logs/current.log` the file being written); what it prints (its readable console
 * output, and any error before its log is open) goes to `<data dir>/logs/console.log`, rotated when a node starts
 * and that file has grown past LOG_MAX_BYTES (console.log.1 is the newest old one; LOG_KEEP are kept).
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MycelError } from '../platform/errors.js';
import { currentLog } from '../node/log.js';

export const LOG_MAX_BYTES = 10 * 2 ** 20;
export const LOG_KEEP = 5;
/** How long `--detach` waits for the node to serve its control endpoint, and `node stop` for it to exit. */
export const START_WAIT_MS = 60_000;
export const STOP_WAIT_MS = 30_000;

export const pidFile = (dataDir: string) => join(dataDir, 'node.pid');
export const logDir = (dataDir: string) => join(dataDir, 'logs');
/** The node's log (a symlink to the file being written). */
export const logFile = (dataDir: string) => currentLog(logDir(dataDir));
/** A detached node's console output. */
export const consoleFile = (dataDir: string) => join(logDir(dataDir), 'console.log');

export class NodeServiceError extends MycelError {
  override name = 'NodeServiceError';
}

/** Shifts console.log to console.log.1 (and each .N to .N+1, dropping the oldest) when it is larger than `maxBytes`. */
export async function rotateLogs(path: string, maxBytes = LOG_MAX_BYTES, keep = LOG_KEEP): Promise<boolean> {
  const size = await stat(path).then((s) => s.size, () => 0);
  if (size <= maxBytes) return false;
  await rm(`${path}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
  await rename(path, `${path}.1`);
  return true;
}

/** The pid of the node running from `dataDir`, or undefined (a pid file left by a killed node is removed). */
export async function runningPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(pidFile(dataDir), 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (alive(pid)) return pid;
  await rm(pidFile(dataDir), { force: true });
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Starts `mycel <args>` in the background, its output appended to console.log, and waits until `ready()` says the node
 * serves (or it exits: then the log's last lines are the error). Returns its pid.
 */
export async function startDetached(dataDir: string, args: string[], ready: () => Promise<boolean>): Promise<number> {
  const running = await runningPid(dataDir);
  if (running !== undefined) throw new NodeServiceError(`A node is already running from ${dataDir} (pid ${running}).`, { metaMessages: ['Stop it first: mycel node stop' + (dataDir ? ` --data-dir ${dataDir}` : '')] });
  const log = consoleFile(dataDir);
  await mkdir(logDir(dataDir), { recursive: true, mode: 0o700 });
  await rotateLogs(log);
  const out = await open(log, 'a', 0o600);
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(process.execPath, [main, ...args], { detached: true, stdio: ['ignore', out.fd, out.fd] });
  await out.close();
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const pid = child.pid!;
  await writeFile(pidFile(dataDir), `${pid}\n`, { mode: 0o600 });
  const deadline = Date.now() + START_WAIT_MS;
  while (!(await ready().catch(() => false))) {
    if (exited !== undefined || Date.now() > deadline) {
      if (exited === undefined) process.kill(pid, 'SIGTERM');
      await rm(pidFile(dataDir), { force: true });
      const tail = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n');
      throw new NodeServiceError(`The node did not start${exited === undefined ? ` within ${START_WAIT_MS / 1000} s` : ` (exit code ${exited})`}.`, { details: tail, metaMessages: [`Its log: ${log}`] });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.unref();
  return pid;
}

/** SIGTERM to the running node, then waits for it to exit. Returns its pid, or undefined when none was running. */
export async function stopDetached(dataDir: string): Promise<number | undefined> {
  const pid = await runningPid(dataDir);
  if (pid === undefined) return undefined;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_WAIT_MS;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new NodeServiceError(`The node (pid ${pid}) did not stop within ${STOP_WAIT_MS / 1000} s.`, { metaMessages: [`End it by force: kill -9 ${pid}`] });
    await new Promise((r) => setTimeout(r, 100));
  }
  await rm(pidFile(dataDir), { force: true });
  return pid;
}
