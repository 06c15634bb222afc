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
#include "quant_avx512.h"

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

int64_t hl_pd_dense_row_avx512(const hl_pd_dense *dn, size_t i, uint32_t *c, double *w) {
    const size_t m = dn->m;
    /* The band's squares and their columns, packed; 8 spare slots for whole-vector stores. */
    double band[HL_PD_DENSE_MAX + 8];
    uint32_t where[HL_PD_DENSE_MAX + 8], cb[HL_PD_DENSE_MAX + 8];
    size_t nb = 0;
    const __m512d vlo = _mm512_set1_pd(dn->sure_lo), vhi = _mm512_set1_pd(dn->sure_hi);
    const __m256i clo = _mm256_set1_epi32((int)dn->c_lo);
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m512i sum = _mm512_setzero_si512();
    for (size_t j = i + 1; j < m; j += 8) {
        __mmask8 lane = first_lanes(m - j);
        __m512d s = row_sq(dn, i, j, lane);
        __mmask8 low = _mm512_mask_cmp_pd_mask(lane, s, vlo, _CMP_LE_OQ);
        __mmask8 in = _mm512_mask_cmp_pd_mask(lane, s, vlo, _CMP_GT_OQ) &
                      _mm512_cmp_pd_mask(s, vhi, _CMP_LT_OQ);
        /* The sure lanes now (c_lo or 0; the band's lanes 0 until they are known). */
        __m256i cj = _mm256_maskz_mov_epi32(low, clo);
        _mm256_mask_storeu_epi32(c + j, lane, cj);
        __m512d wj = _mm512_add_pd(_mm512_maskz_loadu_pd(lane, w + j), _mm512_cvtepi32_pd(cj));
        _mm512_mask_storeu_pd(w + j, lane, wj); /* c < 2^31; adding 0 leaves w as it is */
        sum = _mm512_add_epi64(sum, _mm512_cvtepu32_epi64(cj));
        /* Compress in registers, then a plain store (the memory form is slow on some CPUs). */
        _mm512_storeu_pd(band + nb, _mm512_maskz_compress_pd(in, s));
        __m256i cols = _mm256_add_epi32(_mm256_set1_epi32((int)j), iota);
        _mm256_storeu_si256((__m256i *)(void *)(where + nb), _mm256_maskz_compress_epi32(in, cols));
        nb += (size_t)__builtin_popcount((unsigned)in);
    }
    const hl_pd_weight *wt = dn->wt;
    if (wt->alpha8) {
        const hl_pd_quant8_k q8 = hl_pd_quant8_init(wt);
        for (size_t k = 0; k < nb; k += 8) {
            __m512d d = _mm512_sqrt_pd(_mm512_maskz_loadu_pd(first_lanes(nb - k), band + k));
            _mm256_storeu_si256((__m256i *)(void *)(cb + k), hl_pd_quant8(&q8, d));
        }
    } else {
        for (size_t k = 0; k < nb; k += 8) {
            __mmask8 lane = first_lanes(nb - k);
            _mm512_mask_storeu_pd(band + k, lane,
                                  _mm512_sqrt_pd(_mm512_maskz_loadu_pd(lane, band + k)));
        }
        hl_pd_quant_n(wt, band, cb, nb);
    }
    int64_t total = (int64_t)_mm512_reduce_add_epi64(sum);
    for (size_t k = 0; k < nb; k++) {
        c[where[k]] = cb[k];
        w[where[k]] += (double)(int32_t)cb[k]; /* c < 2^31 */
        total += cb[k];
    }
    return total;
}

/* The 8 x 8 block of uint32 at src (rows `stride` apart) transposed into dst (likewise). */
static inline void transpose8(const uint32_t *src, uint32_t *dst, size_t stride) {
    __m256i r[8], t[8], u[8];
    for (size_t k = 0; k < 8; k++) {
        r[k] = _mm256_loadu_si256((const __m256i *)(const void *)(src + k * stride));
    }
    for (size_t k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_epi32(r[k], r[k + 1]);
        t[k + 1] = _mm256_unpackhi_epi32(r[k], r[k + 1]);
    }
    for (size_t k = 0; k < 8; k += 4) {
        u[k] = _mm256_unpacklo_epi64(t[k], t[k + 2]);
        u[k + 1] = _mm256_unpackhi_epi64(t[k], t[k + 2]);
        u[k + 2] = _mm256_unpacklo_epi64(t[k + 1], t[k + 3]);
        u[k + 3] = _mm256_unpackhi_epi64(t[k + 1], t[k + 3]);
    }
    for (size_t k = 0; k < 4; k++) {
        _mm256_storeu_si256((__m256i *)(void *)(dst + k * stride),
                            _mm256_permute2x128_si256(u[k], u[k + 4], 0x20));
        _mm256_storeu_si256((__m256i *)(void *)(dst + (k + 4) * stride),
                            _mm256_permute2x128_si256(u[k], u[k + 4], 0x31));
    }
}

void hl_pd_dense_mirror_avx512(uint32_t *q, size_t m) {
    /* Destination rows eight at a time: 8 x 8 register transposes of whole blocks left of
     * the diagonal block, then the rest entry by entry. */
    size_t j0 = 0;
    for (; j0 + 8 <= m; j0 += 8) {
        for (size_t i0 = 0; i0 < j0; i0 += 8) {
            transpose8(q + i0 * m + j0, q + j0 * m + i0, m);
        }
        for (size_t j = j0 + 1; j < j0 + 8; j++) {
            for (size_t i = j0; i < j; i++) {
                q[j * m + i] = q[i * m + j];
            }
        }
    }
    for (size_t j = j0; j < m; j++) {
        for (size_t i = 0; i < j; i++) {
            q[j * m + i] = q[i * m + j];
        }
    }
}

double hl_pd_dense_update_max_avx512(double *w, const uint32_t *q, size_t m) {
    __m512d b0 = _mm512_set1_pd(-INFINITY), b1 = b0;
    size_t r = 0;
    for (; r + 16 <= m; r += 16) {
        __m512d q0 = _mm512_cvtepi32_pd(_mm256_loadu_si256((const __m256i *)(const void *)(q + r)));
        __m512d q1 =
            _mm512_cvtepi32_pd(_mm256_loadu_si256((const __m256i *)(const void *)(q + r + 8)));
        __m512d w0 = _mm512_sub_pd(_mm512_loadu_pd(w + r), q0);
        __m512d w1 = _mm512_sub_pd(_mm512_loadu_pd(w + r + 8), q1);
        _mm512_storeu_pd(w + r, w0);
        _mm512_storeu_pd(w + r + 8, w1);
        b0 = _mm512_max_pd(b0, w0);
        b1 = _mm512_max_pd(b1, w1);
    }
    for (; r < m; r += 8) {
        __mmask8 lane = first_lanes(m - r);
        __m512d qr = _mm512_cvtepi32_pd(_mm256_maskz_loadu_epi32(lane, q + r));
        __m512d wr = _mm512_sub_pd(_mm512_maskz_loadu_pd(lane, w + r), qr);
        _mm512_mask_storeu_pd(w + r, lane, wr);
        b0 = _mm512_mask_max_pd(b0, lane, b0, wr);
    }
    return _mm512_reduce_max_pd(_mm512_max_pd(b0, b1));
}

size_t hl_pd_dense_find_avx512(const double *w, size_t m, double best) {
    const __m512d vb = _mm512_set1_pd(best);
    for (size_t r = 0; r < m; r += 8) {
        __mmask8 lane = first_lanes(m - r);
        __mmask8 eq =
            _mm512_mask_cmp_pd_mask(lane, _mm512_maskz_loadu_pd(lane, w + r), vb, _CMP_EQ_OQ);
        if (eq != 0) {
            return r + (size_t)__builtin_ctz((unsigned)eq);
        }
    }
    return m; /* not reached: best is one of the w[r] */
}
