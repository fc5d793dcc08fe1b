/*
 * src/tensor/math.ts's exp, log, tanh, sigmoid, gelu and geluGrad in C, operation for operation: each line is the
 * same float32 + - * / (one IEEE rounding each: this file is compiled with -ffp-contract=off and x86-64/ARMv8
 * evaluate float in float, FLT_EVAL_METHOD 0), the same compares and selects, the same exact int<->float
 * conversions and bit casts, in the same order. No libm. A change in math.ts must be made here too (and in
 * kernels/math.wat); test/tensor/native-elementwise.test.ts compares the bits of all three.
 *
 * JavaScript's module slots (lowPart, expScale, expLow) become out-parameters. Everything is static inline and
 * branch-free (selects, not jumps), so the array loops in elementwise.c vectorise.
 */
#ifndef MYCEL_MATH32_H
#define MYCEL_MATH32_H
#include <stdint.h>
#include <string.h>

static inline int32_t m32_bits(float x) {
  int32_t b;
  memcpy(&b, &x, 4);
  return b;
}
static inline float m32_float(int32_t b) {
  float x;
  memcpy(&x, &b, 4);
  return x;
}
static inline float m32_pow2(int32_t n) { return m32_float((n + 127) << 23); }
static inline float m32_scale(float y, int32_t n) {
  const int32_t half = n >> 1;
  return (y * m32_pow2(half)) * m32_pow2(n - half);
}

static inline float m32_two_sum(float a, float b, float *low) {
  const float sum = a + b;
  const float bpart = sum - a;
  const float apart = sum - bpart;
  *low = (a - apart) + (b - bpart);
  return sum;
}
static inline float m32_fast_two_sum(float a, float b, float *low) {
  const float sum = a + b;
  *low = b - (sum - a);
  return sum;
}
static inline float m32_two_prod(float a, float b, float *low) {
  const float product = a * b;
  const float as = 4097.0f * a;
  const float ahi = as - (as - a);
  const float alo = a - ahi;
  const float bs = 4097.0f * b;
  const float bhi = bs - (bs - b);
  const float blo = b - bhi;
  *low = ((((ahi * bhi) - product) + (ahi * blo)) + (alo * bhi)) + (alo * blo);
  return product;
}
static inline float m32_div_pair(float nhi, float nlo, float dhi, float dlo, float *low) {
  const float q = nhi / dhi;
  float qdlo;
  const float qdhi = m32_two_prod(q, dhi, &qdlo);
  const float remainder = (((nhi - qdhi) - qdlo) + nlo) - (q * dlo);
  *low = remainder / dhi;
  return q;
}

#define M32_LOG2E m32_float(0x3fb8aa3b)
#define M32_LN2_HI m32_float(0x3f317200)
#define M32_LN2_LO m32_float(0x35bfbe8e)
#define M32_ROUND_MAGIC 12582912.0f

/* math.ts expCore: returns hi, with *low and *scale. */
static inline float m32_exp_core(float x, float *low, int32_t *scale) {
  const float nf = ((x * M32_LOG2E) + M32_ROUND_MAGIC) - M32_ROUND_MAGIC;
  *scale = (int32_t)nf;
  const float s = x - (nf * M32_LN2_HI);
  float rl;
  const float rh = m32_two_sum(s, -(nf * M32_LN2_LO), &rl);
  const float poly = m32_float(0x3e2aaaab) + (rh * (m32_float(0x3d2aaaab) + (rh * (m32_float(0x3c088889) +
      (rh * (m32_float(0x3ab60b61) + (rh * (m32_float(0x39500d01) + (rh * m32_float(0x37d00d01))))))))));
  const float quadratic = (rh * rh) * (0.5f + (rh * poly));
  const float tail = quadratic + (rl + (rl * rh));
  float l1, l2;
  const float head = m32_fast_two_sum(1.0f, rh, &l1);
  const float hi = m32_fast_two_sum(head, l1 + tail, &l2);
  *low = l2;
  return hi;
}

#define M32_EXP_OVER m32_float(0x42b20000)
#define M32_EXP_UNDER m32_float((int32_t)0xc2d00000)

static inline float m32_exp(float x) {
  const float clamped = x > M32_EXP_OVER ? M32_EXP_OVER : x >= M32_EXP_UNDER ? x : M32_EXP_UNDER;
  float low;
  int32_t scale;
  const float hi = m32_exp_core(clamped, &low, &scale);
  const float y = m32_scale(hi + low, scale);
  return x != x ? x : y;
}

static inline float m32_log(float x) {
  const int subnormal = x < m32_float(0x00800000);
  const int32_t bits = m32_bits(subnormal ? x * 8388608.0f : x);
  const int32_t mantissa = bits & 0x7fffff;
  const int32_t halve = mantissa > 0x3504f3 ? 1 : 0;
  const int32_t k = (bits >> 23) - 127 + halve - (subnormal ? 23 : 0);
  const float m = m32_float(mantissa | ((127 - halve) << 23));
  const float f = m - 1.0f;
  const float s = f / (2.0f + f);
  const float z = s * s;
  const float r = z * (m32_float(0x3f2aaaab) + (z * (m32_float(0x3ecccccd) + (z * (m32_float(0x3e924925) +
      (z * (m32_float(0x3e638e39) + (z * m32_float(0x3e3a2e8c)))))))));
  float fsl, l1, l2;
  const float fsq = m32_two_prod(f, f, &fsl);
  const float half_square = 0.5f * fsq;
  const float half_square_low = 0.5f * fsl;
  const float correction = s * (half_square + r);
  const float kf = (float)k;
  const float sum1 = m32_two_sum(kf * M32_LN2_HI, f, &l1);
  const float sum2 = m32_two_sum(sum1, -half_square, &l2);
  const float low = (((l1 + l2) - half_square_low) + correction) + (kf * M32_LN2_LO);
  const float y = sum2 + low;
  return x > 0.0f ? (x < __builtin_inff() ? y : x) : x == 0.0f ? -__builtin_inff() : __builtin_nanf("");
}

static inline float m32_tanh(float x) {
  const int32_t xbits = m32_bits(x);
  const float a = m32_float(xbits & 0x7fffffff);
  const float z = a * a;
  const float series = m32_float((int32_t)0xbeaaaaab) + (z * (m32_float(0x3e088889) + (z * (m32_float((int32_t)0xbd5d0dd1) +
      (z * (m32_float(0x3cb327a4) + (z * (m32_float((int32_t)0xbc11371b) + (z * m32_float(0x3b6b69e8))))))))));
  const float small = a + (a * (z * series));
  const float clamp = m32_float(0x41a00000);
  const float clamped = a < clamp ? a : clamp;
  float elow, l1, qlo, l2;
  int32_t escale;
  const float hi = m32_exp_core(-2.0f * clamped, &elow, &escale);
  const float scale = m32_pow2(escale);
  const float ehi = hi * scale;
  const float elo = elow * scale;
  const float dhi = m32_fast_two_sum(1.0f, ehi, &l1);
  const float dlo = l1 + elo;
  const float qhi = m32_div_pair(2.0f * ehi, 2.0f * elo, dhi, dlo, &qlo);
  const float one_minus_q = m32_fast_two_sum(1.0f, -qhi, &l2);
  const float large = one_minus_q + (l2 - qlo);
  const float magnitude = a < m32_float(0x3e99999a) ? small : large;
  return x != x ? x : m32_float(m32_bits(magnitude) | (xbits & (int32_t)0x80000000));
}

static inline float m32_sigmoid(float x) {
  const float neg_abs = x < 0.0f ? x : -x;
  const float clamped = neg_abs >= M32_EXP_UNDER ? neg_abs : M32_EXP_UNDER;
  float lo, l1, l2;
  int32_t n;
  const float hi = m32_exp_core(clamped, &lo, &n);
  const float scale_half = m32_pow2(n >> 1);
  const float scale_rest = m32_pow2(n - (n >> 1));
  const float ehi = (hi * scale_half) * scale_rest;
  const float elo = (lo * scale_half) * scale_rest;
  const float dhi = m32_fast_two_sum(1.0f, ehi, &l1);
  const float dlo = l1 + elo;
  const int negative = x < 0.0f;
  const float qhi = m32_div_pair(negative ? hi : 1.0f, negative ? lo : 0.0f, dhi, dlo, &l2);
  const float q = qhi + l2;
  const float y = negative ? m32_scale(q, n) : q;
  return x != x ? x : y;
}

#define M32_SQRT_2_OVER_PI m32_float(0x3f4c422a)
#define M32_GELU_CUBIC m32_float(0x3d372713)

static inline float m32_gelu(float x) {
  const float inner = x + (M32_GELU_CUBIC * ((x * x) * x));
  const float u = M32_SQRT_2_OVER_PI * inner;
  const float y = x * m32_sigmoid(2.0f * u);
  return x == -__builtin_inff() ? -0.0f : y;
}

static inline float m32_gelu_grad(float x) {
  const float x2 = x * x;
  const float inner = x + (M32_GELU_CUBIC * (x2 * x));
  const float u = M32_SQRT_2_OVER_PI * inner;
  const float s = m32_sigmoid(2.0f * u);
  const float ds = s * (1.0f - s);
  const float du = m32_float(0x3fcc422a) * (1.0f + (m32_float(0x3e095d4e) * x2));
  const float prod = (x * du) * ds;
  const float term = ds > 0.0f ? prod : 0.0f;
  return s + term;
}
#endif
