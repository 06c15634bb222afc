/* The U pass, AVX2 variant, for shapes with a ziggurat (see upass.h for the definition it
 * reproduces bit for bit, gamma_zig.h for the ziggurat). Compiled with AVX2 flags; called only
 * when the CPU has them and not AVX-512.
 *
 * The AVX-512 variant's scheme on two halves of four lanes: each round of attempts is two
 * registers of candidates x = left + u width, the boxes read by one 32-byte load per lane and
 * a 4 x 4 transpose; the accepted draws of each half are packed to the front by a permute from
 * a 16-entry table (AVX2 has no compress) and stored after the previous ones, lanes 0-3 first,
 * so the draws reach the points in round and lane order. The rare rounds with a lane outside
 * its box's inner part go to the shared scalar code for those lanes. Values use no fused
 * multiply-adds (the scalar code's operations in its order).
 */
#include <immintrin.h>

#include "upass.h"

/* Draws per chunk: the buffer (one round more) is 8.1 KiB, well inside L1. */
#define HL_TM_CHUNK 1024

/* Four lanes' xoshiro256** states. */
typedef struct ystate {
    __m256i s0, s1, s2, s3;
} ystate;

static inline __m256i yrotl(__m256i v, int k) {
    return _mm256_or_si256(_mm256_slli_epi64(v, k), _mm256_srli_epi64(v, 64 - k));
}

/* xoshiro256** on four lanes: rotl(s1 * 5, 7) * 9, then the state update. */
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

/* The states of lanes [first, first + 4) to and from the lanes' memory layout. */
static inline void ystore(const ystate *z, hl_tm_lanes *L, int first) {
    _mm256_storeu_si256((__m256i *)(void *)(L->s[0] + first), z->s0);
    _mm256_storeu_si256((__m256i *)(void *)(L->s[1] + first), z->s1);
    _mm256_storeu_si256((__m256i *)(void *)(L->s[2] + first), z->s2);
    _mm256_storeu_si256((__m256i *)(void *)(L->s[3] + first), z->s3);
}

static inline void yload(ystate *z, const hl_tm_lanes *L, int first) {
    z->s0 = _mm256_loadu_si256((const __m256i *)(const void *)(L->s[0] + first));
    z->s1 = _mm256_loadu_si256((const __m256i *)(const void *)(L->s[1] + first));
    z->s2 = _mm256_loadu_si256((const __m256i *)(const void *)(L->s[2] + first));
    z->s3 = _mm256_loadu_si256((const __m256i *)(const void *)(L->s[3] + first));
}

/* For each 4-bit mask, the 32-bit element indices that move its set lanes to the front. */
static const int ypack[16][8] = {
    {0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7}, {2, 3, 0, 1, 4, 5, 6, 7},
    {0, 1, 2, 3, 4, 5, 6, 7}, {4, 5, 0, 1, 2, 3, 6, 7}, {0, 1, 4, 5, 2, 3, 6, 7},
    {2, 3, 4, 5, 0, 1, 6, 7}, {0, 1, 2, 3, 4, 5, 6, 7}, {6, 7, 0, 1, 2, 3, 4, 5},
    {0, 1, 6, 7, 2, 3, 4, 5}, {2, 3, 6, 7, 0, 1, 4, 5}, {0, 1, 2, 3, 6, 7, 4, 5},
    {4, 5, 6, 7, 0, 1, 2, 3}, {0, 1, 4, 5, 6, 7, 2, 3}, {2, 3, 4, 5, 6, 7, 0, 1},
    {0, 1, 2, 3, 4, 5, 6, 7},
};

/* The candidates of four lanes: their boxes (one 32-byte load each, then a transpose), x, and
 * the lanes inside their box's inner part (bit j for lane j). */
static inline __m256d ycandidates(const hl_tm_zig_box *boxes, __m256i bits, __m256i box,
                                  unsigned *ok) {
    uint64_t b[4];
    _mm256_storeu_si256((__m256i *)(void *)b, box);
    /* the compiler would extract the indices with shuffles instead (slower): make it reload */
    __asm__("" : "+m"(b));
    const double *t = (const double *)boxes;
    const __m256d r0 = _mm256_loadu_pd(t + 4 * b[0]), r1 = _mm256_loadu_pd(t + 4 * b[1]);
    const __m256d r2 = _mm256_loadu_pd(t + 4 * b[2]), r3 = _mm256_loadu_pd(t + 4 * b[3]);
    /* (l0 l1 lo0 lo1), (w0 w1 hi0 hi1), and the same for lanes 2, 3 */
    const __m256d a01 = _mm256_unpacklo_pd(r0, r1), b01 = _mm256_unpackhi_pd(r0, r1);
    const __m256d a23 = _mm256_unpacklo_pd(r2, r3), b23 = _mm256_unpackhi_pd(r2, r3);
    const __m256d left = _mm256_permute2f128_pd(a01, a23, 0x20);
    const __m256d in_lo = _mm256_permute2f128_pd(a01, a23, 0x31);
    const __m256d width = _mm256_permute2f128_pd(b01, b23, 0x20);
    const __m256d in_hi = _mm256_permute2f128_pd(b01, b23, 0x31);
    const __m256i one_bits = _mm256_set1_epi64x(0x3FF0000000000000LL);
    const __m256d u =
        _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(bits, 12), one_bits)),
                      _mm256_set1_pd(1.0));
    const __m256d x = _mm256_add_pd(left, _mm256_mul_pd(u, width));
    const __m256d inside =
        _mm256_and_pd(_mm256_cmp_pd(x, in_lo, _CMP_GE_OQ), _mm256_cmp_pd(x, in_hi, _CMP_LE_OQ));
    *ok = (unsigned)_mm256_movemask_pd(inside);
    return x;
}

/* The lanes of a round outside their box's inner part (`out`, bits 0-7), in the shared scalar
 * code, as hl_tm_zig_attempt goes on for them. Returns the lanes that give a draw (xs[j]). */
static __attribute__((noinline)) unsigned yspecial(const hl_tm_zig *zig, ystate *lo, ystate *hi,
                                                   const uint64_t *boxes, double *xs,
                                                   unsigned out) {
    hl_tm_lanes lanes;
    ystore(lo, &lanes, 0);
    ystore(hi, &lanes, 4);
    const unsigned accept = hl_tm_zig_rare_lanes(zig, &lanes, boxes, xs, out);
    yload(lo, &lanes, 0);
    yload(hi, &lanes, 4);
    return accept;
}

/* Stores the lanes of x in `mask` (4 bits) packed at buf + have; returns the new count. */
static inline size_t ypack_store(double *buf, size_t have, __m256d x, unsigned mask) {
    const __m256i idx = _mm256_loadu_si256((const __m256i *)(const void *)ypack[mask]);
    const __m256d packed =
        _mm256_castsi256_pd(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(x), idx));
    _mm256_storeu_pd(buf + have, packed);
    return have + (size_t)__builtin_popcount(mask);
}

/* Rounds of attempts until buf[0, need) holds draws; returns how many it holds (< need + 8). */
static size_t ydraw(const hl_tm_zig *zig, ystate *lo_io, ystate *hi_io, double *buf, size_t have,
                    size_t need) {
    ystate lo = *lo_io, hi = *hi_io;
    const __m256i mask = _mm256_set1_epi64x(HL_TM_ZIG_BOXES - 1);
    while (have < need) {
        const __m256i bits_lo = ynext(&lo), bits_hi = ynext(&hi);
        const __m256i box_lo = _mm256_and_si256(bits_lo, mask);
        const __m256i box_hi = _mm256_and_si256(bits_hi, mask);
        unsigned ok_lo, ok_hi;
        __m256d x_lo = ycandidates(zig->box, bits_lo, box_lo, &ok_lo);
        __m256d x_hi = ycandidates(zig->box, bits_hi, box_hi, &ok_hi);
        if (__builtin_expect((ok_lo & ok_hi) != 0xFu, 0)) {
            /* on copies: taking the addresses of the states would keep them in memory */
            ystate zl = lo, zh = hi;
            uint64_t boxes[HL_TM_LANES];
            double xs[HL_TM_LANES];
            _mm256_storeu_si256((__m256i *)(void *)boxes, box_lo);
            _mm256_storeu_si256((__m256i *)(void *)(boxes + 4), box_hi);
            _mm256_storeu_pd(xs, x_lo);
            _mm256_storeu_pd(xs + 4, x_hi);
            const unsigned out = ~(ok_lo | (ok_hi << 4)) & 0xFFu;
            const unsigned got = yspecial(zig, &zl, &zh, boxes, xs, out);
            lo = zl;
            hi = zh;
            x_lo = _mm256_loadu_pd(xs);
            x_hi = _mm256_loadu_pd(xs + 4);
            ok_lo |= got & 0xFu;
            ok_hi |= got >> 4;
        }
        have = ypack_store(buf, have, x_lo, ok_lo);
        have = ypack_store(buf, have, x_hi, ok_hi);
    }
    *lo_io = lo;
    *hi_io = hi;
    return have;
}

void hl_tm_upass_avx2(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc) {
    ystate lo, hi;
    yload(&lo, L, 0);
    yload(&hi, L, 4);
    const __m256d two = _mm256_set1_pd(2.0);
    const __m256d vmu = _mm256_set1_pd(a->mu), vnt = _mm256_set1_pd(a->nu_tau2);
    const __m256d vr2 = _mm256_set1_pd(a->r2scale);
    __m256d acc1[2], acc2[2], acc3[2];
    for (int h = 0; h < 2; h++) {
        acc1[h] = _mm256_loadu_pd(acc->s1 + 4 * h);
        acc2[h] = _mm256_loadu_pd(acc->s2 + 4 * h);
        acc3[h] = _mm256_loadu_pd(acc->s3 + 4 * h);
    }
    double buf[HL_TM_CHUNK + HL_TM_LANES];
    size_t have = (size_t)L->ncarry;
    memcpy(buf, L->carry, sizeof L->carry);
    const size_t full = a->n / HL_TM_LANES * HL_TM_LANES; /* points in whole blocks of 8 */
    for (size_t i0 = 0; i0 < a->n; i0 += HL_TM_CHUNK) {
        const size_t need = a->n - i0 < HL_TM_CHUNK ? a->n - i0 : HL_TM_CHUNK;
        have = ydraw(a->zig, &lo, &hi, buf, have, need);
        size_t b = 0;
        for (; b < need && i0 + b + HL_TM_LANES <= full; b += HL_TM_LANES) {
            for (int h = 0; h < 2; h++) {
                const size_t i = i0 + b + 4 * (size_t)h;
                const __m256d g = _mm256_loadu_pd(buf + b + 4 * h);
                const __m256d r = _mm256_sub_pd(_mm256_loadu_pd(a->x + i), vmu);
                const __m256d rr = _mm256_mul_pd(r, r);
                const __m256d q = _mm256_add_pd(vnt, _mm256_mul_pd(rr, vr2));
                const __m256d w = _mm256_div_pd(_mm256_mul_pd(two, g), q);
                if (a->w_out != NULL) {
                    _mm256_storeu_pd(a->w_out + i, w);
                }
                acc1[h] = _mm256_add_pd(acc1[h], w);
                acc2[h] = _mm256_add_pd(acc2[h], _mm256_mul_pd(rr, w));
                acc3[h] = _mm256_add_pd(acc3[h], _mm256_mul_pd(r, w));
            }
        }
        if (b < need) {
            /* the last n mod 8 points: the scalar code's operations, lane by lane */
            for (int h = 0; h < 2; h++) {
                _mm256_storeu_pd(acc->s1 + 4 * h, acc1[h]);
                _mm256_storeu_pd(acc->s2 + 4 * h, acc2[h]);
                _mm256_storeu_pd(acc->s3 + 4 * h, acc3[h]);
            }
            for (; b < need; b++) {
                hl_tm_add_point(a, acc, i0 + b, buf[b]);
            }
            for (int h = 0; h < 2; h++) {
                acc1[h] = _mm256_loadu_pd(acc->s1 + 4 * h);
                acc2[h] = _mm256_loadu_pd(acc->s2 + 4 * h);
                acc3[h] = _mm256_loadu_pd(acc->s3 + 4 * h);
            }
        }
        /* the draws past this chunk's points go first to the next chunk (or pass) */
        memmove(buf, buf + need, (have - need) * sizeof(double));
        have -= need;
    }
    L->ncarry = (uint64_t)have;
    memcpy(L->carry, buf, have * sizeof(double));
    ystore(&lo, L, 0);
    ystore(&hi, L, 4);
    for (int h = 0; h < 2; h++) {
        _mm256_storeu_pd(acc->s1 + 4 * h, acc1[h]);
        _mm256_storeu_pd(acc->s2 + 4 * h, acc2[h]);
        _mm256_storeu_pd(acc->s3 + 4 * h, acc3[h]);
    }
}
