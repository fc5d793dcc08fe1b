/** Starts a role as a separate node process (child.ts) and relays its events. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Emit, NodeEvent } from './context.js';
import type { ChildSpec } from './child.js';

export type RoleProcess<R> = { child: ChildProcess; result: Promise<R>; stop(): void };

export function spawnRole<R>(spec: ChildSpec, emit: Emit): RoleProcess<R> {
  const fromTs = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromTs ? './child.ts' : './child.js', import.meta.url));
  const child = spawn(process.execPath, [...(fromTs ? ['--import', 'tsx'] : []), entry], {
    env: { ...process.env, MYCEL_NODE: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const result = new Promise<R>((resolve, reject) => {
    let done: R | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: (NodeEvent | { type: 'done'; result: R });
      try {
        e = JSON.parse(line);
      } catch {
        return;
      }
      if (e.type === 'done') done = e.result;
      else emit(e);
    });
    child.on('exit', (code, signal) => {
      if (done !== undefined) resolve(done);
      // The error's own lines, not its stack frames: they say what went wrong.
      else reject(new Error(`node ${spec.name} (pid ${child.pid}) exited with ${signal ?? code}: ${stderr.trim().split('\n').filter((l) => !/^\s+at /.test(l)).slice(-4).join(' | ')}`));
    });
  });
  return { child, result, stop: () => { if (child.exitCode === null) child.kill('SIGTERM'); } };
}
