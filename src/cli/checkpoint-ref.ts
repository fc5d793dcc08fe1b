/**
 * What `mycel eval|sample|inspect <ref>` accept: a checkpoint file, a job id (or an unambiguous prefix
 * of one) in the store, or a preset or spec file whose run is in the store.
 */
import { readFile, stat } from 'node:fs/promises';
import { tokenizerFromJSON, type Tokenizer } from '../data/index.js';
import { gpt, type Gpt } from '../nn/index.js';
import { MycelError } from '../platform/errors.js';
import { PRESET_NAMES, UnknownPresetError, decodeCheckpoint, jobId, type CheckpointInfo, type RunRecord, type TrainState } from '../train/index.js';
import type { Flags } from './command.js';
import { resolveSpec } from './job.js';
import { findStoredRun, isJobRunRef, runStores, storedRuns, type FoundRun } from './run-stores.js';
import { dataDirOf } from './commands/p2p-flags.js';
import { UnknownJobError } from '../verify/index.js';
import { assistSpecOf } from './assist-run.js';

export type LoadedCheckpoint = {
  state: TrainState;
  info: CheckpointInfo;
  tokenizer: Tokenizer;
  model: Gpt;
  /** Where it came from and which step it holds, for messages: "run 3fa9c1d2e4b5 step 200 of 2000 (unfinished)". */
  source: string;
  record?: RunRecord;
};

export class CheckpointRefError extends MycelError {
  override name = 'CheckpointRefError';
}

/** A checkpoint and where it came from, of any job kind (a GPT's or an assistant's), without building its model. */
export type CheckpointOfRef = Omit<LoadedCheckpoint, 'tokenizer' | 'model'>;

/** The checkpoint `ref` names (see loadCheckpointRef), checked, for any job kind. */
export async function loadCheckpointOfRef(ref: string, flags: Flags, step?: number): Promise<CheckpointOfRef> {
  if (!ref.endsWith('.json') && (await isFile(ref))) {
    const loaded = decodeCheckpoint(new Uint8Array(await readFile(ref)), ref);
    return { ...loaded, source: `${ref} ${stepOf(loaded.state.step, loaded.info.spec.steps)}` };
  }
  const { name, store, record } = await findRunOfRef(ref, flags);
  const id = record.jobId;
  const steps = Object.keys(record.checkpoints).map(Number).sort((a, b) => a - b);
  const chosen = step ?? steps[steps.length - 1];
  const hash = record.checkpoints[String(chosen)];
  if (!hash) {
    throw new CheckpointRefError(`Run ${id} has no checkpoint at step ${chosen}.`, { metaMessages: [`Checkpointed steps: ${steps.join(', ')}`] });
  }
  const loaded = decodeCheckpoint(await store.getObject(hash), `${hash} (step ${chosen})`);
  return { ...loaded, source: `run ${id.slice(0, 12)}${name === 'train' ? '' : ` (${name}, a market job's run)`} ${stepOf(chosen, record.spec.steps)}`, record };
}

/** The GPT checkpoint `ref` names, with its tokenizer and model (what eval and sample run). */
export async function loadCheckpointRef(ref: string, flags: Flags, step?: number): Promise<LoadedCheckpoint> {
  const loaded = await loadCheckpointOfRef(ref, flags, step);
  if (assistSpecOf(loaded.info.spec)) {
    throw new CheckpointRefError(`${loaded.source} is an assistant model (a checkpoint of an assist job), not a GPT.`, {
      metaMessages: ['mycel eval and mycel sample run GPT models; mycel inspect shows this one, and mycel verify re-executes its run.'],
    });
  }
  return { ...withModel(loaded, loaded.source), ...(loaded.record ? { record: loaded.record } : {}) };
}

/** "step 200 of 2000 (unfinished)": a model from a stopped run is never passed off as the trained one. */
const stepOf = (step: number, steps: number) => `step ${step} of ${steps}${step < steps ? ' (training unfinished)' : ''}`;

function withModel({ state, info }: { state: TrainState; info: CheckpointInfo }, source: string): LoadedCheckpoint {
  const tokenizer = tokenizerFromJSON(info.tokenizer);
  const { contextLength, dModel, layers, heads, mlpHidden } = info.spec.model;
  const model = gpt({ vocabSize: tokenizer.vocabSize, contextLength, dModel, layers, heads, mlpHidden });
  return { state, info, tokenizer, model, source };
}

/** The run `ref` names in the data dir's stores (run-stores.ts): a job id prefix, job-N, or a preset or spec whose run is there. */
async function findRunOfRef(ref: string, flags: Flags): Promise<FoundRun> {
  const stores = await runStores(dataDirOf(flags));
  const where = stores.map((s) => s.store.dir).join(', ');
  const find = async (wanted: string) => {
    try {
      return await findStoredRun(stores, wanted, 6);
    } catch (error) {
      if (!(error instanceof UnknownJobError)) throw error;
      return undefined;
    }
  };
  if (isJobRunRef(ref)) {
    const found = await find(ref);
    if (found) return found;
    throw new CheckpointRefError(`No run of market job ${ref.slice(4)} in ${dataDirOf(flags)}.`, { metaMessages: ['A node keeps the runs of the jobs it solved or re-executed in <data-dir>/job-N; `mycel inspect` with no argument lists them; --data-dir points at the node\'s.'] });
  }
  if (/^[0-9a-f]{6,64}$/.test(ref)) {
    const matches = (await storedRuns(stores)).filter(({ record }) => record.jobId.startsWith(ref));
    if (new Set(matches.map((m) => m.record.jobId)).size > 1) throw new CheckpointRefError(`"${ref}" matches ${matches.length} runs.`, { metaMessages: ['Give more characters of the job id.'] });
    if (matches.length > 0) return matches[0];
    throw new CheckpointRefError(`No run whose id starts with ${ref} in ${where}.`, {
      metaMessages: ['`mycel inspect` with no argument lists the runs in the store; --data-dir points at another store.'],
    });
  }
  let id: string;
  try {
    id = jobId((await resolveSpec(ref, flags.text as string | undefined)).spec);
  } catch (error) {
    if (!(error instanceof UnknownPresetError)) throw error;
    throw new CheckpointRefError(`"${ref}" is not a checkpoint file, a run in ${where}, or a preset.`, {
      metaMessages: [
        '`mycel inspect` with no argument lists the runs in the store (by job id); --data-dir points at another store.',
        `Presets name their own run once trained: ${PRESET_NAMES.join(', ')}.`,
      ],
    });
  }
  const found = await find(id);
  if (found) return found;
  throw new CheckpointRefError(`No run ${id} in ${where}.`, { metaMessages: [`Train it first: mycel train ${ref}`] });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
