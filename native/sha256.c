/*
 * Batched SHA-256 for the Merkle trees of tensor commitments (src/train/tensor-commitment.ts): one call hashes
 * every 256-byte chunk of a tensor as an RFC 6962 leaf, SHA-256(0x00 || chunk), or every pair of a tree level as a
 * node, SHA-256(0x01 || left || right). Hashing chunk by chunk through node:crypto costs a JavaScript-to-C++ call,
 * a buffer and a hash object per 256 bytes, more than the compression itself; here a state's ~75,000 hashes are a
 * handful of calls. Hand-written rather than OpenSSL's (which Node links but does not export to addons): the
 * compression is the standard FIPS 180-4 one, with the x86 SHA extensions where the CPU has them (detected at
 * load) and portable C elsewhere (other x86 CPUs, ARM64), and the tests compare every path with node:crypto.
 */
#include "sha256.h"
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static uint32_t be32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

/* FIPS 180-4 6.2.2, one 64-byte block at a time. */
static void compress_portable(uint32_t state[8], const uint8_t *data, size_t blocks) {
  uint32_t w[64];
  for (; blocks > 0; blocks--, data += 64) {
    for (int i = 0; i < 16; i++) w[i] = be32(data + 4 * i);
    for (int i = 16; i < 64; i++) {
      const uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; i++) {
      const uint32_t t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
      const uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d; state[4] += e; state[5] += f; state[6] += g; state[7] += h;
  }
}

#if defined(__x86_64__)
/*
 * The SHA extensions (SHA-NI): sha256rnds2 runs two rounds on the state held as ABEF/CDGH, sha256msg1/msg2 extend the
 * message schedule four words at a time (Intel's "New Instructions Supporting the SHA-256" layout).
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void compress_shani(uint32_t state[8], const uint8_t *data, size_t blocks) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xB1); /* CDAB */
  __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1B); /* EFGH */
  __m128i s0 = _mm_alignr_epi8(tmp, s1, 8);                                           /* ABEF */
  s1 = _mm_blend_epi16(s1, tmp, 0xF0);                                                /* CDGH */
  for (; blocks > 0; blocks--, data += 64) {
    const __m128i abef = s0, cdgh = s1;
    __m128i w[4];
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
      __m128i m;
      if (g < 4) {
        m = w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * g)), swap);
      } else {
        __m128i x = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
        x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
        m = w[g & 3] = _mm_sha256msg2_epu32(x, w[(g + 3) & 3]);
      }
      m = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)&K[4 * g]));
      s1 = _mm_sha256rnds2_epu32(s1, s0, m);
      s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
  }
  tmp = _mm_shuffle_epi32(s0, 0x1B);   /* FEBA */
  s1 = _mm_shuffle_epi32(s1, 0xB1);    /* DCHG */
  s0 = _mm_blend_epi16(tmp, s1, 0xF0); /* DCBA */
  s1 = _mm_alignr_epi8(s1, tmp, 8);    /* HGFE */
  _mm_storeu_si128((__m128i *)&state[0], s0);
  _mm_storeu_si128((__m128i *)&state[4], s1);
}

/* cpuid traps to the hypervisor in a VM (microseconds), so it runs once. */
/*
 * Two messages at once: sha256rnds2 has a latency of several cycles and each round depends on the last, so one stream
 * leaves the unit idle; two independent streams interleaved fill it (about 1.6x the throughput of compress_shani on
 * the AMD EPYC this was measured on). Leaves of one tensor all have the same length, so they pair up.
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void compress2_shani(uint32_t sa[8], uint32_t sb[8], const uint8_t *da, const uint8_t *db, size_t blocks) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i ta = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sa[0]), 0xB1);
  __m128i a1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sa[4]), 0x1B);
  __m128i a0 = _mm_alignr_epi8(ta, a1, 8);
  a1 = _mm_blend_epi16(a1, ta, 0xF0);
  __m128i tb = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sb[0]), 0xB1);
  __m128i b1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sb[4]), 0x1B);
  __m128i b0 = _mm_alignr_epi8(tb, b1, 8);
  b1 = _mm_blend_epi16(b1, tb, 0xF0);
  for (; blocks > 0; blocks--, da += 64, db += 64) {
    const __m128i a_abef = a0, a_cdgh = a1, b_abef = b0, b_cdgh = b1;
    __m128i wa[4], wb[4];
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
      __m128i ma, mb;
      if (g < 4) {
        ma = wa[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(da + 16 * g)), swap);
        mb = wb[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(db + 16 * g)), swap);
      } else {
        __m128i xa = _mm_sha256msg1_epu32(wa[g & 3], wa[(g + 1) & 3]);
        __m128i xb = _mm_sha256msg1_epu32(wb[g & 3], wb[(g + 1) & 3]);
        xa = _mm_add_epi32(xa, _mm_alignr_epi8(wa[(g + 3) & 3], wa[(g + 2) & 3], 4));
        xb = _mm_add_epi32(xb, _mm_alignr_epi8(wb[(g + 3) & 3], wb[(g + 2) & 3], 4));
        ma = wa[g & 3] = _mm_sha256msg2_epu32(xa, wa[(g + 3) & 3]);
        mb = wb[g & 3] = _mm_sha256msg2_epu32(xb, wb[(g + 3) & 3]);
      }
      const __m128i k = _mm_loadu_si128((const __m128i *)&K[4 * g]);
      ma = _mm_add_epi32(ma, k);
      mb = _mm_add_epi32(mb, k);
      a1 = _mm_sha256rnds2_epu32(a1, a0, ma);
      b1 = _mm_sha256rnds2_epu32(b1, b0, mb);
      a0 = _mm_sha256rnds2_epu32(a0, a1, _mm_shuffle_epi32(ma, 0x0E));
      b0 = _mm_sha256rnds2_epu32(b0, b1, _mm_shuffle_epi32(mb, 0x0E));
    }
    a0 = _mm_add_epi32(a0, a_abef);
    a1 = _mm_add_epi32(a1, a_cdgh);
    b0 = _mm_add_epi32(b0, b_abef);
    b1 = _mm_add_epi32(b1, b_cdgh);
  }
  ta = _mm_shuffle_epi32(a0, 0x1B);
  a1 = _mm_shuffle_epi32(a1, 0xB1);
  _mm_storeu_si128((__m128i *)&sa[0], _mm_blend_epi16(ta, a1, 0xF0));
  _mm_storeu_si128((__m128i *)&sa[4], _mm_alignr_epi8(a1, ta, 8));
  tb = _mm_shuffle_epi32(b0, 0x1B);
  b1 = _mm_shuffle_epi32(b1, 0xB1);
  _mm_storeu_si128((__m128i *)&sb[0], _mm_blend_epi16(tb, b1, 0xF0));
  _mm_storeu_si128((__m128i *)&sb[4], _mm_alignr_epi8(b1, tb, 8));
}

static int cpu_has_sha_uncached(void) {
  unsigned a, b, c, d;
  if (__get_cpuid_max(0, NULL) < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  const int sha = (b >> 29) & 1;
  __cpuid(1, a, b, c, d);
  const int sse41 = (c >> 19) & 1, ssse3 = (c >> 9) & 1;
  return sha && sse41 && ssse3;
}

static int cpu_has_sha(void) {
  static int has = -1; /* racing threads compute the same value */
  if (has < 0) has = cpu_has_sha_uncached();
  return has;
}
#endif

typedef void (*compress_fn)(uint32_t state[8], const uint8_t *data, size_t blocks);
typedef void (*compress2_fn)(uint32_t sa[8], uint32_t sb[8], const uint8_t *da, const uint8_t *db, size_t blocks);

/* Two messages one after the other, where there is no interleaved version. */
static void compress2_portable(uint32_t sa[8], uint32_t sb[8], const uint8_t *da, const uint8_t *db, size_t blocks) {
  compress_portable(sa, da, blocks);
  compress_portable(sb, db, blocks);
}

typedef struct {
  const char *name;
  compress_fn compress;
  compress2_fn compress2;
} impl;

static const impl IMPLS[] = {
#if defined(__x86_64__)
  {"sha-ni", compress_shani, compress2_shani},
#endif
  {"portable", compress_portable, compress2_portable},
};

int sha256_impl_count(void) {
  int count = 0;
  for (size_t i = 0; i < sizeof IMPLS / sizeof IMPLS[0]; i++) {
#if defined(__x86_64__)
    if (IMPLS[i].compress == compress_shani && !cpu_has_sha()) continue;
#endif
    count++;
  }
  return count;
}

/* The i-th implementation this CPU runs, fastest first. */
static const impl *impl_at(int index) {
  int seen = 0;
  for (size_t i = 0; i < sizeof IMPLS / sizeof IMPLS[0]; i++) {
#if defined(__x86_64__)
    if (IMPLS[i].compress == compress_shani && !cpu_has_sha()) continue;
#endif
    if (seen++ == index) return &IMPLS[i];
  }
  return NULL;
}

const char *sha256_impl_name(int index) {
  const impl *m = impl_at(index);
  return m ? m->name : NULL;
}

/* The first block of prefix || data (data at least 63 bytes), and the padded tail after the whole blocks. */
typedef struct {
  uint8_t head[64];
  uint8_t tail[128];
  size_t middle; /* whole blocks of data after the head, compressed in place */
  size_t tail_blocks;
} padded;

static void pad(uint8_t prefix, const uint8_t *data, size_t len, padded *p) {
  size_t used;
  uint8_t *tail = p->tail;
  if (len >= 63) {
    p->head[0] = prefix;
    memcpy(p->head + 1, data, 63);
    p->middle = (len - 63) / 64;
    used = len - 63 - 64 * p->middle;
    memcpy(tail, data + 63 + 64 * p->middle, used);
  } else {
    /* short: everything is in the tail (head unused) */
    p->middle = 0;
    tail[0] = prefix;
    memcpy(tail + 1, data, len);
    used = len + 1;
  }
  tail[used++] = 0x80;
  const size_t total = used > 56 ? 128 : 64;
  memset(tail + used, 0, total - used);
  const uint64_t bits = (uint64_t)(len + 1) * 8;
  for (int i = 0; i < 8; i++) tail[total - 1 - i] = (uint8_t)(bits >> (8 * i));
  p->tail_blocks = total / 64;
}

static void digest_out(const uint32_t st[8], uint8_t out[32]) {
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(st[i] >> 24);
    out[4 * i + 1] = (uint8_t)(st[i] >> 16);
    out[4 * i + 2] = (uint8_t)(st[i] >> 8);
    out[4 * i + 3] = (uint8_t)st[i];
  }
}

/* SHA-256(prefix || data[0..len)): the bulk compressed in place, the first and last blocks from small buffers. */
static void hash_prefixed(const impl *m, uint8_t prefix, const uint8_t *data, size_t len, uint8_t out[32]) {
  uint32_t st[8];
  memcpy(st, IV, sizeof st);
  padded p;
  pad(prefix, data, len, &p);
  if (len >= 63) {
    m->compress(st, p.head, 1);
    m->compress(st, data + 63, p.middle);
  }
  m->compress(st, p.tail, p.tail_blocks);
  digest_out(st, out);
}

/* hash_prefixed of two messages of the same length, interleaved. */
static void hash_prefixed2(const impl *m, uint8_t prefix, const uint8_t *da, const uint8_t *db, size_t len, uint8_t oa[32], uint8_t ob[32]) {
  uint32_t sa[8], sb[8];
  memcpy(sa, IV, sizeof sa);
  memcpy(sb, IV, sizeof sb);
  padded pa, pb;
  pad(prefix, da, len, &pa);
  pad(prefix, db, len, &pb);
  if (len >= 63) {
    m->compress2(sa, sb, pa.head, pb.head, 1);
    m->compress2(sa, sb, da + 63, db + 63, pa.middle);
  }
  m->compress2(sa, sb, pa.tail, pb.tail, pa.tail_blocks);
  digest_out(sa, oa);
  digest_out(sb, ob);
}

int sha256_leaves(int index, const uint8_t *data, size_t len, size_t chunk, uint8_t *out) {
  const impl *m = impl_at(index);
  if (!m || chunk == 0) return -1;
  const size_t full = len / chunk;
  size_t i = 0;
  for (; i + 1 < full; i += 2) hash_prefixed2(m, 0x00, data + chunk * i, data + chunk * (i + 1), chunk, out + 32 * i, out + 32 * (i + 1));
  for (; chunk * i < len; i++) hash_prefixed(m, 0x00, data + chunk * i, len - chunk * i < chunk ? len - chunk * i : chunk, out + 32 * i);
  return 0;
}

int sha256_nodes(int index, const uint8_t *pairs, size_t count, uint8_t *out) {
  const impl *m = impl_at(index);
  if (!m) return -1;
  uint8_t digest[64];
  /* out may be pairs itself: nodes i, i + 1 are written after pairs i, i + 1 are read, and pair i + 2 starts past them. */
  size_t i = 0;
  for (; i + 1 < count; i += 2) {
    hash_prefixed2(m, 0x01, pairs + 64 * i, pairs + 64 * (i + 1), 64, digest, digest + 32);
    memcpy(out + 32 * i, digest, 64);
  }
  if (i < count) {
    hash_prefixed(m, 0x01, pairs + 64 * i, 64, digest);
    memcpy(out + 32 * i, digest, 32);
  }
  return 0;
}

/* ---- Node-API: sha256Impls, sha256Leaves(impl, data, chunk, out), sha256Nodes(impl, pairs, count, out) ---- */

static int byte_array(napi_env env, napi_value v, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  *data = ptr;
  return 1;
}

static int int_args(napi_env env, napi_callback_info info, napi_value argv[4], int64_t *impl, int64_t *size) {
  size_t argc = 4;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return 0;
  return napi_get_value_int64(env, argv[0], impl) == napi_ok && napi_get_value_int64(env, argv[2], size) == napi_ok;
}

static napi_value js_leaves(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t impl, chunk;
  uint8_t *data, *out;
  size_t len, outLen;
  if (!int_args(env, info, argv, &impl, &chunk) || !byte_array(env, argv[1], &data, &len) || !byte_array(env, argv[3], &out, &outLen)) {
    napi_throw_type_error(env, NULL, "mycel native sha256Leaves: expected (impl, Uint8Array data, chunk bytes, Uint8Array out)");
    return NULL;
  }
  if (chunk <= 0 || impl < 0 || impl >= sha256_impl_count() || outLen < 32 * ((len + (size_t)chunk - 1) / (size_t)chunk)) {
    napi_throw_range_error(env, NULL, "mycel native sha256Leaves: no such implementation, chunk <= 0, or out shorter than 32 bytes a chunk");
    return NULL;
  }
  sha256_leaves((int)impl, data, len, (size_t)chunk, out);
  return NULL;
}

static napi_value js_nodes(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t impl, count;
  uint8_t *pairs, *out;
  size_t len, outLen;
  if (!int_args(env, info, argv, &impl, &count) || !byte_array(env, argv[1], &pairs, &len) || !byte_array(env, argv[3], &out, &outLen)) {
    napi_throw_type_error(env, NULL, "mycel native sha256Nodes: expected (impl, Uint8Array pairs, count, Uint8Array out)");
    return NULL;
  }
  if (count < 0 || impl < 0 || impl >= sha256_impl_count() || len < 64 * (size_t)count || outLen < 32 * (size_t)count) {
    napi_throw_range_error(env, NULL, "mycel native sha256Nodes: no such implementation, or pairs shorter than 64 bytes or out than 32 bytes a node");
    return NULL;
  }
  sha256_nodes((int)impl, pairs, (size_t)count, out);
  return NULL;
}

int sha256_register(napi_env env, napi_value exports) {
  napi_value list, s, fn;
  const int count = sha256_impl_count();
  if (napi_create_array_with_length(env, count, &list) != napi_ok) return 0;
  for (int i = 0; i < count; i++) {
    if (napi_create_string_utf8(env, sha256_impl_name(i), NAPI_AUTO_LENGTH, &s) != napi_ok) return 0;
    if (napi_set_element(env, list, i, s) != napi_ok) return 0;
  }
  if (napi_set_named_property(env, exports, "sha256Impls", list) != napi_ok) return 0;
  if (napi_create_function(env, "sha256Leaves", NAPI_AUTO_LENGTH, js_leaves, NULL, &fn) != napi_ok) return 0;
  if (napi_set_named_property(env, exports, "sha256Leaves", fn) != napi_ok) return 0;
  if (napi_create_function(env, "sha256Nodes", NAPI_AUTO_LENGTH, js_nodes, NULL, &fn) != napi_ok) return 0;
  return napi_set_named_property(env, exports, "sha256Nodes", fn) == napi_ok;
}
