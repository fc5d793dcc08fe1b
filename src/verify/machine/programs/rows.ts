/**
 * The fused row ops along the last axis (reference.ts's layerNorm, layerNormGrad, softmax,
 * softmaxGrad): output element (r, j) of x viewed as [rows, n] walks its row x[r*n .. r*n + n) in
 * index order, once per reduction, exactly as the kernel does, then computes its own element.
 */
import { ProgramBuilder, type Value } from '../builder.js';
import * as math from '../math.js';
import type { ElementEntry, ProgramFor } from './entry.js';

/** The row length n and the row's first position, index - index % n. */
function rowOf(p: ProgramBuilder, entry: ElementEntry): { n: number; base: Value } {
  const shape = entry.inputShapes[0];
  const n = shape[shape.length - 1];
  return { n, base: n === 1 ? p.index() : p.isub(p.index(), p.remu(p.index(), n)) };
}

/**
 * rowStats: s = +0, s = fadd(s, x_j); mean = fdiv(s, n); c_j = fsub(x_j, mean);
 * q = +0, q = fadd(q, fmul(c_j, c_j)); inv = fdiv(1, fsqrt(fadd(fdiv(q, n), eps))).
 */
function rowStats(p: ProgramBuilder, entry: ElementEntry, n: number, base: Value): { mean: Value; inv: Value; size: Value } {
  const size = p.float(n);
  const eps = p.float(entry.attrs.eps as number);
  const s = p.variable(0);
  p.loop(n, [{ start: base, step: 1 }], ([at]) => void p.fadd(s, p.load(0, at), s));
  const mean = p.fdiv(s, size);
  const q = p.variable(0);
  p.loop(n, [{ start: base, step: 1 }], ([at]) => {
    const c = p.fsub(p.load(0, at), mean);
    p.fadd(q, p.fmul(c, c), q);
  });
  const inv = p.fdiv(1, p.fsqrt(p.fadd(p.fdiv(q, size), eps)));
  return { mean, inv, size };
}

/** layer_norm: y = fmul(fsub(x_j, mean), inv). */
export const layerNormProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const { n, base } = rowOf(p, entry);
  const { mean, inv } = rowStats(p, entry, n, base);
  return p.halt(p.fmul(p.fsub(p.load(0, p.index()), mean), inv));
};

/**
 * layer_norm_grad (inputs x, g): xhat_k = fmul(fsub(x_k, mean), inv); sg = fadd(sg, g_k),
 * sgx = fadd(sgx, fmul(g_k, xhat_k)) in one walk; dx = fmul(inv, fsub(fsub(g_j, sg/n), fmul(xhat_j, sgx/n))).
 */
export const layerNormGradProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const { n, base } = rowOf(p, entry);
  const { mean, inv, size } = rowStats(p, entry, n, base);
  const sg = p.variable(0);
  const sgx = p.variable(0);
  p.loop(n, [{ start: base, step: 1 }], ([at]) => {
    const xhat = p.fmul(p.fsub(p.load(0, at), mean), inv);
    const g = p.load(1, at);
    p.fadd(sg, g, sg);
    p.fadd(sgx, p.fmul(g, xhat), sgx);
  });
  const mg = p.fdiv(sg, size);
  const mgx = p.fdiv(sgx, size);
  const xhat = p.fmul(p.fsub(p.load(0, p.index()), mean), inv);
  return p.halt(p.fmul(inv, p.fsub(p.fsub(p.load(1, p.index()), mg), p.fmul(xhat, mgx))));
};

/**
 * softmax: m = -Inf, m = fmax(m, x_k); e_j = exp(fsub(x_j, m)) (math.ts; made before the sum walk so
 * its constants are not re-made every pass); s = +0, s = fadd(s, exp(fsub(x_k, m))); y = fdiv(e_j, s).
 * A NaN exp passes through is made canonical by fadd/fdiv.
 */
export const softmaxProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const { n, base } = rowOf(p, entry);
  const m = p.variable(0xff800000);
  p.loop(n, [{ start: base, step: 1 }], ([at]) => void p.fmax(m, p.load(0, at), m));
  const e = math.exp(p, p.fsub(p.load(0, p.index()), m));
  const s = p.variable(0);
  p.loop(n, [{ start: base, step: 1 }], ([at]) => void p.fadd(s, math.exp(p, p.fsub(p.load(0, at), m)), s));
  return p.halt(p.fdiv(e, s));
};

/** softmax_grad (inputs y, g): d = +0, d = fadd(d, fmul(g_k, y_k)); dx = fmul(y_j, fsub(g_j, d)). */
export const softmaxGradProgram: ProgramFor = (entry) => {
  const p = new ProgramBuilder();
  const { n, base } = rowOf(p, entry);
  const d = p.variable(0);
  p.loop(n, [{ start: base, step: 1 }], ([at]) => void p.fadd(d, p.fmul(p.load(1, at), p.load(0, at)), d));
  return p.halt(p.fmul(p.load(0, p.index()), p.fsub(p.load(1, p.index()), d)));
};
