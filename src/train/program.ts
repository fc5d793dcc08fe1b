/**
 * A job spec turned into its deterministic program: the tokenizer, the model, the optimizer, the
 * learning rate and the batch of every step, and the step function (state, batch) -> state. Nothing
 * here does I/O: a text job's text is handed in by the caller.
 */
import { BpeTokenizer, CharTokenizer, TASK_ALPHABET, getTask, taskBatch, textWindowBatch, type TaskDefinition, type Tokenizer, type TokenBatch } from '../data/index.js';
import { adamw, clipGradNorm, gpt, sgd, valueAndGrad, warmupCosine, type Gpt, type Optimizer, type Params } from '../nn/index.js';
import { Rng, Tensor, crossEntropy } from '../tensor/index.js';
import { jobId, type JobSpec } from './spec.js';
import type { TrainState } from './state.js';

/** The RNG stream that initialises parameters (data streams are the data layer's). */
export const INIT_STREAM = 1;

export type StepResult = { state: TrainState; loss: number; gradNorm: number | undefined; lr: number };

export type TrainProgram = {
  spec: JobSpec;
  id: string;
  tokenizer: Tokenizer;
  model: Gpt;
  optimizer: Optimizer;
  lr(step: number): number;
  batch(step: number): TokenBatch;
  init(): TrainState;
  /** One training step on `batch` (by default the spec's batch for state.step). */
  step(state: TrainState, batch?: TokenBatch): StepResult;
  /** Mean masked cross-entropy of `params` on `batch`, without gradients. */
  loss(params: Params, batch: TokenBatch): Tensor;
};

export function buildProgram(spec: JobSpec, { text }: { text?: string } = {}): TrainProgram {
  const tokenizer = makeTokenizer(spec, text);
  const { contextLength, dModel, layers, heads, mlpHidden } = spec.model;
  const model = gpt({ vocabSize: tokenizer.vocabSize, contextLength, dModel, layers, heads, mlpHidden });
  const o = spec.optimizer;
  const optimizer = o.kind === 'adamw' ? adamw(o) : sgd(o);
  const lr = o.schedule
    ? warmupCosine({ warmup: o.schedule.warmup, total: spec.steps, peak: o.lr, floor: o.lr * o.schedule.floor })
    : () => Math.fround(o.lr);
  const batch = makeBatcher(spec, tokenizer, text);

  const loss = (params: Params, b: TokenBatch): Tensor => {
    const [B, T] = b.shape;
    const logits = model.apply(params, new Tensor(b.inputs, [B, T])); // (B, T, V)
    return crossEntropy(logits.reshape([B * T, tokenizer.vocabSize]), new Tensor(b.targets, [B * T]), new Tensor(b.mask, [B * T]));
  };
  const lossAndGrads = valueAndGrad(loss);

  return {
    spec,
    id: jobId(spec),
    tokenizer,
    model,
    optimizer,
    lr,
    batch,
    loss,
    init() {
      const params = model.init(new Rng(spec.seed, INIT_STREAM));
      return { step: 0, params, opt: optimizer.init(params) };
    },
    step(state, b = batch(state.step)) {
      const { value, grads } = lossAndGrads(state.params, b);
      const clipped = o.clip === undefined ? { grads, norm: undefined } : clipGradNorm(grads, o.clip);
      const rate = lr(state.step);
      const next = optimizer.update(state.params, clipped.grads, state.opt, rate);
      return { state: { step: state.step + 1, params: next.params, opt: next.state }, loss: value.item(), gradNorm: clipped.norm, lr: rate };
    },
  };
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
