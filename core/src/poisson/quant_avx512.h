/*
 * quant_avx512.h (internal to the poisson kernel; include only from files compiled with the
 * AVX-512 flags): hl_pd_quant_n's alpha-8 expressions (metric.h), eight lanes at a time. The
 * same correctly rounded IEEE operations in the same order, lane by lane, so the values are
 * the portable ones bit for bit.
 */
#ifndef HOTLOOP_POISSON_QUANT_AVX512_H
#define HOTLOOP_POISSON_QUANT_AVX512_H

#include <immintrin.h>

#include "metric.h"

/* The weight's constants, broadcast once per batch. */
typedef struct hl_pd_quant8_k {
    __m512d vmin, vmax, one, zero, vscale;
} hl_pd_quant8_k;

static inline hl_pd_quant8_k hl_pd_quant8_init(const hl_pd_weight *wt) {
    hl_pd_quant8_k k = {_mm512_set1_pd(wt->d_min), _mm512_set1_pd(wt->d_max), _mm512_set1_pd(1.0),
                        _mm512_setzero_pd(), _mm512_set1_pd(wt->scale)};
    return k;
}

/* d < d_max ? trunc(w(d) * 2^S) : 0 per lane (distances >= 0, no NaN; wt->alpha8). */
static inline __m256i hl_pd_quant8(const hl_pd_quant8_k *k, __m512d d) {
    __m512d t = _mm512_sub_pd(k->one, _mm512_div_pd(_mm512_max_pd(d, k->vmin), k->vmax));
    t = _mm512_max_pd(t, k->zero);
    __m512d t2 = _mm512_mul_pd(t, t), t4 = _mm512_mul_pd(t2, t2);
    __m512d v = _mm512_mul_pd(_mm512_mul_pd(t4, t4), k->vscale);
    v = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(d, k->vmax, _CMP_LT_OQ), v);
    return _mm512_cvttpd_epi32(v);
}

#endif /* HOTLOOP_POISSON_QUANT_AVX512_H */
