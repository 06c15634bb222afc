/* rescan_avx512.c: the AVX-512 pass of the elimination without lists (see rescan.h), in two
 * steps. Most candidates of a point are not neighbours (1 in 6 to 1 in 13 is, for the document's
 * rotations): step 1 runs a single-precision dot-product bound (rescan.c, rescan_bound) over 16
 * candidates a vector, four multiply-adds, and compresses the kd positions of those through it
 * into a buffer, branch-free. Step 2 takes them 8 at a time: their rows, transposed into
 * columns, give the exact distance of metric.h (the portable scan's operations in its order, no
 * FMA), its square root and the contribution (quant_avx512.h, the portable values bit for
 * bit), and the weights are updated one by one. Also the leaf-box sweep of the candidate runs.
 * Compiled with the AVX-512 flags only; rescan.c calls these when the CPU has them. */
#include <immintrin.h>

#include "quant_avx512.h"
#include "rescan.h"

/* The mask of the first n (<= 8) lanes. */
static inline __mmask8 first_lanes(unsigned n) {
    return (__mmask8)(n >= 8 ? 0xFFu : (1u << n) - 1u);
}

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

/* The lanes of the first n (<= 16) floats. */
static inline __mmask16 first16(unsigned n) {
    return (__mmask16)(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
}

/* Step 1 of a pass: the candidates through the filter (live ones only, for a removal),
 * appended to buf in order; returns how many. In single precision, 16 at a time, branch-free
 * (which vectors hold one is as good as random); the bound covers its rounding (rescan.c). */
static inline size_t filter(const hl_pd_rescan *R, uint32_t i, const uint32_t *runs, size_t n_runs,
                            uint32_t *buf, const int sub) {
    const size_t stride = R->stride_f;
    const float *f0 = R->cols_f, *f1 = f0 + stride, *f2 = f1 + stride, *f3 = f2 + stride;
    const float *fn = f3 + stride;
    const uint32_t si = R->slot_of[i];
    const __m512 a0 = _mm512_set1_ps(f0[si]), a1 = _mm512_set1_ps(f1[si]);
    const __m512 a2 = _mm512_set1_ps(f2[si]), a3 = _mm512_set1_ps(f3[si]);
    const __m512 na = _mm512_set1_ps(fn[si]), bound = _mm512_set1_ps(R->bound_f);
    const __m512 two = _mm512_set1_ps(2.0f);
    const uint8_t *live = R->live;
    const uint32_t *pos_at = R->pos_at;
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
            /* Whole vectors are loaded (the columns have 16 floats of padding past m); the
             * lanes past the run are masked in the compare. */
            __mmask16 in = first16(e - j < 16 ? e - j : 16);
            if (sub) { /* live ones only (i itself is already dead) */
                __m128i lv = _mm_loadu_si128((const __m128i *)(const void *)(live + j));
                in = _mm_mask_test_epi8_mask(in, lv, lv);
            }
            __m512 dot = _mm512_mul_ps(a0, _mm512_loadu_ps(f0 + j));
            dot = _mm512_fmadd_ps(a1, _mm512_loadu_ps(f1 + j), dot);
            dot = _mm512_fmadd_ps(a2, _mm512_loadu_ps(f2 + j), dot);
            dot = _mm512_fmadd_ps(a3, _mm512_loadu_ps(f3 + j), dot);
            __m512 f = _mm512_fnmadd_ps(two, _mm512_abs_ps(dot),
                                        _mm512_add_ps(na, _mm512_loadu_ps(fn + j)));
            __mmask16 go = _mm512_mask_cmp_ps_mask(in, f, bound, _CMP_LT_OQ);
            __m512i id = _mm512_loadu_si512((const void *)(pos_at + j)); /* kd positions */
            _mm512_storeu_si512((void *)(buf + nb), _mm512_maskz_compress_epi32(go, id));
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
    const size_t nb = filter(R, i, runs, n_runs, buf, sub);
    /* 2. Eight of them at a time: the exact distance, its root and the contribution, then the
     * weights (scattered now: one by one). */
    const double *coords = R->t->coords, *xi = coords + 4 * (size_t)i;
    const __m512d a[4] = {_mm512_set1_pd(xi[0]), _mm512_set1_pd(xi[1]), _mm512_set1_pd(xi[2]),
                          _mm512_set1_pd(xi[3])};
    const hl_pd_quant8_k q8 = hl_pd_quant8_init(&R->wt);
    int64_t sum = 0;
    uint32_t cq[8];
    /* The tail's missing lanes repeat point i itself (in cache, and d = 0 is harmless: those
     * lanes are never applied). */
    for (size_t h = nb; h < nb + 8; h++) {
        buf[h] = i;
    }
    for (size_t h = 0; h < nb; h += 8) {
        const unsigned n = nb - h < 8 ? (unsigned)(nb - h) : 8;
        __m512d b[4];
        rows_to_columns(coords, buf + h, b);
        __m512d d = _mm512_sqrt_pd(rot_sqdist(a, b));
        _mm256_storeu_si256((__m256i *)(void *)cq, hl_pd_quant8(&q8, d)); /* 0: d >= d_max */
        for (unsigned l = 0; l < n; l++) {
            int64_t c = cq[l];
            w[buf[h + l]] += sub ? -c : c;
            sum += c;
        }
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
