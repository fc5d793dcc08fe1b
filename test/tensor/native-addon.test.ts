// The native addon's build and loading: it builds with the machine's compiler, loads in worker threads, and
// where no compiler exists the build says what to install and leaves a status that the runtime reports.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { NATIVE_ADDON_PATH, loadNativeAddon } from '../../src/platform/native-addon.js';
import { referenceMatmul } from '../../src/tensor/kernels/reference-matmul.js';

const root = resolve(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'mycel-native-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('native addon', () => {
  it('runs in a worker thread, every kernel, with the reference bits', async () => {
    const { addon, why } = loadNativeAddon();
    expect(why).toBeUndefined();
    const [m, k, n] = [19, 45, 37];
    const a = new Float32Array(m * k).map((_, i) => Math.fround(Math.sin(i) * 3));
    const b = new Float32Array(k * n).map((_, i) => Math.fround(Math.cos(i * 7) / 3));
    const want = new Float32Array(m * n);
    referenceMatmul({ a: { data: a, offset: 0, strides: [0, k, 1] }, b: { data: b, offset: 0, strides: [0, n, 1] }, out: want, batch: 1, m, k, n });
    const code = `
      const { parentPort, workerData: { file, a, b, m, k, n } } = require('node:worker_threads');
      const addon = require(file);
      parentPort.postMessage(addon.kernels.map((name, i) => {
        const out = new Float32Array(m * n);
        addon.matmul(i, a, 0, 0, k, 1, b, 0, 0, n, 1, out, 1, m, k, n, 2, 0);
        return [name, out];
      }));`;
    const worker = new Worker(code, { eval: true, workerData: { file: join(root, NATIVE_ADDON_PATH), a, b, m, k, n } });
    const results = await new Promise<[string, Float32Array][]>((ok, fail) => worker.once('message', ok).once('error', fail));
    await worker.terminate();
    expect(results.map(([name]) => name)).toEqual(addon!.kernels);
    for (const [name, out] of results) expect(new Uint32Array(out.buffer), name).toEqual(new Uint32Array(want.buffer));
  });

  it('without a C compiler, the build exits 0, names what to install and leaves a status', () => {
    const out = join(scratch, 'build');
    const { status: exit, stderr } = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs'), '--out', out], {
      env: { ...process.env, CC: join(scratch, 'no-such-cc') },
      encoding: 'utf8',
    });
    expect(exit).toBe(0);
    expect(stderr).toMatch(/build-native: not built \(no C compiler .* found\); mycel will run its WebAssembly kernels\. To build: install a C compiler \(Debian\/Ubuntu: apt-get install gcc/);
    const status = JSON.parse(readFileSync(join(out, 'status.json'), 'utf8'));
    expect(status.reason).toMatch(/no C compiler/);
    expect(status.fix).toMatch(/apt-get install gcc/);
  });

  it('where the build left a status instead of the addon, the loader gives its reason and fix', async () => {
    // a copy of the loader in a package whose native/build holds only the status a failed build writes
    const pkg = join(scratch, 'pkg');
    mkdirSync(join(pkg, 'src', 'platform'), { recursive: true });
    mkdirSync(join(pkg, 'native', 'build'), { recursive: true });
    copyFileSync(join(root, 'src', 'platform', 'native-addon.ts'), join(pkg, 'src', 'platform', 'native-addon.ts'));
    writeFileSync(join(pkg, 'native', 'build', 'status.json'), JSON.stringify({ reason: 'no C compiler (cc) found', fix: 'install a C compiler (Debian/Ubuntu: apt-get install gcc)' }));
    const copy = (await import(join(pkg, 'src', 'platform', 'native-addon.ts'))) as typeof import('../../src/platform/native-addon.js');
    expect(copy.loadNativeAddon()).toEqual({ why: 'the native kernels were not built: no C compiler (cc) found; install a C compiler (Debian/Ubuntu: apt-get install gcc)' });
  });

  it('is off with MYCEL_NATIVE=0, and says why', () => {
    process.env.MYCEL_NATIVE = '0';
    try {
      expect(loadNativeAddon()).toEqual({ why: 'MYCEL_NATIVE=0 turned the native kernels off' });
    } finally {
      delete process.env.MYCEL_NATIVE;
    }
  });
});
