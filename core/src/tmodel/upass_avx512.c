/* The U pass, AVX-512 variant, for shapes with a ziggurat (see upass.h for the definition it
 * reproduces bit for bit, gamma_zig.h for the ziggurat). Compiled with AVX-512 F/DQ/BW/VL
 * flags; called only when the CPU has them.
 *
 * The eight lanes' xoshiro256** states sit in four registers, and each round of attempts is
 * one register of candidates x = left + u width, the boxes read by one 32-byte load per lane
 * (a transpose puts them in lane order; gathers are slow on Zen 4). The lanes inside their
 * box's inner part (99.6-99.8%) are accepted; the accepted draws of a round are packed by a
 * compress and stored after the previous ones, so the draws reach the points in round and lane
 * order. The rare rounds with a lane outside (about 2.5%) take a branch to the shared scalar
 * code for those lanes (the wedge test, the tails). The points are then walked with the draws,
 * a chunk at a time, as in the scalar code. Values use no fused multiply-adds (the scalar
 * code's operations in its order).
 */
#include <immintrin.h>

#include "upass.h"

/* Draws per chunk: the buffer (one round more) is 8.1 KiB, well inside L1. */
#define HL_TM_CHUNK 1024

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

/* The boxes of the eight lanes (index < HL_TM_ZIG_BOXES): each lane's 32-byte box is one load, and
 * a transpose of the eight gives left, width, in_lo and in_hi in lane order. */
static inline void zboxes(const hl_tm_zig_box *boxes, __m512i index, __m512d *left, __m512d *width,
                          __m512d *in_lo, __m512d *in_hi) {
    uint64_t b[HL_TM_LANES];
    _mm512_storeu_si512((void *)b, index);
    /* the compiler would extract the indices with shuffles instead (slower): make it reload */
    __asm__("" : "+m"(b));
    const double *t = (const double *)boxes;
    /* rows 0|4, 1|5, 2|6, 3|7: (l w lo hi) of lane j in the low half, of lane j + 4 high */
    const __m512d r04 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(t + 4 * b[0])),
                                           _mm256_loadu_pd(t + 4 * b[4]), 1);
    const __m512d r15 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(t + 4 * b[1])),
                                           _mm256_loadu_pd(t + 4 * b[5]), 1);
    const __m512d r26 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(t + 4 * b[2])),
                                           _mm256_loadu_pd(t + 4 * b[6]), 1);
    const __m512d r37 = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(t + 4 * b[3])),
                                           _mm256_loadu_pd(t + 4 * b[7]), 1);
    /* (l0 l1 lo0 lo1 | l4 l5 lo4 lo5), (w0 w1 hi0 hi1 | w4 w5 hi4 hi5), and lanes 2, 3, 6, 7 */
    const __m512d a01 = _mm512_unpacklo_pd(r04, r15), b01 = _mm512_unpackhi_pd(r04, r15);
    const __m512d a23 = _mm512_unpacklo_pd(r26, r37), b23 = _mm512_unpackhi_pd(r26, r37);
    const __m512i first = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
    const __m512i second = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    *left = _mm512_permutex2var_pd(a01, first, a23);
    *in_lo = _mm512_permutex2var_pd(a01, second, a23);
    *width = _mm512_permutex2var_pd(b01, first, b23);
    *in_hi = _mm512_permutex2var_pd(b01, second, b23);
}

/*
 * The lanes of a round outside their box's inner part (`out`; state *z after the round's word,
 * candidates *x), one after the other in scalar code, as hl_tm_zig_attempt goes on for them:
 * about 2.5% of rounds with 2048 boxes, so libm's exp and log cost less here than a vector
 * test would. Returns the lanes that give a draw (*x holds it).
 */
static __attribute__((noinline)) __mmask8 zspecial(const hl_tm_zig *zig, zstate *z, __m512i box,
                                                   __m512d *x, __mmask8 out) {
    hl_tm_lanes lanes;
    double xs[HL_TM_LANES];
    uint64_t boxes[HL_TM_LANES];
    zstore(z, &lanes);
    _mm512_storeu_pd(xs, *x);
    _mm512_storeu_si512((void *)boxes, box);
    const unsigned accept = hl_tm_zig_rare_lanes(zig, &lanes, boxes, xs, out);
    zload(z, &lanes);
    *x = _mm512_loadu_pd(xs);
    return (__mmask8)accept;
}

/* Rounds of attempts until buf[0, need) holds draws; returns how many it holds (< need + 8). */
static inline size_t zdraw(const hl_tm_zig *zig, zstate *zio, double *buf, size_t have,
                           size_t need) {
    const __m512i box_mask = _mm512_set1_epi64(HL_TM_ZIG_BOXES - 1);
    const __m512i one_bits = _mm512_set1_epi64((long long)0x3FF0000000000000LL);
    const __m512d one = _mm512_set1_pd(1.0);
    zstate z = *zio;
    while (have < need) {
        const __m512i bits = znext(&z);
        const __m512i box = _mm512_and_si512(bits, box_mask);
        __m512d left, width, in_lo, in_hi;
        zboxes(zig->box, box, &left, &width, &in_lo, &in_hi);
        const __m512d u = _mm512_sub_pd(
            _mm512_castsi512_pd(_mm512_or_si512(_mm512_srli_epi64(bits, 12), one_bits)), one);
        __m512d x = _mm512_add_pd(left, _mm512_mul_pd(u, width));
        __mmask8 ok =
            _mm512_cmp_pd_mask(x, in_lo, _CMP_GE_OQ) & _mm512_cmp_pd_mask(x, in_hi, _CMP_LE_OQ);
        if (__builtin_expect(ok != 0xFF, 0)) {
            /* on copies: taking the addresses of z and x would keep them in memory */
            zstate zs = z;
            __m512d xs = x;
            ok |= zspecial(zig, &zs, box, &xs, (__mmask8)~ok);
            z = zs;
            x = xs;
        }
        _mm512_storeu_pd(buf + have, _mm512_maskz_compress_pd(ok, x));
        have += (size_t)__builtin_popcount((unsigned)ok);
    }
    *zio = z;
    return have;
}

void hl_tm_upass_avx512(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc) {
    const hl_tm_zig *zig = a->zig;
    zstate z;
    zload(&z, L);
    const __m512d two = _mm512_set1_pd(2.0);
    const __m512d vmu = _mm512_set1_pd(a->mu), vnt = _mm512_set1_pd(a->nu_tau2);
    const __m512d vr2 = _mm512_set1_pd(a->r2scale);
    __m512d acc1 = _mm512_loadu_pd(acc->s1), acc2 = _mm512_loadu_pd(acc->s2),
            acc3 = _mm512_loadu_pd(acc->s3);
    double buf[HL_TM_CHUNK + HL_TM_LANES];
    size_t have = (size_t)L->ncarry;
    memcpy(buf, L->carry, sizeof L->carry);
    for (size_t i0 = 0; i0 < a->n; i0 += HL_TM_CHUNK) {
        const size_t need = a->n - i0 < HL_TM_CHUNK ? a->n - i0 : HL_TM_CHUNK;
        have = zdraw(zig, &z, buf, have, need);
        for (size_t b = 0; b < need; b += HL_TM_LANES) {
            const __mmask8 mask =
                (__mmask8)(need - b >= HL_TM_LANES ? 0xFFu : (1u << (need - b)) - 1u);
            const size_t i = i0 + b;
            const __m512d g = _mm512_maskz_loadu_pd(mask, buf + b);
            const __m512d r = _mm512_sub_pd(_mm512_maskz_loadu_pd(mask, a->x + i), vmu);
            const __m512d rr = _mm512_mul_pd(r, r);
            const __m512d q = _mm512_add_pd(vnt, _mm512_mul_pd(rr, vr2));
            const __m512d w = _mm512_div_pd(_mm512_mul_pd(two, g), q);
            if (a->w_out != NULL) {
                _mm512_mask_storeu_pd(a->w_out + i, mask, w);
            }
            acc1 = _mm512_mask_add_pd(acc1, mask, acc1, w);
            acc2 = _mm512_mask_add_pd(acc2, mask, acc2, _mm512_mul_pd(rr, w));
            acc3 = _mm512_mask_add_pd(acc3, mask, acc3, _mm512_mul_pd(r, w));
        }
        /* the draws past this chunk's points go first to the next chunk (or pass) */
        memmove(buf, buf + need, (have - need) * sizeof(double));
        have -= need;
    }
    L->ncarry = (uint64_t)have;
    memcpy(L->carry, buf, have * sizeof(double));
    zstore(&z, L);
    _mm512_storeu_pd(acc->s1, acc1);
    _mm512_storeu_pd(acc->s2, acc2);
    _mm512_storeu_pd(acc->s3, acc3);
}
