#!/usr/bin/env node
// Builds native/matmul.c, sha256.c, elementwise.c and pool.c into native/build/mycel_native.node with the machine's C compiler ($CC, else cc):
// the Node-API headers come from the node-api-headers package (no download), and Node-API symbols resolve
// against the running node at load time, so no node-gyp, Python or make is needed. The whole file is
// compiled with -ffp-contract=off: only the fma intrinsics it writes out are fused; -fno-math-errno only spares
// sqrt and fmaf the errno check (the values are IEEE's either way), so their loops vectorise. Where it cannot build
// (no compiler, not Linux/macOS), it writes native/build/status.json with the reason and the fix, prints
// one line, and exits 0: mycel then runs its WebAssembly kernels and says so once.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['matmul.c', 'sha256.c', 'elementwise.c', 'pool.c'].map((file) => join(root, 'native', file));
const headerFiles = ['sha256.h', 'elementwise.h', 'math32.h', 'pool.h'].map((file) => join(root, 'native', file));
// --out DIR builds elsewhere (the tests use it to try a missing compiler without touching the real build).
const outFlag = process.argv.indexOf('--out');
const outDir = outFlag > 0 ? process.argv[outFlag + 1] : join(root, 'native', 'build');
const target = join(outDir, 'mycel_native.node');
const status = join(outDir, 'status.json');
const FIX = 'install a C compiler (Debian/Ubuntu: apt-get install gcc; macOS: xcode-select --install) and run npm run build';

function fail(reason) {
  mkdirSync(outDir, { recursive: true });
  rmSync(target, { force: true });
  writeFileSync(status, JSON.stringify({ reason, fix: FIX }) + '\n');
  console.warn(`build-native: not built (${reason}); mycel will run its WebAssembly kernels. To build: ${FIX}.`);
  process.exit(0);
}

if (process.env.MYCEL_NATIVE === '0') fail('MYCEL_NATIVE=0');
if (process.platform !== 'linux' && process.platform !== 'darwin') fail(`no build recipe for ${process.platform}`);
let headers;
try {
  headers = createRequire(import.meta.url)('node-api-headers').include_dir;
} catch {
  fail('the node-api-headers package is missing (npm install)');
}

const compiler = process.env.CC || 'cc';
const flags = ['-O2', '-std=c11', '-D_GNU_SOURCE', '-fPIC', '-ffp-contract=off', '-fno-fast-math', '-fno-math-errno', '-Wall', '-Wextra', `-I${headers}`];
const link = process.platform === 'darwin' ? ['-bundle', '-undefined', 'dynamic_lookup'] : ['-shared'];
// Compiled to a temporary file, then renamed into place: a process loading the addon meanwhile (a test
// running beside a build) sees the old file or the new one, never a half-written or missing one.
const partial = `${target}.${process.pid}.tmp`;
const args = [...flags, ...link, ...sources, '-o', partial, '-lpthread', '-lm'];
// Skip the compile when the addon is newer than its sources and this script (npm run build runs often).
const stamp = join(outDir, 'built-with.txt');
const recipe = [compiler, ...flags, ...link].join(' ');
const fresh = existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === recipe &&
  statSync(target).mtimeMs >= Math.max(...[...sources, ...headerFiles].map((f) => statSync(f).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
if (!fresh) {
  mkdirSync(outDir, { recursive: true });
  try {
    execFileSync(compiler, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(partial, target);
  } catch (error) {
    rmSync(partial, { force: true });
    const why = error.code === 'ENOENT' ? `no C compiler (${compiler}) found` : `${compiler} failed: ${String(error.stderr ?? error.message).trim().split('\n').slice(0, 3).join(' ')}`;
    fail(why);
  }
  rmSync(status, { force: true });
  writeFileSync(stamp, recipe);
  console.log(`build-native: built ${target} (${compiler})`);
}
