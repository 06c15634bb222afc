/*
 * hotloop/rng.h: the one random generator family of hotloop.
 *
 * xoshiro256** 1.0 (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 2021), seeded through splitmix64 (Steele, Lea & Flood 2014) so that any 64-bit
 * seed, 0 included, gives a well-mixed state. Independent streams (per row, chain or block,
 * never per thread) come from the jump function: stream k starts 2^128 * k steps after the
 * seeded state, so streams never overlap in practice. Results therefore depend on the seed
 * alone, not on the number of threads.
 *
 * Distributions:
 * - uniform doubles with 53 random bits;
 * - standard normal by the ziggurat method (Marsaglia & Tsang, "The Ziggurat Method for
 *   Generating Random Variables", JSS 2000) with 256 layers, with the exact tail of
 *   Marsaglia (1964); the tables are compile-time constants (tools/gen_ziggurat.py), so the
 *   stream is the same on every machine;
 * - gamma by Marsaglia & Tsang, "A simple method for generating gamma variables" (ACM TOMS
 *   2000), shape < 1 through Gamma(a) = Gamma(a + 1) * U^(1/a) (same paper, section 6);
 * - chi-square(k) = 2 * Gamma(k / 2).
 *
 * A generator is a plain value: not thread-safe, copy it freely. Determinism: the same seed
 * gives the same stream on every run and machine (the normal and gamma draws use exp/log from
 * the C library, which is correctly rounded or faithful on glibc; the tests pin golden values).
 */
#ifndef HOTLOOP_RNG_H
#define HOTLOOP_RNG_H

#include "hotloop/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hl_rng {
    uint64_t s[4];
} hl_rng;

/* One splitmix64 step: advances *state and returns the next output. */
static inline uint64_t hl_splitmix64(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t hl_rotl64(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits (xoshiro256**). */
static inline uint64_t hl_rng_next(hl_rng *r) {
    uint64_t *s = r->s;
    const uint64_t result = hl_rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = hl_rotl64(s[3], 45);
    return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double hl_rng_uniform(hl_rng *r) {
    return (double)(hl_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform double in (0, 1): never 0, so log() of it is finite. */
static inline double hl_rng_uniform_pos(hl_rng *r) {
    return ((double)(hl_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Uniform integer in [0, bound) without modulo bias (Lemire 2019). bound must be > 0. */
HL_API uint64_t hl_rng_below(hl_rng *r, uint64_t bound);

/* Seeds *r from `seed` through splitmix64. */
HL_API void hl_rng_seed(hl_rng *r, uint64_t seed);

/* Advances *r by 2^128 steps (the xoshiro256 jump polynomial). */
HL_API void hl_rng_jump(hl_rng *r);

/* Fills out[0..n) with streams 0..n-1 of `seed`: out[0] is the seeded state, out[k] is
 * out[k-1] jumped once. O(n) jumps. */
HL_API void hl_rng_streams(uint64_t seed, size_t n, hl_rng *out);

/* Stream `k` of `seed` alone (k jumps: use hl_rng_streams for many). */
HL_API void hl_rng_stream(hl_rng *r, uint64_t seed, uint64_t k);

/* Standard normal N(0, 1) (ziggurat, exact). */
HL_API double hl_rng_normal(hl_rng *r);

/* The ziggurat's slow path, shared by hl_rng_normal and vectorised samplers that run the
 * rectangle test in SIMD lanes, so every path decides a draw identically: given a draw
 * x = u * hl_zig_x[layer] (u uniform in [0, 1)) that is NOT below hl_zig_x[layer + 1], it
 * samples the tail beyond r (layer 0; Marsaglia 1964, exact) or decides the wedge under the
 * density, drawing what it needs from *r. Returns the signed accepted value, or NAN when the
 * draw is rejected and the caller must start a new one. */
HL_API double hl_rng_normal_outside(hl_rng *r, unsigned layer, int negative, double x);

/* Exponential with rate 1 (inversion: -log of a uniform in (0, 1)). */
HL_API double hl_rng_exponential(hl_rng *r);

/* Gamma(shape, scale 1). shape must be > 0 and finite (else NaN is returned). */
HL_API double hl_rng_gamma(hl_rng *r, double shape);

/* Chi-square with k > 0 degrees of freedom (2 * Gamma(k / 2)). */
HL_API double hl_rng_chisq(hl_rng *r, double k);

#ifdef __cplusplus
}
#endif
#endif /* HOTLOOP_RNG_H */
