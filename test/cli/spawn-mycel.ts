/** The built `mycel` command (dist/cli/main.js; `npm run build` first) run as a child process, as a user runs it. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const MYCEL_MAIN = join(import.meta.dirname, '../../dist/cli/main.js');

export type MycelRun = { code: number | null; stdout: string; stderr: string };

/** Runs `mycel ...args` to its end (SIGKILL after timeoutMs) and returns its exit code and output. */
export function spawnMycel(args: string[], timeoutMs = 60_000): Promise<MycelRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MYCEL_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
