/* dense.c: the pair contributions of a small level, portable variant and dispatch (see
 * dense.h). */
#include "dense.h"

/* Squared distances from point i to points i+1..m-1 of a dense level into s[i+1..m), coordinates
 * in columns (xc[k * m + r]): the sums under the square root of the metric's expressions
 * (metric.h), term by term in the same order, in loops the compiler vectorises. */
static void dense_row_sq(const hl_pd_metric *mt, const double *xc, const double *const *x, size_t m,
                         size_t i, double *s) {
    const size_t dim = mt->dim;
    switch (mt->domain) {
    case HL_POISSON_BOX:
    case HL_POISSON_SPHERE:
        for (size_t j = i + 1; j < m; j++) {
            s[j] = 0.0;
        }
        for (size_t k = 0; k < dim; k++) {
            const double *c = xc + k * m, a = c[i];
            for (size_t j = i + 1; j < m; j++) {
                double t = c[j] - a;
                s[j] += t * t;
            }
        }
        return;
    case HL_POISSON_ROTATIONS: {
        if (dim == 4) {
            /* The quaternions in one pass, terms summed in the same order as below. */
            const double *c0 = xc, *c1 = xc + m, *c2 = xc + 2 * m, *c3 = xc + 3 * m;
            const double a0 = c0[i], a1 = c1[i], a2 = c2[i], a3 = c3[i];
            for (size_t j = i + 1; j < m; j++) {
                double m0 = a0 - c0[j], m1 = a1 - c1[j], m2 = a2 - c2[j], m3 = a3 - c3[j];
                double p0 = a0 + c0[j], p1 = a1 + c1[j], p2 = a2 + c2[j], p3 = a3 + c3[j];
                double sm = m0 * m0 + m1 * m1 + m2 * m2 + m3 * m3;
                double sq = p0 * p0 + p1 * p1 + p2 * p2 + p3 * p3;
                s[j] = sm < sq ? sm : sq;
            }
            return;
        }
        double sp[HL_PD_DENSE_MAX];
        for (size_t j = i + 1; j < m; j++) {
            s[j] = 0.0;
            sp[j] = 0.0;
        }
        for (size_t k = 0; k < dim; k++) {
            const double *c = xc + k * m, a = c[i];
            for (size_t j = i + 1; j < m; j++) {
                double dm = a - c[j], dp = a + c[j];
                s[j] += dm * dm;
                sp[j] += dp * dp;
            }
        }
        for (size_t j = i + 1; j < m; j++) {
            s[j] = s[j] < sp[j] ? s[j] : sp[j];
        }
        return;
    }
    default: /* PERIODIC: hl_pd_dist's sum, with a = x[i], b = x[j] */
        for (size_t j = i + 1; j < m; j++) {
            double t = 0.0;
            for (size_t k = 0; k < dim; k++) {
                int shift;
                double d = hl_pd_wrap(mt, k, x[i][k], x[j][k], &shift);
                t += d * d;
            }
            s[j] = t;
        }
        return;
    }
}

void hl_pd_dense_init(hl_pd_dense *dn, const hl_pd_metric *mt, const hl_pd_weight *wt,
                      const double *xc, const double *const *x, size_t m, hl_simd_level requested) {
    dn->mt = mt;
    dn->wt = wt;
    dn->xc = xc;
    dn->x = x;
    dn->m = m;
    /* fl(v) is within half an ulp of v (also below the normal range, in absolute terms), so
     * one step outward from the rounded square bounds the real one: sure_lo <= d_min^2 <=
     * ... and sure_hi >= d_max^2. Then s <= sure_lo gives sqrt(s) <= d_min, and the correctly
     * rounded root is <= d_min too (rounding is monotone, d_min a double): hl_pd_quant_n takes
     * max(d, d_min) = d_min, contribution c_lo. s >= sure_hi gives a root >= d_max: no
     * neighbour, contribution 0. Only the squares between need the root, the division and
     * the power (about 37% of the pairs of the document's 200 -> 8 rotations). */
    dn->sure_lo = nextafter(wt->d_min * wt->d_min, -INFINITY);
    dn->sure_hi = nextafter(wt->d_max * wt->d_max, INFINITY);
    hl_pd_quant_n(wt, &wt->d_min, &dn->c_lo, 1);
    hl_simd_level level = hl_cpu_resolve_level(requested);
    dn->level = level >= HL_SIMD_AVX512 && mt->domain != HL_POISSON_PERIODIC ? HL_SIMD_AVX512
                                                                             : HL_SIMD_SCALAR;
}

int64_t hl_pd_dense_row(const hl_pd_dense *dn, size_t i, uint32_t *c, double *w) {
#if defined(HL_X86_64)
    if (dn->level == HL_SIMD_AVX512 && dn->mt->domain != HL_POISSON_PERIODIC) {
        return hl_pd_dense_row_avx512(dn, i, c, w);
    }
#endif
    /* Portable: every root and weight two at a time (sorting out the sure pairs first costs
     * more than it saves without a compress instruction). */
    const size_t m = dn->m;
    double s[HL_PD_DENSE_MAX];
    dense_row_sq(dn->mt, dn->xc, dn->x, m, i, s);
    hl_pd_sqrt_n(s + i + 1, m - i - 1);
    hl_pd_quant_n(dn->wt, s + i + 1, c + i + 1, m - i - 1);
    int64_t sum = 0;
    for (size_t j = i + 1; j < m; j++) {
        sum += c[j];
        w[j] += (double)(int32_t)c[j]; /* c < 2^31 */
    }
    return sum;
}

void hl_pd_dense_mirror(const hl_pd_dense *dn, uint32_t *q) {
    const size_t m = dn->m;
#if defined(HL_X86_64)
    if (dn->level == HL_SIMD_AVX512) {
        hl_pd_dense_mirror_avx512(q, m);
        return;
    }
#endif
    for (size_t j = 1; j < m; j++) {
        for (size_t i = 0; i < j; i++) {
            q[j * m + i] = q[i * m + j];
        }
    }
}

#if defined(__SSE2__)
/* The larger of the four lanes of a and b (no NaN). */
static double dense_max4(__m128d a, __m128d b) {
    double lanes[2];
    _mm_storeu_pd(lanes, _mm_max_pd(a, b));
    return lanes[0] > lanes[1] ? lanes[0] : lanes[1];
}
#endif

double hl_pd_dense_max(const double *w, size_t m) {
    double best = w[0];
    size_t r = 1;
#if defined(__SSE2__)
    if (m >= 5) {
        __m128d v0 = _mm_loadu_pd(w), v1 = _mm_loadu_pd(w + 2);
        for (r = 4; r + 4 <= m; r += 4) {
            v0 = _mm_max_pd(v0, _mm_loadu_pd(w + r));
            v1 = _mm_max_pd(v1, _mm_loadu_pd(w + r + 2));
        }
        best = dense_max4(v0, v1);
    }
#endif
    for (; r < m; r++) {
        best = w[r] > best ? w[r] : best;
    }
    return best;
}

double hl_pd_dense_update_max(const hl_pd_dense *dn, double *w, const uint32_t *q) {
    const size_t m = dn->m;
#if defined(HL_X86_64)
    if (dn->level == HL_SIMD_AVX512) {
        return hl_pd_dense_update_max_avx512(w, q, m);
    }
#endif
    size_t r = 0;
    double best = -INFINITY;
#if defined(__SSE2__)
    if (m >= 4) {
        __m128d b0 = _mm_set1_pd(-INFINITY), b1 = b0;
        for (; r + 4 <= m; r += 4) {
            __m128d q0 = _mm_cvtepi32_pd(_mm_loadl_epi64((const __m128i *)(const void *)(q + r)));
            __m128d q1 =
                _mm_cvtepi32_pd(_mm_loadl_epi64((const __m128i *)(const void *)(q + r + 2)));
            __m128d w0 = _mm_sub_pd(_mm_loadu_pd(w + r), q0);
            __m128d w1 = _mm_sub_pd(_mm_loadu_pd(w + r + 2), q1);
            _mm_storeu_pd(w + r, w0);
            _mm_storeu_pd(w + r + 2, w1);
            b0 = _mm_max_pd(b0, w0);
            b1 = _mm_max_pd(b1, w1);
        }
        best = dense_max4(b0, b1);
    }
#endif
    for (; r < m; r++) {
        w[r] -= (double)(int32_t)q[r]; /* q < 2^31 */
        best = w[r] > best ? w[r] : best;
    }
    return best;
}

size_t hl_pd_dense_find(const hl_pd_dense *dn, const double *w, double best) {
    const size_t m = dn->m;
#if defined(HL_X86_64)
    if (dn->level == HL_SIMD_AVX512) {
        return hl_pd_dense_find_avx512(w, m, best);
    }
#endif
    size_t r = 0;
#if defined(__SSE2__)
    const __m128d vb = _mm_set1_pd(best);
    for (; r + 4 <= m; r += 4) {
        int lo = _mm_movemask_pd(_mm_cmpeq_pd(_mm_loadu_pd(w + r), vb));
        int hi = _mm_movemask_pd(_mm_cmpeq_pd(_mm_loadu_pd(w + r + 2), vb));
        unsigned bits = (unsigned)(lo | hi << 2);
        if (bits != 0) {
            return r + (size_t)__builtin_ctz(bits);
        }
    }
#endif
    while (w[r] != best) {
        r++;
    }
    return r;
}
