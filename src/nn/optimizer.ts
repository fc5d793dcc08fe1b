import type { Params } from './params.js';

/**
 * An optimizer's state: the step count and named tensors (moment buffers, running products), flat so
 * that a checkpoint stores it as one more safetensors file.
 */
export type OptState = { step: number; tensors: Params };

/**
 * A functional optimizer: init(params) -> state, update(...) -> new params and state. Nothing is
 * mutated; updates run under noGrad and visit parameters in canonical order.
 */
export interface Optimizer {
  init(params: Params): OptState;
  /** `lr` overrides the configured rate for this step (pass the schedule's value). */
  update(params: Params, grads: Params, state: OptState, lr?: number): { params: Params; state: OptState };
}
