import { describe, expect, test } from 'vitest';
import { runJob } from '../../src/train/index.js';
import { adversary, UnknownJobError } from '../../src/verify/index.js';
import { verifyRun } from '../../src/cli/commands/verify.js';
import { tempStore } from '../train/helpers.js';
import { honest, rules } from './game-helpers.js';

describe('mycel verify', () => {
  test('agreement on an honest run, all steps and sampled', async () => {
    const store = await tempStore();
    const { record } = await runJob(honest, { store });
    expect(await verifyRun(store, record.jobId, {})).toMatchObject({ agrees: true, steps_executed: 4 });
    const sampled = await verifyRun(store, record.commitment!.slice(0, 12), { sample: '2', seed: 'public' });
    expect(sampled.checked).toHaveLength(2);
    expect(sampled.agrees).toBe(true);
  });

  test('the first divergence, located to step, op, element and instruction, in words', async () => {
    const store = await tempStore();
    const { record } = await runJob(adversary.flipAfterUpdate(honest, 2, 'blocks.0.qkv.weight', 37, 3), { store });
    const result = await verifyRun(store, record.jobId, {});
    const writer = (rules.structure(2).stateOutputs.find((s) => s.name === 'params.blocks.0.qkv.weight')!.source as { index: number }).index;
    expect(result.divergence).toMatchObject({ t: 2, located: { t: 2, op: writer, tensor: 'params.blocks.0.qkv.weight', element: 37, opcode: 'fsub' } });
    expect(result.text).toMatch(/DIVERGES at step 2[\s\S]*op \d+: optimizer sub -> params.blocks.0.qkv.weight[\s\S]*element 37[\s\S]*instruction \d+/);
  });

  test('an unknown job or commitment is rejected with a hint', async () => {
    await expect(verifyRun(await tempStore(), 'deadbeef', {})).rejects.toThrow(UnknownJobError);
  });
});
