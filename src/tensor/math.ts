/**
 * Deterministic float32 transcendental functions: exp, log, tanh, sigmoid, gelu, geluGrad, sinpi, cospi.
 *
 * ECMAScript leaves Math.exp & co. implementation-defined, so these are straight-line programs over the
 * instruction set of the dispute game's float32 machine (docs/architecture.md, "The reproducible runtime"):
 * - float32 + - * / and sqrt, each rounded once (`f32`, round to nearest even);
 * - compares and selects (ternaries), no data-dependent loops, no tables;
 * - int32 <-> float32 conversions, only of values that convert exactly (`n | 0` of an integral float32
 *   with |n| <= 2^25; an int32 with |k| <= 2^24 used as a float32);
 * - bit casts and int32 add/sub/and/or/xor/shifts.
 * Every constant is a float32 value, written as its bit pattern with the decimal value beside it.
 *
 * Method (as tinygrad's transcendental.py, and fdlibm): reduce the argument exactly, evaluate a short
 * polynomial, rebuild. To stay within 1 ulp everywhere with no wider type, the parts whose rounding
 * would decide the last bit are carried as unevaluated float32 pairs hi + lo (the error-free
 * transformations TwoSum and Dekker's TwoProduct below), and the result is rounded once at the end.
 *
 * Measured accuracy (test/tensor/math.test.ts, bench/math.ts) vs the correctly rounded result, over
 * all float32 inputs: exp, log, tanh, sigmoid, sinpi, cospi are within 1 ulp (see each function).
 * NaN in gives NaN out (any NaN bits: stores canonicalise them).
 *
 * src/tensor/kernels/math.wat repeats exp, log, tanh, sigmoid, gelu and geluGrad operation for operation on f32x4
 * lanes: a change here must be made there too (test/tensor/math-kernels.test.ts compares the bits).
 */
import { f32 as fround32 } from './f32.js';

/**
 * The f32.ts rounding, bound once: module transforms that keep imports live (vitest's) would otherwise
 * turn each of the ~200 f32 calls per element into a property read, a 5x slowdown in tests.
 */
const f32 = fround32;

// ---- bit casts --------------------------------------------------------------------------------------

const castFloat = new Float32Array(1);
const castInt = new Int32Array(castFloat.buffer);

/** The float32 bit pattern of x as a signed int32. */
function bitsOfFloat(x: number): number {
  castFloat[0] = x;
  return castInt[0];
}

function floatOfBits(bits: number): number {
  castInt[0] = bits;
  return castFloat[0];
}

const SIGN_BIT = 0x80000000 | 0;

/** 2^n for a normal exponent, n in [-126, 127], built from its bits. */
function pow2(n: number): number {
  return floatOfBits((n + 127) << 23);
}

/**
 * y * 2^n for n in [-150, 128], as two exact-or-final multiplies: 2^n itself may not be a float32, but
 * 2^(n>>1) and 2^(n-(n>>1)) are, y * 2^(n>>1) is exact (it stays normal and finite for y in [0.5, 2)),
 * and the second multiply rounds once, to a subnormal, to Inf, or exactly.
 */
function scaleByPow2(y: number, n: number): number {
  const half = n >> 1;
  return f32(f32(y * pow2(half)) * pow2(n - half));
}

// ---- error-free transformations on float32 ----------------------------------------------------------
// Each returns the rounded result and leaves the exact rounding error in `lowPart`, so a + b (or a * b)
// == result + lowPart exactly (barring overflow, and for twoProd underflow, which never matter here).

let lowPart = 0;

/** Knuth's TwoSum: any a, b. */
function twoSum(a: number, b: number): number {
  const sum = f32(a + b);
  const bPart = f32(sum - a);
  const aPart = f32(sum - bPart);
  lowPart = f32(f32(a - aPart) + f32(b - bPart));
  return sum;
}

/** Dekker's Fast2Sum: needs |a| >= |b| (or a == 0). */
function fastTwoSum(a: number, b: number): number {
  const sum = f32(a + b);
  lowPart = f32(b - f32(sum - a));
  return sum;
}

/** 2^12 + 1: Veltkamp's constant that splits a 24-bit significand into two 12-bit halves. */
const SPLITTER = 4097;

/** Dekker's TwoProduct: exact for |a|, |b| < 2^115 whose product error does not underflow. */
function twoProd(a: number, b: number): number {
  const product = f32(a * b);
  const aScaled = f32(SPLITTER * a);
  const aHi = f32(aScaled - f32(aScaled - a));
  const aLo = f32(a - aHi);
  const bScaled = f32(SPLITTER * b);
  const bHi = f32(bScaled - f32(bScaled - b));
  const bLo = f32(b - bHi);
  lowPart = f32(f32(f32(f32(f32(aHi * bHi) - product) + f32(aHi * bLo)) + f32(aLo * bHi)) + f32(aLo * bLo));
  return product;
}

/**
 * (nHi + nLo) / (dHi + dLo) to about 2^-44 relative, rounded once: q = nHi/dHi, then the exact
 * remainder nHi - q*dHi (Sterbenz: q*dHi is within a few ulps of nHi) corrects it. `lowPart` gets the
 * correction so callers may keep the pair.
 */
function divPair(nHi: number, nLo: number, dHi: number, dLo: number): number {
  const q = f32(nHi / dHi);
  const qdHi = twoProd(q, dHi);
  const qdLo = lowPart;
  const remainder = f32(f32(f32(f32(nHi - qdHi) - qdLo) + nLo) - f32(q * dLo));
  lowPart = f32(remainder / dHi);
  return q;
}

// ---- exp core -----------------------------------------------------------------------------------------

const LOG2E = floatOfBits(0x3fb8aa3b); // 1.44269502162933349609375
/** ln2 = LN2_HI + LN2_LO + ~2^-45; LN2_HI has 15 significant bits, so n * LN2_HI is exact for |n| < 512. */
const LN2_HI = floatOfBits(0x3f317200); // 0.693145751953125
const LN2_LO = floatOfBits(0x35bfbe8e); // 1.428606765330187045e-06
/** 1.5 * 2^23: f32(f32(v + M) - M) is v rounded to the nearest integer (ties to even) for |v| <= 2^22. */
const ROUND_MAGIC = 12582912;

// Taylor coefficients 1/3! .. 1/8! of e^r on |r| <= ln2/2: the first omitted term, r^9/9!, is < 2^-32.
const EXP_C3 = floatOfBits(0x3e2aaaab); // 0.16666667163372039794921875
const EXP_C4 = floatOfBits(0x3d2aaaab); // 0.041666667908430099487304688
const EXP_C5 = floatOfBits(0x3c088889); // 0.0083333337679505348205566406
const EXP_C6 = floatOfBits(0x3ab60b61); // 0.0013888889225199818611145020
const EXP_C7 = floatOfBits(0x39500d01); // 0.00019841270113829523324966431
const EXP_C8 = floatOfBits(0x37d00d01); // 0.000024801587642286904156208038

/** The scale exponent n and the low half of the last expCore call. */
let expScale = 0;
let expLow = 0;

/**
 * e^x = (hi + expLow) * 2^expScale for x in [-104, 89], with hi + expLow in [0.70, 1.42] and relative
 * error below 2^-26.5 (the float32 rounding of r^2 * (1/2 + ...) dominates).
 *
 * Reduction (Cody-Waite): n = round(x * log2e) (|n| <= 150) by the 1.5 * 2^23 magic; s = x - n*LN2_HI is
 * exact (n*LN2_HI is a float32, 15 + 8 bits, and a multiple of 2^-16; for n != 0, |x| > 0.34 is a
 * multiple of 2^-25; so s is a multiple of 2^-25, or s = x, below 0.36: it fits 24 bits). TwoSum keeps
 * s - f32(n*LN2_LO) exactly as rh + rl (the rounding of n*LN2_LO, < 2^-36, is the reduction's only
 * error), and e^r = 1 + rh + rh^2 * (1/2 + rh*P(rh)) + rl*(1 + rh) is summed as a pair.
 */
function expCore(x: number): number {
  const nFloat = f32(f32(f32(x * LOG2E) + ROUND_MAGIC) - ROUND_MAGIC);
  expScale = nFloat | 0;
  const s = f32(x - f32(nFloat * LN2_HI));
  const rh = twoSum(s, -f32(nFloat * LN2_LO));
  const rl = lowPart;
  const poly = f32(EXP_C3 + f32(rh * f32(EXP_C4 + f32(rh * f32(EXP_C5 + f32(rh * f32(EXP_C6 + f32(rh * f32(EXP_C7 + f32(rh * EXP_C8))))))))));
  const quadratic = f32(f32(rh * rh) * f32(0.5 + f32(rh * poly)));
  const tail = f32(quadratic + f32(rl + f32(rl * rh)));
  const head = fastTwoSum(1, rh);
  const hi = fastTwoSum(head, f32(lowPart + tail));
  expLow = lowPart;
  return hi;
}

// ---- exp ----------------------------------------------------------------------------------------------

/** Above this e^x rounds to +Inf (e^88.7228394 > 2^128 (1 - 2^-25)); clamping keeps n <= 128. */
const EXP_OVERFLOW_CLAMP = floatOfBits(0x42b20000); // 89
/** Below this e^x < 2^-150 rounds to 0; clamping keeps n >= -150. */
const EXP_UNDERFLOW_CLAMP = floatOfBits(0xc2d00000); // -104

/**
 * e^x within 1 ulp (normal results: 0.5 ulp + 2^-26.5 relative; subnormal results round twice, first
 * to 24 bits then to the subnormal grid). exp(+Inf) = +Inf, exp(-Inf) = +0, exp(NaN) = NaN, overflow to
 * +Inf from x >= 88.7228394 (0x42b17218), underflow to +0 from x <= -103.972084 (0xc2cff1b5).
 */
export function exp(x: number): number {
  // NaN fails both compares and lands on the underflow clamp; the last select returns it.
  const clamped = x > EXP_OVERFLOW_CLAMP ? EXP_OVERFLOW_CLAMP : x >= EXP_UNDERFLOW_CLAMP ? x : EXP_UNDERFLOW_CLAMP;
  const hi = expCore(clamped);
  const y = scaleByPow2(f32(hi + expLow), expScale);
  return x !== x ? x : y;
}

// ---- log ----------------------------------------------------------------------------------------------

const MIN_NORMAL = floatOfBits(0x00800000); // 2^-126
const TWO_POW_23 = 8388608;
/** Mantissa bits of 1.41421354 (0x3fb504f3), the float32 just below sqrt(2). */
const SQRT2_MANTISSA = 0x3504f3;

// log(1+f) = 2 atanh(s), s = f/(2+f), |s| <= 0.1716: R(z) = 2z/3 + 2z^2/5 + ... + 2z^5/11, z = s^2 <= 0.0295;
// the first omitted term, 2z^6/13, is < 2^-33.
const LOG_C1 = floatOfBits(0x3f2aaaab); // 0.666666686534881591796875
const LOG_C2 = floatOfBits(0x3ecccccd); // 0.4000000059604644775390625
const LOG_C3 = floatOfBits(0x3e924925); // 0.2857142984867095947265625
const LOG_C4 = floatOfBits(0x3e638e39); // 0.2222222238779067993164062
const LOG_C5 = floatOfBits(0x3e3a2e8c); // 0.1818181872367858886718750

/**
 * Natural log within 1 ulp (0.5 ulp + ~2^-28 absolute). log(+0) = log(-0) = -Inf, log(x < 0) = NaN,
 * log(+Inf) = +Inf, log(NaN) = NaN, log(1) = +0.
 *
 * x = 2^k * m with m in [sqrt(1/2), sqrt(2)) from the bits (subnormals first scaled by 2^23, exactly);
 * f = m - 1 is exact (Sterbenz). With fdlibm's identity log(1+f) = f - f^2/2 + s*(f^2/2 + R(s^2)), the
 * result is k*LN2_HI + f - f^2/2 (exact pair sums, f^2 by TwoProduct) plus the small terms
 * s*(f^2/2 + R) and k*LN2_LO, rounded once.
 */
export function log(x: number): number {
  const subnormal = x < MIN_NORMAL;
  const bits = bitsOfFloat(subnormal ? f32(x * TWO_POW_23) : x);
  const mantissa = bits & 0x7fffff;
  const halve = mantissa > SQRT2_MANTISSA ? 1 : 0;
  const k = (bits >> 23) - 127 + halve - (subnormal ? 23 : 0);
  const m = floatOfBits(mantissa | ((127 - halve) << 23));
  const f = f32(m - 1);
  const s = f32(f / f32(2 + f));
  const z = f32(s * s);
  const r = f32(z * f32(LOG_C1 + f32(z * f32(LOG_C2 + f32(z * f32(LOG_C3 + f32(z * f32(LOG_C4 + f32(z * LOG_C5)))))))));
  const fSquared = twoProd(f, f);
  const halfSquare = f32(0.5 * fSquared);
  const halfSquareLow = f32(0.5 * lowPart);
  const correction = f32(s * f32(halfSquare + r));
  const sum1 = twoSum(f32(k * LN2_HI), f);
  const sum1Low = lowPart;
  const sum2 = twoSum(sum1, -halfSquare);
  const low = f32(f32(f32(f32(sum1Low + lowPart) - halfSquareLow) + correction) + f32(k * LN2_LO));
  const y = f32(sum2 + low);
  // NaN fails every compare and falls through to NaN.
  return x > 0 ? (x < Infinity ? y : x) : x === 0 ? -Infinity : NaN;
}

// ---- tanh ---------------------------------------------------------------------------------------------

/** Below this |x|, the odd Taylor polynomial; above, 1 - 2e^{-2|x|}/(1 + e^{-2|x|}). */
const TANH_SMALL = floatOfBits(0x3e99999a); // 0.300000011920928955078125
/** tanh(x) rounds to 1 for x > 9.011 (1 - tanh < 2^-25); clamping keeps e^{-2|x|} normal. */
const TANH_CLAMP = floatOfBits(0x41a00000); // 20

// tanh(x) = x + x^3 * T(x^2): Taylor coefficients -1/3, 2/15, -17/315, 62/2835, -1382/155925, 21844/6081075;
// for |x| < 0.3 the first omitted term (x^15) is below 2^-35 |x|.
const TANH_C3 = floatOfBits(0xbeaaaaab); // -0.3333333432674407958984375
const TANH_C5 = floatOfBits(0x3e088889); // 0.1333333402872085571289062
const TANH_C7 = floatOfBits(0xbd5d0dd1); // -0.05396825447678565979003906
const TANH_C9 = floatOfBits(0x3cb327a4); // 0.02186948806047439575195312
const TANH_C11 = floatOfBits(0xbc11371b); // -0.008863235823810100555419922
const TANH_C13 = floatOfBits(0x3b6b69e8); // 0.003592127934098243713378906

/**
 * tanh within 1 ulp. tanh(±0) = ±0, tanh(±Inf) = ±1, tanh(NaN) = NaN; odd, so computed on a = |x|.
 * a < 0.3: a + a*(z*T(z)), z = a^2 (0.5 ulp + < 0.05 ulp). Otherwise, with E = e^{-2|x|} as a pair
 * from expCore: q = 2E / (1 + E) as a pair (divPair), tanh = 1 - q rounded once (0.5 ulp + E's 2^-26.5
 * relative error, which is at most 0.3 ulp of tanh for |x| >= 0.3).
 */
export function tanh(x: number): number {
  const xBits = bitsOfFloat(x);
  const a = floatOfBits(xBits & 0x7fffffff);

  const z = f32(a * a);
  const series = f32(TANH_C3 + f32(z * f32(TANH_C5 + f32(z * f32(TANH_C7 + f32(z * f32(TANH_C9 + f32(z * f32(TANH_C11 + f32(z * TANH_C13))))))))));
  const small = f32(a + f32(a * f32(z * series)));

  const clamped = a < TANH_CLAMP ? a : TANH_CLAMP; // NaN lands on the clamp; the last select returns it
  const hi = expCore(f32(-2 * clamped));
  const scale = pow2(expScale); // expScale in [-58, -1]: E and its low part scale exactly
  const eHi = f32(hi * scale);
  const eLo = f32(expLow * scale);
  const denomHi = fastTwoSum(1, eHi);
  const denomLo = f32(lowPart + eLo);
  const qHi = divPair(f32(2 * eHi), f32(2 * eLo), denomHi, denomLo);
  const qLo = lowPart;
  const oneMinusQ = fastTwoSum(1, -qHi); // q < 1
  const large = f32(oneMinusQ + f32(lowPart - qLo));

  // tanh(|x|) >= +0; the sign bit of x is put back by an OR, so tanh(-0) = -0.
  const magnitude = a < TANH_SMALL ? small : large;
  return x !== x ? x : floatOfBits(bitsOfFloat(magnitude) | (xBits & SIGN_BIT));
}

// ---- sigmoid ------------------------------------------------------------------------------------------

/**
 * 1 / (1 + e^{-x}) within 1 ulp. sigmoid(+Inf) = 1, sigmoid(-Inf) = +0, sigmoid(NaN) = NaN; results
 * below 2^-126 (x < -87.3) are subnormal and round twice like exp's.
 *
 * With E = e^{-|x|} = (hi + lo) * 2^n from expCore (the argument clamped to -104, below which
 * sigmoid(x) < 2^-150 rounds to 0): sigmoid(x) = 1 / (1 + E) for x >= 0 and (hi + lo) / (1 + E) * 2^n for
 * x < 0. 1 + E and the quotient are pairs; the quotient is rounded once and then scaled.
 */
export function sigmoid(x: number): number {
  const negAbs = x < 0 ? x : -x;
  const clamped = negAbs >= EXP_UNDERFLOW_CLAMP ? negAbs : EXP_UNDERFLOW_CLAMP; // NaN lands here too
  const hi = expCore(clamped);
  const lo = expLow;
  const n = expScale;
  // E at its true scale: exact unless E < 2^-100, where only 1 + E == 1 uses it.
  const scaleHalf = pow2(n >> 1);
  const scaleRest = pow2(n - (n >> 1));
  const eHi = f32(f32(hi * scaleHalf) * scaleRest);
  const eLo = f32(f32(lo * scaleHalf) * scaleRest);
  const denomHi = fastTwoSum(1, eHi);
  const denomLo = f32(lowPart + eLo);
  const negative = x < 0;
  const qHi = divPair(negative ? hi : 1, negative ? lo : 0, denomHi, denomLo);
  const q = f32(qHi + lowPart);
  const y = negative ? scaleByPow2(q, n) : q;
  return x !== x ? x : y;
}

// ---- gelu ---------------------------------------------------------------------------------------------

const SQRT_2_OVER_PI = floatOfBits(0x3f4c422a); // 0.79788458347320556640625
const GELU_CUBIC = floatOfBits(0x3d372713); // 0.044714998453855514526367188

/**
 * gelu, tanh form, as exactly this composition (its accuracy is that of the composition, not 1 ulp: the
 * rounding of u is amplified by sigmoid's slope, about |2u| ulps relative, for large |x|):
 *   inner = x + GELU_CUBIC * ((x * x) * x);  u = SQRT_2_OVER_PI * inner;  y = x * sigmoid(2 * u)
 * x * sigmoid(2u) equals 0.5x(1 + tanh u) but does not cancel for negative x, where 1 + tanh u loses
 * every bit (x < -3). gelu(+Inf) = +Inf, gelu(NaN) = NaN, and gelu(-Inf) = -0, the limit that finite
 * negative x already reach (sigmoid rounds to +0), where the composition itself would give -Inf * 0 = NaN.
 */
export function gelu(x: number): number {
  const inner = f32(x + f32(GELU_CUBIC * f32(f32(x * x) * x)));
  const u = f32(SQRT_2_OVER_PI * inner);
  const y = f32(x * sigmoid(f32(2 * u)));
  return x === -Infinity ? -0 : y;
}

/** 2 * SQRT_2_OVER_PI (exact: a doubling). */
const TWO_SQRT_2_OVER_PI = floatOfBits(0x3fcc422a); // 1.59576916694641113281
/** 3 * GELU_CUBIC rounded to float32 (0.13414499536...). */
const THREE_GELU_CUBIC = floatOfBits(0x3e095d4e); // 0.13414499163627624512

/**
 * d/dx gelu(x) for gelu's formula, x * s with s = sigmoid(2u), u = c (x + a x^3):
 *   gelu'(x) = s + x * s (1 - s) * 2c (1 + 3a x^2)
 * as exactly this straight-line program (each step one float32 rounding; the first five are gelu's):
 *    1. x2 = x * x                  2. x3 = x2 * x               3. ax3 = GELU_CUBIC * x3
 *    4. inner = x + ax3             5. u = SQRT_2_OVER_PI * inner 6. z = 2 * u
 *    7. s = sigmoid(z)              8. oneMinusS = 1 - s          9. ds = s * oneMinusS
 *   10. p = THREE_GELU_CUBIC * x2  11. q = 1 + p                 12. du = TWO_SQRT_2_OVER_PI * q
 *   13. t = x * du                 14. prod = t * ds             15. term = ds > 0 ? prod : +0
 *   16. y = s + term
 * Step 15 guards the product where s(1 - s) = 0 (s = 1 from x > ~4.9, s = 0 from x < ~-10.9, and ±Inf), where t may be
 * ±Inf and t * 0 would be NaN; the true term there is below 2^-20 (x > 0) or 0 (x < 0).
 * Special values: geluGrad(+Inf) = 1, geluGrad(-Inf) = +0, geluGrad(NaN) = NaN (from s, through 16),
 * geluGrad(±0) = 0.5. Accuracy is that of the composition, not 1 ulp: for x > 0, 1 - s inherits s's
 * absolute error (and is 0 once s rounds to 1, x > ~4.9), an error of up to ~2^-19 absolute on a
 * result near 1; for x < 0 the rounding of u is amplified by the slope, as in gelu; near the zero of
 * gelu' (x = -0.7518) the two terms cancel and only the absolute error (~2^-24) is meaningful.
 */
export function geluGrad(x: number): number {
  const x2 = f32(x * x);
  const inner = f32(x + f32(GELU_CUBIC * f32(x2 * x)));
  const u = f32(SQRT_2_OVER_PI * inner);
  const s = sigmoid(f32(2 * u));
  const ds = f32(s * f32(1 - s));
  const du = f32(TWO_SQRT_2_OVER_PI * f32(1 + f32(THREE_GELU_CUBIC * x2)));
  const prod = f32(f32(x * du) * ds);
  const term = ds > 0 ? prod : 0;
  return f32(s + term);
}

// ---- sinpi, cospi -------------------------------------------------------------------------------------

const TWO_POW_24 = 16777216;
const TWO_POW_60 = floatOfBits(0x5d800000); // 2^60
const TWO_POW_MINUS_60 = floatOfBits(0x21800000); // 2^-60
const TWO_POW_MINUS_64 = floatOfBits(0x1f800000); // 2^-64

/** π = PI_HI + PI_LO + ~2^-49. */
const PI_HI = floatOfBits(0x40490fdb); // 3.1415927410125732421875
const PI_LO = floatOfBits(0xb3bbbd2e); // -8.742277657347585773e-08
// sin(πr) = πr + r^3 * S(r^2) on |r| <= 1/4: Taylor coefficients (-1)^k π^(2k+1)/(2k+1)!, k = 1..5;
// the first omitted term is < 2^-30 |πr|.
const SIN_C3 = floatOfBits(0xc0a55de7); // -5.16771268844604492188
const SIN_C5 = floatOfBits(0x402335e3); // 2.55016398429870605469
const SIN_C7 = floatOfBits(0xbf196966); // -0.599264502525329589844
const SIN_C9 = floatOfBits(0x3da83c1a); // 0.0821458846330642700195
const SIN_C11 = floatOfBits(0xbbf183a8); // -0.00737043097615242004395
/** π^2/2 = HALF_PI_SQUARED_HI + HALF_PI_SQUARED_LO + ~2^-47. */
const HALF_PI_SQUARED_HI = floatOfBits(0x409de9e6); // 4.93480205535888671875
const HALF_PI_SQUARED_LO = floatOfBits(0x341be45e); // 1.451857940537593e-07
// cos(πr) = 1 - r^2 * (π^2/2 - r^2 * C(r^2)): Taylor coefficients (-1)^k π^(2k)/(2k)!, k = 2..6, negated
// into C; the first omitted term is < 2^-38.
const COS_C4 = floatOfBits(0x4081e0f8); // 4.05871200561523437500
const COS_C6 = floatOfBits(0xbfaae9e4); // -1.33526277542114257812
const COS_C8 = floatOfBits(0x3e70fa83); // 0.235330626368522644043
const COS_C10 = floatOfBits(0xbcd368f9); // -0.0258068908005952835083
const COS_C12 = floatOfBits(0x3afce9c5); // 0.00192957429680973291397

/**
 * sin(πr) for |r| <= 1/4 given z = r^2: πr exactly as a pair (TwoProduct), plus the cubic-and-up tail,
 * rounded once. sinpi passes tiny r pre-scaled by 2^60 with z of the unscaled r; the tail is then
 * below 2^-120 of πr, so the result is π times the scaled r.
 */
function sinPiKernel(r: number, z: number): number {
  const piR = twoProd(r, PI_HI);
  const piRLow = lowPart;
  const series = f32(SIN_C3 + f32(z * f32(SIN_C5 + f32(z * f32(SIN_C7 + f32(z * f32(SIN_C9 + f32(z * SIN_C11))))))));
  const tail = f32(f32(r * PI_LO) + f32(f32(r * z) * series));
  return f32(piR + f32(piRLow + tail));
}

/** cos(πr) for |r| <= 1/4: 1 - v with v = r^2 (π^2/2 - r^2 C(r^2)) <= 0.31 as a pair, rounded once. */
function cosPiKernel(r: number): number {
  const zHi = twoProd(r, r);
  const zLo = lowPart;
  const c = f32(zHi * f32(COS_C4 + f32(zHi * f32(COS_C6 + f32(zHi * f32(COS_C8 + f32(zHi * f32(COS_C10 + f32(zHi * COS_C12)))))))));
  const uHi = fastTwoSum(HALF_PI_SQUARED_HI, -c);
  const uLo = f32(lowPart + HALF_PI_SQUARED_LO);
  const vHi = twoProd(zHi, uHi);
  const vLo = f32(f32(lowPart + f32(zHi * uLo)) + f32(zLo * uHi));
  const oneMinusV = fastTwoSum(1, -vHi);
  return f32(oneMinusV + f32(lowPart - vLo));
}

/** The quadrant (j mod 4) of the last reduceHalfTurns call. */
let halfTurnQuadrant = 0;

/**
 * For a = |x| (not NaN): returns r with a = j/2 + r, j an integer, |r| <= 1/4, and j mod 4 in
 * halfTurnQuadrant. All exact: a >= 2^24 is an even integer (same as 0; Inf maps here too and the
 * callers return NaN); 2a is exact; j = round(2a) by the 2^23 magic (valid for 0 <= 2a < 2^23; larger
 * 2a are integers already); j <= 2^25 converts exactly; r = a - j/2 is a multiple of ulp(a) (j/2 is a
 * multiple of 1/2 >= ulp(a) whenever j != 0) and |r| <= 1/4 fits 24 bits, so no rounding happens.
 */
function reduceHalfTurns(a: number): number {
  const reduced = a < TWO_POW_24 ? a : 0;
  const twice = f32(2 * reduced);
  const j = twice < TWO_POW_23 ? f32(f32(twice + TWO_POW_23) - TWO_POW_23) : twice;
  halfTurnQuadrant = (j | 0) & 3;
  return f32(reduced - f32(0.5 * j));
}

/**
 * sin(πx) within 1 ulp (subnormal results, |x| < 2^-127.3, round twice). The π-scaled form reduces exactly (reduceHalfTurns), unlike sin(x), whose
 * reduction needs π to hundreds of bits; that is why the RNG's Box-Muller asks for sinpi(2u).
 * sinpi(±Inf) = NaN, sinpi(NaN) = NaN; odd, and sinpi(±n) = ±0 for integers n (IEEE 754 sinPi).
 */
export function sinpi(x: number): number {
  const xBits = bitsOfFloat(x);
  const a = floatOfBits(xBits & 0x7fffffff);
  const r = reduceHalfTurns(a);
  const quadrant = halfTurnQuadrant;
  // Tiny a (then j == 0 and r == a) would make TwoProduct's partial products underflow: evaluate at
  // r * 2^60 (exact, and still < 1/16) and scale back (exact, or one more rounding if subnormal).
  const tiny = a < TWO_POW_MINUS_64;
  const sScaled = sinPiKernel(tiny ? f32(r * TWO_POW_60) : r, f32(r * r));
  const s = tiny ? f32(sScaled * TWO_POW_MINUS_60) : sScaled;
  const c = cosPiKernel(r);
  const magnitude = quadrant === 0 ? s : quadrant === 1 ? c : quadrant === 2 ? -s : -c;
  const unsignedZeroed = magnitude === 0 ? 0 : magnitude; // -0 from -sin(0) becomes +0
  const y = floatOfBits(bitsOfFloat(unsignedZeroed) ^ (xBits & SIGN_BIT));
  return a < Infinity ? y : NaN;
}

/**
 * cos(πx) within 1 ulp, reduced exactly as sinpi. cospi(±Inf) = NaN, cospi(NaN) = NaN; even, and
 * cospi(n + 1/2) = +0 (IEEE 754 cosPi).
 */
export function cospi(x: number): number {
  const a = floatOfBits(bitsOfFloat(x) & 0x7fffffff);
  const r = reduceHalfTurns(a);
  const quadrant = halfTurnQuadrant;
  const s = sinPiKernel(r, f32(r * r));
  const c = cosPiKernel(r);
  const y = quadrant === 0 ? c : quadrant === 1 ? -s : quadrant === 2 ? -c : s;
  return a < Infinity ? (y === 0 ? 0 : y) : NaN;
}

// ---- array versions -----------------------------------------------------------------------------------
// One loop per function (a shared higher-order loop would make the call site megamorphic); each writes
// exactly the scalar function's value. dst may be src.

function checkLengths(name: string, src: Float32Array, dst: Float32Array): void {
  if (dst.length < src.length) {
    throw new RangeError(`${name}: dst has ${dst.length} elements but src has ${src.length}; pass a dst at least as long as src.`);
  }
}

export function expArray(src: Float32Array, dst: Float32Array): void {
  checkLengths('expArray', src, dst);
  for (let i = 0; i < src.length; i++) dst[i] = exp(src[i]);
}

export function logArray(src: Float32Array, dst: Float32Array): void {
  checkLengths('logArray', src, dst);
  for (let i = 0; i < src.length; i++) dst[i] = log(src[i]);
}

export function tanhArray(src: Float32Array, dst: Float32Array): void {
  checkLengths('tanhArray', src, dst);
  for (let i = 0; i < src.length; i++) dst[i] = tanh(src[i]);
}

export function sigmoidArray(src: Float32Array, dst: Float32Array): void {
  checkLengths('sigmoidArray', src, dst);
  for (let i = 0; i < src.length; i++) dst[i] = sigmoid(src[i]);
}

export function geluArray(src: Float32Array, dst: Float32Array): void {
  checkLengths('geluArray', src, dst);
  for (let i = 0; i < src.length; i++) dst[i] = gelu(src[i]);
}

export function geluGradArray(src: Float32Array, dst: Float32Array): void {
  checkLengths('geluGradArray', src, dst);
  for (let i = 0; i < src.length; i++) dst[i] = geluGrad(src[i]);
}

export function sinpiArray(src: Float32Array, dst: Float32Array): void {
  checkLengths('sinpiArray', src, dst);
  for (let i = 0; i < src.length; i++) dst[i] = sinpi(src[i]);
}

export function cospiArray(src: Float32Array, dst: Float32Array): void {
  checkLengths('cospiArray', src, dst);
  for (let i = 0; i < src.length; i++) dst[i] = cospi(src[i]);
}
