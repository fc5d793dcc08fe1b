/**
 * Where a rollout's randomness comes from, so that any receiver (and a contract) can recompute it: the round's
 * beacon, the question seed SHA-256(domain, beacon, author's address, index), and from that seed alone, by SHA-256
 * in counter mode (data/tasks/beacon-draw.ts beaconWords, the seed in the beacon's place), the question's words, the
 * task pick and one uniform per generated token of each completion. A node cannot pick its questions (fixed by the
 * beacon and its address) nor its sampling luck (fixed by the question seed). SHA-256 only: the EVM has it as a
 * precompile, so SwarmPrograms draws the same question and uniforms (docs/verification.md, "The rollout program").
 *
 * One seed here is private on purpose: the checker's draw of which questions it re-executes (reexecSeed).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { peerIdFromString } from '@libp2p/peer-id';
import { concatBytes, u64le } from '../platform/bytes.js';
import { sha256 } from '../platform/sha256.js';
import { beaconWords, type TaskExample } from '../data/index.js';
import { swarmTask, type SapoConfig } from './sapo-config.js';

const encoder = new TextEncoder();
const BEACON_DOMAIN = encoder.encode('mycel.sapo.beacon.v1');
const SEED_DOMAIN = encoder.encode('mycel.rollout.seed.v1');
const TRAIN_DOMAIN = encoder.encode('mycel.sapo.train.v1');
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

/** The Ethereum address (20 bytes) of a node's secp256k1 key, from its PeerId: the author a question seed names. */
export function authorAddress(peerId: string): Uint8Array {
  const key = peerIdFromString(peerId).publicKey;
  if (!key || key.type !== 'secp256k1') throw new RangeError(`the PeerId ${peerId} does not carry a secp256k1 key`);
  return keccak_256(secp256k1.Point.fromBytes(key.raw).toBytes(false).subarray(1)).subarray(12);
}

/**
 * The seed of question `index` of `author` (its address) in the round of `beacon`:
 * SHA-256("mycel.rollout.seed.v1" || beacon || author || u32 BE index), Solidity's
 * sha256(abi.encodePacked("mycel.rollout.seed.v1", beacon, author, uint32(index))).
 */
export function rolloutSeed(beacon: Uint8Array, author: Uint8Array, index: number): Uint8Array {
  if (beacon.length !== 32 || author.length !== 20) throw new RangeError(`a question seed needs a 32-byte beacon and a 20-byte address, got ${beacon.length} and ${author.length}`);
  if (!(Number.isInteger(index) && index >= 0 && index < 2 ** 32)) throw new RangeError(`question index ${index} is not a u32`);
  const at = new Uint8Array(4);
  new DataView(at.buffer).setUint32(0, index);
  return sha256(concatBytes([SEED_DOMAIN, beacon, author, at]));
}

/** The counter-mode rows of a question seed: its question's words, the task pick, then completion k's uniforms at 2 + k. */
export const QUESTION_ROW = 0;
export const TASK_ROW = 1;
export const uniformRow = (k: number) => 2 + k;

/** A question seed's first 48 bits: the number a rollout message names it by (receivers recompute the seed). */
export const seedNumber = (seed: Uint8Array): number => seedOf(seed);

/** The task a node asks with this seed, among the tasks it asks (its non-IID subset, or all): the task row's first word. */
export function taskFor(seed: Uint8Array, tasks: readonly string[]): string {
  return tasks[beaconWords(seed, TASK_ROW, 1)[0] % tasks.length];
}

/** The question and answer of `task` for this seed: the task's fromWords over the seed's question row; undefined when the swarm does not run the task. */
export function rolloutQuestion(seed: Uint8Array, task: string, config: SapoConfig): TaskExample | undefined {
  const entry = swarmTask(config, task);
  return entry && entry.task.fromWords(beaconWords(seed, QUESTION_ROW, entry.task.wordsPerExample(entry.config)), entry.config);
}

/** One uniform per (completion, token), [L·K] row-major: u = (word >>> 8) · 2^-24 from completion k's row (exact in float32). */
export function rolloutUniforms(seed: Uint8Array, completions: number, tokens: number): Float32Array {
  const out = new Float32Array(completions * tokens);
  for (let k = 0; k < completions; k++) beaconWords(seed, uniformRow(k), tokens).forEach((w, j) => (out[k * tokens + j] = (w >>> 8) * 2 ** -24));
  return out;
}

/** A text as an RNG seed (48 bits of its SHA-256): the seed of a node's draw of the external groups it trains on. */
export function textSeed(text: string): number {
  return seedOf(sha256(concatBytes([TRAIN_DOMAIN, encoder.encode(text)])));
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
