import { describe, expect, it } from 'vitest';
import { Rng, Tensor } from '../../src/tensor/index.js';
import { groupAdvantages, grpoObjective } from '../../src/swarm/grpo.js';

const CLIP = { epsLow: 0.2, epsHigh: 0.28 };

/** The same objective and its gradient with respect to the logits, in float64 by hand. */
function reference(logits: number[][], targets: number[], adv: number[], old: number[]) {
  const N = targets.length;
  const counted = adv.filter((a) => a !== 0).length;
  let loss = 0;
  const grad = logits.map((row) => row.map(() => 0));
  for (let i = 0; i < N; i++) {
    const max = Math.max(...logits[i]);
    const z = logits[i].reduce((s, x) => s + Math.exp(x - max), 0);
    const logp = logits[i][targets[i]] - max - Math.log(z);
    const r = Math.exp(logp - old[i]);
    const c = Math.min(Math.max(r, 1 - CLIP.epsLow), 1 + CLIP.epsHigh);
    const a = adv[i];
    const unclippedWins = r * a <= c * a;
    loss -= Math.min(r * a, c * a) / counted;
    // d per / d r: A on the unclipped branch, A * clip'(r) on the clipped one (clip' = 1 inside the bounds).
    const inside = r >= 1 - CLIP.epsLow && r <= 1 + CLIP.epsHigh;
    const dPerDr = unclippedWins ? a : inside ? a : 0;
    const dLogp = (-dPerDr * r) / counted;
    for (let v = 0; v < logits[i].length; v++) {
      const p = Math.exp(logits[i][v] - max) / z;
      grad[i][v] = dLogp * ((v === targets[i] ? 1 : 0) - p);
    }
  }
  return { loss, grad };
}

describe('GRPO', () => {
  it('loss and gradient match a float64 computation on a tiny case (ratios inside and outside the clip)', () => {
    const N = 6;
    const V = 5;
    const rng = new Rng(7);
    const logitsData = rng.normal([N, V]).data as Float32Array;
    const targets = Int32Array.from([0, 3, 1, 4, 2, 2]);
    const adv = Float32Array.from([0.8, -1.2, 0, 0.5, -0.3, 1.1]);
    const logits = Array.from({ length: N }, (_, i) => Array.from(logitsData.subarray(i * V, i * V + V)));
    // Old log-probs chosen so that ratios fall below, inside and above [0.8, 1.28].
    const logpNow = logits.map((row, i) => {
      const m = Math.max(...row);
      return row[targets[i]] - m - Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
    });
    const shifts = [0.5, -0.5, 0.1, -0.05, 0.4, -0.6];
    const old = Float32Array.from(logpNow, (l, i) => l - shifts[i]);
    const x = new Tensor(logitsData, [N, V]).requireGrad();
    const loss = grpoObjective(x, new Tensor(targets, [N]), new Tensor(adv, [N]), CLIP, new Tensor(old, [N]));
    loss.backward();
    const want = reference(logits, [...targets], [...adv], [...old]);
    expect(loss.item()).toBeCloseTo(want.loss, 5);
    const got = x.grad!.data as Float32Array;
    for (let i = 0; i < N; i++) for (let v = 0; v < V; v++) expect(got[i * V + v]).toBeCloseTo(want.grad[i][v], 5);
    // The case exercises every branch: some gradients vanish (clipped), the zero-advantage row has none.
    expect(want.grad.some((row) => row.every((g) => g === 0))).toBe(true);
  });

  it('on-policy (old = detached current) the ratio is 1 and the gradient is -A/N d logp', () => {
    const rng = new Rng(3);
    const data = rng.normal([3, 4]).data as Float32Array;
    const x = new Tensor(data, [3, 4]).requireGrad();
    const adv = Float32Array.from([1, -1, 0.5]);
    const loss = grpoObjective(x, new Tensor(Int32Array.from([1, 2, 3]), [3]), new Tensor(adv, [3]), CLIP);
    loss.backward();
    const logits = [0, 1, 2].map((i) => Array.from(data.subarray(i * 4, i * 4 + 4)));
    const want = reference(logits, [1, 2, 3], [...adv], [0, 1, 2].map((i) => {
      const row = logits[i];
      const m = Math.max(...row);
      return row[[1, 2, 3][i]] - m - Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    }));
    expect(loss.item()).toBeCloseTo(want.loss, 5);
    const got = x.grad!.data as Float32Array;
    for (let i = 0; i < 3; i++) for (let v = 0; v < 4; v++) expect(got[i * 4 + v]).toBeCloseTo(want.grad[i][v], 5);
  });

  it('advantages are normalized per group, and a group of equal rewards is dropped', () => {
    expect(groupAdvantages([1, 1, 1, 1])).toBeUndefined();
    const a = groupAdvantages([1, 0, 0, 0])!;
    const std = Math.sqrt(0.75 / 3); // unbiased: squares about the mean 0.25 sum to 0.75, over n - 1 = 3
    expect(a[0]).toBeCloseTo(0.75 / (std + 1e-4), 4);
    expect(a[1]).toBeCloseTo(-0.25 / (std + 1e-4), 4);
    expect(a.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 5);
  });
});
