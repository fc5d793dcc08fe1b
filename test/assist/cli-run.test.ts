/**
 * The commands that show and replay stored runs on an assistant-training job's run (src/cli/assist-run.ts): `mycel
 * inspect` lists it by its dataset and shows its checkpoint (app, widths, dataset, no tokenizer); `mycel verify`
 * re-executes it from the blobs its spec names (read from the data dir's blob store) and finds a changed step hash;
 * `mycel dispute --local` plays a cheating challenger down to one instruction; without the dataset blob, or asked to
 * eval it as a GPT, each says what is missing instead of a stack trace.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packDataset } from '../../src/assist/dataset.js';
import { buildAssistJob, parseAssistJobSpec, type AssistJobSpec } from '../../src/assist/job.js';
import { defineApp, EpisodeRecorder, type Episode } from '../../src/assist/index.js';
import { runJob, Store, type RunRecord } from '../../src/train/index.js';
import { mycelInProcess } from '../cli/in-process.js';

const app = defineApp({ grid: [3, 2, 3], values: 3 });

function episode(cells: number[]): Episode {
  const grid = new Uint8Array(app.cells);
  const rec = new EpisodeRecorder(app, 'p', grid);
  cells.forEach((cell, tick) => {
    grid[cell] = 1 + (tick % 2);
    rec.record({ who: 'human', kind: 'place', cell, value: grid[cell], tick }, grid);
  });
  return rec.episode();
}

const dataset = packDataset([episode([0, 1, 6, 7]), episode([2, 3, 8])], new Uint8Array(32).fill(7));
const spec = parseAssistJobSpec({
  version: 1, kind: 'assist', app: { grid: [3, 2, 3], values: 3 }, model: { goalHidden: 8, humanHidden: 4 },
  data: { kind: 'dataset', cid: dataset.cid, signer: dataset.signer }, optimizer: { kind: 'adam', lr: 3e-3 },
  steps: 3, batchSize: 2, seed: 5, checkpointEvery: 2,
});
let dir: string;
let record: RunRecord<AssistJobSpec>;
const blobFile = () => join(dir, 'blobs', `${dataset.cid}.data`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mycel-assist-cli-'));
  ({ record } = await runJob(buildAssistJob(spec, new Map([[dataset.cid, dataset.bytes]])), { store: new Store(join(dir, 'train')) }));
  await mkdir(join(dir, 'blobs'));
  await writeFile(blobFile(), dataset.bytes);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mycel inspect, verify and dispute on an assist job', () => {
  it('inspect lists the run by its dataset and shows its checkpoint; eval says it is no GPT', async () => {
    const list = await mycelInProcess('inspect', '--data-dir', dir);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`assist dataset ${dataset.cid.slice(0, 16)}`);
    const shown = await mycelInProcess('inspect', record.jobId.slice(0, 8), '--data-dir', dir, '--json');
    expect(shown.code).toBe(0);
    const json = JSON.parse(shown.stdout) as { kind: string; step: number; state_hash: string; commitment: string; spec: { data: { cid: string } } };
    expect(json).toMatchObject({ kind: 'assist', step: 3, state_hash: record.stepHashes[3], commitment: record.commitment, spec: { data: { cid: dataset.cid } } });
    const evaluated = await mycelInProcess('eval', record.jobId.slice(0, 8), '--data-dir', dir);
    expect(evaluated.code).not.toBe(0);
    expect(evaluated.stderr).toContain('is an assistant model');
    expect(evaluated.stderr).not.toContain('    at ');
  });

  it('verify re-executes it from the dataset blob and agrees; a changed step hash is found at its step', async () => {
    const ok = await mycelInProcess('verify', record.jobId.slice(0, 8), '--data-dir', dir, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ agrees: true, steps_executed: 3 });
    const store = new Store(join(dir, 'train'));
    try {
      await store.writeRun({ ...record, stepHashes: record.stepHashes.map((h, t) => (t === 2 ? 'ab'.repeat(32) : h)) });
      const bad = await mycelInProcess('verify', record.jobId.slice(0, 8), '--data-dir', dir, '--json');
      expect(JSON.parse(bad.stdout)).toMatchObject({ agrees: false, divergence: { t: 2 } });
    } finally {
      await store.writeRun(record);
    }
  });

  it('dispute --local plays a cheating challenger to one instruction, and refuses a GPT-only cheat by name', async () => {
    const game = await mycelInProcess('dispute', '--local', record.jobId.slice(0, 8), '--challenger-cheat', 'flip-bit', '--data-dir', dir);
    expect(game.code).toBe(0);
    expect(game.stdout).toContain('Ruling: the challenger loses.');
    const gptOnly = await mycelInProcess('dispute', '--local', record.jobId.slice(0, 8), '--challenger-cheat', 'lr', '--data-dir', dir);
    expect(gptOnly.code).not.toBe(0);
    expect(gptOnly.stderr).toContain('an assist job\'s run can be cheated with flip-bit or fake-hash');
  });

  it('finds the run of a market job a node on the data dir ran (<data-dir>/job-N): inspect lists and shows it, verify and dispute --local replay it', async () => {
    // As a solver or verifier node keeps it (node/roles.ts): its own store per market job, here job 7 of another seed.
    const jobSpec = parseAssistJobSpec({ ...spec, seed: 6 });
    const { record: jobRun } = await runJob(buildAssistJob(jobSpec, new Map([[dataset.cid, dataset.bytes]])), { store: new Store(join(dir, 'job-7')) });
    try {
      const list = await mycelInProcess('inspect', '--data-dir', dir, '--json');
      const rows = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { job_id: string; store: string; commitment: string });
      expect(rows).toEqual([
        expect.objectContaining({ job_id: record.jobId, store: 'train', commitment: record.commitment }),
        expect.objectContaining({ job_id: jobRun.jobId, store: 'job-7', commitment: jobRun.commitment }),
      ]);
      for (const ref of ['job-7', jobRun.jobId.slice(0, 8)]) {
        const shown = await mycelInProcess('inspect', ref, '--data-dir', dir, '--json');
        expect(shown.code).toBe(0);
        expect(JSON.parse(shown.stdout)).toMatchObject({ kind: 'assist', job_id: jobRun.jobId, step: 3, state_hash: jobRun.stepHashes[3], commitment: jobRun.commitment });
      }
      for (const ref of ['job-7', jobRun.jobId.slice(0, 8), jobRun.commitment!.slice(0, 10)]) {
        const verified = await mycelInProcess('verify', ref, '--data-dir', dir, '--json');
        expect(verified.code).toBe(0);
        expect(JSON.parse(verified.stdout)).toMatchObject({ job_id: jobRun.jobId, commitment: jobRun.commitment, agrees: true, steps_executed: 3 });
      }
      const game = await mycelInProcess('dispute', '--local', 'job-7', '--challenger-cheat', 'flip-bit', '--data-dir', dir);
      expect(game.stdout).toContain('Ruling: the challenger loses.');
      // A market job with no run here is named, with where runs are kept.
      const none = await mycelInProcess('verify', 'job-8', '--data-dir', dir);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toContain('this data dir has no job-8/');
      expect(none.stderr).not.toContain('    at ');
      const noneShown = await mycelInProcess('inspect', 'job-8', '--data-dir', dir);
      expect(noneShown.stderr).toContain('No run of market job 8 in');
    } finally {
      await rm(join(dir, 'job-7'), { recursive: true, force: true });
    }
  });

  it('without the dataset blob, verify says which blob is missing and how to get it', async () => {
    await rm(blobFile());
    try {
      const r = await mycelInProcess('verify', record.jobId.slice(0, 8), '--data-dir', dir);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`trains on blob ${dataset.cid} (its dataset), which is not in`);
      expect(r.stderr).toContain(`mycel blob get ${dataset.cid}`);
      expect(r.stderr).not.toContain('    at ');
    } finally {
      await writeFile(blobFile(), dataset.bytes);
    }
  });
});
