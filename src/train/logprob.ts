/**
 * Per-token log-probabilities of given completions under a policy: what a policy-gradient loss (GRPO's
 * clipped ratio) is built on. One differentiable forward over the batch, made of the runtime's
 * primitives, so the step that uses it is a traced, reproducible step like any other.
 */
import { PAD_ID } from '../data/index.js';
import type { Gpt, Params } from '../nn/index.js';
import { Tensor, logSoftmax, takeAlong } from '../tensor/index.js';
import { GenerationInputError } from './errors.js';

export type Completion = { prompt: Int32Array; completion: Int32Array };

export type CompletionLogProbs = {
  /** [B, N] float32, N the longest completion: log p(completion[j] | prompt, completion[..j]) at [b, j]. Differentiable in params. */
  logProbs: Tensor;
  /** [B, N] float32: 1 where j < completion b's length, 0 on the padding (whose logProbs mean nothing). */
  mask: Tensor;
};

/**
 * log softmax(logits / temperature) at each target: logits [..., V], targets int32 [...] -> [...].
 * The one place a policy's token log-probabilities are computed (completionLogProbs, GRPO's loss).
 */
export function targetLogProbs(logits: Tensor, targets: Tensor, temperature = 1): Tensor {
  const logp = logSoftmax(temperature === 1 ? logits : logits.div(temperature), -1);
  return takeAlong(logp, -1, targets.reshape([...targets.shape, 1])).reshape([...targets.shape]);
}

/**
 * log softmax(logits / temperature) of each completion token, from one forward over the rows
 * prompt ++ completion[..n-1], right-padded with PAD_ID to the longest row. Causal attention leaves a
 * row's positions untouched by the padding after them and rows never interact, so row b's values are
 * the bits of scoring it alone. Each row must fit the context window, prompt.length +
 * completion.length - 1 <= contextLength (generateBatch's sliding window goes past it; such a
 * completion is not scored here). Use the same temperature that sampled the completions; old-policy
 * log-probabilities for a ratio come from this function too (under noGrad), so the ratio at the old
 * policy is exactly 1.
 */
export function completionLogProbs(model: Gpt, params: Params, rows: readonly Completion[], { temperature = 1 }: { temperature?: number } = {}): CompletionLogProbs {
  const { contextLength: context, vocabSize: vocab } = model.config;
  if (rows.length === 0) throw new GenerationInputError('completionLogProbs needs at least one completion');
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new GenerationInputError(`the scoring temperature must be a finite number > 0, got ${temperature}`);
  rows.forEach(({ prompt, completion }, b) => {
    if (prompt.length === 0 || completion.length === 0) throw new GenerationInputError(`row ${b} has an empty ${prompt.length === 0 ? 'prompt' : 'completion'}; scoring needs at least one token of each`);
    if (prompt.length + completion.length - 1 > context) {
      throw new GenerationInputError(`row ${b} has ${prompt.length} prompt + ${completion.length} completion tokens, more than the context window of ${context} + 1; shorten maxTokens or the prompt`);
    }
    for (const ids of [prompt, completion]) {
      const bad = ids.findIndex((id) => id < 0 || id >= vocab);
      if (bad >= 0) throw new GenerationInputError(`row ${b} has token id ${ids[bad]}, outside the model's vocabulary 0..${vocab - 1}`);
    }
  });
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.prompt.length + r.completion.length - 1));
  const N = Math.max(...rows.map((r) => r.completion.length));
  const input = new Int32Array(B * T).fill(PAD_ID);
  const targets = new Int32Array(B * T).fill(PAD_ID); // target at input position t: the token after it
  const positions = new Int32Array(B * N); // input position that predicts completion token j
  const mask = new Float32Array(B * N);
  rows.forEach(({ prompt, completion }, b) => {
    input.set(prompt, b * T);
    input.set(completion.subarray(0, completion.length - 1), b * T + prompt.length);
    targets.set(completion, b * T + prompt.length - 1);
    for (let j = 0; j < completion.length; j++) {
      positions[b * N + j] = prompt.length - 1 + j;
      mask[b * N + j] = 1;
    }
  });
  const logits = model.apply(params, new Tensor(input, [B, T])); // (B, T, V)
  const picked = targetLogProbs(logits, new Tensor(targets, [B, T]), temperature); // (B, T)
  return { logProbs: takeAlong(picked, 1, new Tensor(positions, [B, N])), mask: new Tensor(mask, [B, N]) }; // (B, N)
}
