/**
 * Where a rollout's randomness comes from, so that any receiver can recompute it: the round's beacon,
 * the task seed H(beacon, node, index) from which the question and its answer are generated, and the
 * sampling seed of each completion. A node cannot pick its questions (they are fixed by the beacon and
 * its id) nor its sampling luck (fixed by the task seed).
 */
import { concatBytes, u64le } from '../platform/bytes.js';
import { sha256 } from '../platform/sha256.js';
import type { TaskExample } from '../data/index.js';
import { swarmTask, type SapoConfig } from './sapo-config.js';

const encoder = new TextEncoder();
const BEACON_DOMAIN = encoder.encode('mycel.sapo.beacon.v1');
const TASK_DOMAIN = encoder.encode('mycel.sapo.task.v1');
const SAMPLE_DOMAIN = encoder.encode('mycel.sapo.sample.v1');

/** The first 48 bits of a digest as a safe integer (a counter-RNG seed and a task seed are < 2^53). */
function seedOf(digest: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + digest[i];
  return n;
}

/**
 * The round's beacon: SHA-256 over the swarm id and the round number. Public and the same for every
 * node; a chain's block hash can replace it where questions must not be predictable in advance.
 */
export function roundBeacon(swarmId: string, round: number): Uint8Array {
  const id = encoder.encode(swarmId);
  return sha256(concatBytes([BEACON_DOMAIN, u64le(id.length), id, u64le(round)]));
}

/** H(beacon, node, index): the seed of a node's question `index` in a round. */
export function taskSeed(beacon: Uint8Array, node: string, index: number): number {
  const id = encoder.encode(node);
  return seedOf(sha256(concatBytes([TASK_DOMAIN, beacon, u64le(id.length), id, u64le(index)])));
}

/** The sampling seed of completion k of the question with task seed `seed`. */
export function samplingSeed(seed: number, k: number): number {
  return seedOf(sha256(concatBytes([SAMPLE_DOMAIN, u64le(seed), u64le(k)])));
}

/** The task a node asks with this seed, among the tasks it asks (its non-IID subset, or all). */
export function taskFor(seed: number, tasks: readonly string[]): string {
  return tasks[seed % tasks.length];
}

/** The question and answer of (task, seed): example 0 of the task's stream for that seed. */
export function questionOf(config: SapoConfig, task: string, seed: number): TaskExample | undefined {
  const entry = swarmTask(config, task);
  return entry && entry.task.generate(seed, 0, entry.config);
}
