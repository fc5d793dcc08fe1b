import { configureKernels, goldenProgram, matmulKernel, Rng, type KernelConfig } from '../../tensor/index.js';
import { intFlag, type Command } from '../command.js';

type Run = KernelConfig & { matmul: string; digest: string; loss: number; ms: number };

/** Runs the golden program under one kernel setting. */
function runGolden(settings: KernelConfig): Run {
  const previous = configureKernels(settings);
  try {
    const start = performance.now();
    const { digest, loss } = goldenProgram();
    return { ...settings, matmul: matmulKernel().name, digest, loss, ms: performance.now() - start };
  } finally {
    configureKernels(previous);
  }
}

/** Best-of-`repeats` GFLOP/s of an n x n x n matmul on the fast kernel with `threads` threads. */
function matmulGflops(n: number, threads: number, repeats: number): { gflops: number; kernel: string } {
  const previous = configureKernels({ kernels: 'fast', threads });
  try {
    const rng = new Rng(1);
    const [a, b] = [rng.normal([n, n]), rng.normal([n, n])];
    a.matmul(b); // warm-up: compiles the kernel and starts the workers
    let best = Infinity;
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      a.matmul(b);
      best = Math.min(best, performance.now() - start);
    }
    return { gflops: (2 * n ** 3) / (best * 1e6), kernel: matmulKernel().name };
  } finally {
    configureKernels(previous);
  }
}

/** Million elements per second of the runtime's exp op (fast kernels), with a Math.exp loop (not reproducible) beside it. */
function expThroughput(): { exp: number; mathExp: number } {
  const previous = configureKernels({ kernels: 'fast' });
  try {
    const t = new Rng(2).uniform([1 << 20], -10, 10);
    const x = t.data as Float32Array;
    const y = new Float32Array(x.length);
    const time = (f: () => void) => {
      f();
      let best = Infinity;
      for (let r = 0; r < 5; r++) {
        const start = performance.now();
        f();
        best = Math.min(best, performance.now() - start);
      }
      return x.length / (best * 1e3);
    };
    return {
      exp: time(() => t.exp()),
      mathExp: time(() => { for (let i = 0; i < x.length; i++) y[i] = Math.exp(x[i]); }),
    };
  } finally {
    configureKernels(previous);
  }
}

export const demo: Command = {
  name: 'demo',
  summary: 'run the golden program on every kernel setting, show the digests agree, and measure speed',
  description: `
The golden program draws its weights from the counter RNG, runs matmuls, exp/log/tanh/sigmoid/GELU,
layer norm, softmax and cross-entropy, then a backward pass, and hashes every result (SHA-256). The
digest is the same on every CPU, OS and JavaScript engine, with reference or fast kernels and any
number of threads: that is what lets any node re-execute any other node's work.

Examples:
  mycel demo
  mycel demo --threads 4 --json`,
  flags: {
    threads: { type: 'string', value: 'N', description: 'threads for the fast kernels', default: '2' },
    'skip-bench': { type: 'boolean', description: 'only run the golden program' },
  },
  run({ flags, out }) {
    const threads = intFlag(flags, 'threads', 2, 1, 256);
    const runs = [
      runGolden({ kernels: 'reference', threads: 1 }),
      runGolden({ kernels: 'wasm', threads: 1 }),
      runGolden({ kernels: 'wasm', threads }),
      runGolden({ kernels: 'fast', threads: 1 }),
      runGolden({ kernels: 'fast', threads }),
    ];
    for (const run of runs) {
      out.result(
        { kind: 'golden', ...run },
        `golden program  kernels=${run.kernels.padEnd(9)} threads=${run.threads}  matmul=${run.matmul.padEnd(13)}  digest ${run.digest}  loss ${run.loss.toFixed(6)}  ${run.ms.toFixed(0)} ms`,
      );
    }
    const agree = runs.every((r) => r.digest === runs[0].digest);
    out.result({ kind: 'reproducible', agree }, agree ? 'reproducible: every kernel setting gave the same digest' : 'NOT REPRODUCIBLE: the digests differ (a bug: please report it)');
    if (!agree) process.exitCode = 1;
    if (flags['skip-bench']) return;
    for (const n of [256, 512]) {
      for (const t of [...new Set([1, threads])]) {
        const { gflops, kernel } = matmulGflops(n, t, 5);
        out.result({ kind: 'matmul', size: n, threads: t, kernel, gflops }, `matmul ${n}x${n}x${n}  threads=${t}  ${kernel}  ${gflops.toFixed(1)} GFLOP/s`);
      }
    }
    const { exp, mathExp } = expThroughput();
    out.result(
      { kind: 'exp', melem_per_s: exp, math_exp_melem_per_s: mathExp, ratio: exp / mathExp },
      `exp  ${exp.toFixed(0)} Melem/s (Math.exp, not reproducible: ${mathExp.toFixed(0)} Melem/s, ratio ${(exp / mathExp).toFixed(2)})`,
    );
    out.print('Full benchmarks, with anchors measured side by side: npm run bench -- matmul | math | elementwise');
  },
};
