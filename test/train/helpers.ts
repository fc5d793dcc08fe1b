import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, parseJobSpec, runJob, type JobProgram, type JobSpec, type ProgramSpec, type RunRecord } from '../../src/train/index.js';

/** A job small enough to run a few steps in well under a second. */
export function microSpec(overrides: Record<string, unknown> = {}): JobSpec {
  return parseJobSpec({
    version: 1,
    model: { kind: 'gpt', contextLength: 10, dModel: 16, layers: 1, heads: 2, mlpHidden: 32 },
    optimizer: { kind: 'adamw', lr: 0.01, clip: 1, schedule: { kind: 'warmup-cosine', warmup: 2, floor: 0.1 } },
    data: { kind: 'task', task: 'addition', config: { digits: 2 } },
    steps: 6,
    batchSize: 4,
    seed: 7,
    checkpointEvery: 2,
    ...overrides,
  });
}

export async function tempStore(): Promise<Store> {
  return new Store(await mkdtemp(join(tmpdir(), 'mycel-train-')));
}

/** A program run to its end in a fresh temporary store: what a replaying party of the game reads. */
export type StoredRun<P extends JobProgram<S>, S extends ProgramSpec = P['spec']> = { program: P; record: RunRecord<S>; store: Store };

export async function storedRun<P extends JobProgram<S>, S extends ProgramSpec = P['spec']>(program: P): Promise<StoredRun<P, S>> {
  const store = await tempStore();
  const { record } = await runJob<S>(program, { store });
  return { program, record, store };
}
