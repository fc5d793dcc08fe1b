import { describe, expect, it } from 'vitest';
import { buildProgram, createStateHasher, stateHash } from '../../src/train/index.js';
import { microSpec } from './helpers.js';

describe('the state hasher', () => {
  for (const inline of [true, false]) {
    it(`${inline ? 'in line' : 'on a worker thread'}: gives stateHash exactly, state after state, and refuses overlapping calls`, async () => {
      const program = buildProgram(microSpec());
      const hasher = createStateHasher({ inline });
      try {
        let state = program.init();
        for (let i = 0; i < 4; i++) {
          expect(await hasher.hash(state)).toBe(stateHash(state));
          state = program.step(state).state;
        }
        const first = hasher.hash(state);
        await expect(hasher.hash(state)).rejects.toThrow(/previous hash is still running/);
        expect(await first).toBe(stateHash(state));
      } finally {
        hasher.close();
      }
    });
  }
});
