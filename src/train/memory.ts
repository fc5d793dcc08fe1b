/**
 * A memory estimate made before a job starts, so that a model too large for this machine is refused
 * with the numbers instead of dying half-way. It counts float32 words: parameters, gradients,
 * optimizer state and the new parameters of an update; and the activations the tape keeps for the
 * backward pass (per layer, the tensors a pre-norm block creates, attention scores included).
 */
import type { JobSpec } from './spec.js';

export type MemoryEstimate = {
  /** What a run needs at its peak: state, gradients, updated state, activations and their gradients. */
  bytes: number;
  /** Parameters + optimizer state + the activations the tape keeps: the floor any implementation needs. */
  floorBytes: number;
  /** The model's parameter count. */
  params: number;
  breakdown: string;
};

export function estimateMemory(spec: JobSpec, vocabSize: number): MemoryEstimate {
  const { contextLength: T, dModel: C, layers: L, heads: H, mlpHidden: M } = spec.model;
  const B = spec.batchSize;
  const params = vocabSize * C + T * C + L * (4 * C + 3 * C * C + 3 * C + C * C + C + 2 * C * M + M + C) + 2 * C + C * vocabSize;
  const optimizerWords = spec.optimizer.kind === 'adamw' ? 2 * params : params;
  const stateWords = params * 3 + optimizerWords; // params, grads, updated params, moments
  const perLayer = B * T * (16 * C + 4 * M) + 5 * B * H * T * T;
  const activationWords = L * perLayer + B * T * (6 * C + 4 * vocabSize);
  // The backward pass holds gradients of about the same size as the activations it walks through.
  const bytes = 4 * (stateWords + 2 * activationWords);
  const mib = (words: number) => `${((4 * words) / 2 ** 20).toFixed(1)} MiB`;
  return {
    bytes,
    floorBytes: 4 * (params + optimizerWords + activationWords),
    params,
    breakdown: `parameters ${params.toLocaleString('en')} (${mib(params)}); parameters, gradients and optimizer state ${mib(stateWords)}; activations and their gradients ${mib(2 * activationWords)}`,
  };
}
