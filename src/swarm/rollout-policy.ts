/**
 * A policy as a blob: its checkpoint (parameters, optimizer state, the job spec naming the model
 * size, the tokenizer), content-addressed twice: by the blob CID it is fetched by, and by the state
 * hash rollouts name. A blob fetched to re-execute a peer's rollouts is checked against both claims
 * before any of it is used, and its model must be one this node can afford to run.
 */
import { BLOB_CHUNK_BYTES } from '../p2p/constants.js';
import { encodeManifest, sha256Bytes } from '../p2p/blob/manifest.js';
import { concatBytes } from '../platform/bytes.js';
// The modules, not train/index.js (node:fs): a browser tab's worker bundles this file.
import { decodeCheckpoint, encodeCheckpoint } from '../train/checkpoint.js';
import { buildProgram, type TrainProgram } from '../train/program.js';
import { canonicalJson, parseJobSpec, type JobSpec } from '../train/spec.js';
import { stateHash, type TrainState } from '../train/state.js';

/** The largest peer model this node re-executes (a claim of a huge model must not stall the round). */
export const MAX_PEER_MODEL = { contextLength: 256, dModel: 512, layers: 12, mlpHidden: 2048 };

type BuiltSpec = { program: TrainProgram; shapes: Record<string, { shape: readonly number[]; dtype: string }> };
/** Programs by spec: peers' specs repeat every round, and building one (with its init) is not free. */
const programs = new Map<string, BuiltSpec>();
const PROGRAM_CACHE = 32;

function programOf(spec: JobSpec): BuiltSpec {
  const key = canonicalJson(spec);
  let built = programs.get(key);
  if (!built) {
    const program = buildProgram(spec);
    const shapes = Object.fromEntries(Object.entries(program.init().params).map(([name, t]) => [name, { shape: t.shape, dtype: t.dtype }]));
    built = { program, shapes };
    if (programs.size >= PROGRAM_CACHE) programs.delete(programs.keys().next().value as string);
    programs.set(key, built);
  }
  return built;
}

export type Policy = { program: TrainProgram; state: TrainState; hash: string };
export type PolicyBlob = { hash: string; cid: string; bytes: Uint8Array };

/** The CID the blob store gives these bytes (the manifest of their 1 MiB chunks), computed in memory. */
export function blobCidOf(bytes: Uint8Array): string {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += BLOB_CHUNK_BYTES) chunks.push(sha256Bytes(bytes.subarray(at, at + BLOB_CHUNK_BYTES)));
  return encodeManifest({ size: bytes.length, chunkSize: BLOB_CHUNK_BYTES, hashes: concatBytes(chunks) }).cid.toString();
}

export function policyBlob(program: TrainProgram, state: TrainState, hash = stateHash(state)): PolicyBlob {
  const bytes = encodeCheckpoint(state, { jobId: program.id, spec: program.spec, tokenizer: program.tokenizer.toJSON(), stateHash: hash });
  return { hash, cid: blobCidOf(bytes), bytes };
}

/** Why a policy blob cannot be used, or the policy it holds. */
export type OpenedPolicy = { ok: true; policy: Policy } | { ok: false; reason: string };

/**
 * Opens a peer's policy blob claimed as (hash, cid): the bytes must hash to the CID, the checkpoint
 * to the state hash, its tokenizer must be ours (token ids mean the same) and its model affordable.
 */
export function openPolicyBlob(bytes: Uint8Array, claim: { hash: string; cid: string }, tokenizerJson: string): OpenedPolicy {
  if (blobCidOf(bytes) !== claim.cid) return { ok: false, reason: `the policy blob does not hash to its CID ${claim.cid}` };
  let decoded;
  try {
    decoded = decodeCheckpoint(bytes, `policy ${claim.cid}`);
  } catch (error) {
    return { ok: false, reason: `the policy blob is not a checkpoint (${(error as Error).message.split('\n')[0]})` };
  }
  const hash = stateHash(decoded.state);
  if (hash !== claim.hash) return { ok: false, reason: `the policy blob holds state ${hash.slice(0, 12)}, not the claimed ${claim.hash.slice(0, 12)}` };
  if (JSON.stringify(decoded.info.tokenizer) !== tokenizerJson) return { ok: false, reason: 'the policy uses another tokenizer' };
  let built: BuiltSpec;
  try {
    const spec = parseJobSpec(decoded.info.spec);
    const m = spec.model;
    if (m.contextLength > MAX_PEER_MODEL.contextLength || m.dModel > MAX_PEER_MODEL.dModel || m.layers > MAX_PEER_MODEL.layers || m.mlpHidden > MAX_PEER_MODEL.mlpHidden) {
      return { ok: false, reason: `the policy's model (${JSON.stringify(m)}) is larger than this node re-executes` };
    }
    built = programOf(spec);
  } catch (error) {
    return { ok: false, reason: `the policy's spec is unusable (${(error as Error).message.split('\n')[0]})` };
  }
  const { program, shapes } = built;
  // Every parameter the model reads, with the shape it expects: a mismatch would fail deep in a matmul.
  for (const [name, t] of Object.entries(shapes)) {
    const got = decoded.state.params[name];
    if (!got || got.shape.length !== t.shape.length || got.shape.some((d, i) => d !== t.shape[i]) || got.dtype !== t.dtype) {
      return { ok: false, reason: `the policy's parameter ${name} is missing or misshapen` };
    }
  }
  return { ok: true, policy: { program, state: decoded.state, hash } };
}
