/** Starts a role as a separate node process (child.ts) and relays its events. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { followChild } from '../platform/child-output.js';
import { MycelError } from '../platform/errors.js';
import type { Emit, NodeEvent } from './context.js';
import type { ChildSpec } from './child.js';

/** `ready` resolves at the process's first event (its libp2p node is up), `result` at its end. */
export type RoleProcess<R> = { child: ChildProcess; ready: Promise<void>; result: Promise<R>; stop(): void };

/** A node process ended without its result: which node, why (its error's own lines) and what to do. */
export class NodeProcessError extends MycelError {
  override name = 'NodeProcessError';
  constructor({ node, pid, exit, reason, dataDir }: { node: string; pid: number | undefined; exit: string; reason: string; dataDir: string }) {
    super(`Node ${node} (pid ${pid}) exited with ${exit}: ${reason || 'no error message'}`, {
      metaMessages: [
        `Its data: ${dataDir}. Run again with --json to see every line it logged.`,
        'A reverted transaction (JobWrongPhase, a closed challenge window) on a busy machine means it acted too late: give it a longer --window, or run with fewer other programs.',
      ],
    });
  }
}

export function spawnRole<R>(spec: ChildSpec, emit: Emit): RoleProcess<R> {
  const fromTs = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromTs ? './child.ts' : './child.js', import.meta.url));
  const child = spawn(process.execPath, [...(fromTs ? ['--import', 'tsx'] : []), entry], {
    env: { ...process.env, MYCEL_NODE: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let isReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (isReady = resolve));
  const result = new Promise<R>((resolve, reject) => {
    let done: R | undefined;
    const output = followChild(child, (event) => {
      isReady();
      const e = event as NodeEvent | { type: 'done'; result: R };
      if (e.type === 'done') done = e.result;
      else emit(e);
    });
    child.on('exit', (code, signal) => {
      if (done !== undefined) resolve(done);
      // The error's own lines, not its stack frames: they say what went wrong.
      else reject(new NodeProcessError({ node: spec.name, pid: child.pid, exit: String(signal ?? code), reason: output.errorLines(), dataDir: spec.dataDir }));
    });
  });
  return { child, ready, result, stop: () => { if (child.exitCode === null) child.kill('SIGTERM'); } };
}
