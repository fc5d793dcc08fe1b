import { describe, expect, it } from 'vitest';
import { bundle, node22, runInNode } from '../engines/engines.js';
import { sapoFingerprint } from './helpers.js';

describe('SAPO reproducibility', () => {
  it('rollouts and GRPO steps are the same bits in another process, with 1 and 2 threads, and on Node 22', async () => {
    const here = sapoFingerprint();
    // The fixture trains: some group had unequal rewards, so a GRPO step really ran.
    expect(here).toMatch(/:[1-9]\+|:\d\+[1-9]/);
    const [file, binary] = await Promise.all([bundle('test/swarm/fixtures/rollout-entry.ts', 'node'), node22()]);
    const [n20, n22] = await Promise.all([runInNode(process.execPath, file), runInNode(binary, file)]);
    expect(n20).toBe(here);
    expect(n22).toBe(n20);
  }, 180_000);
});
