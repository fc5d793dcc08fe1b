// Self-test of the engines harness: the same float32 program gives the same string on Node 20, Node 22
// and headless Chromium; failures surface; the Chromium page is cross-origin isolated.
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundle, node22, runInChromium, runInNode } from './engines.js';

const fixture = (name: string) => `test/engines/fixtures/${name}.ts`;

describe('engines harness', () => {
  let node22Bin: string;
  beforeAll(async () => {
    node22Bin = await node22(); // installs from npm on a fresh machine; install-test-deps.sh pre-installs it
  });

  it('gives the same float32 result on Node 20, Node 22 and Chromium', async () => {
    const forNode = await bundle(fixture('float-entry'), 'node');
    const forBrowser = await bundle(fixture('float-entry'), 'browser');
    const [n20, n22, web] = await Promise.all([
      runInNode(process.execPath, forNode),
      runInNode(node22Bin, forNode),
      runInChromium(forBrowser),
    ]);
    expect(n20).toMatch(/^[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{64}$/);
    expect(n22).toBe(n20);
    expect(web).toBe(n20);
  });

  it('runs Node 22 for real', async () => {
    const out = await runInNode(node22Bin, await bundle(fixture('version-entry'), 'node'));
    expect(out).toBe('v22.23.3');
  });

  it('surfaces a failing entry\'s error in every engine', async () => {
    const forNode = await bundle(fixture('fail-entry'), 'node');
    await expect(runInNode(process.execPath, forNode)).rejects.toThrow(/mycel-fixture-boom/);
    await expect(runInNode(node22Bin, forNode)).rejects.toThrow(/mycel-fixture-boom/);
    await expect(runInChromium(await bundle(fixture('fail-entry'), 'browser'))).rejects.toThrow(/Chromium: Error: mycel-fixture-boom/);
  });

  it('surfaces a bundle that fails to load in Chromium', async () => {
    const file = await bundle(fixture('throw-entry'), 'browser');
    await expect(runInChromium(file)).rejects.toThrow(/mycel-load-boom/);
  });

  it('refuses a node: import in a browser bundle', async () => {
    await expect(bundle(fixture('node-import-entry'), 'browser')).rejects.toThrow(/node:crypto/);
  });

  it('gives Chromium cross-origin isolation: a Worker writes through a shared WebAssembly.Memory', async () => {
    const out = await runInChromium(await bundle(fixture('worker-entry'), 'browser'));
    expect(out).toBe('isolated=true counter=1000 wasm=12345');
  });

  it('fails with the setup hint when Chromium is missing', async () => {
    const file = await bundle(fixture('float-entry'), 'browser');
    const missing = '/nonexistent/chromium';
    expect(existsSync(missing)).toBe(false);
    await expect(runInChromium(file, { executablePath: missing })).rejects.toThrow(/bash scripts\/install-test-deps\.sh/);
  });
});
