/** A node's log file (node/log.ts): pino JSON lines, rolled over during the run, a bounded number kept. */
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { currentLog, openNodeLog } from '../../src/node/log.js';

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'mycel-log-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('a node log', () => {
  test('writes each event as a JSON line, rolls over past its size while running, and keeps a bounded number', async () => {
    const logs = join(dir, 'logs');
    const log = await openNodeLog(logs, 'solver', { maxBytes: 2048, keep: 2 });
    for (let i = 0; i < 120; i++) {
      log.event({ type: 'log', node: 'solver', text: `line ${i} ${'x'.repeat(40)}` });
      log.event({ type: 'step', node: 'solver', jobId: '1', step: i, loss: 1 }); // left out: 'train' events carry progress
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5)); // let the stream drain, as a running node does
    }
    log.event({ type: 'refused', node: 'solver', jobId: '7', reason: 'needs about 900 MiB' });
    await log.close();
    // pino-roll removes the oldest files after a roll-over, asynchronously.
    const numbered = async () => (await readdir(logs)).filter((f) => /^node\.\d+\.log$/.test(f));
    for (let i = 0; i < 100 && (await numbered()).length > 3; i++) await new Promise((r) => setTimeout(r, 20));
    const files = (await readdir(logs)).filter((f) => /^node\.\d+\.log$/.test(f)).sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
    expect(files.length).toBe(3); // the file being written and 2 old ones
    expect(Number(files.at(-1)!.split('.')[1])).toBeGreaterThan(3); // it rolled over more than `keep` times
    expect(await readlink(currentLog(logs))).toBe(files.at(-1));
    const lines = (await readFile(currentLog(logs), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ level: 40, node: 'solver', event: 'refused', jobId: '7', msg: 'job 7: refused: needs about 900 MiB' });
    expect(lines.at(-2)).toMatchObject({ level: 30, node: 'solver', msg: expect.stringMatching(/^line 119 x+$/), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const all = (await Promise.all(files.map((f) => readFile(join(logs, f), 'utf8')))).join('');
    expect(all).not.toMatch(/"step"/);
  });
});
