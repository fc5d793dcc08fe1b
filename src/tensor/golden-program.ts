/**
 * A fixed program that exercises the whole runtime: counter-RNG initialisation, matmuls large enough
 * for the fast kernel's threads, every transcendental, softmax, layer norm, cross-entropy and a
 * backward pass. Its digest is pinned by a test and compared across engines: if any kernel, any
 * math function or any op order changes a single bit anywhere, the digest changes.
 */
import { createSha256, toHex } from '../platform/sha256.js';
import { crossEntropy, layerNorm, softmax } from './composite.js';
import { tensorDigest } from './hash.js';
import './methods.js';
import { Rng } from './random.js';
import type { Tensor } from './tensor.js';

export type GoldenResult = { digest: string; loss: number; tensors: number };

export function goldenProgram(): GoldenResult {
  const rng = new Rng(20261124);
  const x = rng.normal([96, 160]);
  const w1 = rng.normal([160, 192], 0, 0.08).requireGrad();
  const b1 = rng.uniform([192], -0.1, 0.1).requireGrad();
  const gain = rng.uniform([192], 0.9, 1.1).requireGrad();
  const w2 = rng.normal([192, 24], 0, 0.08).requireGrad();
  const targets = rng.integers([96], 0, 24);

  const h = layerNorm(x.matmul(w1).add(b1).gelu(), gain); //       (96, 192)
  const mixed = h.tanh().mul(h.sigmoid()).add(h.exp().add(1).log()); // tanh, sigmoid, exp, log
  const logits = mixed.matmul(w2); //                                (96, 24)
  const probabilities = softmax(logits);
  const loss = crossEntropy(logits, targets);
  loss.backward();

  const outputs: Tensor[] = [loss, probabilities, w1.grad!, b1.grad!, gain.grad!, w2.grad!];
  const digest = createSha256();
  for (const t of outputs) digest.update(tensorDigest(t.dtype, t.shape, t.data));
  return { digest: toHex(digest.digest()), loss: loss.item(), tensors: outputs.length };
}
