/*
 * mycel's native matmul (a Node-API addon), bit-identical to src/tensor/kernels/reference-matmul.ts:
 * every output element is acc = +0, then for k ascending acc = fma(a[i,k], b[k,j], acc), the IEEE fused
 * multiply-add rounded once. Vectors run across output columns, never across k, so each lane is one output
 * element summed in the reference order. The whole file is compiled with -ffp-contract=off: the only fused
 * operations are the fma intrinsics written out below, and nothing else is reassociated.
 *
 * Kernels (chosen by CPU features at load, fastest first; all give the same bits):
 *   avx512  6 x 32 tile, 12 zmm accumulators, _mm512_fmadd_ps
 *   avx2    6 x 16 tile, 12 ymm accumulators, _mm256_fmadd_ps (x86-64 with FMA3)
 *   neon    8 x 8 tile, 16 q accumulators, vfmaq_f32 (every ARMv8 CPU)
 *   scalar  4 x 4 tile, fmaf (correctly rounded in C99 everywhere; slow where the CPU has no fma)
 * Operands are packed into tile-shaped panels (A: MR rows k-major, B: NR columns per k), padded with zeros;
 * the padding rows and columns are computed and dropped. k is walked in blocks of KC whose partial sums go
 * through the padded output (exact), and B in groups of NC_PANELS panels that stay in L2 while the A panels
 * pass. Output rows (A panels) are split over threads (the addon's persistent pool, pool.c) that take chunks
 * from a shared counter, so a thread the OS delays does not hold the others up. Every NaN is written as the canonical 0x7fc00000.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include "elementwise.h"
#include "pool.h"
#include "sha256.h"
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#define KC 256
#define NC_PANELS 16
#define MAX_THREADS 64

typedef void (*tile_fn)(long kc, const float *a, const float *b, float *c, long ldc, int first);
typedef struct {
  const char *name;
  int mr, nr;
  tile_fn tile;
} kernel;

/* ---------------------------------------------------------------- tiles */

static void tile_scalar(long kc, const float *a, const float *b, float *c, long ldc, int first) {
  float acc[4][4];
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < 4; j++) acc[r][j] = first ? 0.0f : c[r * ldc + j];
  for (long q = 0; q < kc; q++, a += 4, b += 4)
    for (int r = 0; r < 4; r++)
      for (int j = 0; j < 4; j++) acc[r][j] = fmaf(a[r], b[j], acc[r][j]);
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < 4; j++) c[r * ldc + j] = acc[r][j];
}

#if defined(__x86_64__)
#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)

__attribute__((target("avx512f"))) static void tile_avx512(long kc, const float *a, const float *b, float *c, long ldc,
                                                           int first) {
#define DECL(r) __m512 c##r##0, c##r##1;
  ROWS6(DECL)
#undef DECL
  if (first) {
#define ZERO(r) c##r##0 = _mm512_setzero_ps(); c##r##1 = _mm512_setzero_ps();
    ROWS6(ZERO)
#undef ZERO
  } else {
#define LOAD(r) c##r##0 = _mm512_loadu_ps(c + r * ldc); c##r##1 = _mm512_loadu_ps(c + r * ldc + 16);
    ROWS6(LOAD)
#undef LOAD
  }
  for (long q = 0; q < kc; q++, a += 6, b += 32) {
    __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#define STEP(r) { __m512 s = _mm512_set1_ps(a[r]); c##r##0 = _mm512_fmadd_ps(s, b0, c##r##0); c##r##1 = _mm512_fmadd_ps(s, b1, c##r##1); }
    ROWS6(STEP)
#undef STEP
  }
#define STORE(r) _mm512_storeu_ps(c + r * ldc, c##r##0); _mm512_storeu_ps(c + r * ldc + 16, c##r##1);
  ROWS6(STORE)
#undef STORE
}

__attribute__((target("avx2,fma"))) static void tile_avx2(long kc, const float *a, const float *b, float *c, long ldc,
                                                          int first) {
#define DECL(r) __m256 c##r##0, c##r##1;
  ROWS6(DECL)
#undef DECL
  if (first) {
#define ZERO(r) c##r##0 = _mm256_setzero_ps(); c##r##1 = _mm256_setzero_ps();
    ROWS6(ZERO)
#undef ZERO
  } else {
#define LOAD(r) c##r##0 = _mm256_loadu_ps(c + r * ldc); c##r##1 = _mm256_loadu_ps(c + r * ldc + 8);
    ROWS6(LOAD)
#undef LOAD
  }
  for (long q = 0; q < kc; q++, a += 6, b += 16) {
    __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#define STEP(r) { __m256 s = _mm256_broadcast_ss(a + r); c##r##0 = _mm256_fmadd_ps(s, b0, c##r##0); c##r##1 = _mm256_fmadd_ps(s, b1, c##r##1); }
    ROWS6(STEP)
#undef STEP
  }
#define STORE(r) _mm256_storeu_ps(c + r * ldc, c##r##0); _mm256_storeu_ps(c + r * ldc + 8, c##r##1);
  ROWS6(STORE)
#undef STORE
}
#endif

#if defined(__aarch64__)
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
static void tile_neon(long kc, const float *a, const float *b, float *c, long ldc, int first) {
#define DECL(r) float32x4_t c##r##0, c##r##1;
  ROWS8(DECL)
#undef DECL
  if (first) {
#define ZERO(r) c##r##0 = vdupq_n_f32(0.0f); c##r##1 = vdupq_n_f32(0.0f);
    ROWS8(ZERO)
#undef ZERO
  } else {
#define LOAD(r) c##r##0 = vld1q_f32(c + r * ldc); c##r##1 = vld1q_f32(c + r * ldc + 4);
    ROWS8(LOAD)
#undef LOAD
  }
  for (long q = 0; q < kc; q++, a += 8, b += 8) {
    float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
    float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
    /* vfmaq_laneq_f32(acc, x, v, l) = acc + x * v[l], fused */
#define STEP(r, v, l) c##r##0 = vfmaq_laneq_f32(c##r##0, b0, v, l); c##r##1 = vfmaq_laneq_f32(c##r##1, b1, v, l);
    STEP(0, a0, 0) STEP(1, a0, 1) STEP(2, a0, 2) STEP(3, a0, 3)
    STEP(4, a1, 0) STEP(5, a1, 1) STEP(6, a1, 2) STEP(7, a1, 3)
#undef STEP
  }
#define STORE(r) vst1q_f32(c + r * ldc, c##r##0); vst1q_f32(c + r * ldc + 4, c##r##1);
  ROWS8(STORE)
#undef STORE
}
#endif

/* Supported kernels, fastest first; filled at load. */
static kernel kernels[4];
static int kernel_count = 0;

static void detect_kernels(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) kernels[kernel_count++] = (kernel){"avx512", 6, 32, tile_avx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) kernels[kernel_count++] = (kernel){"avx2", 6, 16, tile_avx2};
#endif
#if defined(__aarch64__)
  kernels[kernel_count++] = (kernel){"neon", 8, 8, tile_neon};
#endif
  kernels[kernel_count++] = (kernel){"scalar", 4, 4, tile_scalar};
}

/* ---------------------------------------------------------------- the driver */

typedef struct {
  const float *data;
  int64_t offset, sb, sr, sc;
} operand;

typedef struct {
  const kernel *kern;
  const float *apack, *bpack;
  float *c;
  long ldc, mpanels, npanels, k, bbatch_floats, panels, chunk;
  long next; /* the next chunk, taken with an atomic add */
} job;

/* Panels [p0, p1) of A (over all batches) against every B panel. */
static void run_panels(const job *jb, long p0, long p1) {
  const int mr = jb->kern->mr, nr = jb->kern->nr;
  const long k = jb->k;
  for (long k0 = 0; k0 < k; k0 += KC) {
    const long kb = k - k0 < KC ? k - k0 : KC;
    for (long j0 = 0; j0 < jb->npanels; j0 += NC_PANELS) {
      const long j1 = j0 + NC_PANELS < jb->npanels ? j0 + NC_PANELS : jb->npanels;
      for (long p = p0; p < p1; p++) {
        const float *a = jb->apack + p * mr * k + k0 * mr;
        const float *b = jb->bpack + (p / jb->mpanels) * jb->bbatch_floats + j0 * nr * k + k0 * nr;
        float *c = jb->c + p * mr * jb->ldc + j0 * nr;
        for (long jp = j0; jp < j1; jp++, b += nr * k, c += nr) jb->kern->tile(kb, a, b, c, jb->ldc, k0 == 0);
      }
    }
  }
}

/* Every thread of the job (pool.c) takes chunks until none are left. */
static void take_chunks(void *arg, long part) {
  (void)part;
  job *jb = arg;
  for (;;) {
    long p0 = __atomic_fetch_add(&jb->next, 1, __ATOMIC_RELAXED) * jb->chunk;
    if (p0 >= jb->panels) return;
    run_panels(jb, p0, p0 + jb->chunk < jb->panels ? p0 + jb->chunk : jb->panels);
  }
}

static void pack_a(const operand *a, long batch, long m, long k, int mr, float *dst) {
  const long panels = (m + mr - 1) / mr;
  for (long p = 0; p < batch; p++)
    for (long panel = 0; panel < panels; panel++, dst += mr * k)
      for (int r = 0; r < mr; r++) {
        const long row = panel * mr + r;
        if (row >= m) {
          for (long q = 0; q < k; q++) dst[q * mr + r] = 0.0f;
          continue;
        }
        const float *src = a->data + a->offset + p * a->sb + row * a->sr;
        for (long q = 0; q < k; q++) dst[q * mr + r] = src[q * a->sc];
      }
}

static void pack_b(const operand *b, long batches, long k, long n, int nr, float *dst) {
  const long panels = (n + nr - 1) / nr;
  for (long p = 0; p < batches; p++)
    for (long panel = 0; panel < panels; panel++)
      for (long q = 0; q < k; q++, dst += nr) {
        const float *src = b->data + b->offset + p * b->sb + q * b->sr + panel * nr * b->sc;
        const long width = n - panel * nr < nr ? n - panel * nr : nr;
        long j = 0;
        for (; j < width; j++) dst[j] = src[j * b->sc];
        for (; j < nr; j++) dst[j] = 0.0f;
      }
}

/* Returns 0, or an error message. */
static const char *matmul(const kernel *kern, const operand *a, const operand *b, float *out, long batch, long m, long k,
                          long n, long threads, long min_parallel_macs) {
  if (batch * m * n == 0) return 0;
  if (k == 0) {
    memset(out, 0, sizeof(float) * batch * m * n);
    return 0;
  }
  const int mr = kern->mr, nr = kern->nr;
  const long mpanels = (m + mr - 1) / mr, npanels = (n + nr - 1) / nr;
  const long bbatches = b->sb == 0 ? 1 : batch;
  const long ldc = npanels * nr;
  const size_t afloats = (size_t)batch * mpanels * mr * k, bfloats = (size_t)bbatches * npanels * nr * k;
  const size_t cfloats = (size_t)batch * mpanels * mr * ldc;
  /* 64-byte aligned (the tiles load B panels aligned); sizes rounded up to the alignment. */
  const size_t total = ((afloats + bfloats + cfloats) * sizeof(float) + 63) / 64 * 64 + 128;
  char *mem = aligned_alloc(64, total);
  if (!mem) return "out of memory for the packed operands";
  float *apack = (float *)mem;
  float *bpack = (float *)(mem + (afloats * sizeof(float) + 63) / 64 * 64);
  float *c = (float *)((char *)bpack + (bfloats * sizeof(float) + 63) / 64 * 64);
  pack_a(a, batch, m, k, mr, apack);
  pack_b(b, bbatches, k, n, nr, bpack);

  job jb = {kern, apack, bpack, c, ldc, mpanels, npanels, k, b->sb == 0 ? 0 : npanels * nr * k, batch * mpanels, 0, 0};
  long parts = batch * m * n * k < min_parallel_macs ? 1 : threads;
  if (parts > jb.panels) parts = jb.panels;
  if (parts > MAX_THREADS) parts = MAX_THREADS;
  if (parts < 1) parts = 1;
  /* four chunks per thread even out a slow thread and keep B's L2 reuse */
  jb.chunk = parts == 1 ? jb.panels : (jb.panels + parts * 4 - 1) / (parts * 4);
  pool_run(parts, take_chunks, &jb);

  uint32_t *bits = (uint32_t *)out;
  for (long p = 0; p < batch; p++)
    for (long i = 0; i < m; i++) {
      const float *row = c + (p * mpanels * mr + i) * ldc;
      uint32_t *dst = bits + (p * m + i) * n;
      for (long j = 0; j < n; j++) {
        uint32_t w;
        memcpy(&w, row + j, 4);
        dst[j] = (w & 0x7fffffffu) > 0x7f800000u ? 0x7fc00000u : w;
      }
    }
  free(mem);
  return 0;
}

/* ---------------------------------------------------------------- Node-API */

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, NULL, "mycel native matmul: a Node-API call failed"); \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

static int float_array(napi_env env, napi_value v, float **data, size_t *length) {
  napi_typedarray_type type;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, NULL, NULL) != napi_ok || type != napi_float32_array) return 0;
  *data = ptr;
  return 1;
}

/*
 * matmul(kernelIndex, aData, aOffset, aBatchStride, aRowStride, aColStride, bData, bOffset, bBatchStride,
 * bRowStride, bColStride, out, batch, m, k, n, threads, minParallelMacs): out (contiguous [batch, m, n]) = a x b. Strides and offsets are in elements; the
 * caller (native-matmul.ts) has checked that every index stays inside its array.
 */
static napi_value js_matmul(napi_env env, napi_callback_info info) {
  size_t argc = 18;
  napi_value argv[18];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 18) {
    napi_throw_type_error(env, NULL, "mycel native matmul: expected 18 arguments");
    return NULL;
  }
  int64_t ints[18];
  float *adata, *bdata, *out;
  size_t alen, blen, olen;
  for (int i = 0; i < 18; i++)
    if (i != 1 && i != 6 && i != 11 && napi_get_value_int64(env, argv[i], &ints[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "mycel native matmul: a numeric argument is not a number");
      return NULL;
    }
  if (!float_array(env, argv[1], &adata, &alen) || !float_array(env, argv[6], &bdata, &blen) ||
      !float_array(env, argv[11], &out, &olen)) {
    napi_throw_type_error(env, NULL, "mycel native matmul: operands and output must be Float32Arrays");
    return NULL;
  }
  if (ints[0] < 0 || ints[0] >= kernel_count) {
    napi_throw_range_error(env, NULL, "mycel native matmul: no such kernel");
    return NULL;
  }
  operand a = {adata, ints[2], ints[3], ints[4], ints[5]};
  operand b = {bdata, ints[7], ints[8], ints[9], ints[10]};
  const long batch = ints[12], m = ints[13], k = ints[14], n = ints[15];
  if (batch < 0 || m < 0 || k < 0 || n < 0 || (size_t)(batch * m * n) > olen) {
    napi_throw_range_error(env, NULL, "mycel native matmul: the output is smaller than batch * m * n");
    return NULL;
  }
  const char *error = matmul(&kernels[ints[0]], &a, &b, out, batch, m, k, n, ints[16], ints[17]);
  if (error) napi_throw_error(env, NULL, error);
  return NULL;
}

static pthread_once_t detected = PTHREAD_ONCE_INIT;

/* Context-aware (NAPI_MODULE_INIT): loads in the main thread and in every worker thread. */
NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  pthread_once(&detected, detect_kernels);
  napi_value list, fn, s;
  if (napi_create_array_with_length(env, kernel_count, &list) != napi_ok) return NULL;
  for (int i = 0; i < kernel_count; i++) {
    if (napi_create_string_utf8(env, kernels[i].name, NAPI_AUTO_LENGTH, &s) != napi_ok) return NULL;
    if (napi_set_element(env, list, i, s) != napi_ok) return NULL;
  }
  if (napi_set_named_property(env, exports, "kernels", list) != napi_ok) return NULL;
  if (napi_create_function(env, "matmul", NAPI_AUTO_LENGTH, js_matmul, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "matmul", fn) != napi_ok) return NULL;
  if (!sha256_register(env, exports)) return NULL;
  if (!elementwise_register(env, exports)) return NULL;
  return exports;
}
