/*
 * mycel's native elementwise, movement, reduction and row kernels (part of the Node-API addon), bit-identical
 * to src/tensor/kernels/reference.ts, the specification: every float result is one IEEE binary32 operation
 * (-ffp-contract=off, FLT_EVAL_METHOD 0 on x86-64 and ARMv8), reductions run j ascending from +0 (or -Inf) one
 * rounding per step, never reassociated (a vector runs across independent outputs, never along a sum), copies
 * move bits, and every NaN written is the canonical 0x7fc00000. The transcendental functions are math.ts's,
 * ported operation for operation in math32.h (no libm).
 *
 * The loops are plain C written to vectorise (selects, restrict, no calls). -fno-trapping-math (the pragma) lets
 * the compiler evaluate both sides of a select, as the vector code must, and -fno-math-errno (build-native.mjs)
 * lets sqrt be the sqrt instruction alone; neither changes a value (only the floating-point exception flags and
 * errno, which nothing reads). The unary math loop is compiled
 * three times, for AVX-512, AVX2 and the baseline, and picked by CPU features at load (the same bits: only
 * the lane count differs). The binary, where, math, row and reduction kernels and AdamW split a large tensor's output
 * (elements, rows, or whole sums) over the addon's thread pool (pool.c): each part is computed exactly as a single
 * thread would; copies stay on one thread. Broadcasting walks the output row-major with one stride per input and axis, as
 * reference.ts's forEachRow; the layout comes from JavaScript (native-elementwise.ts), checked here against
 * every array's length before a single element is read.
 */
#pragma GCC optimize("O3", "no-trapping-math")
#define NAPI_VERSION 8
#include <node_api.h>
#include "elementwise.h"
#include "math32.h"
#include "pool.h"
#include <stdint.h>
#include <string.h>

#define CANON 0x7fc00000u
#define MAX_RANK 16

static inline float canon_nan(void) { return m32_float((int32_t)CANON); }
static inline float keep_or_canon(float v) { return v != v ? canon_nan() : v; }

/* IEEE 754-2019 maximum/minimum as f32.ts's fmax/fmin: NaN if either is NaN; -0 < +0. */
static inline float fmax32(float a, float b) {
  const float zero_pick = (m32_bits(a) < 0) ? b : a; /* both zero: -0 loses */
  const float r = (a == 0.0f && b == 0.0f) ? zero_pick : (a > b ? a : b);
  return (a != a || b != b) ? canon_nan() : r;
}
static inline float fmin32(float a, float b) {
  const float zero_pick = (m32_bits(a) < 0) ? a : b; /* both zero: -0 wins */
  const float r = (a == 0.0f && b == 0.0f) ? zero_pick : (a < b ? a : b);
  return (a != a || b != b) ? canon_nan() : r;
}

/* ---------------------------------------------------------------- strided walks */

/* The output's shape and, for each of up to three inputs, its stride (elements) on every output axis. */
typedef struct {
  int rank;
  int64_t shape[MAX_RANK];
  int64_t strides[3][MAX_RANK];
} layout;

/* The number of innermost rows of the output (the product of every axis but the last; 1 for a scalar). */
static int64_t layout_rows(const layout *l) {
  int64_t rows = 1;
  for (int d = 0; d < l->rank - 1; d++) rows *= l->shape[d];
  return rows;
}

/*
 * Calls ROW(o, p0, p1, p2, n) for the innermost output rows R0 <= r < R1, in row-major order, with the offsets
 * of the inputs; an odometer over the outer axes as strided.ts's forEachRow, started at row R0.
 */
#define WALK_RANGE(L, R0, R1, ROW)                                                         \
  do {                                                                                     \
    const int rank_ = (L)->rank;                                                           \
    if (rank_ == 0) {                                                                      \
      if ((R0) == 0 && (R1) > 0) ROW(0, 0, 0, 0, 1);                                       \
      break;                                                                               \
    }                                                                                      \
    const int64_t len_ = (L)->shape[rank_ - 1];                                            \
    if (len_ == 0 || layout_rows(L) == 0) break;                                           \
    int64_t index_[MAX_RANK] = {0};                                                        \
    int64_t p0_ = 0, p1_ = 0, p2_ = 0;                                                     \
    for (int64_t d_ = rank_ - 2, rem_ = (R0); d_ >= 0; d_--) {                             \
      index_[d_] = rem_ % (L)->shape[d_];                                                  \
      rem_ /= (L)->shape[d_];                                                              \
      p0_ += index_[d_] * (L)->strides[0][d_];                                             \
      p1_ += index_[d_] * (L)->strides[1][d_];                                             \
      p2_ += index_[d_] * (L)->strides[2][d_];                                             \
    }                                                                                      \
    for (int64_t r_ = (R0); r_ < (R1); r_++) {                                             \
      ROW(r_ * len_, p0_, p1_, p2_, len_);                                                 \
      for (int d_ = rank_ - 2; d_ >= 0; d_--) {                                            \
        index_[d_]++;                                                                      \
        p0_ += (L)->strides[0][d_];                                                        \
        p1_ += (L)->strides[1][d_];                                                        \
        p2_ += (L)->strides[2][d_];                                                        \
        if (index_[d_] < (L)->shape[d_]) break;                                            \
        p0_ -= (L)->strides[0][d_] * (L)->shape[d_];                                       \
        p1_ -= (L)->strides[1][d_] * (L)->shape[d_];                                       \
        p2_ -= (L)->strides[2][d_] * (L)->shape[d_];                                       \
        index_[d_] = 0;                                                                    \
      }                                                                                    \
    }                                                                                      \
  } while (0)

static int64_t layout_size(const layout *l) {
  int64_t n = 1;
  for (int d = 0; d < l->rank; d++) n *= l->shape[d];
  return n;
}

/* The last element input `which` reaches, plus one (0 for an empty output). */
static int64_t layout_reach(const layout *l, int which) {
  if (layout_size(l) == 0) return 0;
  int64_t last = 0;
  for (int d = 0; d < l->rank; d++) last += (l->shape[d] - 1) * l->strides[which][d];
  return last + 1;
}

/* ---------------------------------------------------------------- binary */

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN };

#define BINARY_LOOP(EXPR, IA, IB)                                                          \
  for (int64_t i = 0; i < n; i++) {                                                        \
    const float x = a[(IA) * i], y = b[(IB) * i];                                          \
    out[i] = keep_or_canon(EXPR);                                                          \
  }

#define BINARY_OP(EXPR)                                                                    \
  if (ia == 1 && ib == 1) { BINARY_LOOP(EXPR, 1, 1) }                                      \
  else if (ia == 1 && ib == 0) { BINARY_LOOP(EXPR, 1, 0) }                                 \
  else if (ia == 0 && ib == 1) { BINARY_LOOP(EXPR, 0, 1) }                                 \
  else { BINARY_LOOP(EXPR, ia, ib) }

/* out[i] = a[i * ia] (op) b[i * ib] for i < n. */
static void binary_row(int op, const float *restrict a, int64_t ia, const float *restrict b, int64_t ib,
                       float *restrict out, int64_t n) {
  switch (op) {
    case OP_ADD: BINARY_OP(x + y) break;
    case OP_SUB: BINARY_OP(x - y) break;
    case OP_MUL: BINARY_OP(x * y) break;
    case OP_DIV: BINARY_OP(x / y) break;
    case OP_MAX: BINARY_OP(fmax32(x, y)) break;
    case OP_MIN: BINARY_OP(fmin32(x, y)) break;
  }
}

/* Output rows r0 <= r < r1. */
static void binary(int op, const float *a, const float *b, float *out, const layout *l, int64_t r0, int64_t r1) {
  const int last = l->rank - 1;
  const int64_t ia = last >= 0 ? l->strides[0][last] : 0, ib = last >= 0 ? l->strides[1][last] : 0;
#define BINARY_ROW(o, pa, pb, pc, len) binary_row(op, a + (pa), ia, b + (pb), ib, out + (o), len)
  WALK_RANGE(l, r0, r1, BINARY_ROW);
#undef BINARY_ROW
}

/* ---------------------------------------------------------------- where and copies (bits) */

/* Output rows r0 <= r < r1. */
static void where(const int32_t *cond, const uint32_t *a, const uint32_t *b, uint32_t *out, const layout *l, int64_t r0, int64_t r1) {
  const int last = l->rank - 1;
  const int64_t ic = last >= 0 ? l->strides[0][last] : 0, ia = last >= 0 ? l->strides[1][last] : 0,
                ib = last >= 0 ? l->strides[2][last] : 0;
#define WHERE_ROW(o, pc, pa, pb, len)                                                                    \
  {                                                                                                      \
    const int32_t *restrict c_ = cond + (pc);                                                            \
    const uint32_t *restrict a_ = a + (pa), *restrict b_ = b + (pb);                                     \
    uint32_t *restrict o_ = out + (o);                                                                   \
    if (ic == 1 && ia == 1 && ib == 1)                                                                   \
      for (int64_t i = 0; i < (len); i++) o_[i] = c_[i] != 0 ? a_[i] : b_[i];                            \
    else if (ic == 1 && ia == 1 && ib == 0)                                                              \
      for (int64_t i = 0; i < (len); i++) o_[i] = c_[i] != 0 ? a_[i] : b_[0];                            \
    else if (ic == 1 && ia == 0 && ib == 1)                                                              \
      for (int64_t i = 0; i < (len); i++) o_[i] = c_[i] != 0 ? a_[0] : b_[i];                            \
    else                                                                                                 \
      for (int64_t i = 0; i < (len); i++) o_[i] = c_[i * ic] != 0 ? a_[i * ia] : b_[i * ib];             \
  }
  WALK_RANGE(l, r0, r1, WHERE_ROW);
#undef WHERE_ROW
}

/* out = x read through the layout's strides (permute, expand), output rows r0 <= r < r1. */
static void copy(const uint32_t *x, uint32_t *out, const layout *l, int64_t r0, int64_t r1) {
  const int last = l->rank - 1;
  const int64_t ix = last >= 0 ? l->strides[0][last] : 0;
#define COPY_ROW(o, px, p1, p2, len)                                                                     \
  {                                                                                                      \
    const uint32_t *restrict x_ = x + (px);                                                              \
    uint32_t *restrict o_ = out + (o);                                                                   \
    if (ix == 1) memcpy(o_, x_, sizeof(uint32_t) * (len));                                               \
    else if (ix == 0)                                                                                    \
      for (int64_t i = 0; i < (len); i++) o_[i] = x_[0];                                                 \
    else                                                                                                 \
      for (int64_t i = 0; i < (len); i++) o_[i] = x_[i * ix];                                            \
  }
  WALK_RANGE(l, r0, r1, COPY_ROW);
#undef COPY_ROW
}

/* ---------------------------------------------------------------- reductions */

/*
 * A sum along a row is one chain of dependent additions, as slow as the adder's latency. The row kernels below
 * run the chains of up to RB rows side by side: each row's chain is still j ascending from its start value, one
 * rounding per step, exactly as alone; the CPU only overlaps independent rows' additions.
 */
#define RB 8
#define INLINE static inline __attribute__((always_inline))

/* s[r] = the sum (from +0) or fmax (from -Inf) of row r of x [nr, n], r < nr <= RB, j ascending. */
INLINE void fold_rows(int is_max, const float *x, int64_t n, int nr, float *s) {
  float acc[RB];
  for (int r = 0; r < nr; r++) acc[r] = is_max ? -__builtin_inff() : 0.0f;
  for (int64_t j = 0; j < n; j++)
    for (int r = 0; r < nr; r++) acc[r] = is_max ? fmax32(acc[r], x[r * n + j]) : acc[r] + x[r * n + j];
  for (int r = 0; r < nr; r++) s[r] = acc[r];
}

/* Calls BODY(r0, nr) for blocks of RB rows, then the remaining rows one block of fewer (nr constant in the first). */
#define ROW_BLOCKS(rows, BODY)                                                            \
  do {                                                                                    \
    int64_t r0_ = 0;                                                                      \
    for (; r0_ + RB <= (rows); r0_ += RB) BODY(r0_, RB);                                  \
    if (r0_ < (rows)) BODY(r0_, (int)((rows) - r0_));                                     \
  } while (0)

/* reference.ts reduce: the middle axis of x [outer, n, inner]; sum from +0, max from -Inf, j ascending; outer
 * slices o0 <= o < o1. */
static void reduce(int is_max, const float *x, int64_t n, int64_t inner, float *out, int64_t o0, int64_t o1) {
  if (inner == 1) {
    x += o0 * n;
    out += o0;
#define REDUCE_BLOCK(r0, nr)                                                              \
  {                                                                                       \
    float s_[RB];                                                                         \
    fold_rows(is_max, x + (r0) * n, n, nr, s_);                                           \
    for (int r = 0; r < (nr); r++) out[(r0) + r] = keep_or_canon(s_[r]);                  \
  }
    ROW_BLOCKS(o1 - o0, REDUCE_BLOCK);
#undef REDUCE_BLOCK
    return;
  }
  for (int64_t o = o0; o < o1; o++) {
    float *restrict acc = out + o * inner;
    for (int64_t i = 0; i < inner; i++) acc[i] = is_max ? -__builtin_inff() : 0.0f;
    for (int64_t j = 0; j < n; j++) {
      const float *restrict row = x + (o * n + j) * inner;
      if (is_max)
        for (int64_t i = 0; i < inner; i++) acc[i] = fmax32(acc[i], row[i]);
      else
        for (int64_t i = 0; i < inner; i++) acc[i] = acc[i] + row[i];
    }
    for (int64_t i = 0; i < inner; i++) acc[i] = keep_or_canon(acc[i]);
  }
}

/* ---------------------------------------------------------------- row ops (reference.ts, same order) */

enum { U_EXP, U_LOG, U_TANH, U_SIGMOID, U_GELU, U_GELU_GRAD, U_NEG, U_ABS, U_SQRT };
typedef void (*unary_fn)(int op, const float *x, float *out, int64_t n);
static unary_fn unary_impl; /* below: the math loop for this CPU */

/* rowStats of nr rows: mean = (sum x) / n; q = sum (x - mean)^2; inv = 1 / sqrt(q / n + eps). */
INLINE void row_stats(const float *x, int64_t n, int nr, float size, float eps, float *mean, float *inv) {
  float s[RB], q[RB];
  fold_rows(0, x, n, nr, s);
  for (int r = 0; r < nr; r++) {
    mean[r] = s[r] / size;
    q[r] = 0.0f;
  }
  for (int64_t j = 0; j < n; j++)
    for (int r = 0; r < nr; r++) {
      const float c = x[r * n + j] - mean[r];
      q[r] = q[r] + c * c;
    }
  for (int r = 0; r < nr; r++) inv[r] = 1.0f / __builtin_sqrtf(q[r] / size + eps);
}

static void layer_norm(const float *x, int64_t rows, int64_t n, float eps, float *out) {
  const float size = (float)n;
#define LN_BLOCK(r0, nr)                                                                  \
  {                                                                                       \
    float mean[RB], inv[RB];                                                              \
    row_stats(x + (r0) * n, n, nr, size, eps, mean, inv);                                 \
    for (int r = 0; r < (nr); r++) {                                                      \
      const float *restrict xr = x + ((r0) + r) * n;                                      \
      float *restrict o = out + ((r0) + r) * n;                                           \
      const float m_ = mean[r], i_ = inv[r];                                              \
      for (int64_t j = 0; j < n; j++) o[j] = keep_or_canon((xr[j] - m_) * i_);            \
    }                                                                                     \
  }
  ROW_BLOCKS(rows, LN_BLOCK);
#undef LN_BLOCK
}

static void layer_norm_grad(const float *x, const float *g, int64_t rows, int64_t n, float eps, float *out) {
  const float size = (float)n;
#define LNG_BLOCK(r0, nr)                                                                 \
  {                                                                                       \
    const float *xb = x + (r0) * n, *gb = g + (r0) * n;                                   \
    float mean[RB], inv[RB], sg[RB], sgx[RB];                                             \
    row_stats(xb, n, nr, size, eps, mean, inv);                                           \
    for (int r = 0; r < (nr); r++) sg[r] = sgx[r] = 0.0f;                                 \
    for (int64_t j = 0; j < n; j++)                                                       \
      for (int r = 0; r < (nr); r++) {                                                    \
        const float xhat = (xb[r * n + j] - mean[r]) * inv[r];                            \
        sg[r] = sg[r] + gb[r * n + j];                                                    \
        sgx[r] = sgx[r] + gb[r * n + j] * xhat;                                           \
      }                                                                                   \
    for (int r = 0; r < (nr); r++) {                                                      \
      const float *restrict xr = xb + r * n, *restrict gr = gb + r * n;                   \
      float *restrict o = out + ((r0) + r) * n;                                           \
      const float m_ = mean[r], i_ = inv[r], mg = sg[r] / size, mgx = sgx[r] / size;      \
      for (int64_t j = 0; j < n; j++) {                                                   \
        const float xhat = (xr[j] - m_) * i_;                                             \
        o[j] = keep_or_canon(i_ * ((gr[j] - mg) - (xhat * mgx)));                         \
      }                                                                                   \
    }                                                                                     \
  }
  ROW_BLOCKS(rows, LNG_BLOCK);
#undef LNG_BLOCK
}

/* Three passes as reference.ts's: x - max per row, exp over the whole buffer (the vector math loop), sum and divide. */
static void softmax(const float *x, int64_t rows, int64_t n, float *out) {
#define SHIFT_BLOCK(r0, nr)                                                               \
  {                                                                                       \
    float m[RB]; /* NaN (canonical) where the row has one */                              \
    fold_rows(1, x + (r0) * n, n, nr, m);                                                 \
    for (int r = 0; r < (nr); r++) {                                                      \
      const float *restrict xr = x + ((r0) + r) * n;                                      \
      float *restrict o = out + ((r0) + r) * n;                                           \
      const float m_ = m[r];                                                              \
      for (int64_t j = 0; j < n; j++) o[j] = xr[j] - m_;                                  \
    }                                                                                     \
  }
  ROW_BLOCKS(rows, SHIFT_BLOCK);
#undef SHIFT_BLOCK
  unary_impl(U_EXP, out, out, rows * n);
#define DIVIDE_BLOCK(r0, nr)                                                              \
  {                                                                                       \
    float s[RB];                                                                          \
    fold_rows(0, out + (r0) * n, n, nr, s);                                               \
    for (int r = 0; r < (nr); r++) {                                                      \
      float *restrict o = out + ((r0) + r) * n;                                           \
      const float s_ = s[r];                                                              \
      for (int64_t j = 0; j < n; j++) o[j] = keep_or_canon(o[j] / s_);                    \
    }                                                                                     \
  }
  ROW_BLOCKS(rows, DIVIDE_BLOCK);
#undef DIVIDE_BLOCK
}

static void softmax_grad(const float *y, const float *g, int64_t rows, int64_t n, float *out) {
#define SG_BLOCK(r0, nr)                                                                  \
  {                                                                                       \
    const float *yb = y + (r0) * n, *gb = g + (r0) * n;                                   \
    float d[RB];                                                                          \
    for (int r = 0; r < (nr); r++) d[r] = 0.0f;                                           \
    for (int64_t j = 0; j < n; j++)                                                       \
      for (int r = 0; r < (nr); r++) d[r] = d[r] + gb[r * n + j] * yb[r * n + j];         \
    for (int r = 0; r < (nr); r++) {                                                      \
      const float *restrict yr = yb + r * n, *restrict gr = gb + r * n;                   \
      float *restrict o = out + ((r0) + r) * n;                                           \
      const float d_ = d[r];                                                              \
      for (int64_t j = 0; j < n; j++) o[j] = keep_or_canon(yr[j] * (gr[j] - d_));         \
    }                                                                                     \
  }
  ROW_BLOCKS(rows, SG_BLOCK);
#undef SG_BLOCK
}

/* ---------------------------------------------------------------- AdamW */

/*
 * kernels/adamw.ts's fused update, the same float32 operations in the same order:
 * m1 = m b1 + g (1 - b1); v1 = v b2 + (g g)(1 - b2); step = (m1 / c1) / (sqrt(v1 / c2) + eps); p1 = p decay - step lr.
 * c holds b1, 1 - b1, b2, 1 - b2, c1, c2, eps, decay, lr (float32 values).
 */
static void adamw(const float *p, const float *g, const float *m, const float *v, const float *c, float *restrict po, float *restrict mo,
                  float *restrict vo, int64_t n) {
  const float b1 = c[0], omb1 = c[1], b2 = c[2], omb2 = c[3], c1 = c[4], c2 = c[5], eps = c[6], decay = c[7], lr = c[8];
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float m1 = (m[i] * b1) + (gi * omb1);
    const float v1 = (v[i] * b2) + ((gi * gi) * omb2);
    const float step = (m1 / c1) / (__builtin_sqrtf(v1 / c2) + eps);
    const float p1 = (p[i] * decay) - (step * lr);
    mo[i] = keep_or_canon(m1);
    vo[i] = keep_or_canon(v1);
    po[i] = keep_or_canon(p1);
  }
}

/* ---------------------------------------------------------------- unary math, per ISA */

#define UNARY_BODY                                                                          \
  switch (op) {                                                                             \
    case U_EXP: for (int64_t i = 0; i < n; i++) out[i] = keep_or_canon(m32_exp(x[i])); break; \
    case U_LOG: for (int64_t i = 0; i < n; i++) out[i] = keep_or_canon(m32_log(x[i])); break; \
    case U_TANH: for (int64_t i = 0; i < n; i++) out[i] = keep_or_canon(m32_tanh(x[i])); break; \
    case U_SIGMOID: for (int64_t i = 0; i < n; i++) out[i] = keep_or_canon(m32_sigmoid(x[i])); break; \
    case U_GELU: for (int64_t i = 0; i < n; i++) out[i] = keep_or_canon(m32_gelu(x[i])); break; \
    case U_GELU_GRAD: for (int64_t i = 0; i < n; i++) out[i] = keep_or_canon(m32_gelu_grad(x[i])); break; \
    case U_NEG: for (int64_t i = 0; i < n; i++) out[i] = keep_or_canon(-x[i]); break; \
    case U_ABS: for (int64_t i = 0; i < n; i++) out[i] = keep_or_canon(m32_float(m32_bits(x[i]) & 0x7fffffff)); break; \
    case U_SQRT: for (int64_t i = 0; i < n; i++) out[i] = keep_or_canon(__builtin_sqrtf(x[i])); break; \
  }

/* out may be x (softmax's exp in place; the unary op with dst == src): each element is read before it is written. */
static void unary_base(int op, const float *x, float *out, int64_t n) { UNARY_BODY }
#if defined(__x86_64__)
__attribute__((target("avx2"))) static void unary_avx2(int op, const float *x, float *out, int64_t n) { UNARY_BODY }
__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw"))) static void unary_avx512(int op, const float *x, float *out, int64_t n) { UNARY_BODY }
#endif

static unary_fn unary_impl = unary_base;
static const char *unary_isa = "baseline";

static void detect_unary(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw")) {
    unary_impl = unary_avx512;
    unary_isa = "avx512";
  } else if (__builtin_cpu_supports("avx2")) {
    unary_impl = unary_avx2;
    unary_isa = "avx2";
  }
#endif
}

/* ---------------------------------------------------------------- split over threads */

/*
 * Below these many elements a kernel stays on the calling thread: waking the pool costs tens of microseconds on
 * a virtual machine. The math and row kernels gain from 32k elements. Memory-bound ones need more, measured on a
 * shared 2-core VM (1 thread against 2): where and AdamW gain from about 262k (where 122 -> 102 us there); a
 * binary op lost below 512k (131k: 27 -> 34 us, 393k: 74 -> 77) and gained at 1M (197 -> 130); plain copies
 * (permute, expand, slice, concat) gained nothing at 0.13-1M elements, so they stay on one thread.
 */
#define MIN_PARALLEL 32768
#define MIN_PARALLEL_MEMORY 262144
#define MIN_PARALLEL_BINARY 524288

/*
 * A kernel's output as `units` (elements, rows, or whole rows of a row op) computed by run(ctx, from, to) for
 * any range, each unit exactly as the whole kernel would. Each thread of a job (pool.c) takes chunks until none
 * are left, so a thread the OS delays leaves its share to the others. Chunks are fixed ranges of the output
 * (CHUNKS_PER_THREAD a thread, a multiple of `align` units), whoever computes them.
 */
#define CHUNKS_PER_THREAD 4
typedef void (*range_fn)(const void *ctx, int64_t from, int64_t to);
typedef struct {
  range_fn run;
  const void *ctx;
  int64_t units, per;
  long chunks, next; /* the job's chunks, and the next one to take (atomically) */
} range_job;

static void range_part(void *arg, long part) {
  (void)part;
  range_job *j = arg;
  for (long c; (c = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->chunks;) {
    const int64_t from = c * j->per, to = from + j->per < j->units ? from + j->per : j->units;
    if (from < to) j->run(j->ctx, from, to);
  }
}

/* run(ctx, 0, units), split over up to `threads` threads when the kernel touches at least min_work elements. */
static void split(range_fn run, const void *ctx, int64_t units, int64_t align, int64_t work, int64_t min_work, long threads) {
  long parts = work >= min_work && threads > 1 ? threads : 1;
  if (parts > units) parts = units > 0 ? (long)units : 1;
  if (parts == 1) {
    run(ctx, 0, units);
    return;
  }
  const int64_t per = ((units + parts * CHUNKS_PER_THREAD - 1) / (parts * CHUNKS_PER_THREAD) + align - 1) / align * align;
  range_job j = {run, ctx, units, per, (long)((units + per - 1) / per), 0};
  pool_run(parts, range_part, &j);
}

typedef struct {
  int op;
  const float *x;
  float *out;
} unary_ctx;

/* Elements: chunks of 64, so no two threads write one cache line. */
static void unary_range(const void *ctx, int64_t from, int64_t to) {
  const unary_ctx *u = ctx;
  unary_impl(u->op, u->x + from, u->out + from, to - from);
}

typedef struct {
  int op;
  const void *a, *b, *c;
  void *out;
  const layout *l;
} layout_ctx;

/* Output rows. */
static void binary_range(const void *ctx, int64_t from, int64_t to) {
  const layout_ctx *j = ctx;
  binary(j->op, j->a, j->b, j->out, j->l, from, to);
}
static void where_range(const void *ctx, int64_t from, int64_t to) {
  const layout_ctx *j = ctx;
  where(j->c, j->a, j->b, j->out, j->l, from, to);
}

enum { ROW_LAYER_NORM, ROW_LAYER_NORM_GRAD, ROW_SOFTMAX, ROW_SOFTMAX_GRAD };

typedef struct {
  int kind;
  const float *x, *g;
  float *out;
  int64_t n;
  float eps;
} rows_ctx;

/* Whole rows, so each row's sums run in order on one thread. */
static void rows_range(const void *ctx, int64_t from, int64_t to) {
  const rows_ctx *j = ctx;
  const int64_t off = from * j->n, rows = to - from;
  switch (j->kind) {
    case ROW_LAYER_NORM: layer_norm(j->x + off, rows, j->n, j->eps, j->out + off); break;
    case ROW_LAYER_NORM_GRAD: layer_norm_grad(j->x + off, j->g + off, rows, j->n, j->eps, j->out + off); break;
    case ROW_SOFTMAX: softmax(j->x + off, rows, j->n, j->out + off); break;
    case ROW_SOFTMAX_GRAD: softmax_grad(j->x + off, j->g + off, rows, j->n, j->out + off); break;
  }
}

typedef struct {
  int is_max;
  const float *x;
  float *out;
  int64_t n, inner;
} reduce_ctx;

/* Outer slices: each output's sum runs j ascending on one thread. */
static void reduce_range(const void *ctx, int64_t from, int64_t to) {
  const reduce_ctx *j = ctx;
  reduce(j->is_max, j->x, j->n, j->inner, j->out, from, to);
}

typedef struct {
  const float *p, *g, *m, *v, *c;
  float *po, *mo, *vo;
} adamw_ctx;

static void adamw_range(const void *ctx, int64_t from, int64_t to) {
  const adamw_ctx *j = ctx;
  adamw(j->p + from, j->g + from, j->m + from, j->v + from, j->c, j->po + from, j->mo + from, j->vo + from, to - from);
}

/* ---------------------------------------------------------------- Node-API */

typedef struct {
  void *data;
  size_t length;
  int is_float;
} array;

/* A Float32Array or Int32Array (is_float says which); 0 if v is neither. */
static int get_array(napi_env env, napi_value v, array *out) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, &out->length, &out->data, NULL, NULL) != napi_ok) return 0;
  if (type != napi_float32_array && type != napi_int32_array) return 0;
  out->is_float = type == napi_float32_array;
  return 1;
}

static napi_value fail(napi_env env, const char *what) {
  napi_throw_type_error(env, NULL, what);
  return NULL;
}

/* Reads an Int32Array [rank, shape..., strides of input 0..., of input 1..., of input 2...] (absent inputs: 0). */
static int get_layout(napi_env env, napi_value v, int inputs, layout *l) {
  array a;
  if (!get_array(env, v, &a) || a.is_float || a.length < 1) return 0;
  const int32_t *w = a.data;
  const int rank = w[0];
  if (rank < 0 || rank > MAX_RANK || a.length != (size_t)(1 + rank * (1 + inputs))) return 0;
  l->rank = rank;
  for (int d = 0; d < rank; d++) {
    if (w[1 + d] < 0) return 0;
    l->shape[d] = w[1 + d];
  }
  for (int k = 0; k < 3; k++)
    for (int d = 0; d < rank; d++) {
      l->strides[k][d] = k < inputs ? w[1 + rank * (1 + k) + d] : 0;
      if (l->strides[k][d] < 0) return 0;
    }
  return 1;
}

static int args(napi_env env, napi_callback_info info, size_t count, napi_value *argv) {
  size_t argc = count;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == count;
}

static int get_int(napi_env env, napi_value v, int64_t *out) { return napi_get_value_int64(env, v, out) == napi_ok; }

/* binary(op, a, b, out, layout, threads): out (contiguous, the layout's shape) = a (op) b through the layout's strides. */
static napi_value js_binary(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  array a, b, o;
  layout l;
  int64_t op, threads;
  if (!args(env, info, 6, argv) || !get_int(env, argv[5], &threads) || !get_int(env, argv[0], &op) || op < OP_ADD || op > OP_MIN || !get_array(env, argv[1], &a) ||
      !get_array(env, argv[2], &b) || !get_array(env, argv[3], &o) || !a.is_float || !b.is_float || !o.is_float ||
      !get_layout(env, argv[4], 2, &l))
    return fail(env, "mycel native binary: expected (op 0..5, Float32Array a, b, out, Int32Array layout, threads)");
  if ((size_t)layout_size(&l) != o.length || (size_t)layout_reach(&l, 0) > a.length || (size_t)layout_reach(&l, 1) > b.length)
    return fail(env, "mycel native binary: the layout does not fit the arrays");
  const layout_ctx ctx = {(int)op, a.data, b.data, NULL, o.data, &l};
  split(binary_range, &ctx, layout_rows(&l), 1, (int64_t)o.length, MIN_PARALLEL_BINARY, threads);
  return NULL;
}

/* where(cond Int32Array, a, b, out, layout, threads): bits of a where cond != 0, else of b. */
static napi_value js_where(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  array c, a, b, o;
  layout l;
  int64_t threads;
  if (!args(env, info, 6, argv) || !get_array(env, argv[0], &c) || c.is_float || !get_array(env, argv[1], &a) ||
      !get_array(env, argv[2], &b) || !get_array(env, argv[3], &o) || !get_layout(env, argv[4], 3, &l) || !get_int(env, argv[5], &threads))
    return fail(env, "mycel native where: expected (Int32Array cond, a, b, out, Int32Array layout, threads)");
  if ((size_t)layout_size(&l) != o.length || (size_t)layout_reach(&l, 0) > c.length || (size_t)layout_reach(&l, 1) > a.length ||
      (size_t)layout_reach(&l, 2) > b.length)
    return fail(env, "mycel native where: the layout does not fit the arrays");
  const layout_ctx ctx = {0, a.data, b.data, c.data, o.data, &l};
  split(where_range, &ctx, layout_rows(&l), 1, (int64_t)o.length, MIN_PARALLEL_MEMORY, threads);
  return NULL;
}

/* copy(x, out, layout): out = the bits of x read through the layout's strides. */
static napi_value js_copy(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  array x, o;
  layout l;
  if (!args(env, info, 3, argv) || !get_array(env, argv[0], &x) || !get_array(env, argv[1], &o) || !get_layout(env, argv[2], 1, &l))
    return fail(env, "mycel native copy: expected (x, out, Int32Array layout)");
  if ((size_t)layout_size(&l) != o.length || (size_t)layout_reach(&l, 0) > x.length)
    return fail(env, "mycel native copy: the layout does not fit the arrays");
  copy(x.data, o.data, &l, 0, layout_rows(&l));
  return NULL;
}

/*
 * copyRows(x, xOffset, xStride, out, outOffset, outStride, rows, width): the bits of rows of `width` elements,
 * out[outOffset + r outStride + i] = x[xOffset + r xStride + i] (slice and concat, one input at a time).
 */
static napi_value js_copy_rows(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  array x, o;
  int64_t v[8];
  if (!args(env, info, 8, argv) || !get_array(env, argv[0], &x) || !get_array(env, argv[3], &o))
    return fail(env, "mycel native copyRows: expected (x, xOffset, xStride, out, outOffset, outStride, rows, width)");
  for (int i = 1; i < 8; i++)
    if (i != 3 && (!get_int(env, argv[i], &v[i]) || v[i] < 0))
      return fail(env, "mycel native copyRows: offsets, strides, rows and width must be non-negative integers");
  const int64_t rows = v[6], width = v[7];
  if (rows > 0 && width > 0 &&
      ((size_t)(v[1] + (rows - 1) * v[2] + width) > x.length || (size_t)(v[4] + (rows - 1) * v[5] + width) > o.length))
    return fail(env, "mycel native copyRows: the rows run past an array");
  if (rows > 0 && width > 0) {
    const uint32_t *src = (const uint32_t *)x.data + v[1];
    uint32_t *dst = (uint32_t *)o.data + v[4];
    for (int64_t r = 0; r < rows; r++) memmove(dst + r * v[5], src + r * v[2], sizeof(uint32_t) * width);
  }
  return NULL;
}

/* reduce(isMax, x, outer, n, inner, out, threads). */
static napi_value js_reduce(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  array x, o;
  int64_t is_max, outer, n, inner, threads;
  if (!args(env, info, 7, argv) || !get_int(env, argv[0], &is_max) || !get_array(env, argv[1], &x) || !x.is_float ||
      !get_int(env, argv[2], &outer) || !get_int(env, argv[3], &n) || !get_int(env, argv[4], &inner) ||
      !get_array(env, argv[5], &o) || !o.is_float || outer < 0 || n < 0 || inner < 0 || !get_int(env, argv[6], &threads))
    return fail(env, "mycel native reduce: expected (isMax, Float32Array x, outer, n, inner, Float32Array out, threads)");
  if ((size_t)(outer * n * inner) != x.length || (size_t)(outer * inner) != o.length)
    return fail(env, "mycel native reduce: x must have outer * n * inner elements and out outer * inner");
  const reduce_ctx ctx = {is_max != 0, x.data, o.data, n, inner};
  /* Sums along rows (a chain of additions each) split by blocks of RB rows; sums over rows split only by whole
   * [n, inner] slices: thin column strips read every row in short pieces and took 2-4x longer on 2 threads. */
  if (inner == 1) split(reduce_range, &ctx, outer, RB, (int64_t)x.length, MIN_PARALLEL, threads);
  else split(reduce_range, &ctx, outer, 1, (int64_t)x.length, MIN_PARALLEL_MEMORY, threads);
  return NULL;
}

/* rowOp(kind, x, g (or x when unused), rows, n, eps, out, threads): layer_norm, layer_norm_grad, softmax, softmax_grad. */
static napi_value js_row(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  array x, g, o;
  int64_t kind, rows, n, threads;
  double eps;
  if (!args(env, info, 8, argv) || !get_int(env, argv[7], &threads) || !get_int(env, argv[0], &kind) || kind < ROW_LAYER_NORM || kind > ROW_SOFTMAX_GRAD ||
      !get_array(env, argv[1], &x) || !x.is_float || !get_array(env, argv[2], &g) || !g.is_float || !get_int(env, argv[3], &rows) ||
      !get_int(env, argv[4], &n) || napi_get_value_double(env, argv[5], &eps) != napi_ok || !get_array(env, argv[6], &o) ||
      !o.is_float || rows < 0 || n < 0)
    return fail(env, "mycel native rowOp: expected (kind 0..3, Float32Array x, g, rows, n, eps, Float32Array out, threads)");
  const size_t size = (size_t)(rows * n);
  if (x.length != size || g.length != size || o.length != size)
    return fail(env, "mycel native rowOp: x, g and out must have rows * n elements");
  /* the caller passes a float32 value: exact */
  const rows_ctx ctx = {(int)kind, x.data, g.data, o.data, n, (float)eps};
  split(rows_range, &ctx, rows, 1, rows * n, MIN_PARALLEL, threads);
  return NULL;
}

/* unary(op, x, out, threads): out[i] = f(x[i]) for exp, log, tanh, sigmoid, gelu, gelu_grad (math.ts's bits), neg, abs,
 * sqrt (IEEE's); out may be x. */
static napi_value js_unary(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  array x, o;
  int64_t op, threads;
  if (!args(env, info, 4, argv) || !get_int(env, argv[3], &threads) || !get_int(env, argv[0], &op) || op < U_EXP || op > U_SQRT || !get_array(env, argv[1], &x) ||
      !x.is_float || !get_array(env, argv[2], &o) || !o.is_float || o.length < x.length)
    return fail(env, "mycel native unary: expected (op 0..8, Float32Array x, Float32Array out at least as long, threads)");
  const unary_ctx ctx = {(int)op, x.data, o.data};
  split(unary_range, &ctx, (int64_t)x.length, 64, (int64_t)x.length, MIN_PARALLEL, threads);
  return NULL;
}

/* adamw(p, g, m, v, constants Float32Array(9), pOut, mOut, vOut, threads): kernels/adamw.ts's update; all of p's length. */
static napi_value js_adamw(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  array a[8];
  int64_t threads;
  if (!args(env, info, 9, argv) || !get_int(env, argv[8], &threads))
    return fail(env, "mycel native adamw: expected (p, g, m, v, Float32Array constants, pOut, mOut, vOut, threads)");
  for (int i = 0; i < 8; i++)
    if (!get_array(env, argv[i], &a[i]) || !a[i].is_float)
      return fail(env, "mycel native adamw: every argument must be a Float32Array");
  const size_t n = a[0].length;
  if (a[4].length != 9 || a[1].length != n || a[2].length != n || a[3].length != n || a[5].length != n || a[6].length != n || a[7].length != n)
    return fail(env, "mycel native adamw: p, g, m, v and the outputs must have one length, and the constants 9 values");
  const adamw_ctx ctx = {a[0].data, a[1].data, a[2].data, a[3].data, a[4].data, a[5].data, a[6].data, a[7].data};
  split(adamw_range, &ctx, (int64_t)n, 64, (int64_t)n, MIN_PARALLEL_MEMORY, threads);
  return NULL;
}

static int set_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

static int detected_unary = 0;

int elementwise_register(napi_env env, napi_value exports) {
  if (!detected_unary) {
    detect_unary(); /* idempotent: a race between two threads' loads writes the same values */
    detected_unary = 1;
  }
  napi_value isa;
  if (napi_create_string_utf8(env, unary_isa, NAPI_AUTO_LENGTH, &isa) != napi_ok ||
      napi_set_named_property(env, exports, "elementwiseIsa", isa) != napi_ok)
    return 0;
  return set_function(env, exports, "binary", js_binary) && set_function(env, exports, "where", js_where) &&
         set_function(env, exports, "copy", js_copy) && set_function(env, exports, "copyRows", js_copy_rows) && set_function(env, exports, "reduce", js_reduce) &&
         set_function(env, exports, "rowOp", js_row) && set_function(env, exports, "unary", js_unary) &&
         set_function(env, exports, "adamw", js_adamw);
}
