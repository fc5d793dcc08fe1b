/**
 * A job spec turned into its deterministic program: the tokenizer, the model, the optimizer, the
 * learning rate and the batch of every step, and the step function (state, batch) -> state. Nothing
 * here does I/O: a text job's text is handed in by the caller.
 */
import { BpeTokenizer, CharTokenizer, TASK_ALPHABET, getTask, taskBatch, textWindowBatch, type TaskDefinition, type Tokenizer, type TokenizerJson, type TokenBatch } from '../data/index.js';
import { adamw, clipGradNorm, gpt, sgd, valueAndGrad, warmupCosine, type Gpt, type Optimizer, type Params } from '../nn/index.js';
import { Rng, Tensor, crossEntropy } from '../tensor/index.js';
import { InitialStateError } from './errors.js';
import { mergeStep } from './merge-program.js';
import { canonicalJson, jobId, type JobSpec, type ProgramSpec } from './spec.js';
import { stateHash, type TrainState } from './state.js';

/** The RNG stream that initialises parameters (data streams are the data layer's). */
export const INIT_STREAM = 1;

export type StepResult = { state: TrainState; loss: number; gradNorm: number | undefined; lr: number };

/**
 * A job's deterministic program as the runner, the verifiers and the dispute game use it, whatever the job trains: a
 * GPT (TrainProgram, below) or an assistant (assist/job.ts). The game commits each step's inputs as a TokenBatch (its
 * batch tree: inputs, targets, mask, computed by anyone from the spec and t); whatever else a step reads that is not
 * state is a constant of the step program, committed in its op rules (verify/game/structure.ts).
 */
export type JobProgram<S extends ProgramSpec = ProgramSpec> = {
  spec: S;
  id: string;
  /** The work of one step, as a run reports its throughput: a GPT's tokens, an assistant's grid cells. */
  tokensPerStep: number;
  /** Recorded in every checkpoint beside the spec, for a job that has one. */
  tokenizer?: { toJSON(): TokenizerJson };
  batch(step: number): TokenBatch;
  init(): TrainState;
  /** One training step on `batch` (by default the spec's batch for state.step). */
  step(state: TrainState, batch?: TokenBatch): StepResult;
};

export type TrainProgram = JobProgram<JobSpec> & {
  tokenizer: Tokenizer;
  model: Gpt;
  optimizer: Optimizer;
  lr(step: number): number;
  /** Mean masked cross-entropy of `params` on `batch`, without gradients. */
  loss(params: Params, batch: TokenBatch): Tensor;
};

export type BuildOptions = {
  /** A text job's text (the spec pins its SHA-256). */
  text?: string;
  /** The state a job with `init` starts from (step 0); it must hash to the spec's init.state. */
  init?: TrainState;
  /**
   * A program of the run this job is part of (same model and data, no init or shard): its tokenizer and data
   * stream are reused instead of built again (a BPE tokenizer is trained from the text, which takes a while).
   */
  base?: TrainProgram;
};

export function buildProgram(spec: JobSpec, { text, init: given, base }: BuildOptions = {}): TrainProgram {
  if (base) checkBase(spec, base);
  const tokenizer = base?.tokenizer ?? makeTokenizer(spec, text);
  const { contextLength, dModel, layers, heads, mlpHidden } = spec.model;
  const model = gpt({ vocabSize: tokenizer.vocabSize, contextLength, dModel, layers, heads, mlpHidden });
  const o = spec.optimizer;
  const optimizer = o.kind === 'adamw' ? adamw(o) : sgd(o);
  // A job that continues a run (init) sits at its step `at` of `runSteps`: the schedule and data positions are the run's.
  const at = spec.init?.step ?? 0;
  const schedule = o.schedule
    ? warmupCosine({ warmup: o.schedule.warmup, total: spec.init?.runSteps ?? spec.steps, peak: o.lr, floor: o.lr * o.schedule.floor })
    : () => Math.fround(o.lr);
  const lr = at === 0 ? schedule : (step: number) => schedule(at + step);
  const stream = base?.batch ?? makeBatcher(spec, tokenizer, text);
  const shard = spec.shard;
  const batch = shard ? (step: number) => stream((at + step) * shard.slots + shard.index) : at === 0 ? stream : (step: number) => stream(at + step);
  const start = spec.init ? startState(spec.init.state, given) : undefined;
  const merge = spec.merge ? mergeStep(spec.merge) : undefined;

  const loss = (params: Params, b: TokenBatch): Tensor => {
    const [B, T] = b.shape;
    const logits = model.apply(params, new Tensor(b.inputs, [B, T])); // (B, T, V)
    return crossEntropy(logits.reshape([B * T, tokenizer.vocabSize]), new Tensor(b.targets, [B * T]), new Tensor(b.mask, [B * T]));
  };
  const lossAndGrads = valueAndGrad(loss);

  return {
    spec,
    id: jobId(spec),
    tokensPerStep: spec.batchSize * contextLength,
    tokenizer,
    model,
    optimizer,
    lr,
    batch,
    loss,
    init() {
      if (start) return start;
      const params = model.init(new Rng(spec.seed, INIT_STREAM));
      return { step: 0, params, opt: optimizer.init(params) };
    },
    step(state, b = batch(state.step)) {
      if (merge) return { state: merge(state), loss: NaN, gradNorm: undefined, lr: 0 };
      const { value, grads } = lossAndGrads(state.params, b);
      const clipped = o.clip === undefined ? { grads, norm: undefined } : clipGradNorm(grads, o.clip);
      const rate = lr(state.step);
      const next = optimizer.update(state.params, clipped.grads, state.opt, rate);
      return { state: { step: state.step + 1, params: next.params, opt: next.state }, loss: value.item(), gradNorm: clipped.norm, lr: rate };
    },
  };
}

/** A base program lends its tokenizer and data stream only to a job of the same model and data. */
function checkBase(spec: JobSpec, base: TrainProgram): void {
  const b = base.spec;
  if (b.init || b.shard || b.merge) throw new TypeError('a base program must be a whole run (no init, shard or merge)');
  const same = (k: 'model' | 'data' | 'seed' | 'batchSize') => canonicalJson(spec[k]) === canonicalJson(b[k]);
  const differ = (['model', 'data', 'seed', 'batchSize'] as const).filter((k) => !same(k));
  if (differ.length) throw new TypeError(`the base program's ${differ.join(', ')} differ from this job's`);
}

/** A given initial state, checked against the hash the spec pins. */
function startState(hash: string, given: TrainState | undefined): TrainState {
  if (!given) throw new InitialStateError(`state ${hash} was not handed in`);
  if (given.step !== 0) throw new InitialStateError(`the state handed in is at step ${given.step}, and a job's initial state is its step 0`);
  const actual = stateHash(given);
  if (actual !== hash) throw new InitialStateError(`the state handed in hashes to ${actual}, but the spec pins ${hash}`);
  return given;
}

function makeTokenizer(spec: JobSpec, text: string | undefined): Tokenizer {
  if (spec.data.kind === 'task') return CharTokenizer.fromText(TASK_ALPHABET);
  if (text === undefined) throw new Error('a text job needs its text');
  return spec.data.tokenizer.kind === 'char' ? CharTokenizer.fromText(text) : BpeTokenizer.train(text, { vocabSize: spec.data.tokenizer.vocabSize });
}

function makeBatcher(spec: JobSpec, tokenizer: Tokenizer, text: string | undefined): (step: number) => TokenBatch {
  const { seed, batchSize } = spec;
  const seqLen = spec.model.contextLength;
  const data = spec.data;
  if (data.kind === 'task') {
    const task = getTask(data.task) as TaskDefinition;
    task.resolve(data.config); // fails early, naming the knob, before any step runs
    return (step) => taskBatch({ task, config: data.config, tokenizer, seed, step, batchSize, seqLen });
  }
  const tokens = tokenizer.encode(text!);
  return (step) => textWindowBatch({ tokens, seed, step, batchSize, seqLen });
}
