/**
 * Examples drawn from a public beacon (a block hash fixed after a round's commit deadline), in a way a contract can
 * repeat: row i's words are SHA-256 in counter mode, SHA-256(beacon || u32 BE i || u32 BE block) for block = 0, 1,
 * ..., each digest read as 8 big-endian u32 words, as many as the task's wordsPerExample. The task turns them into
 * (prompt, answer) with its own `make` (TaskDefinition.fromWords), unchanged. SHA-256 rather than the Philox stream
 * that generate() reads: the EVM has SHA-256 as a precompile, and Philox would be thousands of gas per word.
 * contracts/SwarmEval.sol draws the same words (a test on anvil keeps the two equal).
 */
import { sha256 } from '../../platform/sha256.js';
import type { TaskDefinition, TaskExample } from './task.js';

/** A beacon is 32 bytes (a block hash). */
export const BEACON_BYTES = 32;

/** The first `count` words of row `row`'s counter-mode stream. */
export function beaconWords(beacon: Uint8Array, row: number, count: number): Uint32Array {
  if (beacon.length !== BEACON_BYTES) throw new RangeError(`a beacon is ${BEACON_BYTES} bytes (a block hash), got ${beacon.length}`);
  if (!(Number.isInteger(row) && row >= 0 && row < 2 ** 32)) throw new RangeError(`row ${row} is not a u32`);
  const words = new Uint32Array(count);
  const input = new Uint8Array(BEACON_BYTES + 8);
  const view = new DataView(input.buffer);
  input.set(beacon);
  view.setUint32(BEACON_BYTES, row);
  for (let block = 0; 8 * block < count; block++) {
    view.setUint32(BEACON_BYTES + 4, block);
    const d = sha256(input);
    const digest = new DataView(d.buffer, d.byteOffset, d.byteLength);
    for (let k = 0; k < 8 && 8 * block + k < count; k++) words[8 * block + k] = digest.getUint32(4 * k);
  }
  return words;
}

/** Rows 0..rows-1 of `task` drawn from `beacon`. */
export function beaconExamples<C extends Record<string, number>>(task: TaskDefinition<C>, beacon: Uint8Array, rows: number, config?: Partial<C>): TaskExample[] {
  const count = task.wordsPerExample(config);
  return Array.from({ length: rows }, (_, i) => task.fromWords(beaconWords(beacon, i, count), config));
}
