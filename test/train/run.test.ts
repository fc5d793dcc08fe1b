import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configureKernels } from '../../src/tensor/index.js';
import {
  CorruptCheckpointError,
  MissingCheckpointError,
  buildProgram,
  estimateMemory,
  parseJobSpec,
  PRESETS,
  replayToStep,
  runCommitment,
  runJob,
  stateHash,
} from '../../src/train/index.js';
import { arm64Addon, runArm64 } from '../engines/arm64.js';
import { bundle, node22, runInNode } from '../engines/engines.js';
import { microSpec, tempStore } from './helpers.js';

afterAll(() => void configureKernels({ kernels: 'fast', threads: 2 }));

async function commitmentOf(spec = microSpec(), options: { stopAt?: number } = {}) {
  const store = await tempStore();
  const program = buildProgram(spec);
  const first = await runJob(program, { store, ...options });
  const result = options.stopAt === undefined ? first : await runJob(program, { store });
  return { store, program, ...result };
}

describe('a training run is a deterministic program', () => {
  it('commits to a Merkle root over h_0..h_T, and the same spec gives the same commitment', async () => {
    const a = await commitmentOf();
    const b = await commitmentOf();
    expect(a.record.stepHashes).toHaveLength(7);
    expect(a.record.commitment).toBe(runCommitment(a.record.stepHashes));
    expect(b.record.commitment).toBe(a.record.commitment);
    expect(new Set(a.record.stepHashes).size).toBe(7);
    const otherSeed = await commitmentOf(microSpec({ seed: 8 }));
    expect(otherSeed.record.commitment).not.toBe(a.record.commitment);
  });

  it('resumes after a stop half-way and ends at the same commitment', async () => {
    const whole = await commitmentOf();
    const resumed = await commitmentOf(microSpec(), { stopAt: 3 });
    // Step 3 is not a checkpoint step (every 2): the stop itself checkpoints it, so no work is lost.
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.record.commitment).toBe(whole.record.commitment);
  });

  it('gives the same commitment on 1 and 2 threads, and with reference kernels', async () => {
    const spec = microSpec({ model: { kind: 'gpt', contextLength: 10, dModel: 64, layers: 1, heads: 2, mlpHidden: 128 }, batchSize: 16, steps: 2 });
    const results = [];
    for (const [kernels, threads] of [['fast', 1], ['fast', 2], ['reference', 1]] as const) {
      configureKernels({ kernels, threads });
      results.push((await commitmentOf(spec)).record.commitment);
    }
    expect(new Set(results).size).toBe(1);
  });

  it('re-executes any step from the nearest checkpoint to the same hash', async () => {
    const { store, program, record } = await commitmentOf();
    for (const step of [1, 3, 5]) expect(stateHash(await replayToStep(program, store, record, step))).toBe(record.stepHashes[step]);
  });

  it('gives the same commitment on Node 22', async () => {
    const entry = 'test/train/fixtures/commitment-entry.ts';
    const [file, binary] = await Promise.all([bundle(entry, 'node'), node22()]);
    const [n20, n22] = await Promise.all([runInNode(process.execPath, file), runInNode(binary, file)]);
    const program = buildProgram(microSpec());
    let state = program.init();
    const hashes = [stateHash(state)];
    while (state.step < 6) hashes.push(stateHash((state = program.step(state).state)));
    expect(n20).toBe(runCommitment(hashes));
    expect(n22).toBe(n20);
  });

  it('gives the same commitment on ARM64 (Node 24 under qemu-user, the NEON native kernel)', { timeout: 600_000 }, async () => {
    const entry = 'test/train/fixtures/commitment-entry.ts';
    const [file, addon] = await Promise.all([bundle(entry, 'node'), arm64Addon()]);
    const [x64, arm64] = await Promise.all([runInNode(process.execPath, file), runArm64(file, { nativeAddon: addon })]);
    expect(arm64).toBe(x64);
  });
});

describe('checkpoints', () => {
  it('detects a corrupt checkpoint by its hash and leaves the file as it was', async () => {
    const { store, program, record } = await commitmentOf();
    const hash = record.checkpoints['4'];
    const path = join(store.dir, 'objects', `${hash}.safetensors`);
    const bytes = await readFile(path);
    bytes[bytes.length - 3] ^= 0x40;
    await writeFile(path, bytes);
    await expect(replayToStep(program, store, record, 5)).rejects.toThrow(CorruptCheckpointError);
    await expect(replayToStep(program, store, record, 5)).rejects.toThrow(/left as it is/);
    expect(Buffer.compare(await readFile(path), bytes)).toBe(0);
  });

  it('names a missing checkpoint', async () => {
    const { store, program, record } = await commitmentOf();
    await expect(replayToStep(program, store, { ...record, checkpoints: {} }, 3)).rejects.toThrow(MissingCheckpointError);
  });
});

describe('stopping and recovering', () => {
  const objectPath = (store: { dir: string }, hash: string) => join(store.dir, 'objects', `${hash}.safetensors`);
  const corrupt = async (path: string) => {
    const bytes = await readFile(path);
    bytes[bytes.length - 3] ^= 0x40;
    await writeFile(path, bytes);
    return bytes;
  };

  it('checkpoints the step reached when the run is aborted (Ctrl-C, SIGTERM), and resumes there', async () => {
    const whole = await commitmentOf();
    const store = await tempStore();
    const program = buildProgram(microSpec());
    const controller = new AbortController();
    const stopped = await runJob(program, { store, signal: controller.signal, onStep: (r) => r.state.step === 2 && controller.abort() });
    // Step t is reported once step t + 1 is computed (its hash is taken meanwhile), so the run stops at 3,
    // which is not a checkpoint step (every 2).
    const at = stopped.state.step;
    expect(at).toBe(3);
    expect(stopped.record.checkpoints[String(at)]).toBeDefined();
    expect(stopped.record.stepHashes).toHaveLength(at + 1);
    const resumed = await runJob(program, { store });
    expect(resumed.resumedFrom).toBe(at);
    expect(resumed.record.commitment).toBe(whole.record.commitment);
  });

  it('resumes from the newest intact checkpoint when the latest is corrupt or missing, and says which it passed over', async () => {
    const whole = await commitmentOf();
    const store = await tempStore();
    const program = buildProgram(microSpec());
    const { record } = await runJob(program, { store, stopAt: 5 });
    const path = objectPath(store, record.checkpoints['5']);
    const bytes = await corrupt(path);
    const resumed = await runJob(program, { store });
    expect(resumed.resumedFrom).toBe(4);
    expect(resumed.skipped).toEqual([{ step: 5, reason: expect.stringMatching(/corrupt/) }]);
    expect(resumed.record.commitment).toBe(whole.record.commitment);
    expect(Buffer.compare(await readFile(path), bytes)).toBe(0);

    const moved = await tempStore();
    const first = await runJob(program, { store: moved, stopAt: 5 });
    await rename(objectPath(moved, first.record.checkpoints['5']), `${objectPath(moved, first.record.checkpoints['5'])}.away`);
    const again = await runJob(program, { store: moved });
    expect(again.resumedFrom).toBe(4);
    expect(again.skipped[0]).toMatchObject({ step: 5, reason: expect.stringMatching(/No checkpoint/) });
    expect(again.record.commitment).toBe(whole.record.commitment);
  });

  it('starts again from the spec when no checkpoint is usable', async () => {
    const whole = await commitmentOf();
    const store = await tempStore();
    const program = buildProgram(microSpec());
    const { record } = await runJob(program, { store, stopAt: 3 });
    for (const hash of Object.values(record.checkpoints)) await corrupt(objectPath(store, hash));
    const resumed = await runJob(program, { store });
    expect(resumed.resumedFrom).toBe(0);
    expect(resumed.skipped.map((s) => s.step)).toEqual([3, 2, 0]);
    expect(resumed.record.commitment).toBe(whole.record.commitment);
  });

  it('--from-step resumes from a chosen checkpoint; a corrupt object met again is kept aside and written anew', async () => {
    const { store, program, record } = await commitmentOf();
    const commitment = record.commitment;
    const path = objectPath(store, record.checkpoints['4']);
    const bytes = await corrupt(path);
    const again = await runJob(program, { store, fromStep: 2 });
    expect(again.resumedFrom).toBe(2);
    expect(again.record.commitment).toBe(commitment);
    expect(Buffer.compare(await readFile(`${path}.corrupt`), bytes)).toBe(0);
    expect(stateHash(await replayToStep(program, store, again.record, 4))).toBe(record.stepHashes[4]);
    await expect(runJob(program, { store, fromStep: 3 })).rejects.toThrow(/No checkpoint for step 3[\s\S]*Checkpointed steps: 0, 2, 4, 6/);
  });
});

describe('memory estimates', () => {
  it('grow with the model and name what they count', () => {
    const quick = buildProgram(parseJobSpec(PRESETS.quick));
    const small = estimateMemory(quick.spec, quick.tokenizer.vocabSize);
    const big = estimateMemory(parseJobSpec({ ...PRESETS.quick, model: { kind: 'gpt', contextLength: 2048, dModel: 8192, layers: 96, heads: 64, mlpHidden: 32768 } }), 50000);
    expect(big.bytes).toBeGreaterThan(1e12);
    expect(small.bytes).toBeLessThan(1e8);
    const count = Object.values(quick.init().params).reduce((n, t) => n + t.size, 0);
    expect(small.breakdown).toContain(`parameters ${count.toLocaleString('en')} `);
  });
});
