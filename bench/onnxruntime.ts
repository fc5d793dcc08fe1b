/**
 * bench matmul's anchor, onnxruntime-node, kept out of the project's dependencies: its postinstall downloads CUDA
 * libraries unless told not to (npm 10 and 11 run it; a project .npmrc key to skip it made every `npm run` warn
 * "Unknown project config"), and only this benchmark needs it. It is installed once, on first use, into
 * .cache/onnxruntime with ONNXRUNTIME_NODE_INSTALL=skip (the CPU build ships in the package), as test/engines
 * installs Node 22 into .cache/node22.
 */
import { execFile } from 'node:child_process';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ONNXRUNTIME_VERSION = '1.30.0';

/** The part of onnxruntime-node's API the benchmark uses. */
export type Ort = {
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<{ run(feeds: Record<string, unknown>): Promise<unknown>; release(): Promise<void> }> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
};

const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), '.cache', 'onnxruntime');
const installCommand = `ONNXRUNTIME_NODE_INSTALL=skip npm i --prefix .cache/onnxruntime --no-save --no-package-lock onnxruntime-node@${ONNXRUNTIME_VERSION}`;

const load = (from: string): Ort | undefined => {
  try {
    return createRequire(join(from, 'package.json'))('onnxruntime-node') as Ort;
  } catch {
    return undefined;
  }
};

/** onnxruntime-node from .cache/onnxruntime, installed there first if missing (`log` says so). */
export async function onnxruntime(log: (text: string) => void): Promise<Ort> {
  const cached = load(dir);
  if (cached) return cached;
  log(`bench matmul: installing its anchor, onnxruntime-node ${ONNXRUNTIME_VERSION}, into .cache/onnxruntime (once)`);
  const tmp = `${dir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await new Promise<void>((ok, fail) =>
      execFile('npm', ['i', '--prefix', tmp, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `onnxruntime-node@${ONNXRUNTIME_VERSION}`], { cwd: tmp, timeout: 600_000, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } }, (error, _out, stderr) =>
        error ? fail(new Error(`${error.message.split('\n')[0]}\n${stderr.trim().split('\n').slice(-3).join('\n')}`)) : ok()),
    );
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir).catch(() => undefined); // another process may have won the race: its copy is as good
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`Could not install onnxruntime-node (bench matmul's anchor): ${(error as Error).message}\nInstall it by hand from the repository's root: ${installCommand}`);
  }
  const installed = load(dir);
  if (!installed) throw new Error(`onnxruntime-node is not loadable from .cache/onnxruntime. Install it by hand from the repository's root: ${installCommand}`);
  return installed;
}
