/**
 * `mycel ...args` run inside the test process (main() with stdout and stderr captured): the same
 * commands as the built CLI, without a process start per call (seconds each on a loaded machine).
 */
import { vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export type MycelRun = { code: number; stdout: string; stderr: string };

export async function mycelInProcess(...args: string[]): Promise<MycelRun> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(args, new AbortController().signal);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
