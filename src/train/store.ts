/**
 * The on-disk store of a node: checkpoints as content-addressed objects (named by the SHA-256 of
 * their bytes, so a corrupt file is detected by its name and never overwritten), and one record per
 * run (spec, step hashes so far, checkpoints by step). Every write goes to a temporary file, is
 * flushed, then renamed, so a crash leaves either the old file or the new one.
 */
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, toHex } from '../platform/sha256.js';
import { CorruptCheckpointError, MissingCheckpointError } from './errors.js';
import type { JobSpec, ProgramSpec } from './spec.js';

/** `S`: the job kind's spec (a GPT job's unless said). */
export type RunRecord<S extends ProgramSpec = JobSpec> = {
  jobId: string;
  spec: S;
  /** Hex state hashes h_0 .. h_t of the steps done so far. */
  stepHashes: string[];
  /** Object hash of the checkpoint of each checkpointed step. */
  checkpoints: Record<string, string>;
  /** Set when the run reached its last step: the Merkle root over all step hashes. */
  commitment?: string;
};

/** What re-executing from checkpoints reads: a run's checkpoint objects by hash (the file store, or a tab's in-memory one). */
export type CheckpointSource = Pick<Store, 'dir' | 'getObject'>;

export class Store {
  constructor(readonly dir: string) {}

  private objectPath(hash: string): string {
    return join(this.dir, 'objects', `${hash}.safetensors`);
  }

  /** The folder of one run: its record, and what the CLI writes beside it (the loss curve). */
  runDir(jobId: string): string {
    return join(this.dir, 'runs', jobId);
  }

  private runPath(jobId: string): string {
    return join(this.runDir(jobId), 'run.json');
  }

  /**
   * Stores bytes under their SHA-256 and returns it. An intact object already there is left untouched;
   * a corrupt one is moved aside to `<name>.corrupt` (kept, not deleted) and the good bytes written.
   */
  async putObject(bytes: Uint8Array): Promise<string> {
    const hash = toHex(sha256(bytes));
    const path = this.objectPath(hash);
    if (await exists(path)) {
      if (toHex(sha256(new Uint8Array(await readFile(path)))) === hash) return hash;
      await rename(path, `${path}.corrupt`);
    }
    await writeAtomic(path, bytes);
    return hash;
  }

  /** The bytes of an object, checked against their name. */
  async getObject(hash: string): Promise<Uint8Array> {
    const path = this.objectPath(hash);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch {
      throw new MissingCheckpointError(hash, this.dir);
    }
    const actual = toHex(sha256(bytes));
    if (actual !== hash) throw new CorruptCheckpointError(path, `its bytes hash to ${actual}, not to its name`);
    return bytes;
  }

  async readRun<S extends ProgramSpec = JobSpec>(jobId: string): Promise<RunRecord<S> | undefined> {
    try {
      return JSON.parse(await readFile(this.runPath(jobId), 'utf8')) as RunRecord<S>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CorruptCheckpointError(this.runPath(jobId), 'the run record is not valid JSON');
    }
  }

  async writeRun(record: RunRecord<ProgramSpec>): Promise<void> {
    await writeAtomic(this.runPath(record.jobId), new TextEncoder().encode(`${JSON.stringify(record, null, 1)}\n`));
  }

  /** Job ids of every run in the store. */
  async runs(): Promise<string[]> {
    try {
      return (await readdir(join(this.dir, 'runs'))).sort();
    } catch {
      return [];
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes to a temporary file beside the target, flushes it to disk, then renames it over the target. */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();
  await rename(temporary, path);
}
