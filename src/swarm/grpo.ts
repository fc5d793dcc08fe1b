/**
 * The GRPO step of a SAPO round (Shao et al. 2024, with DAPO's clip-higher and token-mean loss, β = 0):
 *   A_i   = (r_i - mean(r)) / (std(r) + 1e-4)              per question, over its L completions
 *   ρ_t   = exp(logp_t - logp_old_t)
 *   loss  = -(1/N) Σ_t min(ρ_t A, clip(ρ_t, 1 - ε_low, 1 + ε_high) A)     N: completion tokens in the batch
 * With one step per round on fresh rollouts, logp_old is the current policy's own value, detached
 * (ρ = 1, as TRL computes it with one iteration), so the step needs nothing beyond a TokenBatch's
 * three tensors: the `mask` carries each completion token's advantage (0 elsewhere). The step itself,
 * with its batch in the state so that the dispute game can referee it, is grpo-step.ts.
 */
import type { Tokenizer, TokenBatch } from '../data/index.js';
import type { Gpt, Params } from '../nn/index.js';
import { Tensor, cast, detach } from '../tensor/index.js';
// The modules, not train/index.js (node:fs): a browser tab's worker bundles this file.
import { targetLogProbs } from '../train/logprob.js';

export type GrpoClip = { epsLow: number; epsHigh: number };
/** std + this in the advantage's denominator (TRL's value): keeps a group of near-equal rewards finite. */
export const ADVANTAGE_EPS = 1e-4;

const f = Math.fround;

/**
 * Per-question normalized advantages, in float32 with one rounding per operation in the order
 * written (mean, then the unbiased std, then each (r - mean) / (std + eps)); undefined when every
 * reward is equal (the group teaches nothing and is dropped).
 */
export function groupAdvantages(rewards: readonly number[]): Float32Array | undefined {
  const n = rewards.length;
  if (n < 2 || rewards.every((r) => r === rewards[0])) return undefined;
  let sum = 0;
  for (const r of rewards) sum = f(sum + f(r));
  const mean = f(sum / n);
  let squares = 0;
  for (const r of rewards) {
    const d = f(f(r) - mean);
    squares = f(squares + f(d * d));
  }
  const denominator = f(f(Math.sqrt(f(squares / (n - 1)))) + f(ADVANTAGE_EPS));
  return Float32Array.from(rewards, (r) => f(f(f(r) - mean) / denominator));
}

export type GrpoSample = { prompt: Int32Array; completion: Int32Array; ended: boolean; advantage: number };

/**
 * One row per completion: [prompt][completion][end if it ended] then pad, inputs shifted from targets
 * by one; the mask holds the advantage on the completion's targets (and its end token), 0 elsewhere.
 */
export function grpoBatch(samples: readonly GrpoSample[], tokenizer: Tokenizer, seqLen: number): TokenBatch {
  const B = samples.length;
  const batch: TokenBatch = {
    inputs: new Int32Array(B * seqLen).fill(tokenizer.padId),
    targets: new Int32Array(B * seqLen).fill(tokenizer.padId),
    mask: new Float32Array(B * seqLen),
    shape: [B, seqLen],
  };
  samples.forEach(({ prompt, completion, ended, advantage }, b) => {
    const length = prompt.length + completion.length + (ended ? 1 : 0);
    if (length > seqLen + 1) throw new RangeError(`a rollout of ${length} tokens does not fit the policy's context (${seqLen} + 1)`);
    const row = new Int32Array(seqLen + 1).fill(tokenizer.padId);
    row.set(prompt);
    row.set(completion, prompt.length);
    if (ended) row[length - 1] = tokenizer.endId;
    const at = b * seqLen;
    batch.inputs.set(row.subarray(0, seqLen), at);
    batch.targets.set(row.subarray(1), at);
    batch.mask.fill(f(advantage), at + prompt.length - 1, at + length - 1);
  });
  return batch;
}

/**
 * The clipped objective on logits [N, V]: targets int32 [N], advantages float32 [N] (0 = not a
 * completion token), old log-probabilities [N] or undefined for the detached current ones.
 */
export function grpoObjective(logits: Tensor, targets: Tensor, advantages: Tensor, { epsLow, epsHigh }: GrpoClip, old?: Tensor): Tensor {
  const logp = targetLogProbs(logits, targets);
  const ratio = logp.sub(old ?? detach(logp)).exp();
  const clipped = ratio.maximum(f(1 - epsLow)).minimum(f(1 + epsHigh));
  const perToken = ratio.mul(advantages).minimum(clipped.mul(advantages));
  const counted = cast(advantages.eq(0), 'float32').neg().add(1).sum(0);
  return perToken.sum(0).neg().div(counted);
}

/** The GRPO loss of a policy on grpoBatch's tensors: inputs int32 [B, T], targets int32 [B·T], mask float32 [B·T]. */
export function grpoLoss(model: Gpt, params: Params, inputs: Tensor, targets: Tensor, mask: Tensor, clip: GrpoClip): Tensor {
  const [B, T] = inputs.shape;
  const logits = model.apply(params, inputs).reshape([B * T, model.config.vocabSize]);
  return grpoObjective(logits, targets, mask, clip);
}
