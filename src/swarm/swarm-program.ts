/** What every swarm program (the evaluation, the GRPO step, a group's generation) shares: how it is named, and its empty batch. */
import { createSha256, toHex } from '../platform/sha256.js';
import { canonicalJson } from '../train/spec.js';

/** No per-step batch: a swarm program reads its data from its state or its step's constants. */
export const NO_BATCH = { inputs: new Int32Array(0), targets: new Int32Array(0), mask: new Float32Array(0), shape: [0, 0] as [number, number] };

/** A swarm program's id: the SHA-256 of its spec's canonical JSON. */
export const swarmProgramId = (spec: object): string => toHex(createSha256().update(new TextEncoder().encode(canonicalJson(spec))).digest());
