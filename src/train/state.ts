/**
 * A training state and its hash. The hash covers everything the next step depends on: the step,
 * every parameter and optimizer tensor (by name, in canonical order) and the optimizer's step
 * counter. The data RNG position is a function of (seed, step), so the step pins it.
 */
import type { OptState, Params } from '../nn/index.js';
import { createSha256, toHex } from '../platform/sha256.js';
import { tensorDigest } from '../tensor/index.js';

export type TrainState = { step: number; params: Params; opt: OptState };

const encoder = new TextEncoder();

function u64(value: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
  return bytes;
}

/**
 * SHA-256 over: "mycel.state.v1", step (u64 LE), optimizer step (u64 LE), then for each tensor of
 * params and then of optimizer state, in canonical order: its name's length (u64 LE), the name (UTF-8)
 * and its canonical tensor digest.
 */
export function stateDigest({ step, params, opt }: TrainState): Uint8Array {
  const hash = createSha256().update(encoder.encode('mycel.state.v1')).update(u64(step)).update(u64(opt.step));
  for (const group of [params, opt.tensors]) {
    for (const [name, t] of Object.entries(group)) {
      const bytes = encoder.encode(name);
      hash.update(u64(bytes.length)).update(bytes).update(tensorDigest(t.dtype, t.shape, t.data));
    }
  }
  return hash.digest();
}

export function stateHash(state: TrainState): string {
  return toHex(stateDigest(state));
}
