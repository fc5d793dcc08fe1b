// The training commands as a user runs them: separate processes on the built CLI (npm test builds first).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { microSpec } from '../train/helpers.js';

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

const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'mycel-cli-'));
  specFile = join(home, 'job.json');
  await writeFile(specFile, JSON.stringify(microSpec()));
});

// Each test starts several processes, seconds each on a loaded machine (2 cores shared by many jobs).
describe('mycel train, eval, sample, inspect', { timeout: 180_000 }, () => {
  it('trains, prints the commitment, and resumes to the same one', async () => {
    const whole = await mycel('train', specFile, '--json', '--eval-examples', '3');
    expect(whole.code).toBe(0);
    const summary = lines(whole.stdout).find((l) => l.kind === 'run')!;
    expect(summary.commitment).toMatch(/^[0-9a-f]{64}$/);
    expect(lines(whole.stdout).filter((l) => l.kind === 'step')).toHaveLength(6);
    expect(summary.eval_examples).toBe(3);
    expect([0, 1 / 3, 2 / 3, 1]).toContain(summary.accuracy); // exact matches out of the 3 held-out prompts

    const other = join(home, 'other');
    const stopped = await mycel('train', specFile, '--json', '--stop-at', '3', '--data-dir', other);
    expect(stopped.code).toBe(0); // --stop-at finished what was asked
    const stop = lines(stopped.stdout).at(-1)!;
    expect(stop).toMatchObject({ steps: 3, commitment: null, checkpoint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const curve = String(stop.loss_curve);
    expect((await readFile(curve, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).step)).toEqual([1, 2, 3]);
    const resumed = await mycel('train', specFile, '--json', '--data-dir', other, '--eval-examples', '0');
    const end = lines(resumed.stdout).at(-1)!;
    expect(end.resumed_from).toBe(3);
    expect(end.commitment).toBe(summary.commitment);
    expect((await readFile(curve, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await readFile(join(curve, '..', 'loss.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline points="[\d., ]+"/);
  });

  it.each([['SIGTERM', 143], ['SIGINT', 130]] as const)('%s stops training at the step reached, checkpoints it, the summary says where, and it exits %i', async (sig, status) => {
    const dir = join(home, sig);
    const long = join(home, 'long.json');
    await writeFile(long, JSON.stringify(microSpec({ steps: 5000, checkpointEvery: 1000 })));
    const child = spawn(process.execPath, ['dist/cli/main.js', 'train', long, '--json', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // Signalled once step 4 is reported (not at a fixed time: the machine may be slow).
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d) => ((stdout += d), /"kind":"step","step":4,/.test(stdout) && resolve()));
      void exited.then(() => resolve());
    });
    child.kill(sig);
    // Cut short by a signal: 128 + its number, as the shell expects (a finished run and --stop-at exit 0).
    expect(await exited).toBe(status);
    const run = lines(stdout).find((l) => l.kind === 'run')!;
    const at = run.steps as number;
    expect(at).toBeGreaterThanOrEqual(4);
    expect(at).toBeLessThan(5000);
    expect(run.checkpoint).toMatch(/^[0-9a-f]{64}$/);
    const resumed = lines((await mycel('train', long, '--json', '--data-dir', dir, '--stop-at', String(at + 1))).stdout).at(-1)!;
    expect(resumed).toMatchObject({ resumed_from: at, steps: at + 1 });
  });

  it('samples deterministically, inspects and evaluates the run', async () => {
    const a = await mycel('sample', specFile, '--prompt', '1+2=', '--temperature', '1', '--seed', '3', '--json');
    const b = await mycel('sample', specFile, '--prompt', '1+2=', '--temperature', '1', '--seed', '3', '--json');
    expect(a.code).toBe(0);
    expect(lines(a.stdout)[0].completion).toBe(lines(b.stdout)[0].completion);
    const inspected = lines((await mycel('inspect', specFile, '--json')).stdout)[0];
    expect(inspected.step).toBe(6);
    expect(inspected.commitment).toMatch(/^[0-9a-f]{64}$/);
    const listed = await mycel('inspect');
    expect(listed.stdout).toMatch(/6\/6 steps/);
    const evaluated = lines((await mycel('eval', specFile, '--examples', '4', '--json')).stdout)[0];
    expect(evaluated.examples).toBe(4);
  });

  it('refuses bad input with the cause and the fix', async () => {
    const bad = join(home, 'bad.json');
    await writeFile(bad, JSON.stringify({ ...microSpec(), batchSize: 0 }));
    const invalid = await mycel('train', bad);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/batchSize: .*>=\s*1/);
    expect(invalid.stderr).toMatch(/--print-spec/);

    await writeFile(join(home, 'broken.json'), '{"version": 1,');
    expect((await mycel('train', join(home, 'broken.json'))).stderr).toMatch(/not valid JSON/);
    expect((await mycel('train', 'no-such-preset')).stderr).toMatch(/Presets: quick, sorting, addition, policy, text/);

    const latin1 = join(home, 'latin1.txt');
    await writeFile(latin1, Buffer.from([0x68, 0x69, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a]));
    expect((await mycel('train', 'text', '--text', latin1)).stderr).toMatch(/byte offset 6/);

    const huge = await mycel('train', specFile, '--max-memory', '0.00001');
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/needs about .* GiB of memory/);
    expect(huge.stderr).toMatch(/--max-memory/);

    const objects = join(home, 'train', 'objects');
    const before = (await readdir(objects)).sort();
    expect((await mycel('inspect', '0123456789abcdef')).stderr).toMatch(/No run whose id starts with/);
    expect((await readdir(objects)).sort()).toEqual(before);
  });
});

describe('mycel dispute --local', () => {
  it('plays a whole game against a solver that used Math.exp, printing every move and the ruling', async () => {
    const result = await mycel('dispute', '--local', specFile, '--cheat', 'math-exp', '--at', '2', '--json');
    expect(result.code).toBe(0);
    const rows = lines(result.stdout);
    const moves = rows.filter((r) => r.kind !== undefined);
    expect(moves[0]).toMatchObject({ by: 'solver', kind: 'reveal' });
    expect(moves.some((m) => m.kind === 'prove')).toBe(true);
    const ruling = rows.at(-1)!.ruling as Record<string, unknown>;
    expect(ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: 2 });
    expect(String(ruling.opName)).toMatch(/exp/);
    expect(await mycel('dispute', specFile)).toMatchObject({ code: 2 });
  });
});
