/**
 * The reference kernels: the specification of every primitive op except matmul (see
 * reference-matmul.ts). Plain TypeScript over contiguous typed arrays; every float result is one
 * IEEE binary32 operation (a Float32Array store rounds exactly once), and accumulations round after
 * every step in index order. Fast kernels must reproduce these bits.
 */
import { canonicalizeNaNs, fmax, fmin } from '../f32.js';
import { exp, gelu, geluGrad, log, sigmoid, tanh } from '../math.js';
import type { BinaryOp, CompareOp, UnaryOp } from '../op.js';
import type { Storage } from '../dtype.js';
import { contiguousStrides, sizeOf, type Shape } from '../shape.js';
import { broadcastStrides, forEachRow } from './strided.js';

export function unary(op: UnaryOp, x: Float32Array, out: Float32Array): void {
  const n = x.length;
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]; break;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]); break;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); break;
    case 'exp': for (let i = 0; i < n; i++) out[i] = exp(x[i]); break;
    case 'log': for (let i = 0; i < n; i++) out[i] = log(x[i]); break;
    case 'tanh': for (let i = 0; i < n; i++) out[i] = tanh(x[i]); break;
    case 'sigmoid': for (let i = 0; i < n; i++) out[i] = sigmoid(x[i]); break;
    case 'gelu': for (let i = 0; i < n; i++) out[i] = gelu(x[i]); break;
    case 'gelu_grad': for (let i = 0; i < n; i++) out[i] = geluGrad(x[i]); break;
  }
  canonicalizeNaNs(out);
}

/** out = a (op) b with NumPy broadcasting to outShape; a NaN result is written as the canonical NaN. */
export function binary(op: BinaryOp, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape, out: Float32Array, outShape: Shape): void {
  const n = out.length;
  let sawNaN = false;
  if (a.length === n && b.length === n) {
    // Same shapes (the common case): one flat loop. Broadcast outputs have more elements than an input.
    sawNaN = flatBinary(op, a, 0, 1, b, 0, 1, out, 0, n);
  } else {
    const sa = broadcastStrides(aShape, outShape);
    const sb = broadcastStrides(bShape, outShape);
    const ia = sa[sa.length - 1] ?? 0;
    const ib = sb[sb.length - 1] ?? 0;
    forEachRow(outShape, [sa, sb], (o, pa, pb, _, length) => {
      if (flatBinary(op, a, pa, ia, b, pb, ib, out, o, length)) sawNaN = true;
    });
  }
  if (sawNaN) canonicalizeNaNs(out);
}

/**
 * out[o + i] = a[pa + i * ia] (op) b[pb + i * ib] for i < n, with input strides 0 or 1 (a scalar or a
 * row). Returns whether any result was NaN, noticed in the same loop: these ops are memory-bound, and a
 * second pass over the output only to look for NaNs would cost as much as the op.
 */
function flatBinary(op: BinaryOp, a: Float32Array, pa: number, ia: number, b: Float32Array, pb: number, ib: number, out: Float32Array, o: number, n: number): boolean {
  let v = 0;
  let nan = false;
  switch (op) {
    case 'add': for (let i = o; i < o + n; i++, pa += ia, pb += ib) { out[i] = v = a[pa] + b[pb]; nan ||= v !== v; } break;
    case 'sub': for (let i = o; i < o + n; i++, pa += ia, pb += ib) { out[i] = v = a[pa] - b[pb]; nan ||= v !== v; } break;
    case 'mul': for (let i = o; i < o + n; i++, pa += ia, pb += ib) { out[i] = v = a[pa] * b[pb]; nan ||= v !== v; } break;
    case 'div': for (let i = o; i < o + n; i++, pa += ia, pb += ib) { out[i] = v = a[pa] / b[pb]; nan ||= v !== v; } break;
    case 'maximum': for (let i = o; i < o + n; i++, pa += ia, pb += ib) { out[i] = v = fmax(a[pa], b[pb]); nan ||= v !== v; } break;
    case 'minimum': for (let i = o; i < o + n; i++, pa += ia, pb += ib) { out[i] = v = fmin(a[pa], b[pb]); nan ||= v !== v; } break;
  }
  return nan;
}

/** out = 1 where a (op) b holds, else 0 (IEEE comparisons: any comparison with NaN is false). */
export function compare(op: CompareOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, out: Int32Array, outShape: Shape): void {
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const ia = sa[sa.length - 1] ?? 0;
  const ib = sb[sb.length - 1] ?? 0;
  forEachRow(outShape, [sa, sb], (o, pa, pb, _, n) => {
    switch (op) {
      case 'eq': for (let i = 0; i < n; i++, pa += ia, pb += ib) out[o + i] = a[pa] === b[pb] ? 1 : 0; break;
      case 'lt': for (let i = 0; i < n; i++, pa += ia, pb += ib) out[o + i] = a[pa] < b[pb] ? 1 : 0; break;
      case 'le': for (let i = 0; i < n; i++, pa += ia, pb += ib) out[o + i] = a[pa] <= b[pb] ? 1 : 0; break;
    }
  });
}

/** out = cond != 0 ? a : b, broadcast; bits are copied, so NaNs keep their (canonical) bits. */
export function where(cond: Int32Array, cShape: Shape, a: Storage, aShape: Shape, b: Storage, bShape: Shape, out: Storage, outShape: Shape): void {
  const sc = broadcastStrides(cShape, outShape);
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const [ic, ia, ib] = [sc, sa, sb].map((s) => s[s.length - 1] ?? 0);
  const [av, bv, ov] = [a, b, out].map(bitView);
  forEachRow(outShape, [sc, sa, sb], (o, pc, pa, pb, n) => {
    for (let i = 0; i < n; i++, pc += ic, pa += ia, pb += ib) ov[o + i] = cond[pc] !== 0 ? av[pa] : bv[pb];
  });
}

/** Copies `x` broadcast to `outShape` (bit-exact). */
export function expand(x: Storage, xShape: Shape, out: Storage, outShape: Shape): void {
  const sx = broadcastStrides(xShape, outShape);
  const ix = sx[sx.length - 1] ?? 0;
  const [xv, ov] = [bitView(x), bitView(out)];
  forEachRow(outShape, [sx], (o, p, _, __, n) => {
    for (let i = 0; i < n; i++, p += ix) ov[o + i] = xv[p];
  });
}

/** Copies `x` with its axes reordered: out axis i is x axis perm[i] (bit-exact). */
export function permute(x: Storage, xShape: Shape, perm: readonly number[], out: Storage): void {
  const own = contiguousStrides(xShape);
  const outShape = perm.map((p) => xShape[p]);
  const strides = perm.map((p) => own[p]);
  const inner = strides[strides.length - 1] ?? 0;
  const [xv, ov] = [bitView(x), bitView(out)];
  forEachRow(outShape, [strides], (o, p, _, __, n) => {
    for (let i = 0; i < n; i++, p += inner) ov[o + i] = xv[p];
  });
}

/**
 * Reduces the middle axis of x viewed as [outer, n, inner]. sum: acc = +0, then acc = f32(acc + x_j)
 * for j ascending. max: acc = -Inf, then acc = fmax(acc, x_j) (NaN propagates; -0 < +0).
 */
export function reduce(op: 'sum' | 'max', x: Float32Array, outer: number, n: number, inner: number, out: Float32Array): void {
  if (inner === 1) {
    // Reducing the last axis: one running value per row, in a local (Math.fround keeps it float32).
    for (let o = 0; o < outer; o++) out[o] = op === 'sum' ? sumRow(x, o * n, n) : maxRow(x, o * n, n);
  } else {
    for (let o = 0; o < outer; o++) {
      const base = o * inner;
      out.fill(op === 'sum' ? 0 : -Infinity, base, base + inner);
      for (let j = 0; j < n; j++) {
        const row = (o * n + j) * inner;
        if (op === 'sum') for (let i = 0; i < inner; i++) out[base + i] += x[row + i];
        else for (let i = 0; i < inner; i++) out[base + i] = fmax(out[base + i], x[row + i]);
      }
    }
  }
  canonicalizeNaNs(out);
}

function sumRow(x: Float32Array, from: number, n: number): number {
  let acc = 0;
  for (let j = from; j < from + n; j++) acc = Math.fround(acc + x[j]);
  return acc;
}

/** fmax folded over a row, inlined: NaN sticks (no comparison with NaN is true), and +0 beats -0. */
function maxRow(x: Float32Array, from: number, n: number): number {
  let acc = -Infinity;
  for (let j = from; j < from + n; j++) {
    const v = x[j];
    if (v > acc) acc = v;
    else if (v !== v) return NaN;
    else if (v === 0 && acc === 0 && 1 / acc < 0) acc = v;
  }
  return acc;
}

/** Index of the first maximum along the middle axis of [outer, n, inner]; a NaN counts as the maximum. */
export function argmax(x: Float32Array, outer: number, n: number, inner: number, out: Int32Array): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      let bestValue = x[o * n * inner + i];
      for (let j = 1; j < n && bestValue === bestValue; j++) {
        const v = x[(o * n + j) * inner + i];
        if (v > bestValue || v !== v) [best, bestValue] = [j, v];
      }
      out[o * inner + i] = best;
    }
  }
}

/** out = x[..., start:end, ...] along `axis` of x viewed as [outer, n, inner]. */
export function slice(x: Storage, outer: number, n: number, inner: number, start: number, end: number, out: Storage): void {
  const [xv, ov] = [bitView(x), bitView(out)];
  const width = (end - start) * inner;
  for (let o = 0; o < outer; o++) ov.set(xv.subarray((o * n + start) * inner, (o * n + start) * inner + width), o * width);
}

/** Joins inputs along an axis; each input i is viewed as [outer, n_i, inner]. */
export function concat(xs: readonly Storage[], outer: number, ns: readonly number[], inner: number, out: Storage): void {
  const ov = bitView(out);
  const total = ns.reduce((a, b) => a + b, 0) * inner;
  let at = 0;
  xs.forEach((x, k) => {
    const xv = bitView(x);
    const width = ns[k] * inner;
    for (let o = 0; o < outer; o++) ov.set(xv.subarray(o * width, (o + 1) * width), o * total + at);
    at += width;
  });
}

/** NumPy take: out[o, j, i] = x[o, index[j], i] for x viewed as [outer, n, inner], index flat. */
export function take(x: Storage, outer: number, n: number, inner: number, index: Int32Array, out: Storage): void {
  const [xv, ov] = [bitView(x), bitView(out)];
  const m = index.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const from = (o * n + index[j]) * inner;
      ov.set(xv.subarray(from, from + inner), (o * m + j) * inner);
    }
  }
}

/**
 * The adjoint of take: out = zeros [outer, size, inner]; for o, then j ascending, then i:
 * out[o, index[j], i] = f32(out[o, index[j], i] + src[o, j, i]). Index order fixes the sum order.
 */
export function scatterAdd(src: Float32Array, outer: number, size: number, inner: number, index: Int32Array, out: Float32Array): void {
  const m = index.length;
  out.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const to = (o * size + index[j]) * inner;
      const from = (o * m + j) * inner;
      for (let i = 0; i < inner; i++) out[to + i] += src[from + i];
    }
  }
  canonicalizeNaNs(out);
}

/** take_along_axis: out[o, j, i] = x[o, index[o, j, i], i]; x is [outer, n, inner], index [outer, m, inner]. */
export function takeAlong(x: Storage, outer: number, n: number, inner: number, index: Int32Array, m: number, out: Storage): void {
  const [xv, ov] = [bitView(x), bitView(out)];
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < inner; i++) {
        const p = (o * m + j) * inner + i;
        ov[p] = xv[(o * n + index[p]) * inner + i];
      }
    }
  }
}

/** The adjoint of takeAlong: out = zeros [outer, size, inner]; src positions in row-major order. */
export function scatterAddAlong(src: Float32Array, outer: number, m: number, inner: number, index: Int32Array, size: number, out: Float32Array): void {
  out.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < inner; i++) {
        const p = (o * m + j) * inner + i;
        const q = (o * size + index[p]) * inner + i;
        out[q] += src[p];
      }
    }
  }
  canonicalizeNaNs(out);
}

/** int32 -> float32 rounds to nearest even (exact below 2^24); float32 -> int32 truncates toward zero. */
export function cast(x: Storage, out: Storage): void {
  if (out instanceof Float32Array) for (let i = 0; i < x.length; i++) out[i] = x[i];
  else for (let i = 0; i < x.length; i++) out[i] = Math.trunc(x[i]);
}

/** An integer view of the same bytes, so that copies move bits, never values. */
export function bitView(x: Storage): Int32Array {
  return x instanceof Int32Array ? x : new Int32Array(x.buffer, x.byteOffset, x.length);
}

export function outerInner(shape: Shape, axis: number): [outer: number, n: number, inner: number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

// --- row ops: one row of length n at a time along the last axis, x viewed as [rows, n] ---------

/** Set by rowStats (module slots, so the hot loops allocate nothing). */
let statMean = 0;
let statInv = 0;

/**
 * layer_norm's statistics of the row x[base .. base + n), exactly as the composition mean / sub / mul /
 * mean / add / sqrt / div computed them: s = +0, s = f32(s + x_j) for j ascending; mean = f32(s / n);
 * c_j = f32(x_j - mean); q = +0, q = f32(q + f32(c_j * c_j)) for j ascending; var = f32(q / n);
 * inv = f32(1 / f32(sqrt(f32(var + eps)))).
 */
function rowStats(x: Float32Array, base: number, n: number, size: number, eps: number): void {
  const end = base + n;
  let s = 0;
  for (let j = base; j < end; j++) s = Math.fround(s + x[j]);
  const mean = Math.fround(s / size);
  let q = 0;
  for (let j = base; j < end; j++) {
    const c = Math.fround(x[j] - mean);
    q = Math.fround(q + Math.fround(c * c));
  }
  const variance = Math.fround(q / size);
  statMean = mean;
  statInv = Math.fround(1 / Math.fround(Math.sqrt(Math.fround(variance + eps))));
}

/**
 * layer_norm (no affine) of each row of x [rows, n]: with rowStats' mean and inv,
 * y_j = f32(f32(x_j - mean) * inv). eps must be a float32 value. NaNs are written canonical.
 */
export function layerNorm(x: Float32Array, rows: number, n: number, eps: number, out: Float32Array): void {
  const size = Math.fround(n);
  let nan = false;
  for (let r = 0, base = 0; r < rows; r++, base += n) {
    rowStats(x, base, n, size, eps);
    const mean = statMean;
    const inv = statInv;
    let v = 0;
    for (let j = base; j < base + n; j++) { out[j] = v = Math.fround(x[j] - mean) * inv; nan ||= v !== v; }
  }
  if (nan) canonicalizeNaNs(out);
}

/**
 * layer_norm_grad: dx for upstream gradient g, both [rows, n]. With rowStats' mean and inv and
 * xhat_j = f32(f32(x_j - mean) * inv) (the forward output's bits):
 *   sg = +0, sg = f32(sg + g_j); sgx = +0, sgx = f32(sgx + f32(g_j * xhat_j))   (j ascending)
 *   mg = f32(sg / n); mgx = f32(sgx / n)
 *   dx_j = f32(inv * f32(f32(g_j - mg) - f32(xhat_j * mgx)))
 * i.e. dx = inv * (g - mean(g) - xhat * mean(g * xhat)). NaNs are written canonical.
 */
export function layerNormGrad(x: Float32Array, g: Float32Array, rows: number, n: number, eps: number, out: Float32Array): void {
  const size = Math.fround(n);
  let nan = false;
  for (let r = 0, base = 0; r < rows; r++, base += n) {
    rowStats(x, base, n, size, eps);
    const mean = statMean;
    const inv = statInv;
    const end = base + n;
    let sg = 0;
    let sgx = 0;
    for (let j = base; j < end; j++) {
      const xhat = Math.fround(Math.fround(x[j] - mean) * inv);
      sg = Math.fround(sg + g[j]);
      sgx = Math.fround(sgx + Math.fround(g[j] * xhat));
    }
    const mg = Math.fround(sg / size);
    const mgx = Math.fround(sgx / size);
    let v = 0;
    for (let j = base; j < end; j++) {
      const xhat = Math.fround(Math.fround(x[j] - mean) * inv);
      out[j] = v = inv * Math.fround(Math.fround(g[j] - mg) - Math.fround(xhat * mgx));
      nan ||= v !== v;
    }
  }
  if (nan) canonicalizeNaNs(out);
}

/** exp over a whole buffer in place, with math.ts's bits (the backend may pass its wasm kernel: same bits). */
export type ExpInPlace = (buffer: Float32Array) => void;

const referenceExp: ExpInPlace = (buffer) => unary('exp', buffer, buffer);

/**
 * softmax of each row of x [rows, n], the bits of the composition exp(x - max) / sum(exp(x - max)):
 * m = fmax folded from -Inf (NaN sticks, -0 < +0); e_j = exp(f32(x_j - m)) (math.ts);
 * s = +0, s = f32(s + e_j) for j ascending; y_j = f32(e_j / s). NaNs are written canonical.
 */
export function softmax(x: Float32Array, rows: number, n: number, out: Float32Array, expInPlace: ExpInPlace = referenceExp): void {
  for (let r = 0, base = 0; r < rows; r++, base += n) {
    const m = maxRow(x, base, n);
    for (let j = base; j < base + n; j++) out[j] = x[j] - m;
  }
  expInPlace(out);
  let nan = false;
  for (let r = 0, base = 0; r < rows; r++, base += n) {
    const s = sumRow(out, base, n);
    let v = 0;
    for (let j = base; j < base + n; j++) { out[j] = v = out[j] / s; nan ||= v !== v; }
  }
  if (nan) canonicalizeNaNs(out);
}

/**
 * softmax_grad: dx for softmax output y and upstream gradient g, both [rows, n]:
 * d = +0, d = f32(d + f32(g_j * y_j)) for j ascending; dx_j = f32(y_j * f32(g_j - d)),
 * i.e. y * (g - sum(g * y)). NaNs are written canonical.
 */
export function softmaxGrad(y: Float32Array, g: Float32Array, rows: number, n: number, out: Float32Array): void {
  let nan = false;
  for (let r = 0, base = 0; r < rows; r++, base += n) {
    const end = base + n;
    let d = 0;
    for (let j = base; j < end; j++) d = Math.fround(d + Math.fround(g[j] * y[j]));
    let v = 0;
    for (let j = base; j < end; j++) { out[j] = v = y[j] * Math.fround(g[j] - d); nan ||= v !== v; }
  }
  if (nan) canonicalizeNaNs(out);
}
