/**
 * The devnet on a busy machine (issue 10, attack 7): with a busy loop on every core beside it, the scenario still ends
 * as the protocol says (the honest job Finalized and paid, the cheater's Refuted), because the challenge window is
 * sized from the job (node/window.ts) and no job is posted before its verifier listens. Long (minutes on a loaded
 * machine): runs under MYCEL_LONG=1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, onTestFinished, test } from 'vitest';
import { formatSummary, runDevnet } from '../../src/node/index.js';
import { microSpec } from '../train/helpers.js';

const hogs: ChildProcess[] = [];
afterAll(() => {
  for (const h of hogs) h.kill('SIGKILL');
});

describe.skipIf(!process.env.MYCEL_LONG)('mycel devnet on a busy machine', () => {
  test('a CPU hog on every core: the cheater is still refuted and the honest solver paid', async () => {
    for (let i = 0; i < availableParallelism(); i++) hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
    const dir = await mkdtemp(join(tmpdir(), 'mycel-devnet-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    // The swarm's starting policy from the checkout's cache (devnet.test.ts makes it), not pre-trained under the hogs.
    const s = await runDevnet({ dir, cacheDir: join(process.cwd(), '.cache', 'devnet'), spec: microSpec({ steps: 4, checkpointEvery: 2 }), steps: 4, cheatAt: 3, signal: AbortSignal.timeout(580_000) });
    console.log(formatSummary(s));
    expect(s.failures).toEqual([]);
    expect(s.jobs.map((j) => j.phase)).toEqual(['Finalized', 'Refuted']);
    expect(s.jobs[1].dispute).toMatchObject({ loser: 'solver' });
  }, 600_000);

});
