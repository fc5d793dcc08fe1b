// The sampled check a verifier can run instead of a full re-execution (verify/sampled-check.ts): it catches a cheat
// at a step it replays, and it misses one it does not replay (what sampling gives up, honestly).
import { describe, expect, it } from 'vitest';
import { loadCheckpointState } from '../../src/train/index.js';
import { cheatingProgram } from '../../src/node/roles.js';
import { checkSampledSteps } from '../../src/verify/index.js';
import { honest, runOf, SPEC } from './game-helpers.js';

describe('a sampled check', () => {
  it('catches a cheat at a replayed step, misses one it does not replay, and agrees with an honest run', async () => {
    // SPEC: 4 steps, checkpoints at 0, 2 and 4. The cheater flips a bit at step 3 and commits its own states.
    const cheat = await runOf(cheatingProgram(honest, 3));
    const good = await runOf(honest);
    const check = (run: typeof cheat, sampled: number[]) =>
      checkSampledSteps(honest, run.record.stepHashes, sampled, [0, 2, 4], (c) => loadCheckpointState(run.store, run.record, c).then((s) => s!));

    expect(await check(cheat, [3])).toMatchObject({ agrees: false, step: 3, executed: 1 }); // replayed from its h_2
    expect(await check(cheat, [4])).toMatchObject({ agrees: false, step: 3 }); // 4 is replayed from h_2, through 3
    // Steps 1 and 2 are honest: a sample of them misses the cheat, and a sample from h_4 would too.
    expect(await check(cheat, [1, 2])).toEqual({ agrees: true, executed: 2, replayed: [1, 2] });
    expect(await check(good, [1, 2, 3, 4])).toEqual({ agrees: true, executed: 4, replayed: [1, 2, 3, 4] });
  });
});
