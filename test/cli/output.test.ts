import { afterEach, describe, expect, it, vi } from 'vitest';
import { Output } from '../../src/cli/output.js';

afterEach(() => void vi.useRealTimers());

function terminal() {
  const stream = { isTTY: true, columns: 200, text: '', write: (s: string) => ((stream.text += s), true) };
  return stream;
}

describe('the progress bar', () => {
  it('ends where the work really stopped, not at the total', () => {
    vi.useFakeTimers();
    const stderr = terminal();
    const bar = new Output({ json: false, stderr: stderr as never }).progress('training', 2000);
    vi.advanceTimersByTime(300);
    bar.update(55, 'loss 2.1');
    bar.done(55, 'loss 2.1');
    const last = stderr.text.split('\r').at(-1)!;
    expect(last).toMatch(/ 55\/2000 /);
    expect(stderr.text).not.toMatch(/2000\/2000/);
  });
});
