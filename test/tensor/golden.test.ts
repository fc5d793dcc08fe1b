// The golden program's digest is pinned: a change to any bit of any kernel, math function or op order
// changes it. The same digest must come out of every kernel setting and every engine.
import { afterAll, describe, expect, it } from 'vitest';
import { configureKernels, goldenProgram } from '../../src/tensor/index.js';
import { bundle, node22, runInChromium, runInNode } from '../engines/engines.js';

/**
 * Update only with a commit that says why the bits changed. Last change: layer norm's backward became
 * the fused layer_norm_grad primitive (forward bits unchanged; was f4751f05ceab4c27...bb93cd).
 */
const GOLDEN_DIGEST = 'd03f3d59497db1474fdbcc15bd3c94a2116c824bba4de9a671c89238587aa543';

describe('golden program', () => {
  afterAll(() => void configureKernels({ kernels: 'fast', threads: 2 }));

  it('gives the pinned digest with reference kernels and with fast kernels on 1 and 2 threads', () => {
    for (const [kernels, threads] of [['reference', 1], ['fast', 1], ['fast', 2]] as const) {
      configureKernels({ kernels, threads });
      expect(goldenProgram().digest, `${kernels} kernels, ${threads} threads`).toBe(GOLDEN_DIGEST);
    }
  });

  it('gives the same digest on Node 20, Node 22 and headless Chromium', async () => {
    const entry = 'test/engines/fixtures/golden-entry.ts';
    const [forNode, forBrowser, node22Binary] = await Promise.all([bundle(entry, 'node'), bundle(entry, 'browser'), node22()]);
    const [n20, n22, web] = await Promise.all([
      runInNode(process.execPath, forNode),
      runInNode(node22Binary, forNode),
      runInChromium(forBrowser),
    ]);
    expect({ n20, n22, web }).toEqual({ n20: GOLDEN_DIGEST, n22: GOLDEN_DIGEST, web: GOLDEN_DIGEST });
  });
});
