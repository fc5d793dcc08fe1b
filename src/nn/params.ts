/**
 * Parameters and modules, Flax-style: a module is a pair of pure functions, so a training step is a
 * pure function (state, batch) -> state and nothing hides inside objects.
 *
 * `Params` is a flat record from dotted names (`blocks.0.qkv.weight`) to tensors. Its insertion order
 * is the canonical order: the order of initialisation draws, of gradient-norm sums, of optimizer
 * updates and of tensors in a safetensors file. Every module inserts its parameters in PyTorch's
 * `state_dict()` order for the same architecture, so names and order match the anchor's. Names are
 * never integer-like ("0" would jump to the front of a JavaScript object), as every name ends in
 * `.weight` or `.bias`.
 *
 * Initialisation draws sequentially from one `Rng`, in canonical order: a parameter's draw position is
 * the sum of the (even-rounded) sizes of the random parameters before it, so it depends only on the
 * config and the seed. Parameters set to constants (biases, LayerNorm) draw nothing.
 */
import { Tensor, type Rng } from '../tensor/index.js';
import { MissingParameterError } from './errors.js';

export type Params = Record<string, Tensor>;

export interface Module<Inputs extends unknown[], Output> {
  /** Fresh parameters, drawn from `rng` in canonical order (advances rng.offset). */
  init(rng: Rng): Params;
  /** The forward pass; reads only its own names from `params` (extra entries are ignored). */
  apply(params: Params, ...inputs: Inputs): Output;
}

/** `prefix.name`, or `name` at the top level. */
export function joinName(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/** params[name], or an error naming what is missing and what is there. */
export function getParam(params: Params, name: string): Tensor {
  const t = params[name];
  if (!t) throw new MissingParameterError(name, Object.keys(params));
  return t;
}

/** Total number of elements over all parameters. */
export function parameterCount(params: Params): number {
  let count = 0;
  for (const t of Object.values(params)) count += t.size;
  return count;
}

/** A new record with f applied to every tensor, in canonical order. */
export function mapParams(params: Params, f: (t: Tensor, name: string) => Tensor): Params {
  const out: Params = {};
  for (const [name, t] of Object.entries(params)) out[name] = f(t, name);
  return out;
}

/** The same tensors under `prefix.<name>` (optimizer state slots). */
export function prefixed(prefix: string, params: Params): Params {
  const out: Params = {};
  for (const [name, t] of Object.entries(params)) out[joinName(prefix, name)] = t;
  return out;
}
