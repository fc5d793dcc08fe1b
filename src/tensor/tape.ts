import type { Attrs, Op } from './op.js';
import type { Tensor } from './tensor.js';

/** What autograd keeps of an op invocation: enough to apply its row of the gradient table. */
export type TapeNode = {
  op: Op;
  attrs: Attrs;
  inputs: readonly Tensor[];
};

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording a tape (evaluation, optimizer updates, gradient computation itself). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}
