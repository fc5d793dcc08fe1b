// Autograd against central finite differences of a float64 version of each function.
import { describe, expect, it } from 'vitest';
import { Rng, Tensor, crossEntropy, layerNorm, logSoftmax, mean, softmax } from '../../src/tensor/index.js';
import * as ops from '../../src/tensor/ops.js';

type F64 = (xs: Float64Array[]) => Float64Array;

/** Checks d(sum(f(xs) * r))/dxs from autograd (float32) against finite differences of `f64`. */
function gradcheck(shapes: number[][], f32: (xs: Tensor[]) => Tensor, f64: F64, seed = 1, positive = false) {
  const rng = new Rng(seed);
  const inputs = shapes.map((s) => {
    const t = rng.uniform(s, positive ? 0.5 : -2, 2);
    return t.requireGrad();
  });
  const out = f32(inputs);
  const r = rng.uniform(out.shape, -1, 1);
  ops.sum(ops.reshape(out.mul(r), [-1]), 0).backward();
  const r64 = Float64Array.from(r.data);
  const loss64 = (xs: Float64Array[]) => f64(xs).reduce((s, v, i) => s + v * r64[i], 0);
  inputs.forEach((input, k) => {
    const xs = inputs.map((t) => Float64Array.from(t.data));
    const h = 1e-6;
    for (let i = 0; i < input.size; i++) {
      const saved = xs[k][i];
      xs[k][i] = saved + h;
      const up = loss64(xs);
      xs[k][i] = saved - h;
      const down = loss64(xs);
      xs[k][i] = saved;
      const numeric = (up - down) / (2 * h);
      const analytic = input.grad!.data[i];
      expect(Math.abs(analytic - numeric), `input ${k} element ${i}: ${analytic} vs ${numeric}`).toBeLessThan(2e-3 * (1 + Math.abs(numeric)));
    }
  });
}

const map = (f: (v: number) => number): F64 => ([x]) => x.map(f);
const broadcast2 = (f: (a: number, b: number) => number, cols: number): F64 => ([a, b]) => a.map((v, i) => f(v, b[i % cols]));

describe('gradients match float64 finite differences', () => {
  it('unary ops', () => {
    gradcheck([[3, 4]], ([x]) => x.exp(), map(Math.exp));
    gradcheck([[3, 4]], ([x]) => x.log(), map(Math.log), 1, true);
    gradcheck([[3, 4]], ([x]) => x.sqrt(), map(Math.sqrt), 1, true);
    gradcheck([[3, 4]], ([x]) => x.tanh(), map(Math.tanh));
    gradcheck([[3, 4]], ([x]) => x.sigmoid(), map((v) => 1 / (1 + Math.exp(-v))));
    const c = Math.sqrt(2 / Math.PI);
    gradcheck([[3, 4]], ([x]) => x.gelu(), map((v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3)))));
    gradcheck([[3, 4]], ([x]) => x.neg().abs(), map((v) => Math.abs(v)));
  });

  it('binary ops with broadcasting', () => {
    gradcheck([[3, 4], [4]], ([a, b]) => a.add(b), broadcast2((x, y) => x + y, 4));
    gradcheck([[3, 4], [4]], ([a, b]) => a.sub(b), broadcast2((x, y) => x - y, 4));
    gradcheck([[3, 4], [4]], ([a, b]) => a.mul(b), broadcast2((x, y) => x * y, 4));
    gradcheck([[3, 4], [4]], ([a, b]) => a.div(b), broadcast2((x, y) => x / y, 4), 2, true);
    gradcheck([[3, 4], [4]], ([a, b]) => a.maximum(b), broadcast2(Math.max, 4), 3);
    gradcheck([[3, 4], [4]], ([a, b]) => a.minimum(b), broadcast2(Math.min, 4), 4);
  });

  it('reductions and movement', () => {
    gradcheck([[3, 4]], ([x]) => x.sum(1), ([x]) => Float64Array.from([0, 1, 2], (r) => x[4 * r] + x[4 * r + 1] + x[4 * r + 2] + x[4 * r + 3]));
    gradcheck([[3, 4]], ([x]) => mean(x, 0), ([x]) => Float64Array.from([0, 1, 2, 3], (c) => (x[c] + x[4 + c] + x[8 + c]) / 3));
    gradcheck([[3, 4]], ([x]) => x.max(1), ([x]) => Float64Array.from([0, 1, 2], (r) => Math.max(...x.subarray(4 * r, 4 * r + 4))));
    gradcheck([[2, 3]], ([x]) => x.transpose(), ([x]) => Float64Array.from([0, 3, 1, 4, 2, 5], (i) => x[i]));
    gradcheck([[2, 3]], ([x]) => x.slice(1, 1, 3), ([x]) => Float64Array.from([1, 2, 4, 5], (i) => x[i]));
    gradcheck([[2, 2], [2, 1]], ([a, b]) => ops.concat([a, b], 1), ([a, b]) => Float64Array.from([a[0], a[1], b[0], a[2], a[3], b[1]]));
    gradcheck([[3]], ([x]) => x.expand([2, 3]), ([x]) => Float64Array.from([...x, ...x]));
  });

  it('matmul, plain, batched, transposed and broadcast', () => {
    const mm = (a: Float64Array, b: Float64Array, m: number, k: number, n: number, ta = false, tb = false) =>
      Float64Array.from({ length: m * n }, (_, o) => {
        const [i, j] = [Math.floor(o / n), o % n];
        let s = 0;
        for (let q = 0; q < k; q++) s += (ta ? a[q * m + i] : a[i * k + q]) * (tb ? b[j * k + q] : b[q * n + j]);
        return s;
      });
    gradcheck([[3, 4], [4, 2]], ([a, b]) => a.matmul(b), ([a, b]) => mm(a, b, 3, 4, 2));
    gradcheck([[4, 3], [2, 4]], ([a, b]) => a.matmul(b, { transposeA: true, transposeB: true }), ([a, b]) => mm(a, b, 3, 4, 2, true, true));
    gradcheck([[2, 3, 4], [4, 2]], ([a, b]) => a.matmul(b), ([a, b]) => Float64Array.from([...mm(a.subarray(0, 12), b, 3, 4, 2), ...mm(a.subarray(12), b, 3, 4, 2)]));
  });

  it('softmax, log-softmax, layer norm, cross-entropy, take', () => {
    const rows = (x: Float64Array, n: number, f: (row: number[]) => number[]) =>
      Float64Array.from(Array.from({ length: x.length / n }, (_, r) => f([...x.subarray(r * n, r * n + n)])).flat());
    const sm = (row: number[]) => { const m = Math.max(...row); const e = row.map((v) => Math.exp(v - m)); const s = e.reduce((a, b) => a + b); return e.map((v) => v / s); };
    gradcheck([[2, 5]], ([x]) => softmax(x), ([x]) => rows(x, 5, sm));
    gradcheck([[2, 5]], ([x]) => logSoftmax(x), ([x]) => rows(x, 5, (r) => sm(r).map(Math.log)));
    const ln = (row: number[]) => { const mu = row.reduce((a, b) => a + b) / row.length; const v = row.reduce((a, b) => a + (b - mu) ** 2, 0) / row.length; return row.map((x) => (x - mu) / Math.sqrt(v + 1e-5)); };
    gradcheck([[2, 5], [5], [5]], ([x, w, b]) => layerNorm(x, w, b), ([x, w, b]) => rows(x, 5, (r) => ln(r).map((v, i) => v * w[i] + b[i])));
    // The fused primitives alone (layer_norm_grad), on several row lengths.
    for (const n of [1, 2, 7, 16]) gradcheck([[3, n]], ([x]) => layerNorm(x), ([x]) => rows(x, n, ln), n);
    for (const n of [1, 3, 16]) gradcheck([[2, 2, n]], ([x]) => softmax(x), ([x]) => rows(x, n, sm), n);
    gradcheck([[4, 3]], ([x]) => softmax(x, 0), ([x]) => { const t = Float64Array.from({ length: 12 }, (_, i) => x[(i % 4) * 3 + Math.floor(i / 4)]); const y = rows(t, 4, sm); return Float64Array.from({ length: 12 }, (_, i) => y[(i % 3) * 4 + Math.floor(i / 3)]); });
    const targets = Tensor.from([4, 0, 2], [3], 'int32');
    gradcheck([[3, 5]], ([x]) => crossEntropy(x, targets).reshape([1]), ([x]) => Float64Array.of(-[4, 0, 2].reduce((s, t, r) => s + Math.log(sm([...x.subarray(5 * r, 5 * r + 5)])[t]), 0) / 3));
    const ids = Tensor.from([2, 0, 2], [3], 'int32');
    gradcheck([[3, 2]], ([table]) => table.take(0, ids), ([t]) => Float64Array.from([t[4], t[5], t[0], t[1], t[4], t[5]]));
  });
});
