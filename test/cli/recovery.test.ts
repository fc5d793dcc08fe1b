// Stopped and damaged runs as a user meets them: what sample, inspect, verify and train say and do.
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { microSpec } from '../train/helpers.js';
import { mycelInProcess as mycel } from './in-process.js';
import { devnet, freshDevnetDir } from '../../src/cli/commands/devnet.js';

let dir: string;
let specFile: string;
const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-recovery-'));
  specFile = join(dir, 'job.json');
  await writeFile(specFile, JSON.stringify(microSpec()));
});

describe('a stopped run', () => {
  it('sample, eval and inspect say which step they loaded, and that training is unfinished', async () => {
    const stopped = join(dir, 'stopped');
    expect((await mycel('train', specFile, '--stop-at', '3', '--data-dir', stopped)).stdout).toMatch(/stopped {5}at step 3, checkpointed/);
    const sampled = await mycel('sample', specFile, '--data-dir', stopped, '--prompt', '1+2=');
    expect(sampled.stderr).toMatch(/sampling from run [0-9a-f]{12} step 3 of 6 \(training unfinished\)/);
    expect((await mycel('eval', specFile, '--data-dir', stopped, '--examples', '2')).stdout).toMatch(/step 3 of 6 \(training unfinished\): /);
    expect((await mycel('inspect', specFile, '--data-dir', stopped)).stdout).toMatch(/^run [0-9a-f]{12} step 3 of 6 \(training unfinished\)\n/);
  });
});

describe('a corrupt latest checkpoint', () => {
  it('is reported by verify and sample, passed over by train, and --from-step picks an earlier one', async () => {
    const store = join(dir, 'corrupt');
    const whole = lines((await mycel('train', specFile, '--json', '--data-dir', store, '--eval-examples', '0')).stdout).at(-1)!;
    const latest = join(store, 'train', 'objects', `${whole.checkpoint}.safetensors`);
    const bytes = await readFile(latest);
    bytes[bytes.length - 3] ^= 0x40;
    await writeFile(latest, bytes);

    const verified = await mycel('verify', String(whole.job_id), '--data-dir', store);
    expect(verified.stdout).toMatch(/every step hash agrees/);
    expect(verified.stdout).toMatch(/Checkpoints: 3 of 4 intact; 1 unusable \(left as they are\):\n {2}step 6: Checkpoint .* is corrupt/);
    expect(verified.stderr).not.toMatch(/step 1: agrees/);
    const json = lines((await mycel('verify', String(whole.job_id), '--data-dir', store, '--json')).stdout)[0];
    expect(json.checkpoints).toMatchObject({ total: 4, intact: 3, unusable: [{ step: 6 }] });
    expect((await mycel('verify', String(whole.job_id), '--data-dir', store, '--each-step')).stderr).toMatch(/step 1: agrees[\s\S]*step 6: agrees/);

    const sampled = await mycel('sample', specFile, '--data-dir', store);
    expect(sampled.code).toBe(1);
    expect(sampled.stderr).toMatch(/is corrupt[\s\S]*--step N/);

    const again = await mycel('train', specFile, '--json', '--data-dir', store, '--eval-examples', '0');
    expect(again.stderr).toMatch(/passed over the checkpoint of step 6 \(left as it is\)/);
    expect(lines(again.stdout).at(-1)).toMatchObject({ resumed_from: 4, commitment: whole.commitment });
    const from = await mycel('train', specFile, '--json', '--data-dir', store, '--eval-examples', '0', '--from-step', '2');
    expect(lines(from.stdout).at(-1)).toMatchObject({ resumed_from: 2, commitment: whole.commitment });
    expect((await mycel('verify', String(whole.job_id), '--data-dir', store)).stdout).toMatch(/Checkpoints: all 4 intact/);
    expect((await mycel('train', specFile, '--data-dir', store, '--from-step', '3')).stderr).toMatch(/No checkpoint for step 3[\s\S]*Checkpointed steps: 0, 2, 4, 6/);
  });
});

describe('small things', () => {
  it('sample without --prompt answers a held-out prompt of a task model', async () => {
    const store = join(dir, 'held');
    await mycel('train', specFile, '--data-dir', store, '--eval-examples', '0');
    const held = await mycel('sample', specFile, '--data-dir', store);
    expect(held.code).toBe(0);
    expect(held.stdout).toMatch(/^\d+\+\d+=/);
    expect(held.stderr).toMatch(/sampling from run [0-9a-f]{12} step 6 of 6\n/);
  });

  it('a command group on its own lists its subcommands; a wrong flag is named plainly', async () => {
    for (const group of ['node', 'blob', 'chain']) {
      const shown = await mycel(group);
      expect(shown.code).toBe(2);
      expect(shown.stdout).toMatch(new RegExp(`Usage: mycel ${group} <command>[\\s\\S]*  ${group} \\w+ `));
      expect(shown.stderr).not.toMatch(/Unknown command/);
    }
    expect((await mycel('chain', '--help')).code).toBe(0);
    const typo = await mycel('train', 'quick', '--stop-att', '3');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^Error: Unknown flag --stop-att for `mycel train`\.\n\nDid you mean --stop-at\?/);
  });

  it('the devnet keeps its data under MYCEL_HOME, replacing the previous run, and never empties a folder it did not fill', async () => {
    const devnetDir = join(dir, 'home', 'devnet');
    await mkdir(join(devnetDir, 'verifier', 'train'), { recursive: true });
    await writeFile(join(devnetDir, 'verifier', 'train', 'old'), 'x');
    expect(await freshDevnetDir(devnetDir)).toBe(devnetDir);
    expect(await readdir(devnetDir)).toEqual([]);
    await writeFile(join(devnetDir, 'notes.txt'), 'mine');
    await expect(freshDevnetDir(devnetDir)).rejects.toThrow(/holds files a devnet did not write \(notes\.txt\)[\s\S]*--dir DIR/);
    expect(await readFile(join(devnetDir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(devnet.flags!.dir.description).toMatch(/\$MYCEL_HOME\/devnet/);
  });

  it('inspect of an unknown name talks about runs, not presets alone', async () => {
    const nosuch = await mycel('inspect', 'nosuch', '--data-dir', join(dir, 'empty'));
    expect(nosuch.code).toBe(1);
    expect(nosuch.stderr).toMatch(/"nosuch" is not a checkpoint file, a run in .*, or a preset/);
    expect(nosuch.stderr).toMatch(/`mycel inspect` with no argument lists the runs/);
  });
});
