/**
 * A checkpoint is one safetensors file: parameters under `params.<name>`, optimizer tensors under
 * `opt.<name>`, and metadata naming the job, the step, the optimizer step, the state hash, the spec
 * and the tokenizer. Any framework that reads safetensors can load the weights.
 */
import { loadSafetensors, saveSafetensors, type Params } from '../nn/index.js';
import { canonicalJson, type JobSpec } from './spec.js';
import { stateHash, stateTensors, type TrainState } from './state.js';
import { CorruptCheckpointError } from './errors.js';
import type { TokenizerJson } from '../data/index.js';

export const CHECKPOINT_FORMAT = 'mycel-checkpoint-v1';

export type CheckpointInfo = {
  jobId: string;
  step: number;
  stateHash: string;
  spec: JobSpec;
  tokenizer: TokenizerJson;
};

/**
 * `info.stateHash` may be given when the caller has just computed it (hashing a state is not free). `info.spec` is the
 * job's spec, of whatever kind; a job without a tokenizer records null there.
 */
export function encodeCheckpoint(state: TrainState, info: { jobId: string; spec: object; tokenizer?: TokenizerJson; stateHash?: string }): Uint8Array {
  return saveSafetensors(Object.fromEntries(stateTensors(state)), {
    format: CHECKPOINT_FORMAT,
    jobId: info.jobId,
    step: String(state.step),
    optStep: String(state.opt.step),
    stateHash: info.stateHash ?? stateHash(state),
    spec: canonicalJson(info.spec),
    tokenizer: JSON.stringify(info.tokenizer ?? null),
  });
}

/** Reads a checkpoint and checks that its tensors hash to the state hash it claims. */
export function decodeCheckpoint(bytes: Uint8Array, what: string): { state: TrainState; info: CheckpointInfo } {
  let file;
  try {
    file = loadSafetensors(bytes);
  } catch (error) {
    throw new CorruptCheckpointError(what, (error as Error).message.split('\n')[0]);
  }
  const m = file.metadata;
  if (m.format !== CHECKPOINT_FORMAT) throw new CorruptCheckpointError(what, `its metadata format is "${m.format}", expected ${CHECKPOINT_FORMAT}`);
  const params: Params = {};
  const optTensors: Params = {};
  for (const [name, t] of Object.entries(file.params)) {
    if (name.startsWith('params.')) params[name.slice(7)] = t;
    else if (name.startsWith('opt.')) optTensors[name.slice(4)] = t;
  }
  const state: TrainState = { step: Number(m.step), params, opt: { step: Number(m.optStep), tensors: optTensors } };
  let info: CheckpointInfo;
  try {
    info = { jobId: m.jobId, step: state.step, stateHash: m.stateHash, spec: JSON.parse(m.spec), tokenizer: JSON.parse(m.tokenizer) };
  } catch {
    throw new CorruptCheckpointError(what, 'its spec or tokenizer metadata is not JSON');
  }
  const actual = stateHash(state);
  if (actual !== info.stateHash) throw new CorruptCheckpointError(what, `its tensors hash to ${actual}, but it claims ${info.stateHash}`);
  return { state, info };
}
