/* The U pass, AVX2 variant: the eight lanes in two registers of four (see upass.h for the
 * definition it reproduces bit for bit). Compiled with AVX2 flags; called only when the CPU has
 * them. No fused multiply-adds: each operation is the scalar code's, in its order. */
#include <immintrin.h>

#include "upass.h"

typedef struct ystate {
    __m256i s0, s1, s2, s3;
} ystate;

static inline __m256i yrotl(__m256i x, int k) {
    return _mm256_or_si256(_mm256_slli_epi64(x, k), _mm256_srli_epi64(x, 64 - k));
}

/* xoshiro256** on four lanes. */
static inline __m256i ynext(ystate *z) {
    const __m256i m5 = _mm256_add_epi64(_mm256_slli_epi64(z->s1, 2), z->s1);
    const __m256i rot = yrotl(m5, 7);
    const __m256i result = _mm256_add_epi64(_mm256_slli_epi64(rot, 3), rot);
    const __m256i t = _mm256_slli_epi64(z->s1, 17);
    z->s2 = _mm256_xor_si256(z->s2, z->s0);
    z->s3 = _mm256_xor_si256(z->s3, z->s1);
    z->s1 = _mm256_xor_si256(z->s1, z->s2);
    z->s0 = _mm256_xor_si256(z->s0, z->s3);
    z->s2 = _mm256_xor_si256(z->s2, t);
    z->s3 = yrotl(z->s3, 45);
    return result;
}

static inline __m256d yu52(__m256i bits, __m256i one_bits, __m256d one) {
    const __m256i b = _mm256_or_si256(_mm256_srli_epi64(bits, 12), one_bits);
    return _mm256_sub_pd(_mm256_castsi256_pd(b), one);
}

/* Lanes [4h, 4h + 4) of L. */
static inline void ystore(const ystate *z, hl_tm_lanes *L, int h) {
    _mm256_storeu_si256((__m256i *)(L->s[0] + 4 * h), z->s0);
    _mm256_storeu_si256((__m256i *)(L->s[1] + 4 * h), z->s1);
    _mm256_storeu_si256((__m256i *)(L->s[2] + 4 * h), z->s2);
    _mm256_storeu_si256((__m256i *)(L->s[3] + 4 * h), z->s3);
}

static inline void yload(ystate *z, const hl_tm_lanes *L, int h) {
    z->s0 = _mm256_loadu_si256((const __m256i *)(L->s[0] + 4 * h));
    z->s1 = _mm256_loadu_si256((const __m256i *)(L->s[1] + 4 * h));
    z->s2 = _mm256_loadu_si256((const __m256i *)(L->s[2] + 4 * h));
    z->s3 = _mm256_loadu_si256((const __m256i *)(L->s[3] + 4 * h));
}

typedef struct yconst {
    __m256d one, two, zero, vc, vd, k0331, half_ulp, vmu, vnt, vr2;
    __m256i one_bits, layer_mask, sign_bit, idx_one;
} yconst;

/* The common path of four lanes: the gamma draws, the squeeze's inputs (u, x^2, v^3) and two
 * 4-bit masks: `hard`, lanes that left the ziggurat rectangle or had v <= 0; `soft`, lanes that
 * did not but that the squeeze did not accept. */
static inline __m256d ydraw(ystate *z, const yconst *k, __m256d *u_out, __m256d *x2_out,
                            __m256d *v_out, int *hard, int *soft) {
    const __m256i bits1 = ynext(z);
    const __m256i bits2 = ynext(z);
    const __m256i layer = _mm256_and_si256(bits1, k->layer_mask);
    const __m256d xa = _mm256_i64gather_pd(hl_zig_x, layer, 8);
    const __m256d xb = _mm256_i64gather_pd(hl_zig_x, _mm256_add_epi64(layer, k->idx_one), 8);
    const __m256d xabs = _mm256_mul_pd(yu52(bits1, k->one_bits, k->one), xa);
    __m256d fast = _mm256_cmp_pd(xabs, xb, _CMP_LT_OQ);
    const __m256i sign = _mm256_slli_epi64(_mm256_and_si256(bits1, k->sign_bit), 55);
    const __m256d x = _mm256_castsi256_pd(_mm256_xor_si256(_mm256_castpd_si256(xabs), sign));
    __m256d v = _mm256_add_pd(k->one, _mm256_mul_pd(k->vc, x));
    fast = _mm256_and_pd(fast, _mm256_cmp_pd(v, k->zero, _CMP_GT_OQ));
    v = _mm256_mul_pd(_mm256_mul_pd(v, v), v);
    const __m256d u = _mm256_add_pd(yu52(bits2, k->one_bits, k->one), k->half_ulp);
    const __m256d x2 = _mm256_mul_pd(x, x);
    const __m256d squeeze = _mm256_sub_pd(k->one, _mm256_mul_pd(_mm256_mul_pd(k->k0331, x2), x2));
    const int fast_bits = _mm256_movemask_pd(fast);
    const int sq_bits = _mm256_movemask_pd(_mm256_cmp_pd(u, squeeze, _CMP_LT_OQ));
    *hard = ~fast_bits & 0xF;
    *soft = fast_bits & ~sq_bits & 0xF;
    *u_out = u;
    *x2_out = x2;
    *v_out = v;
    return _mm256_mul_pd(k->vd, v);
}

void hl_tm_upass_avx2(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc) {
    ystate z[2];
    yload(&z[0], L, 0);
    yload(&z[1], L, 1);
    yconst k;
    k.one = _mm256_set1_pd(1.0);
    k.two = _mm256_set1_pd(2.0);
    k.zero = _mm256_setzero_pd();
    k.vc = _mm256_set1_pd(a->c);
    k.vd = _mm256_set1_pd(a->d);
    k.k0331 = _mm256_set1_pd(0.0331);
    k.half_ulp = _mm256_set1_pd(0x1.0p-53);
    k.vmu = _mm256_set1_pd(a->mu);
    k.vnt = _mm256_set1_pd(a->nu_tau2);
    k.vr2 = _mm256_set1_pd(a->r2scale);
    k.one_bits = _mm256_set1_epi64x((long long)0x3FF0000000000000LL);
    k.layer_mask = _mm256_set1_epi64x(0xFF);
    k.sign_bit = _mm256_set1_epi64x(0x100);
    k.idx_one = _mm256_set1_epi64x(1);
    __m256d acc1[2], acc2[2], acc3[2];
    for (int h = 0; h < 2; h++) {
        acc1[h] = _mm256_loadu_pd(acc->s1 + 4 * h);
        acc2[h] = _mm256_loadu_pd(acc->s2 + 4 * h);
        acc3[h] = _mm256_loadu_pd(acc->s3 + 4 * h);
    }
    const size_t blocks = a->n / HL_TM_LANES;
    for (size_t b = 0; b < blocks; b++) {
        for (int h = 0; h < 2; h++) {
            const ystate old = z[h];
            int hard, soft;
            __m256d u, x2, v;
            __m256d g = ydraw(&z[h], &k, &u, &x2, &v, &hard, &soft);
            if ((hard | soft) != 0) {
                double gs[4], us[4], x2s[4], vs[4];
                _mm256_storeu_pd(gs, g);
                _mm256_storeu_pd(us, u);
                _mm256_storeu_pd(x2s, x2);
                _mm256_storeu_pd(vs, v);
                int redo_now = 0; /* rejected by the log test: continue from the current state */
                for (int j = 0; j < 4; j++) {
                    if (((soft >> j) & 1) && !hl_tm_mt_log_accept(us[j], x2s[j], vs[j], a->d)) {
                        redo_now |= 1 << j;
                    }
                }
                if ((redo_now | hard) != 0) {
                    hl_tm_lanes before, after;
                    ystore(&old, &before, 0);
                    ystore(&z[h], &after, 0);
                    for (int j = 0; j < 4; j++) {
                        const int from_now = (redo_now >> j) & 1, from_start = (hard >> j) & 1;
                        if (from_now || from_start) {
                            hl_rng r = hl_tm_lane_get(from_start ? &before : &after, j);
                            gs[j] = hl_tm_lane_gamma(&r, a);
                            hl_tm_lane_put(&after, j, &r);
                        }
                    }
                    yload(&z[h], &after, 0);
                }
                g = _mm256_loadu_pd(gs);
            }
            const size_t i = b * HL_TM_LANES + 4 * (size_t)h;
            const __m256d r = _mm256_sub_pd(_mm256_loadu_pd(a->x + i), k.vmu);
            const __m256d rr = _mm256_mul_pd(r, r);
            const __m256d q = _mm256_add_pd(k.vnt, _mm256_mul_pd(rr, k.vr2));
            const __m256d w = _mm256_div_pd(_mm256_mul_pd(k.two, g), q);
            if (a->w_out != NULL) {
                _mm256_storeu_pd(a->w_out + i, w);
            }
            acc1[h] = _mm256_add_pd(acc1[h], w);
            acc2[h] = _mm256_add_pd(acc2[h], _mm256_mul_pd(rr, w));
            acc3[h] = _mm256_add_pd(acc3[h], _mm256_mul_pd(r, w));
        }
    }
    ystore(&z[0], L, 0);
    ystore(&z[1], L, 1);
    for (int h = 0; h < 2; h++) {
        _mm256_storeu_pd(acc->s1 + 4 * h, acc1[h]);
        _mm256_storeu_pd(acc->s2 + 4 * h, acc2[h]);
        _mm256_storeu_pd(acc->s3 + 4 * h, acc3[h]);
    }
    hl_tm_upass_scalar_range(a, L, acc, blocks * HL_TM_LANES);
}
