/**
 * A model coming back from the network, and the check before it is used. It is fetched by CID, in one of two forms:
 * the model a market job's solver published (the run's final checkpoint, train/checkpoint.ts, with the job's spec in
 * its metadata; the run's step hashes come beside it, as the solver announced them), or an update blob (the final
 * training state as safetensors with the run's step hashes inside). Before use:
 *   1. its bytes must have that CID (the blob store's manifest CID);
 *   2. the state must hash to the last step hash, and the step hashes' Merkle root is the run commitment;
 *   3. that commitment must be the root the job market holds for the job, finalized (challenge window closed, any
 *      dispute over): the verified result of a training job, not a claim; and a job's model must carry the spec the
 *      job was posted with (its keccak256 is the job's spec hash on chain), an assistant job's.
 * Any failure refuses the update and the assistant keeps its current model. Node only (the CID hashes with
 * node:crypto; the chain is read with viem).
 */
import { keccak256, type Address, type Chain, type Client, type Transport } from 'viem';
import { getJob } from '../chain/actions/getJob.js';
import { loadSafetensors, saveSafetensors, type Params } from '../nn/index.js';
import { MycelError } from '../platform/errors.js';
import { CHECKPOINT_FORMAT, decodeCheckpoint } from '../train/checkpoint.js';
import { runCommitment } from '../train/commitment.js';
import { canonicalJson } from '../train/spec.js';
import { stateHash, type TrainState } from '../train/state.js';
import type { Assistant } from './assistant.js';
import { blobCid } from './dataset.js';
import { parseAssistJobSpec } from './job.js';
import { decodeModel, encodeModel, MODEL_FORMAT, type AssistModel } from './model.js';
import type { TrainResult } from './train.js';

export const UPDATE_FORMAT = 'mycel.assist.update.v1';

export class ModelUpdateError extends MycelError {
  override name = 'ModelUpdateError';
  constructor(why: string) {
    super(`This model is refused: ${why}.`, { metaMessages: ['The assistant keeps its current model. Fetch the model again, or wait for the job to be finalized on chain.'] });
  }
}

/** The update blob of a training run (trainAssistant's result). */
export function encodeModelUpdate({ model, state, stepHashes }: Pick<TrainResult, 'model' | 'state' | 'stepHashes'>): Uint8Array {
  const { metadata } = loadSafetensors(encodeModel(model));
  const tensors: Params = { ...state.params };
  for (const [name, t] of Object.entries(state.opt.tensors)) tensors[`opt.${name}`] = t;
  return saveSafetensors(tensors, { ...metadata, format: UPDATE_FORMAT, step: String(state.step), optStep: String(state.opt.step), stepHashes: JSON.stringify(stepHashes) });
}

/** The model, its final state and the run commitment of an update blob, checked against each other. */
export function decodeModelUpdate(bytes: Uint8Array): { model: AssistModel; commitment: string } {
  let metadata: Record<string, string>;
  let tensors: Params;
  try {
    ({ params: tensors, metadata } = loadSafetensors(bytes));
  } catch (e) {
    throw new ModelUpdateError(`it is not a safetensors blob (${(e as Error).message.split('\n')[0]})`);
  }
  if (metadata.format !== UPDATE_FORMAT) throw new ModelUpdateError(`its format is ${JSON.stringify(metadata.format)}, not ${UPDATE_FORMAT}`);
  const params: Params = {};
  const opt: Params = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith('opt.')) opt[name.slice(4)] = t;
    else params[name] = t;
  }
  const model = decodeModel(saveSafetensors(params, { format: MODEL_FORMAT, app: metadata.app, config: metadata.config }));
  const stepHashes = JSON.parse(metadata.stepHashes ?? '[]') as string[];
  if (!Array.isArray(stepHashes) || stepHashes.length < 2) throw new ModelUpdateError('it carries no step hashes of a run');
  const state: TrainState = { step: Number(metadata.step), params, opt: { step: Number(metadata.optStep), tensors: opt } };
  const last = stepHashes[stepHashes.length - 1];
  const actual = stateHash(state);
  if (actual !== last) throw new ModelUpdateError(`its state hashes to ${actual}, not to the run's last step hash ${last}`);
  return { model, commitment: runCommitment(stepHashes) };
}

/** The assistant an assistant job's state holds, given the spec its checkpoint carries. */
function modelOfJob(spec: unknown, state: TrainState): AssistModel {
  let parsed;
  try {
    parsed = parseAssistJobSpec(spec);
  } catch (e) {
    throw new ModelUpdateError(`it is not the model of an assistant job (its spec: ${(e as MycelError).shortMessage ?? (e as Error).message})`);
  }
  const app = { grid: parsed.app.grid, values: parsed.app.values } as const;
  const config = { goalHidden: parsed.model.goalHidden, humanHidden: parsed.model.humanHidden };
  // Through the model blob's format: its tensors are checked against the app's and widths' shapes.
  try {
    return decodeModel(encodeModel({ app, config, params: state.params }));
  } catch (e) {
    throw new ModelUpdateError((e as MycelError).shortMessage ?? (e as Error).message);
  }
}

/**
 * The model of an assistant job's final checkpoint, its run commitment (from `stepHashes`, whose last must be the
 * checkpoint's state hash) and the keccak256 of the spec it carries (which must be the job's spec hash on chain).
 */
export function decodeJobModel(bytes: Uint8Array, stepHashes: readonly string[] | undefined): { model: AssistModel; commitment: string; specHash: string } {
  let decoded: ReturnType<typeof decodeCheckpoint>;
  try {
    decoded = decodeCheckpoint(bytes, 'the model');
  } catch (e) {
    throw new ModelUpdateError((e as MycelError).shortMessage ?? (e as Error).message);
  }
  const model = modelOfJob(decoded.info.spec, decoded.state);
  if (!stepHashes || stepHashes.length < 2) throw new ModelUpdateError("a job's model comes with its run's step hashes (the list its solver announced), and none were given");
  const last = stepHashes[stepHashes.length - 1];
  const actual = stateHash(decoded.state);
  if (actual !== last) throw new ModelUpdateError(`its state hashes to ${actual}, not to the run's last step hash ${last}`);
  return { model, commitment: runCommitment([...stepHashes]), specHash: keccak256(new TextEncoder().encode(canonicalJson(decoded.info.spec))) };
}

const isCheckpoint = (bytes: Uint8Array): boolean => {
  try {
    return loadSafetensors(bytes).metadata.format === CHECKPOINT_FORMAT;
  } catch {
    return false;
  }
};

/** `stepHashes`: the run's h_0..h_T, for a job's model (a checkpoint); an update blob carries its own. */
export type VerifyModelUpdateParameters = { market: Address; jobId: bigint; cid: string; bytes: Uint8Array; stepHashes?: readonly string[] };

/** Checks a model fetched as `cid` against job `jobId` on the market; returns the model to use. */
export async function verifyModelUpdate(client: Client<Transport, Chain | undefined>, { market, jobId, cid, bytes, stepHashes }: VerifyModelUpdateParameters): Promise<{ model: AssistModel; commitment: string }> {
  const actualCid = blobCid(bytes);
  if (actualCid !== cid) throw new ModelUpdateError(`its bytes have the CID ${actualCid}, not ${cid}`);
  const fromJob = isCheckpoint(bytes) ? decodeJobModel(bytes, stepHashes) : undefined;
  const { model, commitment } = fromJob ?? decodeModelUpdate(bytes);
  const job = await getJob(client, { market, jobId });
  if (job.phase !== 'Finalized') throw new ModelUpdateError(`job ${jobId} is ${job.phase} on chain, not Finalized: its root is not yet the verified result`);
  if (job.root.toLowerCase() !== `0x${commitment}`) throw new ModelUpdateError(`its run commitment 0x${commitment} is not the root job ${jobId} holds on chain (${job.root})`);
  if (fromJob && fromJob.specHash.toLowerCase() !== job.specHash.toLowerCase()) throw new ModelUpdateError(`it carries a spec whose hash ${fromJob.specHash} is not job ${jobId}'s (${job.specHash})`);
  return { model, commitment };
}

/** Verifies the update, then hands the model to the assistant; on any failure the assistant keeps its model. */
export async function applyModelUpdate(assistant: Assistant, client: Client<Transport, Chain | undefined>, params: VerifyModelUpdateParameters): Promise<{ commitment: string }> {
  const { model, commitment } = await verifyModelUpdate(client, params);
  assistant.setModel(model);
  return { commitment };
}
