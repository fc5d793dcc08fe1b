/**
 * Where a data dir keeps runs: <data-dir>/train (`mycel train`'s), and <data-dir>/job-<N>, one for each market job
 * that a node on this data dir solved or re-executed (node/roles.ts), N being the job's number on the JobMarket.
 * `mycel inspect`, `verify` and `dispute --local` look in all of them: a prefix of a job id (the spec's hash) or of a
 * run commitment finds a run in any of them, and `job-N` names the run of market job N.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Store, type RunRecord } from '../train/index.js';
import { UnknownJobError } from '../verify/index.js';

/** A store of runs and what to call it in listings: "train", or "job-N". */
export type RunStore = { name: string; store: Store };

export type FoundRun = RunStore & { record: RunRecord };

const JOB_DIR = /^job-(\d+)$/;

/** The data dir's stores: train first, then the market jobs' by number. */
export async function runStores(dataDir: string): Promise<RunStore[]> {
  const entries = await readdir(dataDir, { withFileTypes: true }).catch(() => []);
  const jobs = entries.filter((e) => e.isDirectory() && JOB_DIR.test(e.name)).map((e) => e.name).sort((a, b) => Number(JOB_DIR.exec(a)![1]) - Number(JOB_DIR.exec(b)![1]));
  return [{ name: 'train', store: new Store(join(dataDir, 'train')) }, ...jobs.map((name) => ({ name, store: new Store(join(dataDir, name)) }))];
}

/** Every run of the stores, with its store. */
export async function storedRuns(stores: readonly RunStore[]): Promise<FoundRun[]> {
  const out: FoundRun[] = [];
  for (const s of stores) {
    for (const id of await s.store.runs()) {
      const record = await s.store.readRun(id);
      if (record) out.push({ ...s, record });
    }
  }
  return out;
}

/** Whether `ref` names a market job's run (`job-N`). */
export const isJobRunRef = (ref: string): boolean => JOB_DIR.test(ref);

/**
 * The run `ref` names: `job-N` (the run of market job N kept here), or a unique prefix of a job id or run commitment
 * (at least `min` characters) in any of the stores. UnknownJobError names where it looked.
 */
export async function findStoredRun(stores: readonly RunStore[], ref: string, min = 4): Promise<FoundRun> {
  const wanted = ref.toLowerCase();
  const where = stores.map((s) => s.store.dir).join(', ');
  if (isJobRunRef(wanted)) {
    const s = stores.find((x) => x.name === wanted);
    const runs = s ? await storedRuns([s]) : [];
    if (runs.length === 1) return runs[0];
    throw new UnknownJobError(`${ref}: ${s ? `${s.store.dir} holds ${runs.length} runs` : `this data dir has no ${wanted}/ (${where} were searched)`}`);
  }
  const matches = (await storedRuns(stores)).filter(({ record }) => record.jobId.startsWith(wanted) || record.commitment?.startsWith(wanted));
  // The same run kept twice (say, trained here and re-executed as a market job) is one run: take the first store's.
  const distinct = new Set(matches.map(({ record }) => `${record.jobId}:${record.commitment ?? ''}`));
  if (distinct.size !== 1 || wanted.length < min) throw new UnknownJobError(`${ref} in ${where}${distinct.size > 1 ? ` (${distinct.size} runs match: give more digits)` : ''}`);
  return matches[0];
}
