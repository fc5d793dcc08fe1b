/**
 * What a parent reads of a child mycel process: its stdout as JSON lines (the events it reports; other lines
 * are skipped), and the tail of its stderr, whose last lines (not its stack frames) say why it failed.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const STDERR_TAIL_CHARS = 4000;

export type ChildOutput = {
  /** The last `count` lines of its stderr that are neither blank nor stack frames, joined with " | ". */
  errorLines(count?: number): string;
};

export function followChild(child: ChildProcess, onEvent: (event: Record<string, unknown>) => void): ChildOutput {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL_CHARS)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event !== null && typeof event === 'object') onEvent(event as Record<string, unknown>);
  });
  return {
    errorLines: (count = 4) =>
      stderr
        .trim()
        .split('\n')
        .filter((l) => l.trim() && !/^\s+at /.test(l))
        .slice(-count)
        .join(' | '),
  };
}
