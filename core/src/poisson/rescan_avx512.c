/* rescan_avx512.c: the AVX-512 pass of the elimination without lists (see rescan.h), in two
 * steps. Most candidates of a point are not neighbours (1 in 6 to 1 in 13 is, for the
 * document's rotations): step 1 runs an integer dot-product bound (rescan.c, rescan_bound)
 * over 16 candidates a vector, two vpmaddwd on the 16-bit coordinates, and compresses the
 * slots of those through it into a buffer, branch-free. It reads 8 bytes a candidate; the
 * single-precision filter it replaced read 25 (five float columns, the kd positions, a live
 * byte) and ran at the speed of the L2 cache. Step 2 takes them 8 at a time: their rows,
 * transposed into columns, give the exact distance of metric.h (the portable scan's
 * operations in its order, no FMA), its square root and the contribution (quant_avx512.h, the
 * portable values bit for bit), and the weights are updated one by one. Also the leaf-box
 * sweep of the candidate runs. Compiled with the AVX-512 flags only; rescan.c calls these when
 * the CPU has them. */
#include <immintrin.h>

#include "quant_avx512.h"
#include "rescan.h"

/* min(sum (a - b)^2, sum (a + b)^2) summed over k = 0..3 in order, as hl_pd_dist. */
static inline __m512d rot_sqdist(const __m512d a[4], const __m512d b[4]) {
    __m512d m0 = _mm512_sub_pd(a[0], b[0]), p0 = _mm512_add_pd(a[0], b[0]);
    __m512d m1 = _mm512_sub_pd(a[1], b[1]), p1 = _mm512_add_pd(a[1], b[1]);
    __m512d m2 = _mm512_sub_pd(a[2], b[2]), p2 = _mm512_add_pd(a[2], b[2]);
    __m512d m3 = _mm512_sub_pd(a[3], b[3]), p3 = _mm512_add_pd(a[3], b[3]);
    __m512d sm = _mm512_add_pd(_mm512_mul_pd(m0, m0), _mm512_mul_pd(m1, m1));
    sm = _mm512_add_pd(_mm512_add_pd(sm, _mm512_mul_pd(m2, m2)), _mm512_mul_pd(m3, m3));
    __m512d sp = _mm512_add_pd(_mm512_mul_pd(p0, p0), _mm512_mul_pd(p1, p1));
    sp = _mm512_add_pd(_mm512_add_pd(sp, _mm512_mul_pd(p2, p2)), _mm512_mul_pd(p3, p3));
    return _mm512_min_pd(sm, sp); /* sm < sp ? sm : sp, as hl_pd_dist */
}

/* The lanes of the first n (<= 16) candidates. */
static inline __mmask16 first16(unsigned n) {
    return (__mmask16)(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
}

/* Step 1 of a pass: the slots of the candidates through the filter, appended to buf in order;
 * returns how many. Removed slots have zero words and fail it (unless bound_q is -1, for which
 * step 2 checks). 16 at a time, branch-free (which vectors hold one is as good as random). */
static inline size_t filter(const hl_pd_rescan *R, const double *xi, uint32_t si,
                            const uint32_t *runs, size_t n_runs, uint32_t *buf, const int sub) {
    const int32_t *qa = R->qa, *qb = R->qb;
    const __m512i a = _mm512_set1_epi32(hl_pd_rescan_pair(xi[0], xi[1]));
    const __m512i b = _mm512_set1_epi32(hl_pd_rescan_pair(xi[2], xi[3]));
    const __m512i bound = _mm512_set1_epi32(R->bound_q);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    size_t nb = 0;
    for (size_t r = 0; r < n_runs; r++) {
        uint32_t j = runs[2 * r], e = runs[2 * r + 1];
        if (!sub) {
            if (e <= si + 1) {
                continue;
            }
            j = j > si + 1 ? j : si + 1; /* each pair once, from its first point */
        }
        for (; j < e; j += 16) {
            /* Whole vectors are loaded (16 zero words of padding past m); the lanes past the
             * run are masked in the compare. The products and sums stay below 2^30. */
            __m512i d =
                _mm512_add_epi32(_mm512_madd_epi16(a, _mm512_loadu_si512((const void *)(qa + j))),
                                 _mm512_madd_epi16(b, _mm512_loadu_si512((const void *)(qb + j))));
            __mmask16 go = _mm512_mask_cmpgt_epi32_mask(first16(e - j), _mm512_abs_epi32(d), bound);
            __m512i slot = _mm512_add_epi32(_mm512_set1_epi32((int)j), iota);
            _mm512_storeu_si512((void *)(buf + nb), _mm512_maskz_compress_epi32(go, slot));
            nb += (size_t)__builtin_popcount(go);
        }
    }
    return nb;
}

/* The rows (4 doubles each) of the 8 points ids[0..8) as 4 vectors of one coordinate each:
 * eight 32-byte loads and a 4 x 4 transpose in each 256-bit half (cheaper than four gathers). */
static inline void rows_to_columns(const double *coords, const uint32_t *ids, __m512d b[4]) {
    __m512d z[4];
    for (int k = 0; k < 4; k++) {
        __m256d lo = _mm256_loadu_pd(coords + 4 * (size_t)ids[k]);
        __m256d hi = _mm256_loadu_pd(coords + 4 * (size_t)ids[k + 4]);
        z[k] = _mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1); /* rows k, k + 4 */
    }
    /* t0: x0, x1 of rows 0, 1 (then 4, 5) and x2, x3 likewise interleaved; ... */
    __m512d t0 = _mm512_unpacklo_pd(z[0], z[1]), t1 = _mm512_unpackhi_pd(z[0], z[1]);
    __m512d t2 = _mm512_unpacklo_pd(z[2], z[3]), t3 = _mm512_unpackhi_pd(z[2], z[3]);
    const __m512i even = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i odd = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    /* lane order after this: rows 0 1 2 3 4 5 6 7 */
    b[0] = _mm512_permutex2var_pd(t0, even, t2);
    b[1] = _mm512_permutex2var_pd(t1, even, t3);
    b[2] = _mm512_permutex2var_pd(t0, odd, t2);
    b[3] = _mm512_permutex2var_pd(t1, odd, t3);
}

static inline int64_t pass(const hl_pd_rescan *R, uint32_t i, const uint32_t *runs, size_t n_runs,
                           int64_t *w, uint32_t *buf, const int sub) {
    const double *xi = R->t->coords + 4 * (size_t)i;
    const size_t nb = filter(R, xi, R->slot_of[i], runs, n_runs, buf, sub);
    /* 2. Eight of them at a time: the exact distance, its root and the contribution, then the
     * weights (scattered now: one by one; for a removal, live ones only). */
    const __m512d a[4] = {_mm512_set1_pd(xi[0]), _mm512_set1_pd(xi[1]), _mm512_set1_pd(xi[2]),
                          _mm512_set1_pd(xi[3])};
    const hl_pd_quant8_k q8 = hl_pd_quant8_init(&R->wt);
    int64_t sum = 0;
    uint32_t cq[8];
    /* The tail's missing lanes read slot 0 (any row will do: those lanes are never applied). */
    for (size_t h = nb; h < nb + 8; h++) {
        buf[h] = 0;
    }
    for (size_t h = 0; h < nb; h += 8) {
        const unsigned n = nb - h < 8 ? (unsigned)(nb - h) : 8;
        __m512d b[4];
        rows_to_columns(R->rows, buf + h, b);
        __m512d d = _mm512_sqrt_pd(rot_sqdist(a, b));
        _mm256_storeu_si256((__m256i *)(void *)cq, hl_pd_quant8(&q8, d)); /* 0: d >= d_max */
        sum += hl_pd_rescan_apply_lanes(cq, buf + h, n, R->pos_at, w, sub);
    }
    return sum;
}

int64_t hl_pd_rescan_pass_avx512(const hl_pd_rescan *R, uint32_t i, const uint32_t *runs,
                                 size_t n_runs, int64_t *w, uint32_t *buf, hl_pd_rescan_mode mode) {
    return mode == HL_PD_RESCAN_SUB ? pass(R, i, runs, n_runs, w, buf, 1)
                                    : pass(R, i, runs, n_runs, w, buf, 0);
}

void hl_pd_rescan_near_avx512(const double *boxes, size_t stride, size_t a, double r2,
                              uint8_t *bits) {
    /* Leaf a's box as the query: q = [lo_a, hi_a] and its negation [-hi_a, -lo_a]. */
    __m512d qlo[4], qhi[4], nlo[4], nhi[4];
    for (size_t k = 0; k < 4; k++) {
        const double lo = boxes[k * stride + a], hi = boxes[(4 + k) * stride + a];
        qlo[k] = _mm512_set1_pd(lo);
        qhi[k] = _mm512_set1_pd(hi);
        nlo[k] = _mm512_set1_pd(-hi);
        nhi[k] = _mm512_set1_pd(-lo);
    }
    const __m512d zero = _mm512_setzero_pd(), vr2 = _mm512_set1_pd(r2);
    for (size_t b0 = 0; b0 < stride; b0 += 8) {
        __m512d sp = zero, sn = zero;
        for (size_t k = 0; k < 4; k++) {
            __m512d blo = _mm512_loadu_pd(boxes + k * stride + b0);
            __m512d bhi = _mm512_loadu_pd(boxes + (4 + k) * stride + b0);
            __m512d dp = _mm512_max_pd(
                _mm512_max_pd(_mm512_sub_pd(blo, qhi[k]), _mm512_sub_pd(qlo[k], bhi)), zero);
            __m512d dn = _mm512_max_pd(
                _mm512_max_pd(_mm512_sub_pd(blo, nhi[k]), _mm512_sub_pd(nlo[k], bhi)), zero);
            sp = _mm512_add_pd(sp, _mm512_mul_pd(dp, dp));
            sn = _mm512_add_pd(sn, _mm512_mul_pd(dn, dn));
        }
        bits[b0 / 8] = (uint8_t)(_mm512_cmp_pd_mask(sp, vr2, _CMP_LT_OQ) |
                                 _mm512_cmp_pd_mask(sn, vr2, _CMP_LT_OQ));
    }
}
