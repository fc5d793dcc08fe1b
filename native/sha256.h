/* native/sha256.c: batched SHA-256 for Merkle leaves and nodes (see there). */
#ifndef MYCEL_SHA256_H
#define MYCEL_SHA256_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* Implementations this CPU runs, fastest first ("sha-ni", "portable"). */
int sha256_impl_count(void);
const char *sha256_impl_name(int index);
/* out[32 i ..] = SHA-256(0x00 || data[chunk i ..][..chunk]), the last chunk possibly shorter; 0, or -1 for a bad impl/chunk. */
int sha256_leaves(int impl, const uint8_t *data, size_t len, size_t chunk, uint8_t *out);
/* out[32 i ..] = SHA-256(0x01 || pairs[64 i .. 64 i + 64]); out may be pairs. */
int sha256_nodes(int impl, const uint8_t *pairs, size_t count, uint8_t *out);
/* Adds sha256Impls, sha256Leaves and sha256Nodes to the addon's exports; 0 on failure. */
int sha256_register(napi_env env, napi_value exports);
#endif
