/**
 * A run in memory (what a browser tab's worker does) is a file-store run's twin: the same step hashes, checkpoints
 * at the same steps holding the same states, and the same commitment; and a party in a dispute plays from it as from
 * the file store (a tab that challenges a cheat wins the game it would win from disk).
 */
import { describe, expect, test } from 'vitest';
import { decodeCheckpoint, replayToStep, runJob, stateHash } from '../../src/train/index.js';
import { MemoryStore, runInMemory } from '../../src/train/run-in-memory.js';
import { playGame, replayParty } from '../../src/verify/index.js';
import { honest, rules, runOf } from '../verify/game-helpers.js';
import { cheatingProgram } from '../../src/node/roles.js';
import { tempStore } from './helpers.js';

describe('runInMemory with a MemoryStore', () => {
  test('keeps runJob\'s record: step hashes, checkpoints of the same states, commitment', async () => {
    const store = await tempStore();
    const { record: disk } = await runJob(honest, { store });
    const memory = new MemoryStore();
    const run = runInMemory(honest, undefined, memory);
    expect(run.record.stepHashes).toEqual(disk.stepHashes);
    expect(run.record.commitment).toBe(disk.commitment);
    expect(Object.keys(run.record.checkpoints).sort()).toEqual(Object.keys(disk.checkpoints).sort());
    for (const [step, hash] of Object.entries(run.record.checkpoints)) {
      expect(stateHash(decodeCheckpoint(await memory.getObject(hash), 'memory').state)).toBe(disk.stepHashes[Number(step)]);
    }
    // Replaying to a step between checkpoints gives that step's state.
    expect(stateHash(await replayToStep(honest, memory, run.record, 3))).toBe(disk.stepHashes[3]);
    await expect(memory.getObject('00'.repeat(32))).rejects.toThrow(/checkpoint/i);
  });

  test('a challenger playing from memory beats a solver that cheated at a step', async () => {
    const cheat = await runOf(cheatingProgram(honest, 2));
    const memory = new MemoryStore();
    const { record } = runInMemory(honest, undefined, memory);
    expect(record.commitment).not.toBe(cheat.record.commitment);
    const game = await playGame(rules,
      replayParty({ role: 'solver', program: cheat.program, reference: honest, store: cheat.store, record: cheat.record }),
      replayParty({ role: 'challenger', program: honest, reference: honest, store: memory, record }),
      { solverRoot: cheat.record.commitment!, challengerRoot: record.commitment! });
    expect(game.ruling?.loser).toBe('solver');
  });
});
