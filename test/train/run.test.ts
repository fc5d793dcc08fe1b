import { readFile, writeFile } from 'node:fs/promises';
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
    expect(resumed.resumedFrom).toBe(2);
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
