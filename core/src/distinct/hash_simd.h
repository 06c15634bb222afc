/*
 * hash_simd.h: the SIMD variants of the canonical integer hash (internal to the distinct
 * kernel). Each gives exactly hl_dhash_int's values; hl_dsource_hash picks one at run time.
 */
#ifndef HOTLOOP_DISTINCT_HASH_SIMD_H
#define HOTLOOP_DISTINCT_HASH_SIMD_H

#include "hotloop/distinct.h"

/* out[i] = hl_dhash_int(v[i], key) for the n int64 values at data (unaligned). Needs
 * AVX-512 F and DQ (the 64-bit multiply); call only when hl_cpu_resolve_level says so. */
void hl_dhash_i64_avx512(const unsigned char *data, size_t n, uint64_t key, uint64_t *out);

#endif /* HOTLOOP_DISTINCT_HASH_SIMD_H */
