/*
 * upass.h (private to the tmodel kernel): the U pass, the sampler's inner loop, with eight
 * random lanes per chain so it can run eight gamma draws at once.
 *
 * The pass draws U_i for every point (w_i = 1 / U_i = 2 G_i / q_i, G_i ~ Gamma((nu + 1) / 2),
 * q_i = nu tau^2 + r_i^2 r2scale, r_i = x_i - mu) and accumulates s1 = sum w_i,
 * s2 = sum r_i^2 w_i, s3 = sum r_i w_i. Its result is defined so that every instruction-set
 * variant gives the same bits. The gamma draws come from eight lanes, each an xoshiro256**
 * stream seeded from the chain's stream (hl_tm_lanes_seed), in one of two ways:
 * - shapes 1 <= (nu + 1) / 2 <= HL_TM_ZIG_MAX_SHAPE (nu >= 1): the shape's ziggurat
 *   (gamma_zig.h). The lanes make attempts in rounds, lanes 0-7 one attempt each per round, and
 *   the accepted draws, in round and lane order, go to the points in order. The stream of draws
 *   runs on across pieces and passes: the draws of a round that a pass does not need are kept
 *   (hl_tm_lanes.carry) for the next one.
 * - other shapes (nu < 1, or huge): point i takes its draw from lane i mod 8, Marsaglia & Tsang
 *   (ACM TOMS 2000) on the ziggurat normal of Marsaglia & Tsang (JSS 2000), boosted for shapes
 *   below 1. Scalar code only.
 * Each sum is accumulated per lane (point i into lane i mod 8) in point order, then reduced in a
 * fixed tree: (s0 + s4) + (s2 + s6) + ((s1 + s5) + (s3 + s7)), as an 8-wide register reduces.
 * The AVX-512 and AVX2 variants run the ziggurat's rounds in registers (eight lanes in one
 * register, or two of four) and the rare lanes outside their box's inner part in the scalar
 * code. Every value is computed
 * without fused multiply-adds (the project builds with -ffp-contract=off), in the same operation
 * order in every variant.
 */
#ifndef HOTLOOP_TMODEL_UPASS_H
#define HOTLOOP_TMODEL_UPASS_H

#include <math.h>
#include <string.h>

#include "hotloop/cpu.h"
#include "hotloop/rng.h"

#include "../ziggurat_tables.h"
#include "gamma_zig.h"

#define HL_TM_LANES 8

/* Eight xoshiro256** states, structure of arrays: s[k][lane]. */
typedef struct hl_tm_lanes {
    uint64_t s[4][HL_TM_LANES];
    /* Ziggurat draws made but not yet used (at most 7): the next pass takes them first. */
    double carry[HL_TM_LANES];
    uint64_t ncarry;
} hl_tm_lanes;

/* What one pass needs. */
typedef struct hl_tm_upass {
    const double *x;
    size_t n;
    double mu, nu_tau2, r2scale;
    const hl_tm_zig *zig; /* the shape's ziggurat, or NULL: Marsaglia-Tsang */
    double d, c;          /* Marsaglia-Tsang constants of the shape (or shape + 1 when boosting) */
    double shape;         /* the gamma shape (nu + 1) / 2 */
    int boost;            /* shape < 1 */
    double *w_out;        /* NULL, or n values receiving w_i */
} hl_tm_upass;

typedef struct hl_tm_sums {
    double s1, s2, s3;
} hl_tm_sums;

/* Per-lane partial sums, reduced by hl_tm_reduce. */
typedef struct hl_tm_acc {
    double s1[HL_TM_LANES], s2[HL_TM_LANES], s3[HL_TM_LANES];
} hl_tm_acc;

/* Seeds the lanes of a chain: lane j from the j-th output of the chain's stream (through
 * splitmix64, as hl_rng_seed does). */
static inline void hl_tm_lanes_seed(hl_tm_lanes *L, hl_rng *chain) {
    for (int j = 0; j < HL_TM_LANES; j++) {
        hl_rng r;
        hl_rng_seed(&r, hl_rng_next(chain));
        for (int k = 0; k < 4; k++) {
            L->s[k][j] = r.s[k];
        }
    }
    L->ncarry = 0;
}

static inline hl_rng hl_tm_lane_get(const hl_tm_lanes *L, int j) {
    hl_rng r = {{L->s[0][j], L->s[1][j], L->s[2][j], L->s[3][j]}};
    return r;
}

static inline void hl_tm_lane_put(hl_tm_lanes *L, int j, const hl_rng *r) {
    for (int k = 0; k < 4; k++) {
        L->s[k][j] = r->s[k];
    }
}

/* Standard normal by the 256-layer ziggurat: bits 0-7 the layer, bit 8 the sign, bits 12-63
 * the uniform; the tail and the wedges go through hl_rng_normal_outside (rng.h). */
static inline double hl_tm_lane_normal(hl_rng *r) {
    for (;;) {
        const uint64_t bits = hl_rng_next(r);
        const unsigned layer = (unsigned)(bits & 0xFFu);
        const int negative = (int)((bits >> 8) & 1u);
        const double x = hl_tm_u52(bits) * hl_zig_x[layer];
        if (x < hl_zig_x[layer + 1]) {
            return negative ? -x : x;
        }
        const double v = hl_rng_normal_outside(r, layer, negative, x);
        if (!isnan(v)) {
            return v;
        }
    }
}

/* One Gamma draw of a lane (Marsaglia & Tsang with constants d, c; boost for shape < 1). */
static inline double hl_tm_lane_gamma(hl_rng *r, const hl_tm_upass *a) {
    const double d = a->d, c = a->c;
    double res;
    for (;;) {
        const double x = hl_tm_lane_normal(r);
        double v = 1.0 + c * x;
        if (v <= 0.0) {
            continue;
        }
        v = v * v * v;
        const double u = hl_tm_u52(hl_rng_next(r)) + 0x1.0p-53;
        const double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) {
            res = d * v;
            break;
        }
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) { /* the exact test */
            res = d * v;
            break;
        }
    }
    if (a->boost) {
        res = exp(log(res) + log(hl_tm_u52(hl_rng_next(r)) + 0x1.0p-53) / a->shape);
    }
    return res;
}

/* The lanes of a ziggurat round outside their box's inner part (`out`, bit j for lane j), in
 * scalar code, as hl_tm_zig_attempt goes on for them: lane j's state (after the round's word)
 * in *L, its box and candidate in boxes[j] and xs[j]. Returns the lanes that give a draw, which
 * is then in xs[j]. Shared by the SIMD variants for their rare rounds. */
static inline unsigned hl_tm_zig_rare_lanes(const hl_tm_zig *zig, hl_tm_lanes *L,
                                            const uint64_t *boxes, double *xs, unsigned out) {
    unsigned accept = 0;
    for (int j = 0; j < HL_TM_LANES; j++) {
        if ((out >> j) & 1u) {
            hl_rng r = hl_tm_lane_get(L, j);
            accept |= (unsigned)hl_tm_zig_outside(&r, zig, (unsigned)boxes[j], xs[j], &xs[j]) << j;
            hl_tm_lane_put(L, j, &r);
        }
    }
    return accept;
}

/* Point i of the pass with its gamma draw g: w_i = 2 g / q_i, stored when asked, and added to
 * the sums of lane i mod 8 (the operations, in their order, that every variant performs). */
static inline void hl_tm_add_point(const hl_tm_upass *a, hl_tm_acc *acc, size_t i, double g) {
    const int j = (int)(i % HL_TM_LANES);
    const double r = a->x[i] - a->mu;
    const double rr = r * r;
    const double q = a->nu_tau2 + rr * a->r2scale;
    const double w = (2.0 * g) / q;
    if (a->w_out != NULL) {
        a->w_out[i] = w;
    }
    acc->s1[j] += w;
    acc->s2[j] += rr * w;
    acc->s3[j] += r * w;
}

static inline double hl_tm_reduce8(const double *s) {
    const double t0 = s[0] + s[4], t1 = s[1] + s[5], t2 = s[2] + s[6], t3 = s[3] + s[7];
    return (t0 + t2) + (t1 + t3);
}

static inline hl_tm_sums hl_tm_reduce(const hl_tm_acc *acc) {
    hl_tm_sums s = {hl_tm_reduce8(acc->s1), hl_tm_reduce8(acc->s2), hl_tm_reduce8(acc->s3)};
    return s;
}

/* The variants (upass_scalar.c, upass_avx2.c, upass_avx512.c): each adds points [0, a->n) to the
 * per-lane sums in *acc, so a pass cut into pieces of whole blocks of 8 points (x and w_out
 * advanced by the piece's start) gives the same sums, bit for bit, as one call. */
void hl_tm_upass_scalar(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc);
#if defined(HL_X86_64)
void hl_tm_upass_avx2(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc);
void hl_tm_upass_avx512(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc);
#endif

/* Runs the pass with the variant of `level` (already resolved against the CPU). */
static inline void hl_tm_upass_run(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc,
                                   hl_simd_level level) {
#if defined(HL_X86_64)
    if (a->zig != NULL && level == HL_SIMD_AVX512) {
        hl_tm_upass_avx512(a, L, acc);
        return;
    }
    if (a->zig != NULL && level == HL_SIMD_AVX2) {
        hl_tm_upass_avx2(a, L, acc);
        return;
    }
#else
    (void)level;
#endif
    hl_tm_upass_scalar(a, L, acc);
}

#endif
