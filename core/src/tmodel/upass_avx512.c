/* The U pass, AVX-512 variant: the eight lanes in one register (see upass.h for the definition
 * it reproduces bit for bit). Compiled with AVX-512 F/DQ/BW/VL flags; called only when the CPU
 * has them. No fused multiply-adds: each operation is the scalar code's, in its order. */
#include <immintrin.h>

#include "upass.h"

typedef struct zstate {
    __m512i s0, s1, s2, s3;
} zstate;

/* xoshiro256** on eight lanes: rotl(s1 * 5, 7) * 9, then the state update. */
static inline __m512i znext(zstate *z) {
    const __m512i m5 = _mm512_add_epi64(_mm512_slli_epi64(z->s1, 2), z->s1);
    const __m512i rot = _mm512_rol_epi64(m5, 7);
    const __m512i result = _mm512_add_epi64(_mm512_slli_epi64(rot, 3), rot);
    const __m512i t = _mm512_slli_epi64(z->s1, 17);
    z->s2 = _mm512_xor_si512(z->s2, z->s0);
    z->s3 = _mm512_xor_si512(z->s3, z->s1);
    z->s1 = _mm512_xor_si512(z->s1, z->s2);
    z->s0 = _mm512_xor_si512(z->s0, z->s3);
    z->s2 = _mm512_xor_si512(z->s2, t);
    z->s3 = _mm512_rol_epi64(z->s3, 45);
    return result;
}

/* hl_tm_u52 on eight lanes. */
static inline __m512d zu52(__m512i bits, __m512i one_bits, __m512d one) {
    const __m512i b = _mm512_or_si512(_mm512_srli_epi64(bits, 12), one_bits);
    return _mm512_sub_pd(_mm512_castsi512_pd(b), one);
}

static inline void zstore(const zstate *z, hl_tm_lanes *L) {
    _mm512_storeu_si512((void *)L->s[0], z->s0);
    _mm512_storeu_si512((void *)L->s[1], z->s1);
    _mm512_storeu_si512((void *)L->s[2], z->s2);
    _mm512_storeu_si512((void *)L->s[3], z->s3);
}

static inline void zload(zstate *z, const hl_tm_lanes *L) {
    z->s0 = _mm512_loadu_si512((const void *)L->s[0]);
    z->s1 = _mm512_loadu_si512((const void *)L->s[1]);
    z->s2 = _mm512_loadu_si512((const void *)L->s[2]);
    z->s3 = _mm512_loadu_si512((const void *)L->s[3]);
}

/* log of eight positive normal doubles: y = m 2^e with m in [sqrt(2)/2, sqrt(2)], then
 * e ln 2 + 2 atanh((m - 1)/(m + 1)) by its series (upass.h). Absolute error below 2e-14
 * (1 + |e|). */
static inline __m512d zlog(__m512d y) {
    const __m512i bits = _mm512_castpd_si512(y);
    __m512i ebits = _mm512_srli_epi64(bits, 52);
    const __m512i mant = _mm512_and_si512(bits, _mm512_set1_epi64(0x000FFFFFFFFFFFFFLL));
    __m512d m = _mm512_castsi512_pd(_mm512_or_si512(mant, _mm512_set1_epi64(0x3FF0000000000000LL)));
    const __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(1.4142135623730951), _CMP_GT_OQ);
    m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
    ebits = _mm512_mask_add_epi64(ebits, big, ebits, _mm512_set1_epi64(1));
    const __m512d e = _mm512_sub_pd(_mm512_cvtepi64_pd(ebits), _mm512_set1_pd(1023.0));
    const __m512d one = _mm512_set1_pd(1.0);
    const __m512d s = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one));
    const __m512d s2 = _mm512_mul_pd(s, s);
    __m512d p = _mm512_set1_pd(HL_TM_ATANH_C15);
    p = _mm512_add_pd(_mm512_mul_pd(p, s2), _mm512_set1_pd(HL_TM_ATANH_C13));
    p = _mm512_add_pd(_mm512_mul_pd(p, s2), _mm512_set1_pd(HL_TM_ATANH_C11));
    p = _mm512_add_pd(_mm512_mul_pd(p, s2), _mm512_set1_pd(HL_TM_ATANH_C9));
    p = _mm512_add_pd(_mm512_mul_pd(p, s2), _mm512_set1_pd(HL_TM_ATANH_C7));
    p = _mm512_add_pd(_mm512_mul_pd(p, s2), _mm512_set1_pd(HL_TM_ATANH_C5));
    p = _mm512_add_pd(_mm512_mul_pd(p, s2), _mm512_set1_pd(HL_TM_ATANH_C3));
    p = _mm512_add_pd(_mm512_mul_pd(p, s2), one);
    const __m512d two_s = _mm512_add_pd(s, s);
    return _mm512_add_pd(_mm512_mul_pd(e, _mm512_set1_pd(0.6931471805599453)),
                         _mm512_mul_pd(two_s, p));
}

/* The log test of Marsaglia-Tsang for the lanes in `soft`, in registers: *accept gets the
 * lanes it surely accepts, *reject those it surely rejects; the rest are left to libm. */
static inline void zlog_test(__m512d u, __m512d x2, __m512d v, double d, __mmask8 soft,
                             __mmask8 *accept, __mmask8 *reject) {
    const __m512d one = _mm512_set1_pd(1.0), vd = _mm512_set1_pd(d);
    /* v must be a normal number for zlog (it always is but in a ~1e-100 corner). */
    const __mmask8 ok = soft & _mm512_cmp_pd_mask(v, _mm512_set1_pd(0x1.0p-1000), _CMP_GT_OQ);
    const __m512d lu = zlog(u), lv = zlog(v);
    const __m512d half_x2 = _mm512_mul_pd(_mm512_set1_pd(0.5), x2);
    const __m512d one_minus_v = _mm512_sub_pd(one, v);
    const __m512d rhs = _mm512_add_pd(half_x2, _mm512_mul_pd(vd, _mm512_add_pd(one_minus_v, lv)));
    const __m512d diff = _mm512_sub_pd(rhs, lu);
    const __m512d scale = _mm512_add_pd(
        _mm512_add_pd(one, _mm512_abs_pd(lu)),
        _mm512_add_pd(half_x2, _mm512_mul_pd(vd, _mm512_add_pd(_mm512_abs_pd(one_minus_v),
                                                               _mm512_abs_pd(lv)))));
    const __m512d tol = _mm512_mul_pd(_mm512_set1_pd(HL_TM_LOG_MARGIN), scale);
    *accept = ok & _mm512_cmp_pd_mask(diff, tol, _CMP_GT_OQ);
    *reject = ok & _mm512_cmp_pd_mask(diff, _mm512_sub_pd(_mm512_setzero_pd(), tol), _CMP_LT_OQ);
}

/* The rare lanes, in scalar code: `hard` redraw from `old` (their state before this draw),
 * `now` continue from the current state (rejected by the log test), `check` decide the log
 * test with libm first. Kept out of line so the hot loop keeps its registers. */
static __attribute__((noinline)) __m512d zfix(const hl_tm_upass *a, zstate *z, const zstate *old,
                                              __m512d g, __m512d u, __m512d x2, __m512d v,
                                              __mmask8 hard, __mmask8 now, __mmask8 check) {
    double gs[HL_TM_LANES], us[HL_TM_LANES], x2s[HL_TM_LANES], vs[HL_TM_LANES];
    _mm512_storeu_pd(gs, g);
    _mm512_storeu_pd(us, u);
    _mm512_storeu_pd(x2s, x2);
    _mm512_storeu_pd(vs, v);
    for (int j = 0; j < HL_TM_LANES; j++) {
        if (((check >> j) & 1u) && !hl_tm_mt_log_accept(us[j], x2s[j], vs[j], a->d)) {
            now |= (__mmask8)(1u << j);
        }
    }
    if ((now | hard) != 0) {
        hl_tm_lanes before, after;
        zstore(old, &before);
        zstore(z, &after);
        for (int j = 0; j < HL_TM_LANES; j++) {
            const int from_now = (now >> j) & 1u, from_start = (hard >> j) & 1u;
            if (from_now || from_start) {
                hl_rng r = hl_tm_lane_get(from_start ? &before : &after, j);
                gs[j] = hl_tm_lane_gamma(&r, a);
                hl_tm_lane_put(&after, j, &r);
            }
        }
        zload(z, &after);
    }
    return _mm512_loadu_pd(gs);
}

hl_tm_sums hl_tm_upass_avx512(const hl_tm_upass *a, hl_tm_lanes *L) {
    zstate z;
    zload(&z, L);
    const __m512d one = _mm512_set1_pd(1.0), two = _mm512_set1_pd(2.0);
    const __m512d zero = _mm512_setzero_pd();
    const __m512d vc = _mm512_set1_pd(a->c), vd = _mm512_set1_pd(a->d);
    const __m512d k0331 = _mm512_set1_pd(0.0331), half_ulp = _mm512_set1_pd(0x1.0p-53);
    const __m512d vmu = _mm512_set1_pd(a->mu), vnt = _mm512_set1_pd(a->nu_tau2);
    const __m512d vr2 = _mm512_set1_pd(a->r2scale);
    const __m512i one_bits = _mm512_set1_epi64((long long)0x3FF0000000000000LL);
    const __m512i layer_mask = _mm512_set1_epi64(0xFF), sign_bit = _mm512_set1_epi64(0x100);
    const __m512i idx_one = _mm512_set1_epi64(1);
    __m512d acc1 = zero, acc2 = zero, acc3 = zero;
    const size_t blocks = a->n / HL_TM_LANES;
    for (size_t b = 0; b < blocks; b++) {
        const zstate old = z;
        const __m512i bits1 = znext(&z);
        const __m512i bits2 = znext(&z);
        /* ziggurat rectangle */
        const __m512i layer = _mm512_and_si512(bits1, layer_mask);
        const __m512d xa = _mm512_i64gather_pd(layer, hl_zig_x, 8);
        const __m512d xb = _mm512_i64gather_pd(_mm512_add_epi64(layer, idx_one), hl_zig_x, 8);
        const __m512d xabs = _mm512_mul_pd(zu52(bits1, one_bits, one), xa);
        __mmask8 fast = _mm512_cmp_pd_mask(xabs, xb, _CMP_LT_OQ);
        const __m512i sign = _mm512_slli_epi64(_mm512_and_si512(bits1, sign_bit), 55);
        const __m512d x = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(xabs), sign));
        /* Marsaglia-Tsang with the squeeze */
        __m512d v = _mm512_add_pd(one, _mm512_mul_pd(vc, x));
        fast &= _mm512_cmp_pd_mask(v, zero, _CMP_GT_OQ);
        v = _mm512_mul_pd(_mm512_mul_pd(v, v), v);
        const __m512d u = _mm512_add_pd(zu52(bits2, one_bits, one), half_ulp);
        const __m512d x2 = _mm512_mul_pd(x, x);
        const __m512d squeeze = _mm512_sub_pd(one, _mm512_mul_pd(_mm512_mul_pd(k0331, x2), x2));
        const __mmask8 soft = fast & (__mmask8)~_mm512_cmp_pd_mask(u, squeeze, _CMP_LT_OQ);
        const __mmask8 hard = (__mmask8)~fast;
        __m512d g = _mm512_mul_pd(vd, v);
        if ((soft | hard) != 0) {
            __mmask8 accept = 0, reject = 0;
            if (soft != 0) {
                zlog_test(u, x2, v, a->d, soft, &accept, &reject);
            }
            const __mmask8 check = soft & (__mmask8) ~(accept | reject);
            if ((hard | reject | check) != 0) {
                g = zfix(a, &z, &old, g, u, x2, v, hard, reject, check);
            }
        }
        const __m512d r = _mm512_sub_pd(_mm512_loadu_pd(a->x + b * HL_TM_LANES), vmu);
        const __m512d rr = _mm512_mul_pd(r, r);
        const __m512d q = _mm512_add_pd(vnt, _mm512_mul_pd(rr, vr2));
        const __m512d w = _mm512_div_pd(_mm512_mul_pd(two, g), q);
        if (a->w_out != NULL) {
            _mm512_storeu_pd(a->w_out + b * HL_TM_LANES, w);
        }
        acc1 = _mm512_add_pd(acc1, w);
        acc2 = _mm512_add_pd(acc2, _mm512_mul_pd(rr, w));
        acc3 = _mm512_add_pd(acc3, _mm512_mul_pd(r, w));
    }
    zstore(&z, L);
    hl_tm_acc acc;
    _mm512_storeu_pd(acc.s1, acc1);
    _mm512_storeu_pd(acc.s2, acc2);
    _mm512_storeu_pd(acc.s3, acc3);
    hl_tm_upass_scalar_range(a, L, &acc, blocks * HL_TM_LANES);
    return hl_tm_reduce(&acc);
}
