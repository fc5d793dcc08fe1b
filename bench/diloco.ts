// `npm run bench -- diloco [--json] [--quick] [--text FILE] [--steps T] [--settings LIST] [--outer-lr X] [--outer-momentum M]
//   [--noloco-momentum M] [--inner-lr X] [--batch B]`:
// low-communication data parallelism.
// K = 8 workers train one small GPT on text with equal total tokens in every setting (T inner steps of
// batch B per worker): synchronous data-parallel (the K gradients averaged every step, one AdamW step),
// DiLoCo at H = 10, 50, 100, NoLoCo at H = 50, and a DiLoCo H = 50 run under churn (25% of the workers
// drop at each outer step, two late joiners arrive half way; a churn run processes fewer tokens, its
// `tokens` field says how many). Every setting sees the same batches: worker w's inner step s is the
// data-parallel step s's w-th micro-batch.
//
// Bytes per worker: `bytes_per_worker` counts a ring all-reduce of the parameters, 2 (K-1)/K x P bytes per
// exchange, for data-parallel (every step) and DiLoCo (every H steps), as the DiLoCo paper compares them;
// NoLoCo sends its outer weights and pseudo-gradient to one partner, 2 P. `bytes_per_worker_mycel_p2p` is
// what mycel's own exchange sends (each worker's delta fetched as a blob by every other worker, (n-1) P).
// Simulated wall-clock: steps per worker x the measured seconds of one inner step on this machine, plus
// bytes x 8 / link rate (no latency, no overlap of compute and communication).
// --settings runs some settings, in the order given (sync, diloco-10, diloco-50, diloco-100, noloco-50, churn-50;
// default: all, in that order): every setting is deterministic, so rows of separate runs of the same code combine.
// The summary needs sync, diloco-50, noloco-50 and churn-50 in the run; without sync, a row's simulated time uses its
// own measured seconds per step. --outer-lr and --outer-momentum replace DiLoCo's outer Nesterov rate and momentum
// (default: DILOCO_OUTER, lr 0.7, momentum 0.9) in the DiLoCo and churn rows, for sweeps; every DiLoCo row says which it used.
// --noloco-momentum does the same for NoLoCo (default NOLOCO_OUTER, 0.5); --inner-lr replaces the AdamW peak rate of every
// setting (default 3e-3) and --batch the per-worker batch (default 8; sync's step is K of them); the validation batches stay.
import { readFileSync, existsSync } from 'node:fs';
import { textWindowBatch, type TokenBatch } from '../src/data/index.js';
import { clipGradNorm, parameterCount, valueAndGrad, type Params } from '../src/nn/index.js';
import { simulateDiloco, type RoundRecord } from '../src/swarm/diloco-sim.js';
import { Rng } from '../src/tensor/index.js';
import { buildProgram, parseJobSpec, type TrainProgram } from '../src/train/index.js';
import { meanParams, DILOCO_OUTER, NOLOCO_OUTER } from '../src/train/outer.js';
import { toHex, sha256 } from '../src/platform/sha256.js';
import { makeReporter } from './report.js';

const K = 8;
const DEFAULT_TEXT = '/work/shared/data/tinyshakespeare.txt';
/** The model: far smaller than gpt-tiny (128 wide, 4 layers), so that 6 settings x 8 workers fit on a loaded 2-core machine. */
const MODEL = { kind: 'gpt', contextLength: 32, dModel: 32, layers: 2, heads: 2, mlpHidden: 128 } as const;
const BATCH = 8;
const INNER_LR = 3e-3;
const VAL_BATCHES = 8;
const VAL_BATCH = 8;
const CHURN_STREAM = 0xbe4c_0001;

const flag = (args: string[], name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

type Row = { mode: string; H: number; val_loss: number; bytes_per_worker: number; simulated_seconds_10mbps: number; simulated_seconds_100mbps: number; [k: string]: unknown };

const SETTINGS = ['sync', 'diloco-10', 'diloco-50', 'diloco-100', 'noloco-50', 'churn-50'];
const USAGE = `Usage: npm run bench -- diloco [--json] [--quick] [--text FILE] [--steps T] [--settings LIST] [--outer-lr X] [--outer-momentum M]
         [--noloco-momentum M] [--inner-lr X] [--batch B]
  --steps: inner steps per worker, a multiple of every chosen setting's H (default 1000; 100 with --quick).
  --settings: some of ${SETTINGS.join(', ')}, comma-separated, run in the order given (default: all).
  --outer-lr, --outer-momentum: DiLoCo's outer Nesterov rate and momentum for a sweep (default ${DILOCO_OUTER.lr}, ${DILOCO_OUTER.momentum}).
  --noloco-momentum: NoLoCo's outer momentum (default ${NOLOCO_OUTER.momentum}).
  --inner-lr: the inner AdamW's peak rate in every setting (default ${INNER_LR}); --batch: the per-worker batch (default ${BATCH}).`;
const FLAGS = new Set(['--json', '--quick', '--help']);
const VALUED = new Set(['--text', '--steps', '--settings', '--outer-lr', '--outer-momentum', '--noloco-momentum', '--inner-lr', '--batch']);

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help')) {
    console.error(USAGE);
    return;
  }
  for (let i = 0; i < args.length; i++) {
    if (VALUED.has(args[i])) {
      if (args[i + 1] === undefined || args[i + 1].startsWith('--')) throw new Error(`${args[i]} needs a value (see --help)`);
      i++;
    } else if (!FLAGS.has(args[i])) throw new Error(`unknown argument ${args[i]} (see --help)`);
  }
  const report = makeReporter(args);
  const quick = args.includes('--quick');
  const settings = (flag(args, '--settings') ?? SETTINGS.join(',')).split(',');
  const unknown = settings.filter((x) => !SETTINGS.includes(x));
  if (unknown.length) throw new Error(`--settings: unknown ${unknown.join(', ')} (known: ${SETTINGS.join(', ')})`);
  const steps = Number(flag(args, '--steps') ?? (quick ? 100 : 1000));
  const hs = settings.map((x) => Number(x.split('-')[1] ?? 1));
  if (!Number.isInteger(steps) || steps < 10 || hs.some((h) => steps % h !== 0)) throw new Error(`--steps must be a whole number of rounds of every chosen setting (H = ${[...new Set(hs)].join(', ')}), at least 10, got ${flag(args, '--steps')}`);
  const outerFlag = (name: string, fallback: number, max: number) => {
    const value = Number(flag(args, name) ?? fallback);
    if (!(value >= 0 && value <= max)) throw new Error(`${name} must be a number in [0, ${max}], got ${flag(args, name)}`);
    return value;
  };
  const dilocoOuter = { lr: outerFlag('--outer-lr', DILOCO_OUTER.lr, 10), momentum: outerFlag('--outer-momentum', DILOCO_OUTER.momentum, 0.999) };
  const nolocoOuter = { lr: NOLOCO_OUTER.lr, momentum: outerFlag('--noloco-momentum', NOLOCO_OUTER.momentum, 0.999) };
  const innerLr = outerFlag('--inner-lr', INNER_LR, 1);
  const batchSize = Number(flag(args, '--batch') ?? BATCH);
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 256)) throw new Error(`--batch must be a whole number in [1, 256], got ${flag(args, '--batch')}`);
  const textPath = flag(args, '--text') ?? DEFAULT_TEXT;
  if (!existsSync(textPath)) throw new Error(`no text at ${textPath}: pass --text FILE`);
  const bytes = readFileSync(textPath);
  const text = bytes.toString('utf8');
  const spec = parseJobSpec({
    version: 1,
    model: MODEL,
    optimizer: { kind: 'adamw', lr: innerLr, clip: 1, schedule: { kind: 'warmup-cosine', warmup: Math.min(20, Math.floor(steps / 10)), floor: 0.1 } },
    data: { kind: 'text', path: textPath, sha256: toHex(sha256(new Uint8Array(bytes))), tokenizer: { kind: 'char' } },
    steps,
    batchSize,
    seed: 1,
    checkpointEvery: steps,
  });
  const program = buildProgram(spec, { text });
  // Train on the first 90% of the text, validate on the last 10%.
  const tokens = program.tokenizer.encode(text);
  const split = Math.floor(tokens.length * 0.9);
  const [train, held] = [tokens.subarray(0, split), tokens.subarray(split)];
  const batch = (step: number): TokenBatch => textWindowBatch({ tokens: train, seed: spec.seed, step, batchSize, seqLen: MODEL.contextLength });
  const valBatches = Array.from({ length: VAL_BATCHES }, (_, i) => textWindowBatch({ tokens: held, seed: spec.seed + 1, step: i, batchSize: VAL_BATCH, seqLen: MODEL.contextLength }));
  const valLoss = (params: Params) => valBatches.reduce((s, b) => s + program.loss(params, b).item(), 0) / valBatches.length;
  const P = 4 * parameterCount(program.init().params);
  const ring = (n: number) => (2 * (n - 1) / n) * P;
  const model = `gpt ${MODEL.layers}x${MODEL.dModel} ctx ${MODEL.contextLength} (${P / 4} parameters; smaller than gpt-tiny), char-level on ${textPath.split('/').pop()}`;
  const common = { model, K, steps_per_worker: steps, batch: batchSize };
  if (!args.includes('--json')) console.error(`bench diloco: ${model}, K = ${K}, ${steps} steps per worker${quick ? ' (--quick)' : ''}`);

  const rows: Row[] = [];
  const emit = (row: Row) => {
    rows.push(row);
    report(row);
  };
  const timed = (stepsPerWorker: number, secondsPerStep: number, bytesPerWorker: number) => ({
    simulated_seconds_10mbps: stepsPerWorker * secondsPerStep + (bytesPerWorker * 8) / 10e6,
    simulated_seconds_100mbps: stepsPerWorker * secondsPerStep + (bytesPerWorker * 8) / 100e6,
  });

  let secondsPerStep: number | undefined;
  // Synchronous data-parallel: each step, K micro-batch gradients averaged in worker order, clipped, one AdamW step.
  const syncRun = () => {
    const dp = dataParallel(program, batch, steps);
    secondsPerStep = dp.seconds / (steps * K); // one worker's forward + backward on one micro-batch
    const dpBytes = steps * ring(K);
    emit({ mode: 'sync', H: 1, val_loss: valLoss(dp.params), bytes_per_worker: dpBytes, ...timed(steps, secondsPerStep, dpBytes), bytes_per_worker_mycel_p2p: dpBytes, tokens: steps * K * batchSize * MODEL.contextLength, ...common });
  };

  const lowComm = (mode: 'diloco' | 'noloco', H: number, churn: boolean) => {
    const rounds = steps / H;
    const records: RoundRecord[] = [];
    const online = churn ? churnRoster(spec.seed, rounds) : undefined;
    const hyper = mode === 'diloco' ? dilocoOuter : nolocoOuter;
    const start = performance.now();
    const snapshot = simulateDiloco({
      program, batch, mode, innerSteps: H, slots: K, rounds, seed: spec.seed,
      hyper,
      online,
      onRound: (r) => records.push(r),
    });
    const seconds = (performance.now() - start) / 1000;
    const innerSteps = records.reduce((s, r) => s + r.innerSteps, 0);
    const collective = records.reduce((s, r) => s + (mode === 'diloco' ? ring(r.accepted.length) : 2 * P), 0);
    const p2p = records.reduce((s, r) => s + (mode === 'diloco' ? (r.accepted.length - 1) * P : 2 * P), 0);
    const workers = [...snapshot.workers.values()];
    // NoLoCo has one outer model per worker: its validation loss is their mean; DiLoCo's workers share one.
    const val = mode === 'diloco' ? valLoss(workers[0].outer.params) : workers.reduce((s, w) => s + valLoss(w.outer.params), 0) / workers.length;
    emit({
      mode: churn ? `${mode}-churn` : mode, H, val_loss: val, bytes_per_worker: collective, ...timed(steps, secondsPerStep ?? seconds / innerSteps, collective),
      bytes_per_worker_mycel_p2p: p2p, tokens: innerSteps * batchSize * MODEL.contextLength, rounds,
      measured_seconds_per_step: seconds / innerSteps, outer_lr: hyper.lr, outer_momentum: hyper.momentum, ...common,
    });
  };
  for (const setting of settings) {
    if (setting === 'sync') syncRun();
    else {
      const [mode, H] = setting.split('-');
      lowComm(mode === 'noloco' ? 'noloco' : 'diloco', Number(H), mode === 'churn');
    }
  }

  const sync = rows.find((r) => r.mode === 'sync');
  const h50 = rows.find((r) => r.mode === 'diloco' && r.H === 50);
  const churn = rows.find((r) => r.mode === 'diloco-churn');
  const noloco = rows.find((r) => r.mode === 'noloco');
  if (!sync || !h50 || !churn || !noloco) return;
  report({
    summary: true,
    loss_gap_h50: (h50.val_loss - sync.val_loss) / sync.val_loss,
    bytes_reduction_h50: sync.bytes_per_worker / h50.bytes_per_worker,
    churn_loss_gap: (churn.val_loss - sync.val_loss) / sync.val_loss,
    noloco_loss_gap_h50: (noloco.val_loss - sync.val_loss) / sync.val_loss,
    model,
    seconds_per_step: secondsPerStep,
  });
}

/** The data-parallel baseline: worker w's gradient at step s is on batch s*K + w, as a DiLoCo worker's inner step s. */
function dataParallel(program: TrainProgram, batch: (step: number) => TokenBatch, steps: number): { params: Params; seconds: number } {
  const grad = valueAndGrad(program.loss);
  let state = program.init();
  const clip = program.spec.optimizer.clip;
  const start = performance.now();
  for (let s = 0; s < steps; s++) {
    const grads = meanParams(Array.from({ length: K }, (_, w) => grad(state.params, batch(s * K + w)).grads));
    const clipped = clip === undefined ? grads : clipGradNorm(grads, clip).grads;
    const next = program.optimizer.update(state.params, clipped, state.opt, program.lr(s));
    state = { step: s + 1, params: next.params, opt: next.state };
  }
  return { params: state.params, seconds: (performance.now() - start) / 1000 };
}

/**
 * Churn: slots 6 and 7 join half way (late joiners); at every outer step 25% of the workers in the run
 * (rounded down, at least one) are offline, drawn from the seed and the round.
 */
function churnRoster(seed: number, rounds: number): (round: number) => number[] {
  return (round) => {
    const inRun = Array.from({ length: round < rounds / 2 ? K - 2 : K }, (_, i) => i);
    const drop = Math.max(1, Math.floor(inRun.length / 4));
    const order = new Rng(seed, CHURN_STREAM, round * 64).permutation(inRun.length);
    const dropped = new Set(Array.from(order.slice(0, drop)));
    return inRun.filter((_, i) => !dropped.has(i));
  };
}
