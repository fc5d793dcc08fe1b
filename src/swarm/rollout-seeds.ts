/**
 * Where a rollout's randomness comes from, so that any receiver can recompute it: the round's beacon,
 * the task seed H(beacon, node, index) from which the question and its answer are generated, and the
 * sampling seed of each completion. A node cannot pick its questions (they are fixed by the beacon and
 * its id) nor its sampling luck (fixed by the task seed).
 *
 * One seed here is private on purpose: the checker's draw of which questions it re-executes (reexecSeed).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes, u64le } from '../platform/bytes.js';
import { sha256 } from '../platform/sha256.js';
import type { TaskExample } from '../data/index.js';
import { swarmTask, type SapoConfig } from './sapo-config.js';

const encoder = new TextEncoder();
const BEACON_DOMAIN = encoder.encode('mycel.sapo.beacon.v1');
const TASK_DOMAIN = encoder.encode('mycel.sapo.task.v1');
const SAMPLE_DOMAIN = encoder.encode('mycel.sapo.sample.v1');
const REEXEC_DOMAIN = encoder.encode('mycel.sapo.reexec.v1');

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

/**
 * The seed of the draw of which questions of `author`'s round-`round` rollout a checker re-executes:
 * HMAC-SHA256 keyed by the checker's private key over (domain, swarm, author, round). Every other
 * input of a round is public; were this one too (it once was H(checker id, author) and the round), a
 * cheater would compute in advance which of its questions each peer re-executes and forge only the
 * others. With the key in it, each question is re-executed by each checker with probability
 * `reexecFraction`, independently of anything the author knows. It stays a pure function of the
 * checker's state, so a browser tab and a Node twin with the same key draw the same questions.
 * HMAC rather than SHA-256(key || ...): the checker's later behaviour (which blobs it fetches) leaks
 * bits of past draws, and HMAC is the construction made for a keyed hash that must stay unpredictable.
 * @noble/hashes' HMAC, in Node and the browser alike: a few hundred bytes hashed per peer per round.
 */
export function reexecSeed(key: Uint8Array, swarmId: string, author: string, round: number): number {
  const swarm = encoder.encode(swarmId);
  const id = encoder.encode(author);
  return seedOf(hmac(nobleSha256, key, concatBytes([REEXEC_DOMAIN, u64le(swarm.length), swarm, u64le(id.length), id, u64le(round)])));
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
