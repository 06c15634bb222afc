/* The AVX-512 julia kernel (float64, exact): 8 pixels per vector, JL512_NV vectors in flight
 * per thread to hide the latency of one step.
 *
 * Each vector holds a group of 8 consecutive pixels (neighbours on a grid row, so their escape
 * counts are close: on the benchmark's zoom a group's slowest pixel takes 9 % more steps than
 * its average) from the moment they are loaded until the last of them has finished. Then the 8
 * results go out with one vector store and the next 8 pixels come in with one vector load.
 * (The previous kernel refilled single lanes as they finished, with a scatter of the results and
 * a per-lane refill every batch; that cost more than the lanes this kernel leaves idle.)
 *
 * Steps run in batches without branches on the lanes: a lane whose |z|^2
 * reaches the band's lower edge (or is NaN) freezes: the ordered compare `|z|^2 < lo` is directly
 * the new active mask, and the masked adds that finish the step keep a frozen lane's z_k and count
 * k, so the step needs no separate capture of |z_k|^2 (finish() recomputes it from z_k with the
 * same operations). Lanes that outlive itermax inside a batch keep iterating harmlessly and are
 * reported as itermax.
 *
 * A finished group waits for its batch's end, and its vector idles until then. A batch is at
 * most JL512_BATCH tested steps, and ends early once JL512_IDLE vectors idle (JL512_IDLE_MANDEL
 * of mandelbrot's 6). The loop tests the idle count of the step before the last: a branch on
 * the last step's compares would resolve late, and its misprediction would throw away the
 * steps fetched past it. On the zoom (docs/julia.md, 2026-11-23) this took the steps run per
 * step needed from 1.31 (fixed batches of 8 tested steps) to 1.22 and the batches from 677k to
 * 493k (simulated), and one thread from 156-160 to 145-147 ms. Ending on the last step's count
 * instead gained 3-6 ms of those 10-14. Giving each vector a spare group to take the moment its
 * group froze, branching out of the loop, cut the steps to 1.11 but ran 183-189 ms.
 *
 * A tested step is 3 multiplies (y*y, x*y and the fmsub of x*x - y*y), the fma of the filter's
 * |z|^2 = x*x + y*y, 3 adds (x*y + x*y, and the 2 masked adds of c) and 1 compare. On Zen 4 the
 * multiplies and the compare share two pipes and the adds have two of their own, each 512-bit
 * operation holding a pipe for two cycles. (|z|^2 used to be t + (y*y + y*y), two adds after the
 * fmsub, so the compare waited for y*y, the fmsub and an add; now it waits for y*y and the fma,
 * one operation fewer in its chain: the zoom went from 145.7-146.7 to 141.7-142.3 ms, mandelbrot
 * 3-7 % faster.) Where escape is absorbing (jl_escape_absorbing: every julia with threshold^2 -
 * threshold >= |c|, the document's included) only every second step is tested: an untested step
 * drops the compare and the fma, and a lane that escaped at it freezes at the next tested step,
 * where finish() tells the two apart. A stand-alone copy of the loop ran a median 6.3 cycles per
 * 8-lane step with every step tested and the FMA form of the imaginary part, 4.6 in pairs
 * (docs/julia.md, 2026-11-23).
 *
 * A lane gains one count per tested step it was active: the step's active mask goes into a
 * tally of 8 byte counters (the 8 vectors' tallies share one register, see zero_bytes), which
 * joins the vector counts only when the group finishes or after 255 - JL512_BATCH tested
 * steps. (Until 2026-11-23 the masks went to a ring in memory, summed at the group's end by a
 * loop of varying length: about a tenth of the kernel's samples; the tallies took the zoom
 * from 170-171 to 158-160 ms.) The masks lengthen the dependency chain (mul -> fma -> cmp ->
 * add), so julia runs 8 vectors in flight (with the earlier filter of two adds, 7 were as fast
 * and 6 a third slower); mandelbrot, which also holds c per vector, 6.
 *
 * The arithmetic is julia.h's: exact NumPy square (the fmsub where NumPy fuses; its fmadd
 * equals x*y + x*y, see run()) and the filtered |z| test with the exact NumPy |z| in the
 * band. The test of z_k shares its y*y (and x*x, inside the fmsub) with the step to
 * z_{k+1}. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "julia_internal.h"

#define JL512_NV 8 /* julia: x and y of 8 vectors in 16 of the 32 registers */
/* mandelbrot: each vector also holds its c, so 6 vectors fill 24 registers. Since the filter
 * became one FMA, 6 vectors beat 4 (2000 px, 1 thread: 55.0 -> 47.9 ms; 5 vectors 51.5, 7
 * vectors 49.9) */
#define JL512_NV_MANDEL 6
#define JL512_L 8
#define JL512_BATCH 16 /* tested steps between two looks at the groups, at most */
/* A batch ends early once this many vectors idle (all lanes frozen), judged a step late; see
 * the top of the file. */
#define JL512_IDLE 3
#define JL512_IDLE_MANDEL 3 /* of mandelbrot's 6 vectors */
/* The tallies are flushed when 255 - JL512_BATCH tested steps have passed: a byte never
 * overflows. */
_Static_assert(JL512_BATCH < 255, "a lane's tally must fit in its byte");

/* The tallies: byte 8v + l of one vector register counts the tested steps lane l of vector v
 * was active since the last flush. A tested step packs the 8 vectors' active masks into one
 * 64-bit word in a general register (bit 8v + l), and vpmovm2b spreads that word into 64
 * bytes of 0 or -1 to subtract: two vector operations a step. The word also tells which
 * vectors idle (a zero byte, zero_bytes). The tallies go into the vector counts only at a
 * group's end and when 255 - JL512_BATCH tested steps have passed. */

/* Bit 7 of each byte of w that is zero, the other bits clear: adding 0x7F to the low 7 bits
 * of a byte carries into bit 7 unless they are all zero, and the byte's own bit 7 is or-ed in,
 * so no carry crosses into the next byte. */
static inline uint64_t zero_bytes(uint64_t w) {
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Fu;
    return ~(((w & low7) + low7) | w | low7);
}

/* A finished group whose results need more than a vector store (pixels in the band, smooth
 * or float32 values, pictures): kept until the batch loop hands it to store_pending(). */
typedef struct pending {
    uint64_t c[JL512_L]; /* counts */
    double nn[JL512_L];  /* |z_k|^2 of the escaped lanes (smooth values) */
    size_t base;
    uint8_t live, band;
} pending;

/* Pending groups the batch loop collects before it stops to store them: room for one batch's
 * finishes (at most JL512_NV) after the loop's check. */
#define JL512_PENDING (4 * JL512_NV)

/* The groups in flight: arithmetic state (kept in registers after unrolling) and where each
 * group's pixels come from and go. */
typedef struct state {
    __m512d x[JL512_NV], y[JL512_NV], cx[JL512_NV], cy[JL512_NV];
    __mmask8 live[JL512_NV];   /* lane holds a pixel */
    __mmask8 active[JL512_NV]; /* lane holds a pixel and is not frozen */
    size_t base[JL512_NV];     /* pixel index of lane 0; lane l holds pixel base + l */
    /* picture index of lane 0 when the group lies in one grid row (lane l then goes to
     * pic[v] - l nx: rows of the picture are columns of the grid), else SIZE_MAX */
    size_t pic[JL512_NV];
    uint64_t steps[JL512_NV]; /* steps the group has taken: the count of its active lanes */
    /* lane v: vector v's tested steps passed since the last flush, a byte per lane */
    __m512i tallies;
    unsigned since_flush;       /* tested steps since the last flush */
    size_t next, end, row, col; /* next pixel to load and its grid position */
} state;

/* What the batch loop writes with variable indices, kept apart from `state` so the compiler
 * can keep the state's vectors in registers: the counts and the pending groups. */
typedef struct book {
    __m512i cnt[JL512_NV]; /* counts of the lanes, up to their tallies */
    pending wait[JL512_PENDING];
    unsigned n_wait;
} book;

/* Adds vector v's tallies to its counts. */
static inline __attribute__((always_inline)) void add_counts(state *s, book *bk, int v) {
    const __m512i lane = _mm512_permutexvar_epi64(_mm512_set1_epi64(v), s->tallies);
    bk->cnt[v] = _mm512_add_epi64(bk->cnt[v], _mm512_cvtepu8_epi64(_mm512_castsi512_si128(lane)));
    s->tallies = _mm512_maskz_mov_epi64((__mmask8) ~(1u << v), s->tallies);
}

/* One exact step z <- z*z + c on the lanes of m. */
static inline __attribute__((always_inline)) void step_lanes(state *s, int v, __mmask8 m,
                                                             __m512d c_re, __m512d c_im) {
    const __m512d x = s->x[v], y = s->y[v];
    const __m512d y2 = _mm512_mul_pd(y, y), xy = _mm512_mul_pd(x, y);
    s->x[v] = _mm512_mask_add_pd(x, m, _mm512_fmsub_pd(x, x, y2), c_re);
    s->y[v] = _mm512_mask_add_pd(y, m, _mm512_add_pd(xy, xy), c_im);
}

/* Loads the next (up to) 8 pixels into vector v, advanced to z_1; with no pixel left the
 * vector dies. */
static inline __attribute__((always_inline)) void
load_group(const jl_job *job, state *s, book *bk, int v, const bool mandel, const bool pairs) {
    const size_t k = s->end - s->next < JL512_L ? s->end - s->next : JL512_L;
    const __mmask8 m = (__mmask8)((1u << k) - 1u);
    s->live[v] = s->active[v] = m;
    if (k == 0) {
        return;
    }
    __m512d a, b;
    s->pic[v] = SIZE_MAX;
    if (job->source == JL_SRC_GRID && s->col + k <= job->ny) {
        /* The common case: k consecutive y values of one row. */
        s->pic[v] = (job->ny - 1 - s->col) * job->nx + s->row;
        b = _mm512_maskz_loadu_pd(m, job->ys + s->col);
        a = _mm512_set1_pd(job->xs[s->row]);
        s->col += k;
        if (s->col == job->ny) {
            s->col = 0;
            s->row++;
        }
    } else if (job->source == JL_SRC_POINTS) {
        /* interleaved (re, im) pairs: the even doubles of the 16 are the re parts */
        const __mmask8 m_lo = (__mmask8)(k >= 4 ? 0xFFu : (1u << (2 * k)) - 1u);
        const __mmask8 m_hi = (__mmask8)(k <= 4 ? 0u : (1u << (2 * (k - 4))) - 1u);
        const __m512d lo = _mm512_maskz_loadu_pd(m_lo, job->pts + 2 * s->next);
        const __m512d hi = _mm512_maskz_loadu_pd(m_hi, job->pts + 2 * s->next + 8);
        a = _mm512_permutex2var_pd(lo, _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0), hi);
        b = _mm512_permutex2var_pd(lo, _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1), hi);
    } else {
        /* a group across the end of a grid row */
        double la[JL512_L] = {0}, lb[JL512_L] = {0};
        for (size_t l = 0; l < k; l++) {
            la[l] = job->xs[s->row];
            lb[l] = job->ys[s->col];
            if (++s->col == job->ny) {
                s->col = 0;
                s->row++;
            }
        }
        a = _mm512_loadu_pd(la);
        b = _mm512_loadu_pd(lb);
    }
    if (mandel) {
        s->cx[v] = a;
        s->cy[v] = b;
        s->x[v] = s->y[v] = _mm512_setzero_pd();
    } else {
        s->x[v] = a;
        s->y[v] = b;
    }
    /* plain: the step to z_1 is counted; pairs: cnt counts the tested steps passed */
    bk->cnt[v] = pairs ? _mm512_setzero_si512() : _mm512_maskz_mov_epi64(m, _mm512_set1_epi64(1));
    step_lanes(s, v, m, mandel ? s->cx[v] : _mm512_set1_pd(job->c_re),
               mandel ? s->cy[v] : _mm512_set1_pd(job->c_im));
    s->base[v] = s->next;
    s->next += k;
    s->steps[v] = 1;
    s->tallies = _mm512_maskz_mov_epi64((__mmask8) ~(1u << v), s->tallies);
}

/* Stores the pending groups' results: pixels in the band by the scalar kernel, the others
 * through jl_store (or the picture's level table). Kept out of the batch loop: a call there
 * would make the compiler keep every vector's state in memory around it. Returns false when
 * cancelled. */
static __attribute__((noinline)) bool store_pending(const jl_job *job, book *bk, unsigned worker) {
    bool ok = true;
    for (unsigned i = 0; i < bk->n_wait; i++) {
        const pending *w = &bk->wait[i];
        for (unsigned bits = w->live; bits != 0; bits &= bits - 1) {
            const int l = __builtin_ctz(bits);
            const size_t p = w->base + (size_t)l;
            if ((w->band >> l) & 1u) {
                ok = jl_pixel_scalar(job, p, worker) == HL_OK && ok;
            } else if (job->kind == HL_JULIA_PICTURE && job->lut8 != NULL) {
                ((uint8_t *)job->out)[jl_picture_index(job, p)] = job->lut8[w->c[l]];
            } else {
                jl_store(job, p, (uint32_t)w->c[l], w->nn[l]);
            }
        }
    }
    bk->n_wait = 0;
    return ok;
}

/* Stores the results of vector v's group once all its lanes are done (frozen, or past
 * itermax), then loads the next group.
 *
 * Plain steps: a frozen lane kept the count k and z_k of the step that froze it; with |z_k|^2
 * at or above the band it escaped at k - 1.
 *
 * Pairs: a frozen lane holds z_f, f = 2 * (tests passed) + 2, the first tested z whose |z|^2
 * reached the band; z_{f-2} passed, and z_{f-1} was not tested. By absorption the escape (if
 * any) is z_{f-1} or z_f. z_{f-1} escaped when |z_f - c|^2 (= |z_{f-1}|^4 within
 * 8 eps (|z_{f-1}|^2 + |c|) on |z_f - c|, see jl_escape_absorbing, and 2 roundings) is at or
 * above t4hi, and did not when it is below t4lo: both edges are 2^-36 from threshold^4,
 * far beyond these errors and the few ulp of NumPy's |z|. Otherwise z_f decides as above.
 *
 * Inside a band (or NaN, from non-finite points), and for smooth values where |z_k|^2 is
 * infinite, the pixel is recomputed by the scalar kernel, whose arithmetic is the same;
 * except where the count is itermax whichever way the band goes. */
static inline __attribute__((always_inline)) void
finish(const jl_job *job, state *s, book *bk, int v, const bool mandel, const bool pairs) {
    add_counts(s, bk, v);
    const __mmask8 live = s->live[v];
    const __m512i itm = _mm512_set1_epi64((long long)job->itermax);
    const __m512i one = _mm512_set1_epi64(1);
    /* |z_k|^2 of each frozen lane as the scalar kernel forms it (t + 2*y*y, the value the
     * smooth kinds take the log of): the loop's filter value differs by a few ulp, far inside
     * the band, so a lane it froze is either clearly escaped here or goes to the scalar
     * kernel */
    const __m512d x = s->x[v], y = s->y[v];
    const __m512d y2 = _mm512_mul_pd(y, y);
    const __m512d sn = _mm512_add_pd(_mm512_fmsub_pd(x, x, y2), _mm512_add_pd(y2, y2));
    const __m512d hi = _mm512_set1_pd(job->hi);
    __m512i count;
    __mmask8 band;
    if (pairs) {
        const __mmask8 frozen = (__mmask8)(live & ~s->active[v]);
        const __m512i f =
            _mm512_add_epi64(_mm512_add_epi64(bk->cnt[v], bk->cnt[v]), _mm512_set1_epi64(2));
        const __m512d wr = _mm512_sub_pd(x, _mm512_set1_pd(job->c_re));
        const __m512d wi = _mm512_sub_pd(y, _mm512_set1_pd(job->c_im));
        const __m512d m = _mm512_fmadd_pd(wr, wr, _mm512_mul_pd(wi, wi));
        const __mmask8 before =
            _mm512_mask_cmp_pd_mask(frozen, m, _mm512_set1_pd(job->t4hi), _CMP_GE_OQ);
        const __mmask8 not_before =
            _mm512_mask_cmp_pd_mask(frozen, m, _mm512_set1_pd(job->t4lo), _CMP_LT_OQ);
        const __mmask8 at_f = _mm512_mask_cmp_pd_mask(not_before, sn, hi, _CMP_GE_OQ);
        count = _mm512_mask_sub_epi64(itm, before, f, _mm512_set1_epi64(2));
        count = _mm512_mask_sub_epi64(count, at_f, f, one);
        band = (__mmask8)(frozen & ~before & ~at_f);
        /* A frozen lane's z_f is at most the group's step: while that is at most itermax,
         * f - 1 < itermax and nothing below concerns it (most groups: the branch is taken
         * rarely and predicted well). */
        if (s->steps[v] > job->itermax) {
            count = _mm512_min_epu64(count, itm);
            /* itermax whatever the undecided steps: f - 2 >= itermax, or f - 1 >= itermax
             * with z_{f-1} known not to have escaped */
            const __mmask8 settled =
                (__mmask8)(_mm512_cmpge_epu64_mask(f, _mm512_add_epi64(itm, _mm512_set1_epi64(2))) |
                           _mm512_mask_cmpge_epu64_mask(not_before, f, _mm512_add_epi64(itm, one)));
            band = (__mmask8)(band & ~settled);
        }
    } else {
        const __mmask8 over = _mm512_mask_cmpgt_epi64_mask(live, bk->cnt[v], itm);
        const __mmask8 frozen = (__mmask8)(live & ~over);
        __mmask8 esc = _mm512_mask_cmp_pd_mask(frozen, sn, hi, _CMP_GE_OQ);
        if (jl_kind_smooth(job->kind)) {
            /* an escape whose |z|^2 overflowed: the scalar kernel computes its log|z| from z
             * (thresholds above about 1.2e77; see jl_escape_log_modulus) */
            esc &= (__mmask8)~_mm512_mask_cmp_pd_mask(esc, sn, _mm512_set1_pd(JL_INF), _CMP_EQ_OQ);
        }
        band = (__mmask8)(frozen & ~esc);
        /* count = cnt - 1 for escaped lanes, itermax for the others */
        count = _mm512_mask_sub_epi64(itm, esc, bk->cnt[v], one);
    }
    const size_t base = s->base[v];
    if (band == 0 && job->kind == HL_JULIA_COUNTS) {
        const __m256i c32 = _mm512_cvtepi64_epi32(count);
        uint32_t *dst = (uint32_t *)job->out + base;
        if (live == 0xFF) {
            _mm256_storeu_si256((__m256i *)(void *)dst, c32);
        } else {
            _mm256_mask_storeu_epi32(dst, live, c32);
        }
    } else if (band == 0 && job->kind == HL_JULIA_NORMALISED) {
        /* jl_normalise in vector form (exact conversions, one correctly rounded division) */
        const __m512i itmin = _mm512_set1_epi64((long long)job->itermin);
        const __m512d num =
            _mm512_cvtepi64_pd(_mm512_sub_epi64(_mm512_max_epu64(count, itmin), itmin));
        const __m512d val = _mm512_div_pd(num, _mm512_set1_pd(job->norm_den));
        double *dst = (double *)job->out + base;
        if (live == 0xFF) {
            _mm512_storeu_pd(dst, val);
        } else {
            _mm512_mask_storeu_pd(dst, live, val);
        }
    } else if (band == 0 && job->kind == HL_JULIA_PICTURE && job->lut8 != NULL &&
               s->pic[v] != SIZE_MAX) {
        /* the CLI's 8-bit picture: lane l's pixel lands nx bytes before lane l - 1's */
        uint64_t c[JL512_L];
        _mm512_storeu_si512((void *)c, count);
        uint8_t *dst = (uint8_t *)job->out + s->pic[v];
        for (unsigned bits = live; bits != 0; bits &= bits - 1) {
            const unsigned l = (unsigned)__builtin_ctz(bits);
            dst[-(ptrdiff_t)(l * job->nx)] = job->lut8[c[l]];
        }
    } else {
        pending *w = &bk->wait[bk->n_wait++];
        _mm512_storeu_si512((void *)w->c, count);
        _mm512_storeu_pd(w->nn, sn);
        w->base = base;
        w->live = live;
        w->band = band;
    }
    load_group(job, s, bk, v, mandel, pairs);
}

static inline __attribute__((always_inline)) hl_status run(const jl_job *job, size_t begin,
                                                           size_t end, unsigned worker,
                                                           const bool mandel, const bool pairs) {
    state s;
    s.next = begin;
    s.end = end;
    s.since_flush = 0;
    s.tallies = _mm512_setzero_si512();
    s.row = job->source == JL_SRC_GRID ? begin / job->ny : 0;
    s.col = job->source == JL_SRC_GRID ? begin % job->ny : 0;
    const __m512d cr = _mm512_set1_pd(job->c_re), ci = _mm512_set1_pd(job->c_im);
    const __m512d lo = _mm512_set1_pd(job->lo);
    const int nv = mandel ? JL512_NV_MANDEL : JL512_NV;
    book bk;
    bk.n_wait = 0;
    for (int v = 0; v < JL512_NV; v++) {
        s.x[v] = s.y[v] = s.cx[v] = s.cy[v] = _mm512_setzero_pd();
        bk.cnt[v] = _mm512_setzero_si512();
        s.live[v] = s.active[v] = 0;
        s.base[v] = 0;
        s.pic[v] = SIZE_MAX;
        s.steps[v] = 0;
        if (v < nv) {
            load_group(job, &s, &bk, v, mandel, pairs);
        }
    }
    for (;;) {
        /* Batches until the pending groups may fill up, every vector has died, or it is time
         * to look at the cancellation flag: no calls in here (see store_pending). */
        __mmask8 any = 0;
        const int idle_limit = mandel ? JL512_IDLE_MANDEL : JL512_IDLE;
        for (unsigned polled = 0; polled < JL_POLL_STEPS;) {
            /* pairs: an untested step, then a tested one. idle: bit 7 of byte v set when
             * vector v's lanes were all frozen (or it holds no pixels) after the last step
             * (the bytes of mandelbrot's missing vectors 6-7 are never idle); idle_before: the same
             * after the step before, which ends the batch (see the top of the file). */
            uint64_t idle = 0, idle_before = 0;
            int it = 0;
            while (it < JL512_BATCH && __builtin_popcountll(idle_before) < idle_limit) {
                idle_before = idle;
                uint64_t w = 0;
                if (pairs) {
#pragma GCC unroll 8
                    for (int v = 0; v < nv; v++) {
                        step_lanes(&s, v, s.active[v], cr, ci); /* untested */
                    }
                }
#pragma GCC unroll 8
                for (int v = 0; v < nv; v++) {
                    /* t = x*x - y*y is NumPy's real part before + c. The filter's |z|^2 is
                     * fma(x, x, y*y), within 2 ulp (julia_internal.h's band allows 3); it
                     * does not wait for t. NumPy's imaginary part fma(x, y, p) with p = x*y
                     * is exactly p + p: the fused sum is 2p + e rounded once, e = x*y - p at
                     * most half an ulp of p, which is under half the gap from 2p to either
                     * neighbour (the gap below 2p halves when 2p is a power of two, but then
                     * e, pointing down, is at most a quarter ulp of p), so it rounds back to
                     * 2p (core/tests/test_julia.c checks it). That leaves the multiply units
                     * 4 operations and the compare, the add units 3. A lane stays active
                     * while |z|^2 < lo (ordered: NaN and infinity freeze it); a frozen lane
                     * keeps its z_k and count k, from which finish() decides. */
                    const __m512d x = s.x[v], y = s.y[v];
                    const __m512d y2 = _mm512_mul_pd(y, y);
                    const __m512d xy = _mm512_mul_pd(x, y);
                    const __m512d t = _mm512_fmsub_pd(x, x, y2);
                    const __m512d n = _mm512_fmadd_pd(x, x, y2);
                    const __mmask8 act = _mm512_mask_cmp_pd_mask(s.active[v], n, lo, _CMP_LT_OQ);
                    s.active[v] = act;
                    w |= (uint64_t)act << (8 * v);
                    const __m512d c_re = mandel ? s.cx[v] : cr;
                    const __m512d c_im = mandel ? s.cy[v] : ci;
                    s.x[v] = _mm512_mask_add_pd(x, act, t, c_re);
                    s.y[v] = _mm512_mask_add_pd(y, act, _mm512_add_pd(xy, xy), c_im);
                }
                /* byte 8v + l of the tallies is lane l of vector v: vpmovm2b turns the
                 * step's 64 mask bits into 64 bytes of 0 or -1. (A 2 KB table of spread
                 * words, loaded per vector and gathered into one register, was 1.2 % slower
                 * on the zoom: 145 against 143 ms.) */
                s.tallies = _mm512_sub_epi8(s.tallies, _mm512_movm_epi8((__mmask64)w));
                idle = zero_bytes(mandel ? w | (~0ull << (8 * JL512_NV_MANDEL)) : w);
                it++;
            }
            const unsigned batch_steps = pairs ? 2u * (unsigned)it : (unsigned)it;
            polled += batch_steps;
            s.since_flush += (unsigned)it;
            /* A group is done when no lane is active, or when its active lanes have passed
             * itermax (they all have the group's step count). Only then are its counts
             * needed. */
            any = 0;
#pragma GCC unroll 8
            for (int v = 0; v < nv; v++) {
                s.steps[v] += batch_steps;
                if (s.live[v] != 0 && (s.active[v] == 0 || s.steps[v] > job->itermax)) {
                    finish(job, &s, &bk, v, mandel, pairs);
                }
                any |= s.live[v];
            }
            if (s.since_flush > 255 - JL512_BATCH) {
#pragma GCC unroll 8
                for (int v = 0; v < nv; v++) {
                    add_counts(&s, &bk, v);
                }
                s.since_flush = 0;
            }
            if (any == 0 || bk.n_wait > JL512_PENDING - JL512_NV) {
                break;
            }
        }
        if (bk.n_wait != 0 && !store_pending(job, &bk, worker)) {
            return HL_ECANCELLED;
        }
        if (any == 0) {
            return HL_OK;
        }
        if (jl_should_stop(job->ctl, worker)) {
            return HL_ECANCELLED;
        }
    }
}

hl_status jl_kernel_avx512(const jl_job *job, size_t begin, size_t end, unsigned worker) {
    if (job->mandelbrot) {
        return run(job, begin, end, worker, true, false);
    }
    /* Testing every second step needs absorption (see finish()); smooth values need |z|^2
     * of the very step that escaped, which the untested steps do not keep. */
    if (job->absorbing && !jl_kind_smooth(job->kind)) {
        return run(job, begin, end, worker, false, true);
    }
    return run(job, begin, end, worker, false, false);
}
