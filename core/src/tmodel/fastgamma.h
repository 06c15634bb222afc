/*
 * fastgamma.h (private to the tmodel kernel): inlined normal and gamma draws for the sampler's
 * inner loop.
 *
 * They are the algorithms of hotloop/rng.h written as static inline functions so the per-point
 * gamma draw of the fused pass costs no call and its Marsaglia-Tsang constants d and c are
 * computed once per run instead of once per draw (all n U_i share the shape (nu + 1) / 2).
 * They consume the stream exactly as hl_rng_normal and hl_rng_gamma do and return the same
 * values (the C tests check it draw for draw), so the stream is documented by rng.h.
 *
 * References: Marsaglia & Tsang, "The Ziggurat Method for Generating Random Variables" (JSS 2000);
 * Marsaglia & Tsang, "A simple method for generating gamma variables" (ACM TOMS 2000).
 */
#ifndef HOTLOOP_TMODEL_FASTGAMMA_H
#define HOTLOOP_TMODEL_FASTGAMMA_H

#include <math.h>

#include "hotloop/rng.h"

#include "../ziggurat_tables.h"

/* Standard normal, the ziggurat of hl_rng_normal: the common rectangle case inline, the rare
 * tail and wedge cases as in rng.c. */
static inline double hl_tm_normal(hl_rng *r) {
    for (;;) {
        const uint64_t bits = hl_rng_next(r);
        const unsigned layer = (unsigned)(bits & 0xFFu);
        const int negative = (int)((bits >> 8) & 1u);
        const double u = (double)(bits >> 11) * 0x1.0p-53;
        const double x = u * hl_zig_x[layer];
        if (__builtin_expect(x < hl_zig_x[layer + 1], 1)) {
            return negative ? -x : x;
        }
        if (layer == 0) {
            double a, b;
            do {
                a = -log(hl_rng_uniform_pos(r)) / hl_zig_r;
                b = -log(hl_rng_uniform_pos(r));
            } while (b + b < a * a);
            const double t = hl_zig_r + a;
            return negative ? -t : t;
        }
        const double y =
            hl_zig_f[layer] + hl_rng_uniform(r) * (hl_zig_f[layer + 1] - hl_zig_f[layer]);
        if (y < exp(-0.5 * x * x)) {
            return negative ? -x : x;
        }
    }
}

/* The constants of Marsaglia-Tsang for one shape. Shapes below 1 are drawn as
 * Gamma(shape + 1) * U^(1/shape) (same paper, section 6), as hl_rng_gamma does. */
typedef struct hl_tm_gamma {
    double d, c;  /* d = a - 1/3, c = 1 / sqrt(9 d), a = shape (or shape + 1) */
    double shape; /* the requested shape */
    int boost;    /* shape < 1 */
} hl_tm_gamma;

/* Prepares the constants; shape must be > 0 and finite (checked by the callers). */
static inline hl_tm_gamma hl_tm_gamma_init(double shape) {
    hl_tm_gamma g;
    g.shape = shape;
    g.boost = shape < 1.0;
    const double a = g.boost ? shape + 1.0 : shape;
    g.d = a - 1.0 / 3.0;
    g.c = 1.0 / sqrt(9.0 * g.d);
    return g;
}

/* One Gamma(shape, scale 1) draw. */
static inline double hl_tm_gamma_draw(const hl_tm_gamma *g, hl_rng *r) {
    const double d = g->d, c = g->c;
    double res;
    for (;;) {
        double x, v;
        do {
            x = hl_tm_normal(r);
            v = 1.0 + c * x;
        } while (__builtin_expect(v <= 0.0, 0));
        v = v * v * v;
        const double u = hl_rng_uniform_pos(r);
        const double x2 = x * x;
        /* The squeeze accepts about 98% of the time without a log. */
        if (__builtin_expect(u < 1.0 - 0.0331 * x2 * x2, 1)) {
            res = d * v;
            break;
        }
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) {
            res = d * v;
            break;
        }
    }
    if (g->boost) {
        res = exp(log(res) + log(hl_rng_uniform_pos(r)) / g->shape);
    }
    return res;
}

#endif
