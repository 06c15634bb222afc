/* The AVX2 julia kernel (float64, exact): 4 pixels per vector, JL256_NV vectors in flight.
 * As in kernel_avx512.c, a vector holds a group of 4 consecutive pixels until all are done,
 * then stores their results and loads the next 4 (on the benchmark's zoom a group of 4 wastes
 * under 5 % of its lane steps on waiting for its slowest pixel). Branch-free batches of steps;
 * with AVX2's tools: lane masks are all-ones vectors, a lane that reaches the band keeps
 * iterating but stops counting, and its |z|^2 of that step is kept (sn) for the exact test.
 * Same arithmetic as the other kernels, so the same counts bit for bit (NumPy's imaginary
 * part fma(x, y, x*y) as x*y + x*y, the same value: see kernel_avx512.c; an add instead of an
 * FMA, which on AMD's separate add pipes took 282-289 ms instead of 321-350 ms on the zoom,
 * one thread, 2026-11-23). */
#include <immintrin.h>
#include <stdint.h>

#include "julia_internal.h"

#define JL256_NV 4
#define JL256_L 4
#define JL256_BATCH 16

/* The all-ones lanes of a 4-bit lane set. */
static inline __m256d lane_mask(unsigned m) {
    return _mm256_castsi256_pd(
        _mm256_set_epi64x(-(long long)((m >> 3) & 1u), -(long long)((m >> 2) & 1u),
                          -(long long)((m >> 1) & 1u), -(long long)(m & 1u)));
}

typedef struct state {
    __m256d x[JL256_NV], y[JL256_NV], cx[JL256_NV], cy[JL256_NV], sn[JL256_NV];
    __m256d active[JL256_NV]; /* all-ones: holds a pixel and not frozen */
    __m256i cnt[JL256_NV];
    unsigned live[JL256_NV];    /* 4-bit: holds a pixel */
    size_t base[JL256_NV];      /* pixel index of lane 0; lane l holds pixel base + l */
    size_t pic[JL256_NV];       /* picture index of lane 0 when the group lies in one grid row */
    size_t next, end, row, col; /* next pixel to load and its grid position */
    bool cancelled;
} state;

/* Loads the next (up to) 4 pixels into vector v, advanced to z_1 with count 1; with no pixel
 * left the vector dies. */
static inline __attribute__((always_inline)) void load_group(const jl_job *job, state *s, int v,
                                                             const bool mandel) {
    const size_t k = s->end - s->next < JL256_L ? s->end - s->next : JL256_L;
    const unsigned m = (1u << k) - 1u;
    s->live[v] = m;
    s->active[v] = lane_mask(m);
    s->pic[v] = SIZE_MAX;
    if (k == 0) {
        return;
    }
    __m256d a, b;
    if (job->source == JL_SRC_GRID && s->col + k <= job->ny) {
        /* k consecutive y values of one row (ys has 16 values of padding: 4 can be read) */
        s->pic[v] = (job->ny - 1 - s->col) * job->nx + s->row;
        a = _mm256_set1_pd(job->xs[s->row]);
        b = _mm256_loadu_pd(job->ys + s->col);
        s->col += k;
        if (s->col == job->ny) {
            s->col = 0;
            s->row++;
        }
    } else {
        double la[JL256_L] = {0}, lb[JL256_L] = {0};
        for (size_t l = 0; l < k; l++) {
            if (job->source == JL_SRC_GRID) {
                la[l] = job->xs[s->row];
                lb[l] = job->ys[s->col];
                if (++s->col == job->ny) {
                    s->col = 0;
                    s->row++;
                }
            } else {
                la[l] = job->pts[2 * (s->next + l)];
                lb[l] = job->pts[2 * (s->next + l) + 1];
            }
        }
        a = _mm256_loadu_pd(la);
        b = _mm256_loadu_pd(lb);
    }
    __m256d x = a, y = b, c_re = _mm256_set1_pd(job->c_re), c_im = _mm256_set1_pd(job->c_im);
    if (mandel) {
        s->cx[v] = c_re = a;
        s->cy[v] = c_im = b;
        x = y = _mm256_setzero_pd();
    }
    /* z_1 = z_0^2 + c, count 1 */
    const __m256d y2 = _mm256_mul_pd(y, y), xy = _mm256_mul_pd(x, y);
    s->x[v] = _mm256_add_pd(_mm256_fmsub_pd(x, x, y2), c_re);
    s->y[v] = _mm256_add_pd(_mm256_add_pd(xy, xy), c_im);
    s->cnt[v] = _mm256_set1_epi64x(1);
    s->sn[v] = _mm256_setzero_pd();
    s->base[v] = s->next;
    s->next += k;
}

/* Stores the results of vector v's group once all its lanes are done (frozen, or past itermax:
 * `over`), then loads the next group. See kernel_avx512.c's finish(): band lanes, and smooth
 * escapes whose |z|^2 overflowed, go to the scalar kernel. */
static inline __attribute__((always_inline)) void
finish(const jl_job *job, state *s, int v, unsigned over, unsigned worker, const bool mandel) {
    const unsigned live = s->live[v];
    const unsigned frozen = live & ~over;
    unsigned esc = frozen & (unsigned)_mm256_movemask_pd(
                                _mm256_cmp_pd(s->sn[v], _mm256_set1_pd(job->hi), _CMP_GE_OQ));
    if (jl_kind_smooth(job->kind)) {
        /* an escape whose |z|^2 overflowed: the scalar kernel computes its log|z| from z */
        esc &= ~(unsigned)_mm256_movemask_pd(
            _mm256_cmp_pd(s->sn[v], _mm256_set1_pd(JL_INF), _CMP_EQ_OQ));
    }
    const unsigned band = frozen & ~esc;
    uint64_t cnt[JL256_L];
    double nn[JL256_L];
    _mm256_storeu_si256((__m256i *)(void *)cnt, s->cnt[v]);
    _mm256_storeu_pd(nn, s->sn[v]);
    const size_t base = s->base[v];
    for (unsigned bits = live; bits != 0; bits &= bits - 1) {
        const int l = __builtin_ctz(bits);
        const uint32_t count = (esc >> l) & 1u ? (uint32_t)(cnt[l] - 1) : job->itermax;
        if ((band >> l) & 1u) {
            if (jl_pixel_scalar(job, base + (size_t)l, worker) != HL_OK) {
                s->cancelled = true;
            }
        } else if (job->kind == HL_JULIA_NORMALISED && job->table != NULL) {
            ((double *)job->out)[base + (size_t)l] = job->table[count];
        } else if (job->kind == HL_JULIA_COUNTS) {
            ((uint32_t *)job->out)[base + (size_t)l] = count;
        } else if (job->kind == HL_JULIA_PICTURE && job->lut8 != NULL && s->pic[v] != SIZE_MAX) {
            ((uint8_t *)job->out)[s->pic[v] - (size_t)l * job->nx] = job->lut8[count];
        } else {
            jl_store(job, base + (size_t)l, count, nn[l]);
        }
    }
    load_group(job, s, v, mandel);
}

static inline __attribute__((always_inline)) hl_status run(const jl_job *job, size_t begin,
                                                           size_t end, unsigned worker,
                                                           const bool mandel) {
    state s;
    s.next = begin;
    s.end = end;
    s.cancelled = false;
    s.row = job->source == JL_SRC_GRID ? begin / job->ny : 0;
    s.col = job->source == JL_SRC_GRID ? begin % job->ny : 0;
    const __m256d cr = _mm256_set1_pd(job->c_re), ci = _mm256_set1_pd(job->c_im);
    const __m256d lo = _mm256_set1_pd(job->lo);
    const __m256i itm = _mm256_set1_epi64x((long long)job->itermax);
    for (int v = 0; v < JL256_NV; v++) {
        s.x[v] = s.y[v] = s.cx[v] = s.cy[v] = s.sn[v] = s.active[v] = _mm256_setzero_pd();
        s.cnt[v] = _mm256_setzero_si256();
        load_group(job, &s, v, mandel);
    }
    uint32_t budget = JL_POLL_STEPS / JL256_BATCH;
    for (;;) {
        for (int it = 0; it < JL256_BATCH; it++) {
#pragma GCC unroll 4
            for (int v = 0; v < JL256_NV; v++) {
                const __m256d x = s.x[v], y = s.y[v];
                const __m256d y2 = _mm256_mul_pd(y, y);
                const __m256d xy = _mm256_mul_pd(x, y);
                const __m256d t = _mm256_fmsub_pd(x, x, y2);
                const __m256d n = _mm256_add_pd(t, _mm256_add_pd(y2, y2));
                const __m256d cand = _mm256_and_pd(s.active[v], _mm256_cmp_pd(n, lo, _CMP_NLT_UQ));
                const __m256d act = _mm256_andnot_pd(cand, s.active[v]);
                s.active[v] = act;
                s.sn[v] = _mm256_blendv_pd(s.sn[v], n, cand);
                /* active lanes are -1 as integers: subtracting counts them */
                s.cnt[v] = _mm256_sub_epi64(s.cnt[v], _mm256_castpd_si256(act));
                const __m256d c_re = mandel ? s.cx[v] : cr;
                const __m256d c_im = mandel ? s.cy[v] : ci;
                s.x[v] = _mm256_add_pd(t, c_re);
                s.y[v] = _mm256_add_pd(_mm256_add_pd(xy, xy), c_im);
            }
        }
        unsigned any = 0;
#pragma GCC unroll 4
        for (int v = 0; v < JL256_NV; v++) {
            /* a group is done when none of its lanes is active or under itermax */
            const unsigned over = s.live[v] & (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(
                                                  _mm256_cmpgt_epi64(s.cnt[v], itm)));
            const unsigned still = (unsigned)_mm256_movemask_pd(s.active[v]) & ~over;
            if (s.live[v] != 0 && still == 0) {
                finish(job, &s, v, over, worker, mandel);
            }
            any |= s.live[v];
        }
        if (s.cancelled) {
            return HL_ECANCELLED;
        }
        if (any == 0) {
            return HL_OK;
        }
        if (--budget == 0) {
            budget = JL_POLL_STEPS / JL256_BATCH;
            if (jl_should_stop(job->ctl, worker)) {
                return HL_ECANCELLED;
            }
        }
    }
}

hl_status jl_kernel_avx2(const jl_job *job, size_t begin, size_t end, unsigned worker) {
    return job->mandelbrot ? run(job, begin, end, worker, true)
                           : run(job, begin, end, worker, false);
}
