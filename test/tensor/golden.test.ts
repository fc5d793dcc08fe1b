// The golden program's digest is pinned: a change to any bit of any kernel, math function or op order
// changes it. The same digest must come out of every kernel setting and every engine.
import { afterAll, describe, expect, it } from 'vitest';
import { configureKernels, goldenProgram } from '../../src/tensor/index.js';
import { arm64Addon, runArm64 } from '../engines/arm64.js';
import { bundle, node22, runInChromium, runInFirefox, runInNode } from '../engines/engines.js';
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

  it('gives the same digest on Node 20, Node 22 (native and WebAssembly kernels), headless Chromium and Firefox (WebAssembly)', { timeout: 300_000 }, async () => {
    const entry = 'test/engines/fixtures/golden-entry.ts';
    const [forNode, forBrowser, node22Binary] = await Promise.all([bundle(entry, 'node'), bundle(entry, 'browser'), node22()]);
    const [n20, n22, web, firefox] = await Promise.all([
      runInNode(process.execPath, forNode),
      runInNode(node22Binary, forNode),
      runInChromium(forBrowser),
      runInFirefox(forBrowser),
    ]);
    // Node runs the native addon built in this checkout (the same .node file loads in Node 20 and 22: Node-API)
    const native = loadNativeAddon().addon;
    const inNode = `${GOLDEN_DIGEST} reference wasm-fma ${native ? `native-${native.kernels[0]}` : 'wasm-fma'}`.replace(/ wasm-fma wasm-fma$/, ' wasm-fma');
    const inBrowser = `${GOLDEN_DIGEST} reference wasm-fma`;
    expect({ n20, n22, web, firefox }).toEqual({ n20: inNode, n22: inNode, web: inBrowser, firefox: inBrowser });
  });

  it('gives the same digest on ARM64 (Node 24 under qemu-user): reference, WebAssembly and the NEON native kernel', { timeout: 600_000 }, async () => {
    const [golden, kernels, addon] = await Promise.all([
      bundle('test/engines/fixtures/golden-entry.ts', 'node'),
      bundle('test/engines/fixtures/native-matmul-entry.ts', 'node'),
      arm64Addon(),
    ]);
    const [digest, differential] = await Promise.all([runArm64(golden, { nativeAddon: addon }), runArm64(kernels, { nativeAddon: addon })]);
    expect(digest).toBe(`${GOLDEN_DIGEST} reference wasm-fma native-neon`);
    // the NEON and scalar kernels bit for bit against the reference on edge tiles, strides and special values
    expect(differential).toBe('neon scalar mismatches 0');
  });
});
