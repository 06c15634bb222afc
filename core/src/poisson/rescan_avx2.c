/* rescan_avx2.c: the AVX2 pass of the elimination without lists (see rescan.h), for CPUs
 * without AVX-512; the same two steps as rescan_avx512.c at half the width. Step 1 runs the
 * integer dot-product bound (rescan.c, rescan_bound) over 8 candidates a vector and packs the
 * slots of those through it to the front of each 4-lane half with a permute from a 16-entry
 * table (AVX2 has no compress). Step 2 takes them 4 at a time: their rows, transposed, give the
 * exact distance of metric.h (the portable scan's operations in its order, no FMA), its square
 * root and the contribution (hl_pd_quant_n's expressions, bit for bit), and the weights are
 * updated one by one. Also the leaf-box sweep of the candidate runs, 4 leaves a vector.
 * Compiled with the AVX2 flags only; rescan.c calls these when the CPU has AVX2 and FMA. */
#include <immintrin.h>

#include "rescan.h"

/* For a 4-bit mask: the lanes to move to the front, in order (the rest repeat lane 0). */
static const int32_t pack4[16][4] = {
    {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0},
    {1, 2, 0, 0}, {0, 1, 2, 0}, {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0},
    {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3},
};

/* Appends the lanes of ids set in the 4-bit mask `go` to buf at nb; returns the new count.
 * Stores all 4 lanes (the caller has room). */
static inline size_t pack(__m128i ids, unsigned go, uint32_t *buf, size_t nb) {
    __m128i idx = _mm_loadu_si128((const __m128i *)(const void *)pack4[go]);
    __m128 moved = _mm_permutevar_ps(_mm_castsi128_ps(ids), idx);
    _mm_storeu_si128((__m128i *)(void *)(buf + nb), _mm_castps_si128(moved));
    return nb + (size_t)__builtin_popcount(go);
}

/* Step 1 (see rescan_avx512.c): the slots of the candidates through the filter, appended to
 * buf in order; returns how many. */
static inline size_t filter(const hl_pd_rescan *R, const double *xi, uint32_t si,
                            const uint32_t *runs, size_t n_runs, uint32_t *buf, const int sub) {
    const int32_t *qa = R->qa, *qb = R->qb;
    const __m256i a = _mm256_set1_epi32(hl_pd_rescan_pair(xi[0], xi[1]));
    const __m256i b = _mm256_set1_epi32(hl_pd_rescan_pair(xi[2], xi[3]));
    const __m256i bound = _mm256_set1_epi32(R->bound_q);
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    size_t nb = 0;
    for (size_t r = 0; r < n_runs; r++) {
        uint32_t j = runs[2 * r], e = runs[2 * r + 1];
        if (!sub) {
            if (e <= si + 1) {
                continue;
            }
            j = j > si + 1 ? j : si + 1; /* each pair once, from its first point */
        }
        for (; j < e; j += 8) {
            /* Whole vectors are loaded (16 zero words past m); lanes past the run are masked
             * out of `go`. */
            unsigned in = e - j < 8 ? (1u << (e - j)) - 1u : 0xFFu;
            __m256i d = _mm256_add_epi32(
                _mm256_madd_epi16(a, _mm256_loadu_si256((const __m256i *)(const void *)(qa + j))),
                _mm256_madd_epi16(b, _mm256_loadu_si256((const __m256i *)(const void *)(qb + j))));
            __m256i hit = _mm256_cmpgt_epi32(_mm256_abs_epi32(d), bound);
            unsigned go = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(hit)) & in;
            __m256i slot = _mm256_add_epi32(_mm256_set1_epi32((int)j), iota);
            nb = pack(_mm256_castsi256_si128(slot), go & 15u, buf, nb);
            nb = pack(_mm256_extracti128_si256(slot, 1), go >> 4, buf, nb);
        }
    }
    return nb;
}

/* min(sum (a - b)^2, sum (a + b)^2) summed over k = 0..3 in order, as hl_pd_dist. */
static inline __m256d rot_sqdist(const __m256d a[4], const __m256d b[4]) {
    __m256d m0 = _mm256_sub_pd(a[0], b[0]), p0 = _mm256_add_pd(a[0], b[0]);
    __m256d m1 = _mm256_sub_pd(a[1], b[1]), p1 = _mm256_add_pd(a[1], b[1]);
    __m256d m2 = _mm256_sub_pd(a[2], b[2]), p2 = _mm256_add_pd(a[2], b[2]);
    __m256d m3 = _mm256_sub_pd(a[3], b[3]), p3 = _mm256_add_pd(a[3], b[3]);
    __m256d sm = _mm256_add_pd(_mm256_mul_pd(m0, m0), _mm256_mul_pd(m1, m1));
    sm = _mm256_add_pd(_mm256_add_pd(sm, _mm256_mul_pd(m2, m2)), _mm256_mul_pd(m3, m3));
    __m256d sp = _mm256_add_pd(_mm256_mul_pd(p0, p0), _mm256_mul_pd(p1, p1));
    sp = _mm256_add_pd(_mm256_add_pd(sp, _mm256_mul_pd(p2, p2)), _mm256_mul_pd(p3, p3));
    return _mm256_min_pd(sm, sp); /* sm < sp ? sm : sp, as hl_pd_dist */
}

/* The rows (4 doubles each) of the 4 points ids[0..4) as 4 vectors of one coordinate each. */
static inline void rows_to_columns(const double *coords, const uint32_t *ids, __m256d b[4]) {
    __m256d r0 = _mm256_loadu_pd(coords + 4 * (size_t)ids[0]);
    __m256d r1 = _mm256_loadu_pd(coords + 4 * (size_t)ids[1]);
    __m256d r2 = _mm256_loadu_pd(coords + 4 * (size_t)ids[2]);
    __m256d r3 = _mm256_loadu_pd(coords + 4 * (size_t)ids[3]);
    __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1); /* x0 x0 x2 x2 */
    __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    b[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    b[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    b[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    b[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

static inline int64_t pass(const hl_pd_rescan *R, uint32_t i, const uint32_t *runs, size_t n_runs,
                           int64_t *w, uint32_t *buf, const int sub) {
    const double *xi = R->t->coords + 4 * (size_t)i;
    const size_t nb = filter(R, xi, R->slot_of[i], runs, n_runs, buf, sub);
    /* 2. Four at a time: the exact distance, its root and the contribution (hl_pd_quant_n's
     * alpha-8 expressions, metric.h), then the weights one by one (for a removal, live ones
     * only). */
    const __m256d a[4] = {_mm256_set1_pd(xi[0]), _mm256_set1_pd(xi[1]), _mm256_set1_pd(xi[2]),
                          _mm256_set1_pd(xi[3])};
    const __m256d vmin = _mm256_set1_pd(R->wt.d_min), vmax = _mm256_set1_pd(R->wt.d_max);
    const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
    const __m256d vscale = _mm256_set1_pd(R->wt.scale);
    int64_t sum = 0;
    uint32_t cq[4];
    for (size_t h = nb; h < nb + 4; h++) {
        buf[h] = 0; /* the tail's missing lanes read slot 0: never applied */
    }
    for (size_t h = 0; h < nb; h += 4) {
        const unsigned n = nb - h < 4 ? (unsigned)(nb - h) : 4;
        __m256d b[4];
        rows_to_columns(R->rows, buf + h, b);
        __m256d d = _mm256_sqrt_pd(rot_sqdist(a, b));
        __m256d t = _mm256_sub_pd(one, _mm256_div_pd(_mm256_max_pd(d, vmin), vmax));
        t = _mm256_max_pd(t, zero);
        __m256d t2 = _mm256_mul_pd(t, t), t4 = _mm256_mul_pd(t2, t2);
        __m256d v = _mm256_mul_pd(_mm256_mul_pd(t4, t4), vscale);
        v = _mm256_and_pd(v, _mm256_cmp_pd(d, vmax, _CMP_LT_OQ)); /* 0: d >= d_max */
        _mm_storeu_si128((__m128i *)(void *)cq, _mm256_cvttpd_epi32(v));
        sum += hl_pd_rescan_apply_lanes(cq, buf + h, n, R->pos_at, w, sub);
    }
    return sum;
}

int64_t hl_pd_rescan_pass_avx2(const hl_pd_rescan *R, uint32_t i, const uint32_t *runs,
                               size_t n_runs, int64_t *w, uint32_t *buf, hl_pd_rescan_mode mode) {
    return mode == HL_PD_RESCAN_SUB ? pass(R, i, runs, n_runs, w, buf, 1)
                                    : pass(R, i, runs, n_runs, w, buf, 0);
}

void hl_pd_rescan_near_avx2(const double *boxes, size_t stride, size_t a, double r2,
                            uint8_t *bits) {
    /* Leaf a's box as the query: q = [lo_a, hi_a] and its negation [-hi_a, -lo_a]. */
    __m256d qlo[4], qhi[4], nlo[4], nhi[4];
    for (size_t k = 0; k < 4; k++) {
        const double lo = boxes[k * stride + a], hi = boxes[(4 + k) * stride + a];
        qlo[k] = _mm256_set1_pd(lo);
        qhi[k] = _mm256_set1_pd(hi);
        nlo[k] = _mm256_set1_pd(-hi);
        nhi[k] = _mm256_set1_pd(-lo);
    }
    const __m256d zero = _mm256_setzero_pd(), vr2 = _mm256_set1_pd(r2);
    for (size_t b0 = 0; b0 < stride; b0 += 8) {
        unsigned near = 0;
        for (size_t half = 0; half < 8; half += 4) {
            __m256d sp = zero, sn = zero;
            for (size_t k = 0; k < 4; k++) {
                __m256d blo = _mm256_loadu_pd(boxes + k * stride + b0 + half);
                __m256d bhi = _mm256_loadu_pd(boxes + (4 + k) * stride + b0 + half);
                __m256d dp = _mm256_max_pd(
                    _mm256_max_pd(_mm256_sub_pd(blo, qhi[k]), _mm256_sub_pd(qlo[k], bhi)), zero);
                __m256d dn = _mm256_max_pd(
                    _mm256_max_pd(_mm256_sub_pd(blo, nhi[k]), _mm256_sub_pd(nlo[k], bhi)), zero);
                sp = _mm256_add_pd(sp, _mm256_mul_pd(dp, dp));
                sn = _mm256_add_pd(sn, _mm256_mul_pd(dn, dn));
            }
            __m256d hit = _mm256_or_pd(_mm256_cmp_pd(sp, vr2, _CMP_LT_OQ),
                                       _mm256_cmp_pd(sn, vr2, _CMP_LT_OQ));
            near |= (unsigned)_mm256_movemask_pd(hit) << half;
        }
        bits[b0 / 8] = (uint8_t)near;
    }
}
