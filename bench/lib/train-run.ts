// One training-throughput measurement in its own process (so peak RSS is this config's alone):
// argv: <config-json>. Prints one JSON line.
import { configureKernels, matmulKernel } from '../../src/tensor/index.js';
import { buildProgram, createStateHasher, encodeCheckpoint, estimateMemory, parseJobSpec, pooledSteps, stateHash } from '../../src/train/index.js';

type Config = { name: string; text: string; sha256: string; threads: number; kernels: 'fast' | 'wasm'; warmup: number; timed: number;
  model: { contextLength: number; dModel: number; layers: number; heads: number; mlpHidden: number }; batchSize: number };

const config = JSON.parse(process.argv[2]) as Config;
configureKernels({ kernels: config.kernels, threads: config.threads });
const { readFile } = await import('node:fs/promises');
const text = await readFile(config.text, 'utf8');
const spec = parseJobSpec({
  version: 1,
  model: { kind: 'gpt', ...config.model },
  optimizer: { kind: 'adamw', lr: 3e-4, beta1: 0.9, beta2: 0.95, weightDecay: 0.1 },
  data: { kind: 'text', path: config.text, sha256: config.sha256, tokenizer: { kind: 'char' } },
  steps: config.warmup + config.timed,
  batchSize: config.batchSize,
  seed: 0,
  checkpointEvery: 1000,
});
const program = buildProgram(spec, { text });
let state = program.init();
const times: number[] = [];
// As the runner does it: each step's intermediates are lent by a buffer pool (pooledSteps), and state t
// is hashed on a worker while step t + 1 runs; what the run pays is the wait for the hash after the next
// step (hash_ms). The hash's own cost on the main thread, for
// reference, is measured once at the end (hash_inline_ms).
const step = pooledSteps(program);
const hasher = createStateHasher();
const waits: number[] = [];
// CPU time of the whole process a step (every thread: matmul's, the state hash's worker): on a loaded machine
// it says more than wall time, which counts the time the OS gave to others.
const cpus: number[] = [];
let pending: Promise<string> | undefined;
let hash = '';
let loss0 = NaN;
for (let s = 0; s < config.warmup + config.timed; s++) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const result = step(state);
  const end = performance.now();
  const cpu = process.cpuUsage(cpuStart);
  cpus.push((cpu.user + cpu.system) / 1000);
  if (pending) hash = await pending;
  state = result.state;
  pending = hasher.hash(state);
  waits.push(performance.now() - end); // the wait for the last hash plus handing this state to the worker
  times.push(end - start);
  if (s === 0) loss0 = result.loss;
}
hash = await pending!;
hasher.close();
const inlineStart = performance.now();
stateHash(state);
const hashInlineMs = performance.now() - inlineStart;
const checkpointStart = performance.now();
encodeCheckpoint(state, { jobId: program.id, spec, tokenizer: program.tokenizer.toJSON(), stateHash: hash });
const checkpointMs = performance.now() - checkpointStart;
const timed = times.slice(config.warmup);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stepMs = median(timed);
const estimate = estimateMemory(spec, program.tokenizer.vocabSize);
console.log(JSON.stringify({
  tokens_per_s: (config.batchSize * config.model.contextLength * timed.length) / (timed.reduce((a, b) => a + b, 0) / 1000),
  ms_per_step_median: stepMs,
  cpu_ms_per_step_median: median(cpus.slice(config.warmup)),
  hash_ms: median(waits.slice(config.warmup)),
  hash_inline_ms: hashInlineMs,
  checkpoint_ms: checkpointMs,
  peak_rss_mib: process.resourceUsage().maxRSS / 1024,
  estimate_mib: estimate.bytes / 2 ** 20,
  floor_mib: estimate.floorBytes / 2 ** 20,
  vocab: program.tokenizer.vocabSize,
  loss_step0: loss0,
  kernel: matmulKernel().name,
}));
process.exit(0);
