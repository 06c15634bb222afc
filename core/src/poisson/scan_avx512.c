/* scan_avx512.c: the AVX-512 leaf scans (see scan.h): 8 points per vector, the hits compressed
 * in registers and stored whole, so there is neither a branch nor a scalar step per point. In
 * 2D the coordinates of 8 consecutive points are gathered into one vector each with
 * two-source permutes from plain loads (the points are stored row by row); the rotation scan
 * reads a column copy of the points instead (measured faster than its 12 permutes per 8
 * points). A partial block at the end is read with masked loads (no access past j1). Compiled
 * with the AVX-512 flags only; neighbors.c calls these when the CPU has them. */
#include <immintrin.h>

#include "quant_avx512.h"
#include "scan.h"

/* Writes the lanes of s set in `hit` (points j..j+7) to the hit arrays; returns the new count.
 * Compresses in registers and stores whole vectors (compress-stores to memory are slow on some
 * cores), so 8 slots past nh must be writable. */
static inline size_t keep8(uint32_t j, __m512d s, __mmask8 hit, uint32_t *hj, double *hs,
                           size_t nh) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm512_storeu_pd(hs + nh, _mm512_maskz_compress_pd(hit, s));
    __m256i id = _mm256_add_epi32(_mm256_set1_epi32((int)j), lane);
    _mm256_storeu_si256((__m256i *)(void *)(hj + nh), _mm256_maskz_compress_epi32(hit, id));
    return nh + (size_t)__builtin_popcount(hit);
}

/* The lanes of the first n (<= 8) points of a block; the mask of the first `d` doubles. */
static inline __mmask8 first(unsigned n) {
    return (__mmask8)(n >= 8 ? 0xFFu : (1u << n) - 1u);
}

size_t hl_pd_scan2_avx512(const double *coords, const double *q, uint32_t j0, uint32_t j1,
                          double r2, uint32_t *hj, double *hs, size_t nh) {
    const __m512d a0 = _mm512_set1_pd(q[0]), a1 = _mm512_set1_pd(q[1]);
    const __m512d vr2 = _mm512_set1_pd(r2);
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    for (uint32_t j = j0; j < j1; j += 8) {
        const unsigned n = j1 - j < 8 ? j1 - j : 8;
        const double *b = coords + 2 * (size_t)j;
        /* points j..j+3 in u, j+4..j+7 in v (2 doubles each) */
        __m512d u = _mm512_maskz_loadu_pd(first(2 * n), b);
        __m512d v = _mm512_maskz_loadu_pd(first(n > 4 ? 2 * n - 8 : 0), b + 8);
        __m512d d0 = _mm512_sub_pd(a0, _mm512_permutex2var_pd(u, even, v));
        __m512d d1 = _mm512_sub_pd(a1, _mm512_permutex2var_pd(u, odd, v));
        __m512d s = _mm512_add_pd(_mm512_mul_pd(d0, d0), _mm512_mul_pd(d1, d1));
        __mmask8 hit = _mm512_mask_cmp_pd_mask(first(n), s, vr2, _CMP_LT_OQ);
        nh = keep8(j, s, hit, hj, hs, nh);
    }
    return nh;
}

size_t hl_pd_scan_rot_avx512(const double *cols, size_t stride, const double *q, uint32_t j0,
                             uint32_t j1, double r2, uint32_t *hj, double *hs, size_t nh) {
    const __m512d a0 = _mm512_set1_pd(q[0]), a1 = _mm512_set1_pd(q[1]);
    const __m512d a2 = _mm512_set1_pd(q[2]), a3 = _mm512_set1_pd(q[3]);
    const __m512d vr2 = _mm512_set1_pd(r2);
    const double *x0 = cols, *x1 = cols + stride, *x2 = cols + 2 * stride, *x3 = cols + 3 * stride;
    for (uint32_t j = j0; j < j1; j += 8) {
        const __mmask8 in = first(j1 - j < 8 ? j1 - j : 8);
        /* coordinate k of points j..j+7: one load each from the columns, no shuffles */
        __m512d b0 = _mm512_maskz_loadu_pd(in, x0 + j), b1 = _mm512_maskz_loadu_pd(in, x1 + j);
        __m512d b2 = _mm512_maskz_loadu_pd(in, x2 + j), b3 = _mm512_maskz_loadu_pd(in, x3 + j);
        __m512d m0 = _mm512_sub_pd(a0, b0), m1 = _mm512_sub_pd(a1, b1);
        __m512d m2 = _mm512_sub_pd(a2, b2), m3 = _mm512_sub_pd(a3, b3);
        __m512d p0 = _mm512_add_pd(a0, b0), p1 = _mm512_add_pd(a1, b1);
        __m512d p2 = _mm512_add_pd(a2, b2), p3 = _mm512_add_pd(a3, b3);
        __m512d sm = _mm512_add_pd(_mm512_mul_pd(m0, m0), _mm512_mul_pd(m1, m1));
        sm = _mm512_add_pd(_mm512_add_pd(sm, _mm512_mul_pd(m2, m2)), _mm512_mul_pd(m3, m3));
        __m512d sp = _mm512_add_pd(_mm512_mul_pd(p0, p0), _mm512_mul_pd(p1, p1));
        sp = _mm512_add_pd(_mm512_add_pd(sp, _mm512_mul_pd(p2, p2)), _mm512_mul_pd(p3, p3));
        /* vminpd(x, y) is x < y ? x : y, as the portable scan's choice */
        __m512d s = _mm512_min_pd(sm, sp);
        __mmask8 hit = _mm512_mask_cmp_pd_mask(in, s, vr2, _CMP_LT_OQ);
        nh = keep8(j, s, hit, hj, hs, nh);
    }
    return nh;
}

size_t hl_pd_weigh_avx512(const hl_pd_weight *wt, uint32_t *hj, const double *hs, uint32_t *hc,
                          size_t nh) {
    const hl_pd_quant8_k q8 = hl_pd_quant8_init(wt);
    size_t keep = 0;
    for (size_t h = 0; h < nh; h += 8) {
        const __mmask8 in = first(nh - h < 8 ? (unsigned)(nh - h) : 8);
        __m512d d = _mm512_sqrt_pd(_mm512_maskz_loadu_pd(in, hs + h));
        __mmask8 near = _mm512_mask_cmp_pd_mask(in, d, q8.vmax, _CMP_LT_OQ);
        /* keep <= h: the compressed stores never pass the lanes this step has read */
        __m256i j = _mm256_loadu_si256((const __m256i *)(const void *)(hj + h));
        __m256i c = hl_pd_quant8(&q8, d);
        _mm256_storeu_si256((__m256i *)(void *)(hj + keep), _mm256_maskz_compress_epi32(near, j));
        _mm256_storeu_si256((__m256i *)(void *)(hc + keep), _mm256_maskz_compress_epi32(near, c));
        keep += (size_t)__builtin_popcount(near);
    }
    return keep;
}
