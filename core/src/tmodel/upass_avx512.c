/* The U pass, AVX-512 variant: the eight lanes in one register (see upass.h for the definition
 * it reproduces bit for bit). Compiled with AVX-512 F/DQ/BW/VL flags; called only when the CPU
 * has them.
 *
 * Per chunk of points, the gamma variates are drawn first into a buffer, then the points are
 * walked with them and the sums accumulated as before. The draws run in batches of attempts,
 * one attempt per lane and iteration with no branch on its outcome:
 * - a lane's stream advances the same whether the Marsaglia-Tsang test accepts or rejects (the
 *   scalar code redraws from its current state), so the ~10% of attempts the squeeze leaves to
 *   the log test are queued and decided together at the end of the batch, in registers by a
 *   cheap log with a proven margin (zflog), by libm in the rare near ties;
 * - a batch runs as many attempts as every lane still surely needs, so no lane overshoots; the
 *   accepted candidates then go in order to each lane's rows, and lanes that are done stop
 *   advancing (masked state update) in the last, short batches;
 * - the ~1% of lanes that leave the ziggurat rectangle or have v <= 0 take a branch: the wedge
 *   test in registers (zexp with a margin, libm near ties), the tail (layer 0, ~0.03%) by the
 *   shared scalar lane code from the attempt's start. The draws of the next two attempts are
 *   made ahead (and redone after such a branch), so the branch waits on no table load. The
 *   ziggurat tables are read by 16-byte loads of neighbouring entries, not gathers (zpairs).
 * The gamma values and the sums use no fused multiply-adds (the scalar code's operations in
 * its order); the approximations of the log and wedge tests may, as they only decide.
 */
#include <immintrin.h>

#include <math.h>

#include "upass.h"

/* Blocks of eight points per chunk: the buffer of draws (one row more for the n mod 8 tail)
 * is 8 KiB, well inside L1. */
#define HL_TM_CHUNK 128

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

/* Keeps the lanes outside `active` at their old state. */
static inline void zkeep(zstate *z, const zstate *old, __mmask8 active) {
    z->s0 = _mm512_mask_mov_epi64(old->s0, active, z->s0);
    z->s1 = _mm512_mask_mov_epi64(old->s1, active, z->s1);
    z->s2 = _mm512_mask_mov_epi64(old->s2, active, z->s2);
    z->s3 = _mm512_mask_mov_epi64(old->s3, active, z->s3);
}

/* -log(r_j) for r_j = 32 / (33 + 2 j), the double nearest 1 / (1 + (j + 1/2) / 16), j < 16
 * (computed from the rounded r_j, so log m = log(m r_j) - log r_j holds for the r_j used). */
static const double zlog_table[16] = {
    0.03077165866675366, 0.08961215868968717, 0.14518200984449783, 0.19782574332991992,
    0.2478361639045812,  0.2954642128938359,  0.3409265869705932,  0.38441169891033206,
    0.42608439531090014, 0.46608972992459924, 0.5045560107523953,  0.5415972824327444,
    0.5773153650348236,  0.6118015411059929,  0.6451379613735847,  0.6773988235918061,
};

typedef struct zlogk {
    __m512d r_lo, r_hi, l_lo, l_hi; /* r_j and -log r_j, j < 8 and j >= 8 */
} zlogk;

/* r_j = 32 / (33 + 2 j), rounded at compile time. */
static const double zlog_r[16] = {
    32.0 / 33.0, 32.0 / 35.0, 32.0 / 37.0, 32.0 / 39.0, 32.0 / 41.0, 32.0 / 43.0,
    32.0 / 45.0, 32.0 / 47.0, 32.0 / 49.0, 32.0 / 51.0, 32.0 / 53.0, 32.0 / 55.0,
    32.0 / 57.0, 32.0 / 59.0, 32.0 / 61.0, 32.0 / 63.0,
};

static inline zlogk zlogk_init(void) {
    zlogk k = {_mm512_loadu_pd(zlog_r), _mm512_loadu_pd(zlog_r + 8), _mm512_loadu_pd(zlog_table),
               _mm512_loadu_pd(zlog_table + 8)};
    return k;
}

/*
 * An approximate log of eight positive finite doubles (subnormals included), for deciding
 * the log test only: y = m 2^e with m in [1, 2) (getexp/getmant), m's top four fraction bits
 * pick r_j with |m r_j - 1| <= 1/32, and log y = e ln 2 - log r_j + log1p(m r_j - 1), log1p by
 * its series to the fifth power (remainder below (1/32)^6 / 6 < 1.5e-10). Absolute error below
 * 2e-10 (the rounding of e ln 2 adds at most 1e-13 for |e| <= 1074).
 */
static inline __m512d zflog(__m512d y, const zlogk *k) {
    const __m512d e = _mm512_getexp_pd(y);
    const __m512d m = _mm512_getmant_pd(y, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
    /* permutex2var reads the low four bits of each index: m's top four fraction bits */
    const __m512i idx = _mm512_srli_epi64(_mm512_castpd_si512(m), 48);
    const __m512d r = _mm512_permutex2var_pd(k->r_lo, idx, k->r_hi);
    const __m512d l = _mm512_permutex2var_pd(k->l_lo, idx, k->l_hi);
    const __m512d t = _mm512_fmsub_pd(m, r, _mm512_set1_pd(1.0));
    __m512d p = _mm512_fmadd_pd(_mm512_set1_pd(0.2), t, _mm512_set1_pd(-0.25));
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(1.0 / 3.0));
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(-0.5));
    const __m512d log1p_t = _mm512_fmadd_pd(p, _mm512_mul_pd(t, t), t);
    return _mm512_fmadd_pd(e, _mm512_set1_pd(0.6931471805599453), _mm512_add_pd(l, log1p_t));
}

/*
 * The margin of the register log test, relative to the size of the terms compared: the scalar
 * code's test log(u) < x^2/2 + d (1 - v + log v) with libm's log (error below one ulp) and the
 * same test with zflog differ by at most 2e-10 (1 + d) plus a few roundings of the terms, far
 * below this margin; a decision taken outside it is the one libm's test takes.
 */
#define HL_TM_FLOG_MARGIN 1e-9

/* The log test by libm for the lanes in `unsure` (register copies); returns those it accepts. */
static __attribute__((noinline)) unsigned zunsure(const hl_tm_upass *a, const double *us,
                                                  const double *x2s, const double *vs,
                                                  unsigned unsure) {
    unsigned acc = 0;
    for (int j = 0; j < HL_TM_LANES; j++) {
        if (((unsure >> j) & 1u) && hl_tm_mt_log_accept(us[j], x2s[j], vs[j], a->d)) {
            acc |= 1u << j;
        }
    }
    return acc;
}

/* The lanes in `hard` (the ziggurat's tail, layer 0), in scalar code on stored copies of the
 * registers: each is redrawn from `before`, its state before this attempt, into `after` and gs
 * (the whole gamma draw, as the scalar lane code makes it). Kept out of line. */
static __attribute__((noinline)) void zrare(const hl_tm_upass *a, const hl_tm_lanes *before,
                                            hl_tm_lanes *after, double *gs, unsigned hard) {
    for (int j = 0; j < HL_TM_LANES; j++) {
        if ((hard >> j) & 1u) {
            hl_rng r = hl_tm_lane_get(before, j);
            gs[j] = hl_tm_lane_gamma(&r, a);
            hl_tm_lane_put(after, j, &r);
        }
    }
}

/* Constants of the draw loop. */
typedef struct zconst {
    __m512d one, zero, vc, vd, k0331, half_ulp, half, margin, wedge_margin;
    __m512i one_bits, layer_mask, sign_bit, lane;
    zlogk log;
} zconst;

/* Attempts per batch: the document's n = 500 needs 63 draws per lane, so one batch and a few
 * short ones. The batch (queues included) is 17 KiB on the stack. */
#define HL_TM_BATCH 64

/*
 * One batch of attempts: the candidates, the lanes accepted at once and those left to the log
 * test (per attempt), and the queue of the latter in attempt and lane order (their u and
 * normal x, then the test's verdict, -1 or 0), decided together at the end of the batch. Each
 * queue has room for a full-register access past its last entry.
 */
typedef struct zbatch {
    double g[HL_TM_BATCH * HL_TM_LANES];
    unsigned char acc[HL_TM_BATCH], soft[HL_TM_BATCH];
    double qu[(HL_TM_BATCH + 1) * HL_TM_LANES], qx[(HL_TM_BATCH + 1) * HL_TM_LANES];
    int64_t qyes[(HL_TM_BATCH + 1) * HL_TM_LANES];
    size_t qn;
} zbatch;

/*
 * t[layer_j] and t[layer_j + 1] for the eight lanes' layers (< 256), without gathers (two
 * gathers cost more on Zen 4): the layers go through memory to general registers, each lane's
 * two neighbouring entries are one 16-byte load, and unpacking the even lanes' pairs with the
 * odd lanes' puts them back in lane order.
 */
static inline void zpairs(const double *t, __m512i layer, __m512d *lo, __m512d *hi) {
    uint64_t l[HL_TM_LANES];
    _mm512_storeu_si512((void *)l, layer);
    /* the compiler would extract the indices with shuffles instead (slower): make it reload */
    __asm__("" : "+m"(l));
    const __m256d p02 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(t + l[0])),
                                             _mm_loadu_pd(t + l[2]), 1);
    const __m256d p46 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(t + l[4])),
                                             _mm_loadu_pd(t + l[6]), 1);
    const __m256d p13 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(t + l[1])),
                                             _mm_loadu_pd(t + l[3]), 1);
    const __m256d p57 = _mm256_insertf128_pd(_mm256_castpd128_pd256(_mm_loadu_pd(t + l[5])),
                                             _mm_loadu_pd(t + l[7]), 1);
    const __m512d even = _mm512_insertf64x4(_mm512_castpd256_pd512(p02), p46, 1);
    const __m512d odd = _mm512_insertf64x4(_mm512_castpd256_pd512(p13), p57, 1);
    *lo = _mm512_unpacklo_pd(even, odd);
    *hi = _mm512_unpackhi_pd(even, odd);
}

/* v = (1 + c x)^3 as the scalar code computes it; *positive: the lanes where 1 + c x > 0. */
static inline __m512d zcube(const zconst *k, __m512d x, __mmask8 *positive) {
    const __m512d v = _mm512_add_pd(k->one, _mm512_mul_pd(k->vc, x));
    *positive = _mm512_cmp_pd_mask(v, k->zero, _CMP_GT_OQ);
    return _mm512_mul_pd(_mm512_mul_pd(v, v), v);
}

/*
 * exp(t) of eight doubles in [-7, 0], for deciding the ziggurat's wedge test only: t = k ln 2
 * + f with |f| <= ln 2 / 2, exp(f) by its Taylor series to f^7 in Estrin's order (a short
 * dependency chain: the test sits on the path to the lane's next draw), times 2^k (scalef).
 * Relative error below 6e-9 (the remainder (ln 2 / 2)^8 / 8!).
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

/* The margin of the register wedge test, relative to exp(-x^2 / 2): far above zexp's error
 * (6e-9) and libm's (one ulp), so a decision taken outside it is the one libm's test takes. */
#define HL_TM_WEDGE_MARGIN 1e-7

/* The wedge test by libm for the lanes in `unsure` (register copies of y and t = -x^2 / 2, the
 * scalar code's values); returns those under the density. */
static __attribute__((noinline)) unsigned zwedge_unsure(const double *ys, const double *ts,
                                                        unsigned unsure) {
    unsigned in = 0;
    for (int j = 0; j < HL_TM_LANES; j++) {
        if (((unsure >> j) & 1u) && ys[j] < exp(ts[j])) {
            in |= 1u << j;
        }
    }
    return in;
}

/* What one attempt has drawn: the normal x, its cube v, the bits of the uniform u. */
typedef struct zdraw_t {
    __m512i layer, ubits;
    __m512d xabs, x, v;
    __mmask8 rect, positive;
} zdraw_t;

/*
 * The lanes of an attempt that left the common path (`special`), in registers but for the
 * ziggurat tail: as the scalar lane code, a lane with v <= 0 keeps only its normal's draw
 * (state `mid`); a wedge lane draws its uniform next (hl_rng_normal_outside's test, decided
 * with zexp and a margin, libm near ties) and, under the density and with v > 0, its u after
 * that; a wedge lane above the density ends the attempt there. The rare tail lanes (layer 0)
 * are redrawn by the scalar lane code from `old` and accepted (*g, *accept). Returns the lanes
 * that join the common path (their u bits in dr->ubits, their state in *z).
 */
static inline __mmask8 zspecial(const hl_tm_upass *a, const zconst *k, zstate *z, const zstate *old,
                                const zstate *mid, zdraw_t *dr, __mmask8 special, __m512d *g,
                                unsigned *accept) {
    const __mmask8 out = special & (__mmask8)~dr->rect;
    const __mmask8 tail = out & _mm512_cmpeq_epi64_mask(dr->layer, _mm512_setzero_si512());
    const __mmask8 wedge = out & (__mmask8)~tail;
    __mmask8 join = 0;
    /* v <= 0 inside the rectangle: the attempt ends after the normal's draw */
    const __mmask8 nonpos = special & dr->rect;
    z->s0 = _mm512_mask_mov_epi64(z->s0, nonpos, mid->s0);
    z->s1 = _mm512_mask_mov_epi64(z->s1, nonpos, mid->s1);
    z->s2 = _mm512_mask_mov_epi64(z->s2, nonpos, mid->s2);
    z->s3 = _mm512_mask_mov_epi64(z->s3, nonpos, mid->s3);
    if (wedge != 0) {
        zstate w = *mid;
        const __m512i bw = znext(&w);
        const __m512d uw =
            _mm512_mul_pd(_mm512_cvtepu64_pd(_mm512_srli_epi64(bw, 11)), _mm512_set1_pd(0x1.0p-53));
        __m512d f0, f1;
        zpairs(hl_zig_f, dr->layer, &f0, &f1);
        const __m512d y = _mm512_add_pd(f0, _mm512_mul_pd(uw, _mm512_sub_pd(f1, f0)));
        const __m512d t = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(-0.5), dr->xabs), dr->xabs);
        const __m512d e = zexp(t);
        const __m512d tol = _mm512_mul_pd(k->wedge_margin, e);
        const __mmask8 below = _mm512_cmp_pd_mask(y, _mm512_sub_pd(e, tol), _CMP_LT_OQ);
        const __mmask8 above = _mm512_cmp_pd_mask(y, _mm512_add_pd(e, tol), _CMP_GT_OQ);
        __mmask8 under = wedge & below;
        const unsigned unsure = wedge & (unsigned)~(below | above);
        if (unsure != 0) {
            double ys[HL_TM_LANES], ts[HL_TM_LANES];
            _mm512_storeu_pd(ys, y);
            _mm512_storeu_pd(ts, t);
            under |= (__mmask8)zwedge_unsure(ys, ts, unsure);
        }
        /* under the density with v > 0: u comes next */
        join = under & dr->positive;
        zstate w2 = w;
        const __m512i b2 = znext(&w2);
        dr->ubits = _mm512_mask_mov_epi64(dr->ubits, join, b2);
        z->s0 = _mm512_mask_mov_epi64(_mm512_mask_mov_epi64(z->s0, wedge, w.s0), join, w2.s0);
        z->s1 = _mm512_mask_mov_epi64(_mm512_mask_mov_epi64(z->s1, wedge, w.s1), join, w2.s1);
        z->s2 = _mm512_mask_mov_epi64(_mm512_mask_mov_epi64(z->s2, wedge, w.s2), join, w2.s2);
        z->s3 = _mm512_mask_mov_epi64(_mm512_mask_mov_epi64(z->s3, wedge, w.s3), join, w2.s3);
    }
    if (tail != 0) {
        hl_tm_lanes before, after;
        double gs[HL_TM_LANES];
        zstore(old, &before);
        zstore(z, &after);
        _mm512_storeu_pd(gs, *g);
        zrare(a, &before, &after, gs, tail);
        zload(z, &after);
        *g = _mm512_loadu_pd(gs);
        *accept |= tail;
    }
    return join;
}

/* An attempt's draws before any decision: the states around them and what they give. */
typedef struct zpre {
    zstate old, after; /* before the attempt, after u's bits */
    zdraw_t dr;
} zpre;

/* Draws an attempt from the state *z (all lanes): the normal's bits, then u's bits. */
static inline __attribute__((always_inline)) void zfront(const zconst *k, const zstate *z,
                                                         zpre *p) {
    p->old = *z;
    zstate t = *z;
    const __m512i bits1 = znext(&t);
    p->dr.ubits = znext(&t);
    p->after = t;
    /* ziggurat rectangle */
    p->dr.layer = _mm512_and_si512(bits1, k->layer_mask);
    __m512d xa, xb; /* x[layer], x[layer + 1] */
    zpairs(hl_zig_x, p->dr.layer, &xa, &xb);
    p->dr.xabs = _mm512_mul_pd(zu52(bits1, k->one_bits, k->one), xa);
    p->dr.rect = _mm512_cmp_pd_mask(p->dr.xabs, xb, _CMP_LT_OQ);
    const __m512i sign = _mm512_slli_epi64(_mm512_and_si512(bits1, k->sign_bit), 55);
    p->dr.x = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(p->dr.xabs), sign));
    p->dr.v = zcube(k, p->dr.x, &p->dr.positive);
}

/*
 * `m` attempts of the batch on the lanes in `active` (the others keep their state). Lanes that
 * the squeeze accepts (or the scalar code redraws) are marked accepted now; lanes left to the
 * log test are queued. A lane's stream advances the same whatever that test decides, so
 * deciding it later gives the scalar code's stream. The draws of the attempt after the next
 * are made before the current one is finished, so the branch to the rare lanes finds its
 * table loads done (after that branch the next attempt is drawn again from the corrected state);
 * *pre holds the first attempt's draws on entry and the next one's on return (its state,
 * pre->old, is the lanes' state).
 */
static inline __attribute__((always_inline)) void
zattempts(const hl_tm_upass *a, const zconst *k, zpre *pre, zbatch *bt, size_t m, __mmask8 active) {
    zpre cur = *pre, next;
    zstate t = cur.after;
    zkeep(&t, &cur.old, active);
    zfront(k, &t, &next);
    size_t qn = bt->qn; /* kept in a register: the queue's stores could alias it */
    for (size_t at = 0; at < m; at++) {
        __mmask8 ok = active & cur.dr.rect & cur.dr.positive;
        const __mmask8 special = active & (__mmask8)~ok;
        unsigned accept = 0;
        __m512d g = _mm512_mul_pd(k->vd, cur.dr.v);
        if (special != 0) {
            zstate zn = cur.after, mid = cur.old;
            (void)znext(&mid);
            ok |= zspecial(a, k, &zn, &cur.old, &mid, &cur.dr, special, &g, &accept);
            zkeep(&zn, &cur.old, active);
            zfront(k, &zn, &next); /* the next attempt starts from the corrected state */
        }
        /* the attempt after the next, drawn two ahead */
        zpre ahead;
        t = next.after;
        zkeep(&t, &next.old, active);
        zfront(k, &t, &ahead);
        /* Marsaglia-Tsang's squeeze */
        const __m512d u = _mm512_add_pd(zu52(cur.dr.ubits, k->one_bits, k->one), k->half_ulp);
        const __m512d x2 = _mm512_mul_pd(cur.dr.x, cur.dr.x);
        const __m512d squeeze =
            _mm512_sub_pd(k->one, _mm512_mul_pd(_mm512_mul_pd(k->k0331, x2), x2));
        const __mmask8 sq = _mm512_cmp_pd_mask(u, squeeze, _CMP_LT_OQ);
        const __mmask8 soft = ok & (__mmask8)~sq;
        accept |= ok & sq;
        _mm512_storeu_pd(bt->g + at * HL_TM_LANES, g);
        bt->acc[at] = (unsigned char)accept;
        bt->soft[at] = soft;
        /* queue the lanes left to the log test */
        _mm512_storeu_pd(bt->qu + qn, _mm512_maskz_compress_pd(soft, u));
        _mm512_storeu_pd(bt->qx + qn, _mm512_maskz_compress_pd(soft, cur.dr.x));
        qn += (size_t)__builtin_popcount((unsigned)soft);
        cur = next;
        next = ahead;
    }
    bt->qn = qn;
    *pre = cur;
}

/* Decides the queued log tests: in registers where the margin allows (zflog), else by libm. */
static inline void zdecide(const hl_tm_upass *a, const zconst *k, zbatch *bt) {
    for (size_t q = 0; q < bt->qn; q += HL_TM_LANES) {
        const size_t left = bt->qn - q;
        const __mmask8 in = (__mmask8)(left >= HL_TM_LANES ? 0xFFu : (1u << left) - 1u);
        const __m512d u = _mm512_mask_loadu_pd(k->one, in, bt->qu + q);
        const __m512d x = _mm512_maskz_loadu_pd(in, bt->qx + q);
        __mmask8 positive;
        const __m512d v = zcube(k, x, &positive);
        const __m512d x2 = _mm512_mul_pd(x, x);
        const __m512d lu = zflog(u, &k->log), lv = zflog(v, &k->log);
        const __m512d half_x2 = _mm512_mul_pd(k->half, x2);
        const __m512d one_minus_v = _mm512_sub_pd(k->one, v);
        const __m512d rhs = _mm512_fmadd_pd(k->vd, _mm512_add_pd(one_minus_v, lv), half_x2);
        const __m512d diff = _mm512_sub_pd(rhs, lu);
        const __m512d terms =
            _mm512_add_pd(_mm512_add_pd(k->one, _mm512_abs_pd(one_minus_v)), _mm512_abs_pd(lv));
        const __m512d scale = _mm512_fmadd_pd(
            k->vd, terms, _mm512_add_pd(_mm512_add_pd(k->one, _mm512_abs_pd(lu)), half_x2));
        const __m512d tol = _mm512_mul_pd(k->margin, scale);
        const __mmask8 yes = in & _mm512_cmp_pd_mask(diff, tol, _CMP_GT_OQ);
        const __mmask8 no = in & _mm512_cmp_pd_mask(diff, _mm512_sub_pd(k->zero, tol), _CMP_LT_OQ);
        __mmask8 take = yes;
        const unsigned unsure = in & (unsigned)~(yes | no);
        if (unsure != 0) {
            double us[HL_TM_LANES], x2s[HL_TM_LANES], vs[HL_TM_LANES];
            _mm512_storeu_pd(us, u);
            _mm512_storeu_pd(x2s, x2);
            _mm512_storeu_pd(vs, v);
            take |= (__mmask8)zunsure(a, us, x2s, vs, unsure);
        }
        _mm512_storeu_si512((void *)(bt->qyes + q), _mm512_movm_epi64(take));
    }
}

/* Draws need_j gamma variates for each lane j into buf[8 i + j], i < need_j, from the lanes'
 * streams in order. */
static inline void zdraw(const hl_tm_upass *a, const zconst *k, zpre *pre, zbatch *bt, double *buf,
                         const size_t need[HL_TM_LANES]) {
    size_t p[HL_TM_LANES]; /* where each lane's next draw goes: 8 rows + lane */
    for (int j = 0; j < HL_TM_LANES; j++) {
        p[j] = (size_t)j;
    }
    for (;;) {
        /* Lanes that still need draws, and how many attempts all of them surely need. */
        __mmask8 active = 0;
        size_t m = HL_TM_BATCH;
        for (int j = 0; j < HL_TM_LANES; j++) {
            const size_t have = p[j] / HL_TM_LANES;
            if (have < need[j]) {
                active |= (__mmask8)(1u << j);
                m = need[j] - have < m ? need[j] - have : m;
            }
        }
        if (active == 0) {
            return;
        }
        bt->qn = 0;
        if (active == 0xFF) {
            zattempts(a, k, pre, bt, m, 0xFF);
        } else {
            zattempts(a, k, pre, bt, m, active);
        }
        zdecide(a, k, bt);
        /* The accepted candidates, in order, to each lane's rows: an attempt's lanes left to the
         * log test take their verdicts from the queue in lane order (expand). A lane's
         * candidate is stored at its next row either way and kept only if accepted. */
        size_t q = 0;
        for (size_t i = 0; i < m; i++) {
            const __mmask8 soft = bt->soft[i];
            const __m512i verdict =
                _mm512_maskz_expand_epi64(soft, _mm512_loadu_si512((const void *)(bt->qyes + q)));
            const unsigned took = bt->acc[i] | _mm512_test_epi64_mask(verdict, verdict);
            q += (size_t)__builtin_popcount((unsigned)soft);
            const double *g = bt->g + i * HL_TM_LANES;
            for (int j = 0; j < HL_TM_LANES; j++) {
                buf[p[j]] = g[j];
                p[j] += ((took >> j) & 1u) * HL_TM_LANES;
            }
        }
    }
}

void hl_tm_upass_avx512(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc) {
    zstate z;
    zload(&z, L);
    zconst k;
    k.one = _mm512_set1_pd(1.0);
    k.zero = _mm512_setzero_pd();
    k.vc = _mm512_set1_pd(a->c);
    k.vd = _mm512_set1_pd(a->d);
    k.k0331 = _mm512_set1_pd(0.0331);
    k.half_ulp = _mm512_set1_pd(0x1.0p-53);
    k.half = _mm512_set1_pd(0.5);
    /* an infinite margin decides nothing in registers (the test-only path through libm) */
    k.margin = _mm512_set1_pd(a->force_libm ? (double)INFINITY : HL_TM_FLOG_MARGIN);
    k.wedge_margin = _mm512_set1_pd(a->force_libm ? (double)INFINITY : HL_TM_WEDGE_MARGIN);
    k.one_bits = _mm512_set1_epi64((long long)0x3FF0000000000000LL);
    k.layer_mask = _mm512_set1_epi64(0xFF);
    k.sign_bit = _mm512_set1_epi64(0x100);
    k.lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    k.log = zlogk_init();
    zpre pre; /* the next attempt's draws, made ahead (zattempts) */
    zfront(&k, &z, &pre);
    const __m512d two = _mm512_set1_pd(2.0);
    const __m512d vmu = _mm512_set1_pd(a->mu), vnt = _mm512_set1_pd(a->nu_tau2);
    const __m512d vr2 = _mm512_set1_pd(a->r2scale);
    __m512d acc1 = _mm512_loadu_pd(acc->s1), acc2 = _mm512_loadu_pd(acc->s2),
            acc3 = _mm512_loadu_pd(acc->s3);
    /* one row more than the tail's: lanes that are done still write (unused) past their last */
    double buf[(HL_TM_CHUNK + 2) * HL_TM_LANES];
    zbatch bt;
    const size_t blocks = a->n / HL_TM_LANES;
    const unsigned tail = (unsigned)(a->n % HL_TM_LANES);
    for (size_t b0 = 0, last = 0; !last; b0 += HL_TM_CHUNK) {
        /* This chunk: nb full blocks, then the tail's row when the chunk ends the data (the
         * buffer has room for it even after a full chunk). */
        const size_t nb = blocks - b0 < HL_TM_CHUNK ? blocks - b0 : HL_TM_CHUNK;
        last = b0 + nb == blocks;
        const unsigned part = last ? tail : 0;
        size_t need[HL_TM_LANES];
        for (unsigned j = 0; j < HL_TM_LANES; j++) {
            need[j] = nb + (j < part ? 1 : 0);
        }
        zdraw(a, &k, &pre, &bt, buf, need);
        for (size_t b = 0; b <= nb; b++) {
            const __mmask8 mask = (__mmask8)(b < nb ? 0xFFu : (1u << part) - 1u);
            if (mask == 0) {
                break;
            }
            const size_t i = (b0 + b) * HL_TM_LANES;
            const __m512d g = _mm512_maskz_loadu_pd(mask, buf + b * HL_TM_LANES);
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
    }
    zstore(&pre.old, L);
    _mm512_storeu_pd(acc->s1, acc1);
    _mm512_storeu_pd(acc->s2, acc2);
    _mm512_storeu_pd(acc->s3, acc3);
}
