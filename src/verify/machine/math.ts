/**
 * src/tensor/math.ts translated into machine instructions, op for op and constant for constant:
 * each function below mirrors the one of the same name there (f32(a + b) is fadd(a, b), `a > b` is
 * flt(b, a), bit casts are nothing, `n | 0` of an integral float is ftoi). The error-free
 * transformations return their (result, lowPart) pair instead of setting a global. A ternary becomes
 * a select of both arms (every arm is side-effect free). test/verify/element-programs.test.ts runs
 * these against math.ts on special and random inputs, so any drift between the two fails there.
 */
import type { Operand, ProgramBuilder, Value } from './builder.js';

type Pair = [hi: Value, lo: Value];

const floatOfBits = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];
const SIGN_BIT = 0x80000000 | 0;

/** pow2: 2^n for a normal exponent, from its bits. */
function pow2(p: ProgramBuilder, n: Value): Value {
  return p.shl(p.iadd(n, 127), 23);
}

/** scaleByPow2: y * 2^n as two multiplies. */
function scaleByPow2(p: ProgramBuilder, y: Value, n: Value): Value {
  const half = p.shrS(n, 1);
  return p.fmul(p.fmul(y, pow2(p, half)), pow2(p, p.isub(n, half)));
}

function twoSum(p: ProgramBuilder, a: Operand, b: Operand): Pair {
  const sum = p.fadd(a, b);
  const bPart = p.fsub(sum, a);
  const aPart = p.fsub(sum, bPart);
  return [sum, p.fadd(p.fsub(a, aPart), p.fsub(b, bPart))];
}

function fastTwoSum(p: ProgramBuilder, a: Operand, b: Operand): Pair {
  const sum = p.fadd(a, b);
  return [sum, p.fsub(b, p.fsub(sum, a))];
}

const SPLITTER = 4097;

function twoProd(p: ProgramBuilder, a: Value, b: Value): Pair {
  const product = p.fmul(a, b);
  const aScaled = p.fmul(SPLITTER, a);
  const aHi = p.fsub(aScaled, p.fsub(aScaled, a));
  const aLo = p.fsub(a, aHi);
  const bScaled = p.fmul(SPLITTER, b);
  const bHi = p.fsub(bScaled, p.fsub(bScaled, b));
  const bLo = p.fsub(b, bHi);
  const low = p.fadd(p.fadd(p.fadd(p.fsub(p.fmul(aHi, bHi), product), p.fmul(aHi, bLo)), p.fmul(aLo, bHi)), p.fmul(aLo, bLo));
  return [product, low];
}

function divPair(p: ProgramBuilder, nHi: Value, nLo: Value, dHi: Value, dLo: Value): Pair {
  const q = p.fdiv(nHi, dHi);
  const [qdHi, qdLo] = twoProd(p, q, dHi);
  const remainder = p.fsub(p.fadd(p.fsub(p.fsub(nHi, qdHi), qdLo), nLo), p.fmul(q, dLo));
  return [q, p.fdiv(remainder, dHi)];
}

// ---- exp core ----

const LOG2E = floatOfBits(0x3fb8aa3b);
const LN2_HI = floatOfBits(0x3f317200);
const LN2_LO = floatOfBits(0x35bfbe8e);
const ROUND_MAGIC = 12582912;
const EXP_C3 = floatOfBits(0x3e2aaaab);
const EXP_C4 = floatOfBits(0x3d2aaaab);
const EXP_C5 = floatOfBits(0x3c088889);
const EXP_C6 = floatOfBits(0x3ab60b61);
const EXP_C7 = floatOfBits(0x39500d01);
const EXP_C8 = floatOfBits(0x37d00d01);

/** expCore: e^x = (hi + low) * 2^scale. */
function expCore(p: ProgramBuilder, x: Value): { hi: Value; low: Value; scale: Value } {
  const nFloat = p.fsub(p.fadd(p.fmul(x, LOG2E), ROUND_MAGIC), ROUND_MAGIC);
  const scale = p.ftoi(nFloat);
  const s = p.fsub(x, p.fmul(nFloat, LN2_HI));
  const [rh, rl] = twoSum(p, s, p.fneg(p.fmul(nFloat, LN2_LO)));
  const poly = p.fadd(EXP_C3, p.fmul(rh, p.fadd(EXP_C4, p.fmul(rh, p.fadd(EXP_C5, p.fmul(rh, p.fadd(EXP_C6, p.fmul(rh, p.fadd(EXP_C7, p.fmul(rh, EXP_C8))))))))));
  const quadratic = p.fmul(p.fmul(rh, rh), p.fadd(0.5, p.fmul(rh, poly)));
  const tail = p.fadd(quadratic, p.fadd(rl, p.fmul(rl, rh)));
  const [head, headLow] = fastTwoSum(p, 1, rh);
  const [hi, low] = fastTwoSum(p, head, p.fadd(headLow, tail));
  return { hi, low, scale };
}

// ---- exp ----

const EXP_OVERFLOW_CLAMP = floatOfBits(0x42b20000);
const EXP_UNDERFLOW_CLAMP = floatOfBits(0xc2d00000);

export function exp(p: ProgramBuilder, x: Value): Value {
  const aboveUnder = p.select(p.fle(EXP_UNDERFLOW_CLAMP, x), x, p.float(EXP_UNDERFLOW_CLAMP));
  const clamped = p.select(p.flt(EXP_OVERFLOW_CLAMP, x), p.float(EXP_OVERFLOW_CLAMP), aboveUnder);
  const { hi, low, scale } = expCore(p, clamped);
  const y = scaleByPow2(p, p.fadd(hi, low), scale);
  return p.select(p.feq(x, x), y, x);
}

// ---- log ----

const MIN_NORMAL = floatOfBits(0x00800000);
const TWO_POW_23 = 8388608;
const SQRT2_MANTISSA = 0x3504f3;
const LOG_C1 = floatOfBits(0x3f2aaaab);
const LOG_C2 = floatOfBits(0x3ecccccd);
const LOG_C3 = floatOfBits(0x3e924925);
const LOG_C4 = floatOfBits(0x3e638e39);
const LOG_C5 = floatOfBits(0x3e3a2e8c);

export function log(p: ProgramBuilder, x: Value): Value {
  const subnormal = p.flt(x, MIN_NORMAL);
  const bits = p.select(subnormal, p.fmul(x, TWO_POW_23), x);
  const mantissa = p.iand(bits, 0x7fffff);
  const halve = p.ilt(SQRT2_MANTISSA, mantissa);
  const k = p.isub(p.iadd(p.isub(p.shrS(bits, 23), 127), halve), p.select(subnormal, p.int(23), p.int(0)));
  const m = p.ior(mantissa, p.shl(p.isub(127, halve), 23));
  const f = p.fsub(m, 1);
  const s = p.fdiv(f, p.fadd(2, f));
  const z = p.fmul(s, s);
  const r = p.fmul(z, p.fadd(LOG_C1, p.fmul(z, p.fadd(LOG_C2, p.fmul(z, p.fadd(LOG_C3, p.fmul(z, p.fadd(LOG_C4, p.fmul(z, LOG_C5)))))))));
  const [fSquared, fSquaredLow] = twoProd(p, f, f);
  const halfSquare = p.fmul(0.5, fSquared);
  const halfSquareLow = p.fmul(0.5, fSquaredLow);
  const correction = p.fmul(s, p.fadd(halfSquare, r));
  const kFloat = p.itof(k); // k * LN2_HI in math.ts: k (|k| < 2^24) converts exactly
  const [sum1, sum1Low] = twoSum(p, p.fmul(kFloat, LN2_HI), f);
  const [sum2, sum2Low] = twoSum(p, sum1, p.fneg(halfSquare));
  const low = p.fadd(p.fadd(p.fsub(p.fadd(sum1Low, sum2Low), halfSquareLow), correction), p.fmul(kFloat, LN2_LO));
  const y = p.fadd(sum2, low);
  const finite = p.select(p.flt(x, Infinity), y, x);
  const notPositive = p.select(p.feq(x, 0), p.float(-Infinity), p.float(NaN));
  return p.select(p.flt(0, x), finite, notPositive);
}

// ---- tanh ----

const TANH_SMALL = floatOfBits(0x3e99999a);
const TANH_CLAMP = floatOfBits(0x41a00000);
const TANH_C3 = floatOfBits(0xbeaaaaab);
const TANH_C5 = floatOfBits(0x3e088889);
const TANH_C7 = floatOfBits(0xbd5d0dd1);
const TANH_C9 = floatOfBits(0x3cb327a4);
const TANH_C11 = floatOfBits(0xbc11371b);
const TANH_C13 = floatOfBits(0x3b6b69e8);

export function tanh(p: ProgramBuilder, x: Value): Value {
  const a = p.iand(x, 0x7fffffff);

  const z = p.fmul(a, a);
  const series = p.fadd(TANH_C3, p.fmul(z, p.fadd(TANH_C5, p.fmul(z, p.fadd(TANH_C7, p.fmul(z, p.fadd(TANH_C9, p.fmul(z, p.fadd(TANH_C11, p.fmul(z, TANH_C13))))))))));
  const small = p.fadd(a, p.fmul(a, p.fmul(z, series)));

  const clamped = p.select(p.flt(a, TANH_CLAMP), a, p.float(TANH_CLAMP));
  const { hi, low, scale: n } = expCore(p, p.fmul(-2, clamped));
  const scale = pow2(p, n);
  const eHi = p.fmul(hi, scale);
  const eLo = p.fmul(low, scale);
  const [denomHi, denomHiLow] = fastTwoSum(p, 1, eHi);
  const denomLo = p.fadd(denomHiLow, eLo);
  const [qHi, qLo] = divPair(p, p.fmul(2, eHi), p.fmul(2, eLo), denomHi, denomLo);
  const [oneMinusQ, oneMinusQLow] = fastTwoSum(p, 1, p.fneg(qHi));
  const large = p.fadd(oneMinusQ, p.fsub(oneMinusQLow, qLo));

  const magnitude = p.select(p.flt(a, TANH_SMALL), small, large);
  return p.select(p.feq(x, x), p.ior(magnitude, p.iand(x, SIGN_BIT)), x);
}

// ---- sigmoid ----

export function sigmoid(p: ProgramBuilder, x: Value): Value {
  const negAbs = p.select(p.flt(x, 0), x, p.fneg(x));
  const clamped = p.select(p.fle(EXP_UNDERFLOW_CLAMP, negAbs), negAbs, p.float(EXP_UNDERFLOW_CLAMP));
  const { hi, low: lo, scale: n } = expCore(p, clamped);
  const scaleHalf = pow2(p, p.shrS(n, 1));
  const scaleRest = pow2(p, p.isub(n, p.shrS(n, 1)));
  const eHi = p.fmul(p.fmul(hi, scaleHalf), scaleRest);
  const eLo = p.fmul(p.fmul(lo, scaleHalf), scaleRest);
  const [denomHi, denomHiLow] = fastTwoSum(p, 1, eHi);
  const denomLo = p.fadd(denomHiLow, eLo);
  const negative = p.flt(x, 0);
  const [qHi, qLo] = divPair(p, p.select(negative, hi, p.float(1)), p.select(negative, lo, p.float(0)), denomHi, denomLo);
  const q = p.fadd(qHi, qLo);
  const y = p.select(negative, scaleByPow2(p, q, n), q);
  return p.select(p.feq(x, x), y, x);
}

// ---- gelu ----

const SQRT_2_OVER_PI = floatOfBits(0x3f4c422a);
const GELU_CUBIC = floatOfBits(0x3d372713);

export function gelu(p: ProgramBuilder, x: Value): Value {
  const inner = p.fadd(x, p.fmul(GELU_CUBIC, p.fmul(p.fmul(x, x), x)));
  const u = p.fmul(SQRT_2_OVER_PI, inner);
  const y = p.fmul(x, sigmoid(p, p.fmul(2, u)));
  return p.select(p.feq(x, -Infinity), p.float(-0), y);
}

// ---- geluGrad ----

const TWO_SQRT_2_OVER_PI = floatOfBits(0x3fcc422a);
const THREE_GELU_CUBIC = floatOfBits(0x3e095d4e);

export function geluGrad(p: ProgramBuilder, x: Value): Value {
  const x2 = p.fmul(x, x);
  const inner = p.fadd(x, p.fmul(GELU_CUBIC, p.fmul(x2, x)));
  const u = p.fmul(SQRT_2_OVER_PI, inner);
  const s = sigmoid(p, p.fmul(2, u));
  const ds = p.fmul(s, p.fsub(1, s));
  const du = p.fmul(TWO_SQRT_2_OVER_PI, p.fadd(1, p.fmul(THREE_GELU_CUBIC, x2)));
  const prod = p.fmul(p.fmul(x, du), ds);
  const term = p.select(p.flt(0, ds), prod, p.float(0));
  return p.fadd(s, term);
}
