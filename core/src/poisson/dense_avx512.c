/*
 * dense_avx512.c: the AVX-512 variant of hl_pd_dense_row (see dense.h), compiled with the
 * AVX-512 flags alone and chosen at run time by hl_pd_dense_init.
 *
 * Eight pairs per step: the squared distances in the portable order, then only the squares in
 * the band between sure_lo and sure_hi are packed together (a compress instruction) for the
 * square root, the division and the power; the others take c_lo or 0 directly (dense.h). Square
 * root, division, multiplication, max and truncation are the correctly rounded IEEE operations
 * of the portable code, lane by lane, so the values are identical.
 */
#include <immintrin.h>

#include "dense.h"

/* The mask of the first `left` lanes (all eight from 8 on). */
static inline __mmask8 first_lanes(size_t left) {
    unsigned bits = left >= 8 ? 0xFFu : (1u << left) - 1u;
    return (__mmask8)bits;
}

/* The squared distances from point i to points j..j+7 (lanes outside `lane` are 0): the sums
 * of dense_row_sq, term by term in its order (its leading 0.0 + first term is the first term
 * exactly: squares are never -0). */
static inline __m512d row_sq(const hl_pd_dense *dn, size_t i, size_t j, __mmask8 lane) {
    const size_t m = dn->m, dim = dn->mt->dim;
    const double *xc = dn->xc;
    if (dn->mt->domain == HL_POISSON_ROTATIONS) {
        __m512d sm = _mm512_setzero_pd(), sp = _mm512_setzero_pd();
        for (size_t k = 0; k < dim; k++) {
            __m512d a = _mm512_set1_pd(xc[k * m + i]);
            __m512d b = _mm512_maskz_loadu_pd(lane, xc + k * m + j);
            __m512d dm = _mm512_sub_pd(a, b), dp = _mm512_add_pd(a, b);
            if (k == 0) {
                sm = _mm512_mul_pd(dm, dm);
                sp = _mm512_mul_pd(dp, dp);
            } else {
                sm = _mm512_add_pd(sm, _mm512_mul_pd(dm, dm));
                sp = _mm512_add_pd(sp, _mm512_mul_pd(dp, dp));
            }
        }
        return _mm512_min_pd(sm, sp); /* sm < sp ? sm : sp, as the portable code */
    }
    __m512d s = _mm512_setzero_pd();
    for (size_t k = 0; k < dim; k++) {
        __m512d a = _mm512_set1_pd(xc[k * m + i]);
        __m512d t = _mm512_sub_pd(_mm512_maskz_loadu_pd(lane, xc + k * m + j), a);
        s = k == 0 ? _mm512_mul_pd(t, t) : _mm512_add_pd(s, _mm512_mul_pd(t, t));
    }
    return s;
}

void hl_pd_dense_row_avx512(const hl_pd_dense *dn, size_t i, uint32_t *c) {
    const size_t m = dn->m;
    /* The band's squares and their columns, packed; 8 spare slots for whole-vector stores. */
    double band[HL_PD_DENSE_MAX + 8];
    uint32_t where[HL_PD_DENSE_MAX + 8], cb[HL_PD_DENSE_MAX + 8];
    size_t nb = 0;
    const __m512d vlo = _mm512_set1_pd(dn->sure_lo), vhi = _mm512_set1_pd(dn->sure_hi);
    const __m256i clo = _mm256_set1_epi32((int)dn->c_lo);
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (size_t j = i + 1; j < m; j += 8) {
        __mmask8 lane = first_lanes(m - j);
        __m512d s = row_sq(dn, i, j, lane);
        __mmask8 low = _mm512_mask_cmp_pd_mask(lane, s, vlo, _CMP_LE_OQ);
        __mmask8 in = _mm512_mask_cmp_pd_mask(lane, s, vlo, _CMP_GT_OQ) &
                      _mm512_cmp_pd_mask(s, vhi, _CMP_LT_OQ);
        _mm256_mask_storeu_epi32(c + j, lane, _mm256_maskz_mov_epi32(low, clo));
        /* Compress in registers, then a plain store (the memory form is slow on some CPUs). */
        _mm512_storeu_pd(band + nb, _mm512_maskz_compress_pd(in, s));
        __m256i cols = _mm256_add_epi32(_mm256_set1_epi32((int)j), iota);
        _mm256_storeu_si256((__m256i *)(void *)(where + nb), _mm256_maskz_compress_epi32(in, cols));
        nb += (size_t)__builtin_popcount((unsigned)in);
    }
    const hl_pd_weight *wt = dn->wt;
    if (wt->alpha8) {
        /* hl_pd_quant_n's alpha-8 expressions, eight lanes at a time. */
        const __m512d vmin = _mm512_set1_pd(wt->d_min), vmax = _mm512_set1_pd(wt->d_max);
        const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
        const __m512d vscale = _mm512_set1_pd(wt->scale);
        for (size_t k = 0; k < nb; k += 8) {
            __m512d d = _mm512_sqrt_pd(_mm512_maskz_loadu_pd(first_lanes(nb - k), band + k));
            __m512d t = _mm512_sub_pd(one, _mm512_div_pd(_mm512_max_pd(d, vmin), vmax));
            t = _mm512_max_pd(t, zero);
            __m512d t2 = _mm512_mul_pd(t, t), t4 = _mm512_mul_pd(t2, t2);
            __m512d v = _mm512_mul_pd(_mm512_mul_pd(t4, t4), vscale);
            v = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(d, vmax, _CMP_LT_OQ), v);
            _mm256_storeu_si256((__m256i *)(void *)(cb + k), _mm512_cvttpd_epi32(v));
        }
    } else {
        for (size_t k = 0; k < nb; k += 8) {
            __mmask8 lane = first_lanes(nb - k);
            _mm512_mask_storeu_pd(band + k, lane,
                                  _mm512_sqrt_pd(_mm512_maskz_loadu_pd(lane, band + k)));
        }
        hl_pd_quant_n(wt, band, cb, nb);
    }
    for (size_t k = 0; k < nb; k++) {
        c[where[k]] = cb[k];
    }
}
