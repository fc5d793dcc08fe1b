// `npm run bench -- generate [--json] [--only gpt-tiny|policy] [--batch 1,8,32] [--tokens N] [--threads N] [--no-anchor]`:
// tokens/s of batched KV-cache generation (generateBatch: sampled at temperature 1, one seed per row)
// beside PyTorch generating with the same model and weights (written to a safetensors file) and a KV
// cache, in the same run (Debian's python3-torch, bench/lib/torch-generate.py). Each row:
// {model, batch, tokens_per_s, anchor_tokens_per_s, ratio} with ratio = ours / torch, plus the largest
// difference between the two runtimes' first logits (the same model, up to float32 rounding) and the
// 1-minute load average (each side's best of 3 runs counts).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GPT_PRESETS, gpt, saveSafetensors, type GptConfig } from '../src/nn/index.js';
import { Rng, Tensor, configureKernels, noGrad } from '../src/tensor/index.js';
import { PRESETS, generateBatch } from '../src/train/index.js';
import { makeReporter } from './report.js';

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
/** Timed runs per side; the best counts (the least disturbed by other load). */
const REPEATS = 3;

/** gpt-tiny: the anchor's config (vocab 65); policy: the RL swarm's starting policy (the `policy` preset, the task alphabet's 31 ids). */
const { kind: _, ...policy } = PRESETS.policy.model;
const MODELS: Record<string, GptConfig> = {
  'gpt-tiny': { vocabSize: 65, ...GPT_PRESETS['gpt-tiny'] },
  policy: { vocabSize: 31, ...policy },
};

const flag = (args: string[], name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.log('npm run bench -- generate [--json] [--only gpt-tiny|policy] [--batch 1,8,32] [--tokens N] [--threads N] [--no-anchor]');
    return;
  }
  const report = makeReporter(args);
  const only = flag(args, '--only');
  const batches = (flag(args, '--batch') ?? '1,8,32').split(',').map(Number);
  const threads = Number(flag(args, '--threads') ?? 1);
  const withAnchor = !args.includes('--no-anchor');
  if (withAnchor && !existsSync(PYTHON)) throw new Error(`the PyTorch anchor needs ${PYTHON} with python3-torch (bash scripts/install-test-deps.sh), or pass --no-anchor`);
  configureKernels({ threads });
  const dir = await mkdtemp(join(tmpdir(), 'mycel-bench-generate-'));
  try {
    for (const [name, config] of Object.entries(MODELS)) {
      if (only && only !== name) continue;
      const model = gpt(config);
      const params = model.init(new Rng(1));
      const weights = join(dir, `${name}.safetensors`);
      await writeFile(weights, saveSafetensors(params));
      const promptLength = 8;
      // Generate up to the end of the context window: every step on the KV cache.
      const maxTokens = Math.min(Number(flag(args, '--tokens') ?? config.contextLength - promptLength), config.contextLength - promptLength);
      for (const batch of batches) {
        const words = new Rng(2, batch).integers([batch, promptLength], 2, config.vocabSize).data as Int32Array;
        const prompts = Array.from({ length: batch }, (_, b) => words.slice(b * promptLength, (b + 1) * promptLength));
        const seeds = Array.from({ length: batch }, (_, b) => b);
        generateBatch(model, params, prompts, { maxTokens: 2, temperature: 1, seeds, stopAtEnd: false }); // warm-up
        let best = Infinity;
        for (let r = 0; r < REPEATS; r++) {
          const t0 = performance.now();
          generateBatch(model, params, prompts, { maxTokens, temperature: 1, seeds, stopAtEnd: false });
          best = Math.min(best, (performance.now() - t0) / 1000);
        }
        const row: Record<string, unknown> = { model: name, batch, tokens_per_s: (batch * maxTokens) / best };
        if (withAnchor) {
          const input = { weights, config, prompts: prompts.map((p) => Array.from(p)), max_tokens: maxTokens, temperature: 1, threads, repeats: REPEATS };
          const { stdout } = await exec(PYTHON, [join(here, 'lib/torch-generate.py'), JSON.stringify(input)], { maxBuffer: 1 << 24 });
          const torch = JSON.parse(stdout.trim().split('\n').pop()!) as { tokens_per_s: number; first_logits: number[] };
          const ours = noGrad(() => model.prefill(params, new Tensor(prompts[0], [1, promptLength]), model.newCache(1), [[0]]).data);
          const diff = torch.first_logits.reduce((m, x, i) => Math.max(m, Math.abs(x - ours[i])), 0);
          Object.assign(row, { anchor_tokens_per_s: torch.tokens_per_s, ratio: (batch * maxTokens) / best / torch.tokens_per_s, anchor_max_logit_diff: diff });
        }
        // The machine's load: figures from a shared machine are only comparable within a row.
        report({ ...row, threads, tokens: maxTokens, prompt_tokens: promptLength, loadavg_1m: loadavg()[0] });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
