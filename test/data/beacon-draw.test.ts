import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { DATA_STREAMS, TASKS, TASK_NAMES, beaconExamples, beaconWords } from '../../src/data/index.js';
import { randomWords } from '../../src/tensor/index.js';

describe('examples drawn from a beacon', () => {
  test('fromWords is the task\'s own make: over the Philox words, it is generate', () => {
    for (const name of TASK_NAMES) {
      const task = TASKS[name];
      for (const index of [0, 1, 7]) {
        const words = randomWords({ seed: 5, stream: DATA_STREAMS[name], offset: index * task.wordsPerExample() }, task.wordsPerExample());
        expect(task.fromWords(words), name).toEqual(task.generate(5, index));
      }
    }
  });

  test('row i\'s words are SHA-256(beacon || u32 BE i || u32 BE block), big-endian words', () => {
    const beacon = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const words = beaconWords(beacon, 3, 10);
    const block = (b: number) => createHash('sha256').update(beacon).update(Buffer.from([0, 0, 0, 3, 0, 0, 0, b])).digest();
    const expected = [...Array.from({ length: 8 }, (_, k) => block(0).readUInt32BE(4 * k)), block(1).readUInt32BE(0), block(1).readUInt32BE(4)];
    expect(Array.from(words)).toEqual(expected);
    expect(() => beaconWords(new Uint8Array(31), 0, 1)).toThrow(/32 bytes/);
  });

  test('the rows differ, and a beacon always draws the same', () => {
    const beacon = new Uint8Array(32).fill(9);
    const rows = beaconExamples(TASKS.addition, beacon, 16, { digits: 2 });
    expect(beaconExamples(TASKS.addition, beacon, 16, { digits: 2 })).toEqual(rows);
    expect(new Set(rows.map((r) => r.prompt)).size).toBeGreaterThan(10);
    for (const { prompt, answer } of rows) expect(TASKS.addition.verify(prompt, answer)).toBe(1);
  });
});
