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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
        /* The chord to the nearer of b and -b: 2 sin(theta / 4) for rotation angle theta. */
        double sm = 0.0, sp = 0.0;
        for (size_t k = 0; k < dim; k++) {
            double dm = a[k] - b[k], dp = a[k] + b[k];
            sm += dm * dm;
            sp += dp * dp;
        }
        return sqrt(sm < sp ? sm : sp);
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
    double d_max, d_min, alpha, scale; /* scale = 2^S, see hl_pd_scale */
    int alpha8;
} hl_pd_weight;

/* The weight w(d) of a neighbour at distance d (see poisson.h for the formula). */
static inline double hl_pd_weight_of(const hl_pd_weight *wt, double d) {
    double dh = d < wt->d_min ? wt->d_min : d;
    double t = 1.0 - dh / wt->d_max;
    if (!(t > 0.0)) {
        return 0.0;
    }
    if (wt->alpha8) {
        double t2 = t * t, t4 = t2 * t2;
        return t4 * t4;
    }
    return pow(t, wt->alpha);
}

/* The quantised contribution trunc(w(d) * 2^S) of a neighbour at distance d < d_max: below
 * 2^31 (see hl_pd_scale), so it fits a uint32 and m - 1 < 2^32 of them an int64. */
static inline uint32_t hl_pd_quant(const hl_pd_weight *wt, double d) {
    return (uint32_t)(hl_pd_weight_of(wt, d) * wt->scale);
}

/* d[k] = sqrt(d[k]) for k < n: two at a time where SSE2 is there (the same correctly rounded
 * square roots as sqrt(), without its scalar errno checks). */
static inline void hl_pd_sqrt_n(double *d, size_t n) {
    size_t k = 0;
#if defined(__SSE2__)
    for (; k + 2 <= n; k += 2) {
        _mm_storeu_pd(d + k, _mm_sqrt_pd(_mm_loadu_pd(d + k)));
    }
#endif
    for (; k < n; k++) {
        d[k] = sqrt(d[k]);
    }
}

/* c[k] = d[k] < d_max ? hl_pd_quant(wt, d[k]) : 0 for k < n (distances >= 0, no NaN); the same
 * values, two at a time where SSE2 is there and alpha is 8: max(d, d_min) is d < d_min ? d_min
 * : d bit for bit (no NaN, no -0), likewise max(t, 0) for the t <= 0 case, and w * 2^S < 2^31
 * (hl_pd_scale), so the truncation through int32 is the same as through uint32. */
static inline void hl_pd_quant_n(const hl_pd_weight *wt, const double *d, uint32_t *c, size_t n) {
    size_t k = 0;
#if defined(__SSE2__)
    if (wt->alpha8) {
        const __m128d vmin = _mm_set1_pd(wt->d_min), vmax = _mm_set1_pd(wt->d_max);
        const __m128d one = _mm_set1_pd(1.0), zero = _mm_setzero_pd();
        const __m128d vscale = _mm_set1_pd(wt->scale);
        for (; k + 2 <= n; k += 2) {
            __m128d dk = _mm_loadu_pd(d + k);
            __m128d t = _mm_sub_pd(one, _mm_div_pd(_mm_max_pd(dk, vmin), vmax));
            t = _mm_max_pd(t, zero);
            __m128d t2 = _mm_mul_pd(t, t), t4 = _mm_mul_pd(t2, t2);
            __m128d v = _mm_mul_pd(_mm_mul_pd(t4, t4), vscale);
            v = _mm_and_pd(v, _mm_cmplt_pd(dk, vmax));
            _mm_storel_epi64((__m128i *)(void *)(c + k), _mm_cvttpd_epi32(v));
        }
    }
#endif
    for (; k < n; k++) {
        c[k] = d[k] < wt->d_max ? hl_pd_quant(wt, d[k]) : 0;
    }
}

/* Sets wt->scale = 2^S with S = 31 - e, where w_max = w(d_min) = f 2^e, f in [0.5, 1) (frexp):
 * the largest power of two with w_max * 2^S < 2^31. Every contribution is <= w_max (the weight
 * is monotone in d, and so is its rounded evaluation), so quantised contributions use the
 * full 31 bits relative to the largest possible one. */
static inline void hl_pd_scale(hl_pd_weight *wt) {
    int e;
    double w_max = hl_pd_weight_of(wt, wt->d_min);
    (void)frexp(w_max, &e);
    wt->scale = w_max > 0.0 ? ldexp(1.0, 31 - e) : 1.0;
}

#endif /* HOTLOOP_POISSON_METRIC_H */
