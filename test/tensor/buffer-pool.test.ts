/**
 * The buffer pool a training step runs in (runInMemory; what makes a browser tab's steps fast): a buffer lent in one
 * step and not held by its result is handed out again, zeroed, in the next; one the result holds (or a view of it)
 * never is; and a run in the pool is the same bits as a run without it (runJob), on a GPT with AdamW and clipping.
 */
import { describe, expect, test } from 'vitest';
import { BufferPool } from '../../src/tensor/buffer-pool.js';
import { allocate } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/index.js';
import { buildProgram, parseJobSpec, PRESETS, runJob } from '../../src/train/index.js';
import { runInMemory } from '../../src/train/run-in-memory.js';
import { tempStore } from '../train/helpers.js';

describe('BufferPool', () => {
  test('reuses, zeroed, what a scope made and its result does not hold; never what it holds', () => {
    const pool = new BufferPool();
    let scratch!: Float32Array;
    let kept!: Float32Array;
    const result = pool.scope(() => {
      scratch = allocate('float32', 8) as Float32Array;
      scratch.fill(3);
      kept = allocate('float32', 8) as Float32Array;
      kept.fill(5);
      return Tensor.from(kept.subarray(2), [6]); // a view: its buffer is held
    }, (t) => [t.data]);
    expect(allocate('float32', 8)).not.toBe(scratch); // outside a scope: a new buffer
    const next = pool.scope(() => [allocate('float32', 8), allocate('float32', 8), allocate('int32', 8)], () => []);
    expect(next[0]).toBe(scratch);
    expect([...next[0]]).toEqual(new Array(8).fill(0));
    expect(next[1]).not.toBe(kept);
    expect(next[2]).toBeInstanceOf(Int32Array);
    expect([...result.data]).toEqual(new Array(6).fill(5));
  });

  test('an unzeroed take (Tensor.empty: an op that writes every element) hands a reused buffer back as it was', () => {
    const pool = new BufferPool();
    const first = pool.scope(() => (allocate('float32', 4) as Float32Array).fill(7), () => []);
    const again = pool.scope(() => allocate('float32', 4, false), () => []);
    expect(again).toBe(first);
    expect([...again]).toEqual([7, 7, 7, 7]);
    expect([...allocate('float32', 4, false)]).toEqual([0, 0, 0, 0]); // outside a scope: a new, zeroed buffer
  });

  test('scopes do not nest, and a failed step lends nothing back', () => {
    const pool = new BufferPool();
    expect(() => pool.scope(() => pool.scope(() => 1, () => []), () => [])).toThrow(/do not nest/);
    let made!: Float32Array;
    expect(() => pool.scope(() => { made = allocate('float32', 4) as Float32Array; throw new Error('step failed'); }, () => [])).toThrow('step failed');
    expect(pool.scope(() => allocate('float32', 4), () => [])).not.toBe(made);
  });

  test('a run in the pool commits to the same root as runJob', async () => {
    const program = buildProgram(parseJobSpec({ ...PRESETS.quick, steps: 3, checkpointEvery: 3 }));
    const { record } = await runJob(program, { store: await tempStore() });
    const run = runInMemory(program);
    expect(run.stepHashes).toEqual(record.stepHashes);
    expect(run.commitment).toBe(record.commitment);
  });
});
