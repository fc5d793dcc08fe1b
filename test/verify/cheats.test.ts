import { beforeAll, describe, expect, test } from 'vitest';
import { replayToStep, type TrainProgram, type TrainState } from '../../src/train/index.js';
import { adversary, executeStep } from '../../src/verify/index.js';
import { dispute, honest, rules, runOf, type Run } from './game-helpers.js';

const T = 3;
let good: Run;
let before: TrainState;

beforeAll(async () => {
  good = await runOf(honest);
  before = await replayToStep(honest, good.store, good.record, T - 1);
});

/** Where a cheating step first differs from the job's: the op, and the element within its output. */
function firstDifference(cheat: TrainProgram): { op: number; element: number } {
  const [a, b] = [executeStep(cheat, before), executeStep(honest, before)];
  const op = a.commitments.findIndex((c, i) => c.some((byte, k) => byte !== b.commitments[i][k]));
  const [x, y] = [new Int32Array(a.ops[op].output.data.buffer), new Int32Array(b.ops[op].output.data.buffer)];
  return { op, element: x.findIndex((w, k) => w !== y[k]) };
}

const qkv = 'params.blocks.0.qkv.weight';
const writerOf = (name: string) => (rules.structure(T).stateOutputs.find((s) => s.name === name)!.source as { index: number }).index;

describe('cheats end in a ruling against the cheater at the right step, op, element and instruction', () => {
  test('solver flips one bit of one parameter at step t (in the op that writes it)', async () => {
    const op = writerOf(qkv);
    const game = await dispute(await runOf(adversary.flipOpOutput(honest, T, op, 37, 3)), good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: T, op, element: 37, opcode: 'fsub' });
    expect(game.ruling.opName).toContain(qkv);
    expect(game.totalRounds).toBeLessThanOrEqual(64);
  });

  test('solver flips one bit of a parameter after the update, outside any op', async () => {
    const game = await dispute(await runOf(adversary.flipAfterUpdate(honest, T, 'blocks.0.qkv.weight', 37, 3)), good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'state', t: T });
  });

  test('solver uses Math.exp instead of the runtime exp', async () => {
    const cheat = adversary.mathExp(honest, T);
    const where = firstDifference(cheat);
    expect(rules.structure(T).ops[where.op].op).toBe('exp');
    const game = await dispute(await runOf(cheat), good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: T, ...where });
  });

  test('solver sums a reduction in another (pairwise) order', async () => {
    const where = firstDifference(adversary.pairwiseSum(honest, T));
    expect(rules.structure(T).ops[where.op].op).toBe('sum');
    const game = await dispute(await runOf(adversary.pairwiseSum(honest, T)), good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: T, ...where, opcode: 'fadd' });
  });

  test('solver skips a step', async () => {
    const game = await dispute(await runOf(adversary.skipStep(honest, T)), good);
    // The header advances as an honest step's does, so the first differing leaf is the first state tensor.
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'state', t: T, instruction: 1, opName: rules.structure(T).stateOutputs[0].name });
  });

  test('solver does not advance the optimizer step: it loses at the header leaf', async () => {
    const cheat = adversary.cheatAt(honest, T, (state, batch) => {
      const r = honest.step(state, batch);
      return { ...r, state: { ...r.state, opt: { ...r.state.opt, step: state.opt.step } } };
    });
    const game = await dispute(await runOf(cheat), good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'state', t: T, instruction: 0, opName: 'the header' });
  });

  test('solver uses a different learning rate', async () => {
    const cheat = adversary.otherLearningRate(honest, T, 2);
    const where = firstDifference(cheat);
    expect(rules.structure(T).ops[where.op].op).toBe('const');
    const game = await dispute(await runOf(cheat), good);
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'instruction', t: T, ...where, opcode: 'const' });
  });

  test('solver reports the correct final state but a wrong intermediate commitment', async () => {
    const liar = await runOf(honest, (r) => (r.stepHashes[T] = 'ab'.repeat(32)));
    expect(liar.record.stepHashes[4]).toBe(good.record.stepHashes[4]);
    const game = await dispute(liar, good);
    // No state of its own hashes to the published h_t, so it cannot reveal the state tree it committed to.
    expect(game.ruling).toMatchObject({ loser: 'solver', at: 'timeout', t: T });
    expect(game.ruling.reason).toContain('state/bisect');
  });

  test('challenger commits the honest op outputs with another h_t: it loses at the state leaf it changed', async () => {
    const name = 'params.blocks.0.qkv.weight';
    const game = await dispute(good, await runOf(adversary.flipAfterUpdate(honest, T, 'blocks.0.qkv.weight', 37, 3)));
    const leaf = rules.structure(T).stateOutputs.findIndex((s) => s.name === name) + 1;
    expect(game.ruling).toMatchObject({ loser: 'challenger', at: 'state', t: T, instruction: leaf, opName: name });
  });

  test('challenger lies about an honest run', async () => {
    const cheat = adversary.mathExp(honest, T);
    const game = await dispute(good, await runOf(cheat));
    expect(game.ruling).toMatchObject({ loser: 'challenger', at: 'instruction', t: T, ...firstDifference(cheat) });
  });

  test('both parties lie: the referee rules on the instruction against both', async () => {
    const op = writerOf(qkv);
    const game = await dispute(await runOf(adversary.flipOpOutput(honest, T, op, 37, 3)), await runOf(adversary.flipOpOutput(honest, T, op, 37, 5)));
    expect(game.ruling).toMatchObject({ loser: 'both', at: 'instruction', t: T, op, element: 37, opcode: 'fsub' });
  });
});
