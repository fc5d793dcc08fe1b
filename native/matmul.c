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
 * B is packed into tile-wide panels (NR columns per k, zero past n). The x86 and scalar tiles read A in place
 * through its row and k strides where its rows are contiguous, and where it is transposed (a k step's rows are
 * adjacent floats) and meets few B panels; a tile never reads past row m. Otherwise A is packed into MR-row
 * panels, k-major, zero past m. Full output tiles are written straight into the output; the
 * tiles past m or n go through small padded buffers whose valid part is copied out. k is walked in blocks
 * of KC whose partial sums go through the output (exact), and B in groups of NC_PANELS panels that stay in
 * L2 while the A panels pass. The last block writes every NaN as the canonical 0x7fc00000.
 *
 * Threads (the addon's persistent pool, pool.c) first pack B's panels together, then take chunks of A panels
 * (output rows) from a shared counter, each packing, multiplying and writing out its own rows, so no step
 * runs on one thread while the other waits, and a thread the OS delays does not hold the others up.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include "elementwise.h"
#include "pool.h"
#include "sha256.h"
#include <math.h>
#include <pthread.h>
#include <sched.h>
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
#define CANONICAL_NAN 0x7fc00000u

/* A tile: c[r, j] (r < mr, j < nr, row stride ldc) = acc over kc steps of fma(a[r ars + q aks], b[q nr + j], acc),
 * acc starting at +0 (TILE_FIRST) or at c; TILE_LAST stores every NaN as CANONICAL_NAN. */
#define TILE_FIRST 1
#define TILE_LAST 2
typedef void (*tile_fn)(long kc, const float *a, long ars, long aks, const float *b, float *c, long ldc, int flags);
typedef struct {
  const char *name;
  int mr, nr;
  int strided_a; /* reads A through any (ars, aks); else only A packed by pack_a_panel (ars = 1, aks = mr) */
  tile_fn tile;
} kernel;

/* ---------------------------------------------------------------- tiles */

static void tile_scalar(long kc, const float *a, long ars, long aks, const float *b, float *c, long ldc, int flags) {
  float acc[4][4];
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < 4; j++) acc[r][j] = (flags & TILE_FIRST) ? 0.0f : c[r * ldc + j];
  for (long q = 0; q < kc; q++, b += 4)
    for (int r = 0; r < 4; r++)
      for (int j = 0; j < 4; j++) acc[r][j] = fmaf(a[r * ars + q * aks], b[j], acc[r][j]);
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < 4; j++) {
      if ((flags & TILE_LAST) && isnan(acc[r][j])) {
        const uint32_t canonical = CANONICAL_NAN;
        memcpy(&c[r * ldc + j], &canonical, 4);
      } else {
        c[r * ldc + j] = acc[r][j];
      }
    }
}

#if defined(__x86_64__)
#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)

__attribute__((target("avx512f"))) static void tile_avx512(long kc, const float *a, long ars, long aks, const float *b,
                                                           float *c, long ldc, int flags) {
#define DECL(r) __m512 c##r##0, c##r##1; const float *a##r = a + r * ars;
  ROWS6(DECL)
#undef DECL
  if (flags & TILE_FIRST) {
#define ZERO(r) c##r##0 = _mm512_setzero_ps(); c##r##1 = _mm512_setzero_ps();
    ROWS6(ZERO)
#undef ZERO
  } else {
#define LOAD(r) c##r##0 = _mm512_loadu_ps(c + r * ldc); c##r##1 = _mm512_loadu_ps(c + r * ldc + 16);
    ROWS6(LOAD)
#undef LOAD
  }
  for (long q = 0, o = 0; q < kc; q++, o += aks, b += 32) {
    __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#define STEP(r) { __m512 s = _mm512_set1_ps(a##r[o]); c##r##0 = _mm512_fmadd_ps(s, b0, c##r##0); c##r##1 = _mm512_fmadd_ps(s, b1, c##r##1); }
    ROWS6(STEP)
#undef STEP
  }
  if (flags & TILE_LAST) {
    const __m512 nan = _mm512_castsi512_ps(_mm512_set1_epi32(CANONICAL_NAN));
#define CANON(r) c##r##0 = _mm512_mask_mov_ps(c##r##0, _mm512_cmp_ps_mask(c##r##0, c##r##0, _CMP_UNORD_Q), nan); \
                 c##r##1 = _mm512_mask_mov_ps(c##r##1, _mm512_cmp_ps_mask(c##r##1, c##r##1, _CMP_UNORD_Q), nan);
    ROWS6(CANON)
#undef CANON
  }
#define STORE(r) _mm512_storeu_ps(c + r * ldc, c##r##0); _mm512_storeu_ps(c + r * ldc + 16, c##r##1);
  ROWS6(STORE)
#undef STORE
}

__attribute__((target("avx2,fma"))) static void tile_avx2(long kc, const float *a, long ars, long aks, const float *b,
                                                          float *c, long ldc, int flags) {
#define DECL(r) __m256 c##r##0, c##r##1; const float *a##r = a + r * ars;
  ROWS6(DECL)
#undef DECL
  if (flags & TILE_FIRST) {
#define ZERO(r) c##r##0 = _mm256_setzero_ps(); c##r##1 = _mm256_setzero_ps();
    ROWS6(ZERO)
#undef ZERO
  } else {
#define LOAD(r) c##r##0 = _mm256_loadu_ps(c + r * ldc); c##r##1 = _mm256_loadu_ps(c + r * ldc + 8);
    ROWS6(LOAD)
#undef LOAD
  }
  for (long q = 0, o = 0; q < kc; q++, o += aks, b += 16) {
    __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#define STEP(r) { __m256 s = _mm256_broadcast_ss(a##r + o); c##r##0 = _mm256_fmadd_ps(s, b0, c##r##0); c##r##1 = _mm256_fmadd_ps(s, b1, c##r##1); }
    ROWS6(STEP)
#undef STEP
  }
  if (flags & TILE_LAST) {
    const __m256 nan = _mm256_castsi256_ps(_mm256_set1_epi32(CANONICAL_NAN));
#define CANON(r) c##r##0 = _mm256_blendv_ps(c##r##0, nan, _mm256_cmp_ps(c##r##0, c##r##0, _CMP_UNORD_Q)); \
                 c##r##1 = _mm256_blendv_ps(c##r##1, nan, _mm256_cmp_ps(c##r##1, c##r##1, _CMP_UNORD_Q));
    ROWS6(CANON)
#undef CANON
  }
#define STORE(r) _mm256_storeu_ps(c + r * ldc, c##r##0); _mm256_storeu_ps(c + r * ldc + 8, c##r##1);
  ROWS6(STORE)
#undef STORE
}
#endif

#if defined(__aarch64__)
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
/* Reads A packed (ars = 1, aks = 8): one k step's 8 rows are two q registers. */
static void tile_neon(long kc, const float *a, long ars, long aks, const float *b, float *c, long ldc, int flags) {
  (void)ars;
  (void)aks;
#define DECL(r) float32x4_t c##r##0, c##r##1;
  ROWS8(DECL)
#undef DECL
  if (flags & TILE_FIRST) {
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
  if (flags & TILE_LAST) {
    const float32x4_t nan = vreinterpretq_f32_u32(vdupq_n_u32(CANONICAL_NAN));
    /* vceqq(x, x) is all ones where x is not NaN */
#define CANON(r) c##r##0 = vbslq_f32(vceqq_f32(c##r##0, c##r##0), c##r##0, nan); \
                 c##r##1 = vbslq_f32(vceqq_f32(c##r##1, c##r##1), c##r##1, nan);
    ROWS8(CANON)
#undef CANON
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
  if (__builtin_cpu_supports("avx512f")) kernels[kernel_count++] = (kernel){"avx512", 6, 32, 1, tile_avx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) kernels[kernel_count++] = (kernel){"avx2", 6, 16, 1, tile_avx2};
#endif
#if defined(__aarch64__)
  kernels[kernel_count++] = (kernel){"neon", 8, 8, 0, tile_neon};
#endif
  kernels[kernel_count++] = (kernel){"scalar", 4, 4, 1, tile_scalar};
}

/* ---------------------------------------------------------------- the driver */

typedef struct {
  const float *data;
  int64_t offset, sb, sr, sc;
} operand;

typedef struct {
  const kernel *kern;
  const operand *a, *b;
  float *out;
  long m, k, n, mpanels, npanels, panels, chunk;
  int a_in_place;  /* the tile reads A's full panels where they are */
  float *apack;    /* packed A panels: every panel, or (a_in_place) only each batch's last one if it is short */
  float *bpack;    /* packed B panels, every B batch */
  long bbatch_floats;
  float *edge_rows; /* per batch, the last panel's mr rows x npanels nr columns when m % mr != 0 */
  float *edge_cols; /* per A panel, mr x nr for the last column tile when n % nr != 0 */
  long bpanels;      /* B panels to pack */
  long bnext, bdone; /* B panels taken / packed, atomic */
  long next;         /* the next chunk of A panels, taken with an atomic add */
} job;

/* B's panel `index` (over all its batches): k rows of nr columns, zero past n. Row-major B copies rows of the
 * panel; a transposed B (dx = dy W^T) is read in blocks of 16 k steps, a cache line of each column, rather
 * than one float of nr columns a step, whose lines a stride of a power of two crowds into a few L1 sets. */
static void pack_b_panel(const job *jb, long index) {
  const operand *b = jb->b;
  const int nr = jb->kern->nr;
  const long k = jb->k, n = jb->n, batch = index / jb->npanels, panel = index % jb->npanels;
  const long width = n - panel * nr < nr ? n - panel * nr : nr;
  const float *src = b->data + b->offset + batch * b->sb + panel * nr * b->sc;
  float *dst = jb->bpack + index * nr * k;
  if (width < nr)
    for (long i = 0; i < k * nr; i++) dst[i] = 0.0f;
  if (b->sc == 1) {
    for (long q = 0; q < k; q++) memcpy(dst + q * nr, src + q * b->sr, sizeof(float) * width);
  } else {
    for (long q0 = 0; q0 < k; q0 += 16) {
      const long q1 = q0 + 16 < k ? q0 + 16 : k;
      for (long j = 0; j < width; j++)
        for (long q = q0; q < q1; q++) dst[q * nr + j] = src[q * b->sr + j * b->sc];
    }
  }
}

static int panel_is_short(const job *jb, long p) { return (p % jb->mpanels + 1) * jb->kern->mr > jb->m; }

/* Where the tile reads A's panel p (over all batches), with its row and k strides. */
static const float *a_panel(const job *jb, long p, long *ars, long *aks) {
  const int mr = jb->kern->mr;
  const long batch = p / jb->mpanels, row0 = (p % jb->mpanels) * mr;
  if (jb->a_in_place && !panel_is_short(jb, p)) {
    *ars = jb->a->sr;
    *aks = jb->a->sc;
    return jb->a->data + jb->a->offset + batch * jb->a->sb + row0 * jb->a->sr;
  }
  *ars = 1;
  *aks = mr;
  return jb->apack + (jb->a_in_place ? batch : p) * mr * jb->k;
}

/* Packs A's panel p where the tile does not read it in place: mr rows, k-major, zero past m. One k step's rows
 * are read together: where A is transposed (the weight gradient's x^T) they are adjacent floats. */
static void pack_a_panel(const job *jb, long p) {
  if (jb->a_in_place && !panel_is_short(jb, p)) return;
  const operand *a = jb->a;
  const int mr = jb->kern->mr;
  const long k = jb->k, batch = p / jb->mpanels, row0 = (p % jb->mpanels) * mr;
  const long rows = jb->m - row0 < mr ? jb->m - row0 : mr;
  const float *src = a->data + a->offset + batch * a->sb + row0 * a->sr;
  float *dst = jb->apack + (jb->a_in_place ? batch : p) * mr * k;
  for (long q = 0; q < k; q++, src += a->sc, dst += mr) {
    long r = 0;
    for (; r < rows; r++) dst[r] = src[r * a->sr];
    for (; r < mr; r++) dst[r] = 0.0f;
  }
}

/* Where the tile (A panel p, B panel jp) accumulates, with its row stride: the output, or an edge buffer. */
static float *c_tile(const job *jb, long p, long jp, long *ldc) {
  const int mr = jb->kern->mr, nr = jb->kern->nr;
  const long batch = p / jb->mpanels, row0 = (p % jb->mpanels) * mr;
  if (panel_is_short(jb, p)) {
    *ldc = jb->npanels * nr;
    return jb->edge_rows + batch * mr * *ldc + jp * nr;
  }
  if ((jp + 1) * nr > jb->n) {
    *ldc = nr;
    return jb->edge_cols + p * mr * nr;
  }
  *ldc = jb->n;
  return jb->out + (batch * jb->m + row0) * jb->n + jp * nr;
}

/* A panels [p0, p1) (over all batches) against every B panel. */
static void run_panels(const job *jb, long p0, long p1) {
  const int nr = jb->kern->nr;
  const long k = jb->k;
  for (long k0 = 0; k0 < k; k0 += KC) {
    const long kb = k - k0 < KC ? k - k0 : KC;
    const int flags = (k0 == 0 ? TILE_FIRST : 0) | (k0 + kb == k ? TILE_LAST : 0);
    for (long j0 = 0; j0 < jb->npanels; j0 += NC_PANELS) {
      const long j1 = j0 + NC_PANELS < jb->npanels ? j0 + NC_PANELS : jb->npanels;
      for (long p = p0; p < p1; p++) {
        long ars, aks, ldc;
        const float *a = a_panel(jb, p, &ars, &aks) + k0 * aks;
        const float *b = jb->bpack + (p / jb->mpanels) * jb->bbatch_floats + j0 * nr * k + k0 * nr;
        for (long jp = j0; jp < j1; jp++, b += nr * k) {
          float *c = c_tile(jb, p, jp, &ldc);
          jb->kern->tile(kb, a, ars, aks, b, c, ldc, flags);
        }
      }
    }
  }
}

/* Copies the valid part of A panels [p0, p1)'s edge buffers into the output. */
static void write_edges(const job *jb, long p0, long p1) {
  const int mr = jb->kern->mr, nr = jb->kern->nr;
  const long n = jb->n, last = (jb->npanels - 1) * nr;
  for (long p = p0; p < p1; p++) {
    const long batch = p / jb->mpanels, row0 = (p % jb->mpanels) * mr;
    float *dst = jb->out + (batch * jb->m + row0) * n;
    if (panel_is_short(jb, p)) {
      const float *src = jb->edge_rows + batch * mr * jb->npanels * nr;
      for (long r = 0; row0 + r < jb->m; r++) memcpy(dst + r * n, src + r * jb->npanels * nr, sizeof(float) * n);
    } else if (last + nr > n) {
      for (long r = 0; r < mr; r++) memcpy(dst + r * n + last, jb->edge_cols + (p * mr + r) * nr, sizeof(float) * (n - last));
    }
  }
}

static inline void cpu_relax(void) {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/*
 * Every thread of the job (pool.c) packs B panels until none is left to take, waits until all are packed
 * (microseconds, unless the OS has paused a thread in the middle of one), then takes chunks of A panels until
 * none is left: it packs them if they need it, multiplies them by all of B and writes their rows out.
 */
static void take_chunks(void *arg, long part) {
  (void)part;
  job *jb = arg;
  for (long i; (i = __atomic_fetch_add(&jb->bnext, 1, __ATOMIC_RELAXED)) < jb->bpanels;) {
    pack_b_panel(jb, i);
    __atomic_fetch_add(&jb->bdone, 1, __ATOMIC_RELEASE);
  }
  for (long spins = 0; __atomic_load_n(&jb->bdone, __ATOMIC_ACQUIRE) < jb->bpanels; spins++)
    if (spins < 4096) cpu_relax();
    else sched_yield();
  for (;;) {
    const long p0 = __atomic_fetch_add(&jb->next, 1, __ATOMIC_RELAXED) * jb->chunk;
    if (p0 >= jb->panels) return;
    const long p1 = p0 + jb->chunk < jb->panels ? p0 + jb->chunk : jb->panels;
    for (long p = p0; p < p1; p++) pack_a_panel(jb, p);
    run_panels(jb, p0, p1);
    write_edges(jb, p0, p1);
  }
}

/* 64-byte aligned floats (the tiles load B panels aligned). */
static size_t aligned_floats(size_t floats) { return (floats * sizeof(float) + 63) / 64 * 64 / sizeof(float); }

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
  /* A transposed (the weight gradients' x^T, attention's k^T) with a long stride between k steps: read in place
   * where few B panels reuse each A panel (the attention's [64, 64] x [64, 32] 48 -> 88 GFLOP/s on 1 thread,
   * [512, 1024] x [1024, 128] 106 -> 145), packed where many do ([128, 1024] x [1024, 512]: in place was 5-9%
   * slower, its strided k steps falling out of L1 between B panels). */
  const int a_in_place = kern->strided_a && (a->sc == 1 || (a->sr == 1 && npanels <= 8));
  const int short_rows = m % mr != 0, short_cols = n % nr != 0;
  const size_t bfloats = aligned_floats((size_t)bbatches * npanels * nr * k);
  const size_t afloats = aligned_floats((size_t)(a_in_place ? (short_rows ? batch : 0) : batch * mpanels) * mr * k);
  const size_t rfloats = aligned_floats(short_rows ? (size_t)batch * mr * npanels * nr : 0);
  const size_t cfloats = aligned_floats(short_cols ? (size_t)batch * mpanels * mr * nr : 0);
  float *mem = aligned_alloc(64, (bfloats + afloats + rfloats + cfloats) * sizeof(float) + 64);
  if (!mem) return "out of memory for the packed operands";

  job jb = {
      .kern = kern, .a = a, .b = b, .out = out, .m = m, .k = k, .n = n, .mpanels = mpanels, .npanels = npanels,
      .panels = batch * mpanels, .a_in_place = a_in_place, .bpack = mem, .apack = mem + bfloats,
      .bbatch_floats = b->sb == 0 ? 0 : npanels * nr * k, .edge_rows = mem + bfloats + afloats,
      .edge_cols = mem + bfloats + afloats + rfloats, .bpanels = bbatches * npanels,
  };
  long parts = batch * m * n * k < min_parallel_macs ? 1 : threads;
  if (parts > jb.panels) parts = jb.panels;
  if (parts > MAX_THREADS) parts = MAX_THREADS;
  if (parts < 1) parts = 1;
  /* four chunks per thread even out a slow thread and keep B's L2 reuse */
  jb.chunk = parts == 1 ? jb.panels : (jb.panels + parts * 4 - 1) / (parts * 4);
  pool_run(parts, take_chunks, &jb);
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
  /* Threads write output rows while others still read A in place. */
  if (out < adata + alen && adata < out + olen) {
    napi_throw_range_error(env, NULL, "mycel native matmul: the output shares memory with A; give it its own array");
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
