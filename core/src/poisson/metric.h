/*
 * metric.h (internal to the poisson kernel): the domains' distances and the quantised weight
 * contribution, written once so that the neighbour search, the elimination and the nearest
 * neighbour statistics evaluate exactly the same floating-point expressions (see poisson.h for
 * the formulas; the reference twin hotloop.reference.poisson mirrors them operation by
 * operation). Every distance here is bitwise symmetric: d(a, b) == d(b, a), because
 * fl(x - y) == -fl(y - x) and squares and sums do not see the sign.
 */
#ifndef HOTLOOP_POISSON_METRIC_H
#define HOTLOOP_POISSON_METRIC_H

#include <math.h>

#include "hotloop/poisson.h"

typedef struct hl_pd_metric {
    hl_poisson_domain domain;
    size_t dim;
    double lo[HL_POISSON_MAX_DIM], hi[HL_POISSON_MAX_DIM]; /* PERIODIC */
    double len[HL_POISSON_MAX_DIM], half[HL_POISSON_MAX_DIM];
} hl_pd_metric;

/* Periodic per-coordinate delta b - a at its minimal image; *shift gets -1, 0 or +1: the image
 * a + shift * len of a that is nearest to b. */
static inline double hl_pd_wrap(const hl_pd_metric *mt, size_t k, double a, double b, int *shift) {
    double d = b - a;
    if (d > mt->half[k]) {
        *shift = 1;
        return d - mt->len[k];
    }
    if (d < -mt->half[k]) {
        *shift = -1;
        return d + mt->len[k];
    }
    *shift = 0;
    return d;
}

/* The domain distance of a and b. For PERIODIC, *code (if not NULL) gets the minimal image as
 * sum_k (shift_k + 1) * 3^k, so a query through the image with the same code can claim the pair
 * exactly once. */
static inline double hl_pd_dist(const hl_pd_metric *mt, const double *a, const double *b,
                                int32_t *code) {
    const size_t dim = mt->dim;
    double s = 0.0;
    switch (mt->domain) {
    case HL_POISSON_PERIODIC: {
        int32_t c = 0, p3 = 1;
        for (size_t k = 0; k < dim; k++) {
            int sh;
            double d = hl_pd_wrap(mt, k, a[k], b[k], &sh);
            s += d * d;
            c += (sh + 1) * p3;
            p3 *= 3;
        }
        if (code != NULL) {
            *code = c;
        }
        return sqrt(s);
    }
    case HL_POISSON_ROTATIONS: {
        double sm = 0.0, sp = 0.0;
        for (size_t k = 0; k < dim; k++) {
            double dm = a[k] - b[k], dp = a[k] + b[k];
            sm += dm * dm;
            sp += dp * dp;
        }
        double c = sqrt(sm < sp ? sm : sp);
        double h = 0.5 * c;
        return 4.0 * asin(h < 1.0 ? h : 1.0);
    }
    case HL_POISSON_BOX:
    case HL_POISSON_SPHERE:
    default:
        for (size_t k = 0; k < dim; k++) {
            double d = b[k] - a[k];
            s += d * d;
        }
        return sqrt(s);
    }
}

/* The weight parameters of one elimination level. */
typedef struct hl_pd_weight {
    double d_max, d_min, alpha, scale; /* scale = 2^S, see poisson.h */
    int alpha8;
} hl_pd_weight;

/* The quantised contribution trunc(w(d) * 2^S) of a neighbour at distance d < d_max. */
static inline int64_t hl_pd_quant(const hl_pd_weight *wt, double d) {
    double dh = d < wt->d_min ? wt->d_min : d;
    double t = 1.0 - dh / wt->d_max;
    if (!(t > 0.0)) {
        return 0;
    }
    double w;
    if (wt->alpha8) {
        double t2 = t * t, t4 = t2 * t2;
        w = t4 * t4;
    } else {
        w = pow(t, wt->alpha);
    }
    return (int64_t)(w * wt->scale);
}

/* S = min(52, 62 - bit_length(m - 1)): m - 1 contributions <= 2^S sum below 2^62. */
static inline int hl_pd_scale_bits(size_t m) {
    int bits = 0;
    for (size_t v = m > 0 ? m - 1 : 0; v != 0; v >>= 1) {
        bits++;
    }
    int s = 62 - bits;
    return s < 52 ? s : 52;
}

#endif /* HOTLOOP_POISSON_METRIC_H */
