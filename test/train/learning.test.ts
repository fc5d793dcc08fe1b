// Training learns for real: a small budget and a looser bar than the presets' (the quick preset
// reaches 98.5% exact match on sorting in 200 steps; this test uses fewer steps and a smaller model).
import { describe, expect, it } from 'vitest';
import { buildProgram, evaluateTask, parseJobSpec } from '../../src/train/index.js';

describe('learning', () => {
  it('a small GPT learns to reverse four digits', () => {
    const program = buildProgram(
      parseJobSpec({
        version: 1,
        model: { kind: 'gpt', contextLength: 12, dModel: 32, layers: 1, heads: 2, mlpHidden: 64 },
        optimizer: { kind: 'adamw', lr: 0.01, clip: 1, schedule: { kind: 'warmup-cosine', warmup: 10, floor: 0.1 } },
        data: { kind: 'task', task: 'reversal', config: { length: 4 } },
        steps: 120,
        batchSize: 32,
        seed: 3,
        checkpointEvery: 1000,
      }),
    );
    let state = program.init();
    const before = evaluateTask(program, state.params, 50).accuracy;
    let first = NaN;
    let last = NaN;
    while (state.step < program.spec.steps) {
      const result = program.step(state);
      state = result.state;
      if (state.step === 1) first = result.loss;
      last = result.loss;
    }
    const after = evaluateTask(program, state.params, 100);
    expect(before).toBeLessThan(0.1);
    expect(last).toBeLessThan(first / 4);
    expect(after.accuracy, JSON.stringify(after.samples)).toBeGreaterThanOrEqual(0.8);
  });
});
