// The golden program's digest is pinned: a change to any bit of any kernel, math function or op order
// changes it. The same digest must come out of every kernel setting and every engine.
import { afterAll, describe, expect, it } from 'vitest';
import { configureKernels, goldenProgram } from '../../src/tensor/index.js';
import { bundle, node22, runInChromium, runInNode } from '../engines/engines.js';
import { loadNativeAddon } from '../../src/platform/native-addon.js';

/**
 * Update only with a commit that says why the bits changed. Last change: matmul accumulates with a fused
 * multiply-add, acc = fma(a, b, acc) (was d03f3d59497db147...87aa543, mul-then-add).
 */
const GOLDEN_DIGEST = '648a9dd25f435ccffc482e79d0d02f3c7898c84a6434c5c98f4742dbf487afa9';

describe('golden program', () => {
  afterAll(() => void configureKernels({ kernels: 'fast', threads: 2 }));

  it('gives the pinned digest with reference, WebAssembly and fast (native) kernels on 1 and 2 threads', () => {
    for (const [kernels, threads] of [['reference', 1], ['wasm', 1], ['wasm', 2], ['fast', 1], ['fast', 2]] as const) {
      configureKernels({ kernels, threads });
      expect(goldenProgram().digest, `${kernels} kernels, ${threads} threads`).toBe(GOLDEN_DIGEST);
    }
  });

  it('gives the same digest on Node 20, Node 22 (native and WebAssembly kernels) and headless Chromium (WebAssembly)', async () => {
    const entry = 'test/engines/fixtures/golden-entry.ts';
    const [forNode, forBrowser, node22Binary] = await Promise.all([bundle(entry, 'node'), bundle(entry, 'browser'), node22()]);
    const [n20, n22, web] = await Promise.all([
      runInNode(process.execPath, forNode),
      runInNode(node22Binary, forNode),
      runInChromium(forBrowser),
    ]);
    // Node runs the native addon built in this checkout (the same .node file loads in Node 20 and 22: Node-API)
    const native = loadNativeAddon().addon;
    const inNode = `${GOLDEN_DIGEST} reference wasm-fma ${native ? `native-${native.kernels[0]}` : 'wasm-fma'}`.replace(/ wasm-fma wasm-fma$/, ' wasm-fma');
    expect({ n20, n22, web }).toEqual({ n20: inNode, n22: inNode, web: `${GOLDEN_DIGEST} reference wasm-fma` });
  });
});
