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

void hl_pd_dense_row(const hl_pd_dense *dn, size_t i, uint32_t *c) {
#if defined(HL_X86_64)
    if (dn->level == HL_SIMD_AVX512) {
        hl_pd_dense_row_avx512(dn, i, c);
        return;
    }
#endif
    /* Portable: every root and weight two at a time (sorting out the sure pairs first costs
     * more than it saves without a compress instruction). */
    double s[HL_PD_DENSE_MAX];
    dense_row_sq(dn->mt, dn->xc, dn->x, dn->m, i, s);
    hl_pd_sqrt_n(s + i + 1, dn->m - i - 1);
    hl_pd_quant_n(dn->wt, s + i + 1, c + i + 1, dn->m - i - 1);
}
