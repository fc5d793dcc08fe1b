// `npm run bench -- train [--json] [--text FILE] [--anchor torch] [--only gpt-tiny|gpt-small] [--threads 1,2] [--no-wasm]`:
// training throughput (tokens/s) and peak memory of the anchor's two GPT configs on a text file, with
// the cost of hashing the state every step and of writing a checkpoint. `kernel` names the matmul kernel
// that ran (native-avx512, wasm-fma, ...); where it was native, the same config also runs on the
// WebAssembly kernel (wasm_tokens_per_s, wasm_ratio: what browser nodes get) unless --no-wasm. With --anchor torch, the same
// configs run in PyTorch on the CPU (Debian's python3-torch, ../shared/anchors/torch_anchor.py) in the
// same run, and each line carries ratio = ours / torch. cpu_ms_per_step is the process's CPU time a step (all its
// threads, the state hash's worker too) and loadavg_1m the machine's load: on a busy machine they tell a slow
// kernel from a starved one.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sha256, toHex } from '../src/platform/sha256.js';
import { Rng } from '../src/tensor/index.js';
import { makeReporter } from './report.js';

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
// The anchor script sits beside the repository; MYCEL_TORCH_ANCHOR names it where the checkout lives elsewhere (a worktree).
const TORCH_ANCHOR = process.env.MYCEL_TORCH_ANCHOR ?? resolve(here, '../../shared/anchors/torch_anchor.py');

/** The anchor's configs (torch_anchor.py GPT_CONFIGS), with its warmup and timed step counts. */
const CONFIGS = {
  'gpt-tiny': { model: { contextLength: 64, dModel: 128, layers: 4, heads: 4, mlpHidden: 512 }, batchSize: 16, warmup: 3, timed: 10 },
  'gpt-small': { model: { contextLength: 128, dModel: 256, layers: 6, heads: 8, mlpHidden: 1024 }, batchSize: 8, warmup: 2, timed: 5 },
} as const;

const flag = (args: string[], name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

/** A generated corpus of word-like text from the counter RNG (no download): 65-ish distinct characters. */
function generatedCorpus(bytes: number): string {
  const letters = 'etaoinshrdlucmfwypvbgkjqxzETAOINSHRDLUCMFWYPVBGKJQXZ';
  const words = new Rng(42).integers([bytes], 0, 2 ** 31 - 1).data;
  let text = '';
  for (let i = 0; text.length < bytes; i++) {
    const length = 1 + (words[i] % 8);
    for (let c = 0; c < length; c++) text += letters[(words[(i * 7 + c) % words.length] >>> 3) % letters.length];
    text += words[i] % 11 === 0 ? '.\n' : words[i] % 5 === 0 ? ', ' : ' ';
  }
  return text;
}

export async function run(args: string[]): Promise<void> {
  const report = makeReporter(args);
  const only = flag(args, '--only');
  const threadList = (flag(args, '--threads') ?? '1,2').split(',').map(Number);
  const noWasm = args.includes('--no-wasm');
  let textPath = flag(args, '--text');
  if (!textPath) {
    textPath = join(await mkdtemp(join(tmpdir(), 'mycel-bench-')), 'corpus.txt');
    await writeFile(textPath, generatedCorpus(1 << 20));
  }
  const digest = toHex(sha256(new Uint8Array(await readFile(textPath))));
  const withTorch = flag(args, '--anchor') === 'torch';
  if (withTorch && !existsSync(TORCH_ANCHOR)) throw new Error(`--anchor torch needs ${TORCH_ANCHOR}`);
  if (withTorch && !existsSync('/usr/bin/python3')) throw new Error('--anchor torch needs /usr/bin/python3 with python3-torch (apt-get install -y python3-torch libopenblas0-openmp)');

  for (const [name, config] of Object.entries(CONFIGS)) {
    if (only && only !== name) continue;
    for (const threads of threadList) {
      const measure = async (kernels: 'fast' | 'wasm') => {
        const { stdout } = await exec(process.execPath, ['--import', 'tsx', join(here, 'lib/train-run.ts'), JSON.stringify({ name, text: textPath, sha256: digest, threads, kernels, ...config })], { maxBuffer: 1 << 20 });
        return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number> & { kernel: string };
      };
      const ours = await measure('fast');
      // The WebAssembly path's own figures (what browser nodes run), unless it is what 'fast' already ran.
      const wasm = ours.kernel.startsWith('native-') && !noWasm ? await measure('wasm') : undefined;
      const row: Record<string, unknown> = {
        config: name,
        threads,
        kernel: ours.kernel,
        tokens_per_s: ours.tokens_per_s,
        ms_per_step: ours.ms_per_step_median,
        // CPU time of the process a step (all its threads), and the machine's load: on a busy machine wall time
        // also counts what the OS gave to other processes.
        cpu_ms_per_step: ours.cpu_ms_per_step_median,
        loadavg_1m: loadavg()[0],
        peak_rss_mib: ours.peak_rss_mib,
        memory_estimate_mib: ours.estimate_mib,
        // The goal: peak RSS within 2x of parameters + optimizer state + activations.
        memory_floor_mib: ours.floor_mib,
        rss_over_floor: ours.peak_rss_mib / ours.floor_mib,
        // The wait for the state hash (computed on a worker while the next step runs), and what hashing
        // costs when done in line, both as shares of step time.
        hash_fraction: ours.hash_ms / ours.ms_per_step_median,
        hash_inline_fraction: ours.hash_inline_ms / ours.ms_per_step_median,
        checkpoint_ms: ours.checkpoint_ms,
        // Hashing every step plus a checkpoint every 100 steps, as a share of step time (goal <= 5%).
        hash_and_checkpoint_fraction: (ours.hash_ms + ours.checkpoint_ms / 100) / ours.ms_per_step_median,
        loss_step0: ours.loss_step0,
        ...(wasm ? { wasm_kernel: wasm.kernel, wasm_tokens_per_s: wasm.tokens_per_s, wasm_ms_per_step: wasm.ms_per_step_median, wasm_cpu_ms_per_step: wasm.cpu_ms_per_step_median } : {}),
      };
      if (withTorch) {
        const { stdout: torchOut } = await exec('/usr/bin/python3', [TORCH_ANCHOR, '--threads', String(threads), '--only', name, '--text', textPath, '--loss-steps', '0'], { maxBuffer: 1 << 20 });
        const lines = torchOut.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
        const meta = lines.find((l) => l.workload === 'meta');
        const torch = lines.find((l) => l.workload === name)!;
        // Debian's torch calls whatever libblas.so.3 is selected; the reference BLAS is ~10x slower than OpenBLAS.
        const blas = ((meta?.blas_libs_loaded as string[] | undefined) ?? []).some((l) => l.includes('openblas')) ? 'openblas' : 'not openblas (install libopenblas0-openmp)';
        Object.assign(row, { anchor: 'torch', anchor_tokens_per_s: torch.tokens_per_s, ratio: ours.tokens_per_s / (torch.tokens_per_s as number), anchor_blas: blas });
        if (wasm) row.wasm_ratio = wasm.tokens_per_s / (torch.tokens_per_s as number);
      }
      report(row);
    }
  }
}
