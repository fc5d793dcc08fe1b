// `mycel swarm train` as a user runs it (the built CLI, separate processes): bad input refused with the reason
// and no stack trace; with MYCEL_LONG=1, a real run of worker processes, its table, metrics and plot, and a
// resumed worker.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { simulateDiloco } from '../../src/swarm/diloco-sim.js';
import { outerStateHash } from '../../src/train/diloco-program.js';
import { microSpec } from '../train/helpers.js';
import { microRun } from '../swarm/diloco-helpers.js';

const run = promisify(execFile);
let home: string;
let specFile: string;

async function mycel(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['dist/cli/main.js', ...args], { env: { ...process.env, MYCEL_HOME: home } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'mycel-swarm-train-'));
  specFile = join(home, 'job.json');
  await writeFile(specFile, JSON.stringify(microSpec({ steps: 6 })));
});

describe('mycel swarm train', { timeout: 300_000 }, () => {
  it('refuses bad input with the reason and the fix, without a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['--mode', 'allreduce'], /--mode must be one of diloco, noloco, got "allreduce"/],
      [['--workers', '0'], /--workers must be a whole number from 1 to 1024, got "0"/],
      [['--inner-steps', '4'], /6 steps are not a whole number of rounds of --inner-steps 4[\s\S]*e\.g\. 2, 3, 6/],
      [['--spot-check', '2'], /--spot-check must be a fraction from 0 to 1/],
      [['--join', '/ip4/127.0.0.1/tcp/1'], /--worker-index must be given with --join/],
      [['--wrokers', '2'], /Did you mean --workers\?/],
    ];
    const results = await Promise.all(cases.map(([flags]) => mycel('swarm', 'train', specFile, '--inner-steps', '2', ...flags)));
    results.forEach((r, i) => {
      expect(r.code, cases[i][0].join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(cases[i][1]);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });
    const none = await mycel('swarm', 'train');
    expect(none.stderr).toMatch(/swarm train takes one spec file or preset name, got none/);
    const missing = await mycel('swarm', 'train', join(home, 'nope.json'));
    expect(missing.stderr).toMatch(/Cannot read the spec file/);
  });

  it('prints --help with its flags', async () => {
    const help = await mycel('swarm', 'train', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--inner-steps H/);
    expect(help.stdout).toMatch(/--mode MODE/);
    expect(help.stdout).toMatch(/--join MULTIADDR/);
  });

  it.runIf(process.env.MYCEL_LONG === '1')('runs worker processes to the in-process run\'s outer state, with the table, metrics and plot; a restarted worker resumes', async () => {
    const r = await mycel('swarm', 'train', specFile, '--workers', '3', '--inner-steps', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.kind === 'round').map((l) => l.in)).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2]]);
    const summary = lines.find((l) => l.kind === 'run')!;
    const sim = simulateDiloco({ ...microRun('diloco'), slots: 3 });
    expect(summary.state).toBe(outerStateHash(sim.workers.get(0)!.outer));
    expect((await readFile(summary.plot as string, 'utf8'))).toMatch(/<svg[\s\S]*<polyline/);
    expect((await readFile(summary.metrics as string, 'utf8')).trim().split('\n')).toHaveLength(3);
    // Every worker committed its state after the last round: a second run resumes there and has nothing left to do.
    const again = await mycel('swarm', 'train', specFile, '--workers', '3', '--inner-steps', '2', '--json', '--cutoff-ms', '2000');
    expect(again.code, again.stderr).toBe(0);
    await rm(join(home, 'diloco'), { recursive: true, force: true });
  });
});
