/* The U pass, AVX-512 variant, for shapes with a ziggurat (see upass.h for the definition it
 * reproduces bit for bit, gamma_zig.h for the ziggurat). Compiled with AVX-512 F/DQ/BW/VL
 * flags; called only when the CPU has them.
 *
 * The eight lanes' xoshiro256** states sit in four registers, and each round of attempts is
 * one register of candidates x = left + u width, the boxes read by one 32-byte load per lane
 * (a transpose puts them in lane order; gathers are slow on Zen 4). The lanes inside their
 * box's inner part (99.6-99.8%) are accepted; the accepted draws of a round are packed by a
 * compress and stored after the previous ones, so the draws reach the points in round and lane
 * order. The rare rounds with a lane outside take a branch: wedge lanes draw their height and
 * are tested in registers against exp(t(x)) (zflog, zexp) with a proven margin, libm near ties;
 * base-box lanes (the tails, ~0.01% of attempts) run the shared scalar tail sampler. The
 * points are then walked with the draws, a chunk at a time, as in the scalar code.
 * Values use no fused multiply-adds (the scalar code's operations in its order); the
 * approximations of the wedge test may, as they only decide.
 */
#include <immintrin.h>

#include <math.h>

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

/* -log(r_j) for r_j = 32 / (33 + 2 j), the double nearest 1 / (1 + (j + 1/2) / 16), j < 16
 * (computed from the rounded r_j, so log m = log(m r_j) - log r_j holds for the r_j used). */
static const double zlog_table[16] = {
    0.03077165866675366, 0.08961215868968717, 0.14518200984449783, 0.19782574332991992,
    0.2478361639045812,  0.2954642128938359,  0.3409265869705932,  0.38441169891033206,
    0.42608439531090014, 0.46608972992459924, 0.5045560107523953,  0.5415972824327444,
    0.5773153650348236,  0.6118015411059929,  0.6451379613735847,  0.6773988235918061,
};

/* r_j = 32 / (33 + 2 j), rounded at compile time. */
static const double zlog_r[16] = {
    32.0 / 33.0, 32.0 / 35.0, 32.0 / 37.0, 32.0 / 39.0, 32.0 / 41.0, 32.0 / 43.0,
    32.0 / 45.0, 32.0 / 47.0, 32.0 / 49.0, 32.0 / 51.0, 32.0 / 53.0, 32.0 / 55.0,
    32.0 / 57.0, 32.0 / 59.0, 32.0 / 61.0, 32.0 / 63.0,
};

/*
 * An approximate log of eight positive finite doubles, for deciding the wedge test only:
 * y = m 2^e with m in [1, 2) (getexp/getmant), m's top four fraction bits pick r_j with
 * |m r_j - 1| <= 1/32, and log y = e ln 2 - log r_j + log1p(m r_j - 1), log1p by its series to
 * the fifth power (remainder below (1/32)^6 / 6 < 1.5e-10). Absolute error below 2e-10 (the
 * rounding of e ln 2 adds at most 1e-13 for |e| <= 1074).
 */
static inline __m512d zflog(__m512d y) {
    const __m512d e = _mm512_getexp_pd(y);
    const __m512d m = _mm512_getmant_pd(y, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
    /* permutex2var reads the low four bits of each index: m's top four fraction bits */
    const __m512i idx = _mm512_srli_epi64(_mm512_castpd_si512(m), 48);
    const __m512d r =
        _mm512_permutex2var_pd(_mm512_loadu_pd(zlog_r), idx, _mm512_loadu_pd(zlog_r + 8));
    const __m512d l =
        _mm512_permutex2var_pd(_mm512_loadu_pd(zlog_table), idx, _mm512_loadu_pd(zlog_table + 8));
    const __m512d t = _mm512_fmsub_pd(m, r, _mm512_set1_pd(1.0));
    __m512d p = _mm512_fmadd_pd(_mm512_set1_pd(0.2), t, _mm512_set1_pd(-0.25));
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(1.0 / 3.0));
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(-0.5));
    const __m512d log1p_t = _mm512_fmadd_pd(p, _mm512_mul_pd(t, t), t);
    return _mm512_fmadd_pd(e, _mm512_set1_pd(0.6931471805599453), _mm512_add_pd(l, log1p_t));
}

/*
 * An approximate exp of eight doubles, for deciding the wedge test only: t = k ln 2 + f with
 * |f| <= ln 2 / 2, exp(f) by its Taylor series to f^7 in Estrin's order, times 2^k (scalef).
 * Relative error below 6e-9 (the remainder (ln 2 / 2)^8 / 8!) wherever the result is a normal
 * double.
 */
static inline __m512d zexp(__m512d t) {
    const __m512d kk = _mm512_roundscale_pd(_mm512_mul_pd(t, _mm512_set1_pd(1.4426950408889634)),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512d f = _mm512_fnmadd_pd(kk, _mm512_set1_pd(0.6931471805599453), t);
    const __m512d f2 = _mm512_mul_pd(f, f);
    const __m512d p01 = _mm512_add_pd(_mm512_set1_pd(1.0), f);
    const __m512d p23 = _mm512_fmadd_pd(f, _mm512_set1_pd(1.0 / 6.0), _mm512_set1_pd(0.5));
    const __m512d p45 = _mm512_fmadd_pd(f, _mm512_set1_pd(1.0 / 120.0), _mm512_set1_pd(1.0 / 24.0));
    const __m512d p67 =
        _mm512_fmadd_pd(f, _mm512_set1_pd(1.0 / 5040.0), _mm512_set1_pd(1.0 / 720.0));
    const __m512d q0 = _mm512_fmadd_pd(f2, p23, p01);
    const __m512d q1 = _mm512_fmadd_pd(f2, p67, p45);
    const __m512d p = _mm512_fmadd_pd(_mm512_mul_pd(f2, f2), q1, q0);
    return _mm512_scalef_pd(p, kk);
}

/*
 * The margin of the register wedge test. The scalar code tests y < exp(t_s) with t_s =
 * hl_tm_zig_logf(x) (error below ~1e-15 of its terms) and libm's exp (below one ulp); the
 * register test uses t~ = (a - 1)(zflog(x) - log M) - (x - M), whose distance to t_s is at most
 *     D = 1e-9 (1 + (a - 1)) + 1e-15 (x + M + (a - 1)(|zflog(x)| + |log M|))
 * (zflog's 2e-10 twice over, and the roundings of every term, with room to spare), and zexp's
 * relative error 6e-9. A lane is decided in registers only when y is outside
 * e (1 -+ (HL_TM_WEDGE_MARGIN + 2 D)), e = zexp(t~), and D <= 0.01 (where e^D <= 1 + 2 D holds
 * with room); every other lane goes to libm.
 */
#define HL_TM_WEDGE_MARGIN 1e-7

/* Constants of the pass. */
typedef struct zconst {
    const hl_tm_zig *zig;
    __m512d one, am1, mode, log_mode, abs_log_mode, eps_a, margin, max_d;
    __m512i one_bits, box_mask;
} zconst;

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

/* y[i] and y[i + 1] for the eight lanes' boxes: one 16-byte load per lane. */
static inline void zheights(const double *y, __m512i index, __m512d *lo, __m512d *hi) {
    uint64_t l[HL_TM_LANES];
    _mm512_storeu_si512((void *)l, index);
    __asm__("" : "+m"(l));
    const __m256d p02 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(y + l[0])),
                                             _mm_loadu_pd(y + l[2]), 1);
    const __m256d p46 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(y + l[4])),
                                             _mm_loadu_pd(y + l[6]), 1);
    const __m256d p13 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(y + l[1])),
                                             _mm_loadu_pd(y + l[3]), 1);
    const __m256d p57 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(y + l[5])),
                                             _mm_loadu_pd(y + l[7]), 1);
    const __m512d even = _mm512_insertf64x4(_mm512_castpd256_pd512(p02), p46, 1);
    const __m512d odd = _mm512_insertf64x4(_mm512_castpd256_pd512(p13), p57, 1);
    *lo = _mm512_unpacklo_pd(even, odd);
    *hi = _mm512_unpackhi_pd(even, odd);
}

/* The wedge test by libm for the lanes in `unsure` (register copies of x and y). */
static __attribute__((noinline)) unsigned zwedge_unsure(const hl_tm_zig *z, const double *xs,
                                                        const double *ys, unsigned unsure) {
    unsigned in = 0;
    for (int j = 0; j < HL_TM_LANES; j++) {
        if (((unsure >> j) & 1u) && ys[j] < exp(hl_tm_zig_logf(z, xs[j]))) {
            in |= 1u << j;
        }
    }
    return in;
}

/* The tails for the lanes in `tail` (base-box lanes outside its inner part), in scalar code on
 * stored copies of the registers: lane j draws from its state after the attempt's word. */
static __attribute__((noinline)) void ztails(const hl_tm_zig *z, hl_tm_lanes *lanes, double *xs,
                                             unsigned tail) {
    for (int j = 0; j < HL_TM_LANES; j++) {
        if ((tail >> j) & 1u) {
            hl_rng r = hl_tm_lane_get(lanes, j);
            xs[j] = hl_tm_zig_tail(&r, z, xs[j] < z->box[0].in_lo);
            hl_tm_lane_put(lanes, j, &r);
        }
    }
}

/*
 * The lanes of a round outside their box's inner part (`out`, state *z after the round's word,
 * candidates *x): wedge lanes draw their height from the next word and are kept if under f;
 * tail lanes are replaced by a tail draw. Returns the lanes accepted among them.
 */
static __attribute__((noinline)) __mmask8 zspecial(const zconst *k, zstate *z, __m512i box,
                                                   __m512d *x, __mmask8 out) {
    const __mmask8 tail = out & _mm512_cmpeq_epi64_mask(box, _mm512_setzero_si512());
    const __mmask8 wedge = out & (__mmask8)~tail;
    __mmask8 accept = 0;
    if (wedge != 0) {
        zstate w = *z;
        const __m512i bits = znext(&w);
        z->s0 = _mm512_mask_mov_epi64(z->s0, wedge, w.s0);
        z->s1 = _mm512_mask_mov_epi64(z->s1, wedge, w.s1);
        z->s2 = _mm512_mask_mov_epi64(z->s2, wedge, w.s2);
        z->s3 = _mm512_mask_mov_epi64(z->s3, wedge, w.s3);
        const __m512d u = _mm512_mul_pd(_mm512_cvtepu64_pd(_mm512_srli_epi64(bits, 11)),
                                        _mm512_set1_pd(0x1.0p-53));
        __m512d y0, y1;
        zheights(k->zig->y, box, &y0, &y1);
        const __m512d y = _mm512_add_pd(y0, _mm512_mul_pd(u, _mm512_sub_pd(y1, y0)));
        /* t~ = (a - 1)(log x - log M) - (x - M), and its distance bound D */
        const __m512d lx = zflog(*x);
        const __m512d t = _mm512_sub_pd(_mm512_mul_pd(k->am1, _mm512_sub_pd(lx, k->log_mode)),
                                        _mm512_sub_pd(*x, k->mode));
        const __m512d terms =
            _mm512_add_pd(_mm512_add_pd(*x, k->mode),
                          _mm512_mul_pd(k->am1, _mm512_add_pd(_mm512_abs_pd(lx), k->abs_log_mode)));
        const __m512d dist = _mm512_fmadd_pd(terms, _mm512_set1_pd(1e-15), k->eps_a);
        const __m512d e = zexp(t);
        const __m512d tol = _mm512_mul_pd(e, _mm512_fmadd_pd(dist, _mm512_set1_pd(2.0), k->margin));
        const __mmask8 sure = _mm512_cmp_pd_mask(dist, k->max_d, _CMP_LE_OQ);
        const __mmask8 below = sure & _mm512_cmp_pd_mask(y, _mm512_sub_pd(e, tol), _CMP_LT_OQ);
        const __mmask8 above = sure & _mm512_cmp_pd_mask(y, _mm512_add_pd(e, tol), _CMP_GT_OQ);
        accept = wedge & below;
        const unsigned unsure = wedge & (unsigned)~(below | above);
        if (unsure != 0) {
            double xs[HL_TM_LANES], ys[HL_TM_LANES];
            _mm512_storeu_pd(xs, *x);
            _mm512_storeu_pd(ys, y);
            accept |= (__mmask8)zwedge_unsure(k->zig, xs, ys, unsure);
        }
    }
    if (tail != 0) {
        hl_tm_lanes lanes;
        double xs[HL_TM_LANES];
        zstore(z, &lanes);
        _mm512_storeu_pd(xs, *x);
        ztails(k->zig, &lanes, xs, tail);
        zload(z, &lanes);
        *x = _mm512_loadu_pd(xs);
        accept |= tail;
    }
    return accept;
}

/* Rounds of attempts until buf[0, need) holds draws; returns how many it holds (< need + 8). */
static inline size_t zdraw(const zconst *k, zstate *zio, double *buf, size_t have, size_t need) {
    const hl_tm_zig_box *boxes = k->zig->box;
    zstate state = *zio;
    zstate *z = &state;
    while (have < need) {
        const __m512i bits = znext(z);
        const __m512i box = _mm512_and_si512(bits, k->box_mask);
        __m512d left, width, in_lo, in_hi;
        zboxes(boxes, box, &left, &width, &in_lo, &in_hi);
        const __m512d u = _mm512_sub_pd(
            _mm512_castsi512_pd(_mm512_or_si512(_mm512_srli_epi64(bits, 12), k->one_bits)), k->one);
        __m512d x = _mm512_add_pd(left, _mm512_mul_pd(u, width));
        __mmask8 ok =
            _mm512_cmp_pd_mask(x, in_lo, _CMP_GE_OQ) & _mm512_cmp_pd_mask(x, in_hi, _CMP_LE_OQ);
        if (__builtin_expect(ok != 0xFF, 0)) {
            /* on copies: taking the addresses of z and x would keep them in memory */
            zstate zs = *z;
            __m512d xs = x;
            ok |= zspecial(k, &zs, box, &xs, (__mmask8)~ok);
            *z = zs;
            x = xs;
        }
        _mm512_storeu_pd(buf + have, _mm512_maskz_compress_pd(ok, x));
        have += (size_t)__builtin_popcount((unsigned)ok);
    }
    *zio = state;
    return have;
}

void hl_tm_upass_avx512(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc) {
    const hl_tm_zig *zig = a->zig;
    zstate z;
    zload(&z, L);
    zconst k;
    k.zig = zig;
    k.one = _mm512_set1_pd(1.0);
    k.am1 = _mm512_set1_pd(zig->am1);
    k.mode = _mm512_set1_pd(zig->mode);
    k.log_mode = _mm512_set1_pd(zig->log_mode);
    k.abs_log_mode = _mm512_set1_pd(fabs(zig->log_mode));
    k.eps_a = _mm512_set1_pd(1e-9 * (1.0 + zig->am1));
    /* an infinite margin decides nothing in registers (the test-only path through libm) */
    k.margin = _mm512_set1_pd(a->force_libm ? (double)INFINITY : HL_TM_WEDGE_MARGIN);
    k.max_d = _mm512_set1_pd(0.01);
    k.one_bits = _mm512_set1_epi64((long long)0x3FF0000000000000LL);
    k.box_mask = _mm512_set1_epi64(HL_TM_ZIG_BOXES - 1);
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
        have = zdraw(&k, &z, buf, have, need);
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
