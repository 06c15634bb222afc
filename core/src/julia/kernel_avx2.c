/* The AVX2 julia kernel (float64, exact): 4 pixels per vector, JL256_NV vectors in flight.
 * The scheme of kernel_avx512.c (branch-free batches of steps, frozen lanes settled after the
 * batch, finished lanes refilled at once and advanced to z_1) with AVX2's tools: lane masks
 * are all-ones vectors (blends instead of masked operations) and new pixels are gathered in
 * scalar code and blended in. Same arithmetic, so the same counts bit for bit. */
#include <immintrin.h>

#include "julia_internal.h"

#define JL256_NV 4
#define JL256_L 4
#define JL256_BATCH 16

/* NumPy's complex absolute (loops_unary_complex, AVX2+FMA3 build) on 4 lanes. */
static inline __m256d numpy_abs4(__m256d re, __m256d im) {
    const __m256d inf = _mm256_set1_pd(JL_INF), nan = _mm256_set1_pd(JL_NAN);
    const __m256d sign = _mm256_set1_pd(-0.0);
    re = _mm256_andnot_pd(sign, re);
    im = _mm256_andnot_pd(sign, im);
    const __m256d re_inf = _mm256_cmp_pd(re, inf, _CMP_EQ_OQ);
    const __m256d im_inf = _mm256_cmp_pd(im, inf, _CMP_EQ_OQ);
    im = _mm256_blendv_pd(im, inf, re_inf);
    re = _mm256_blendv_pd(re, inf, im_inf);
    const __m256d re_ok = _mm256_cmp_pd(re, re, _CMP_ORD_Q);
    const __m256d im_ok = _mm256_cmp_pd(im, im, _CMP_ORD_Q);
    im = _mm256_blendv_pd(nan, im, re_ok);
    re = _mm256_blendv_pd(nan, re, im_ok);
    const __m256d larger = _mm256_max_pd(re, im);
    const __m256d smaller = _mm256_min_pd(im, re);
    const __m256d zero = _mm256_cmp_pd(larger, _mm256_setzero_pd(), _CMP_EQ_OQ);
    const __m256d sinf = _mm256_cmp_pd(smaller, inf, _CMP_EQ_OQ);
    const __m256d ratio =
        _mm256_andnot_pd(_mm256_or_pd(zero, sinf), _mm256_div_pd(smaller, larger));
    const __m256d h = _mm256_sqrt_pd(_mm256_fmadd_pd(ratio, ratio, _mm256_set1_pd(1.0)));
    return _mm256_mul_pd(h, larger);
}

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
    unsigned live[JL256_NV]; /* 4-bit: holds a pixel */
    size_t idx[JL256_NV][JL256_L];
    size_t next, end;
    bool cancelled;
} state;

/* Gives the lanes of `m` the next pixels, advanced to z_1; lanes with no pixel left die. */
static inline __attribute__((always_inline)) void refill(const jl_job *job, state *s, int v,
                                                         unsigned m, const bool mandel) {
    double la[JL256_L], lb[JL256_L];
    unsigned fill = 0;
    _mm256_storeu_pd(la, mandel ? s->cx[v] : s->x[v]);
    _mm256_storeu_pd(lb, mandel ? s->cy[v] : s->y[v]);
    for (int l = 0; l < JL256_L; l++) {
        if (!((m >> l) & 1u) || s->next == s->end) {
            continue;
        }
        const size_t p = s->next++;
        if (job->source == JL_SRC_GRID) {
            la[l] = job->xs[p / job->ny];
            lb[l] = job->ys[p % job->ny];
        } else {
            la[l] = job->pts[2 * p];
            lb[l] = job->pts[2 * p + 1];
        }
        s->idx[v][l] = p;
        fill |= 1u << l;
    }
    s->live[v] = (s->live[v] & ~m) | fill;
    const __m256d fm = lane_mask(fill);
    s->active[v] = _mm256_or_pd(_mm256_andnot_pd(lane_mask(m), s->active[v]), fm);
    if (fill == 0) {
        return;
    }
    const __m256d a = _mm256_loadu_pd(la), b = _mm256_loadu_pd(lb);
    __m256d x, y, c_re, c_im;
    if (mandel) {
        s->cx[v] = a;
        s->cy[v] = b;
        x = _mm256_andnot_pd(fm, s->x[v]);
        y = _mm256_andnot_pd(fm, s->y[v]);
        c_re = a;
        c_im = b;
    } else {
        x = a;
        y = b;
        c_re = _mm256_set1_pd(job->c_re);
        c_im = _mm256_set1_pd(job->c_im);
    }
    /* z_1 = z_0^2 + c on the new lanes, count 1 */
    const __m256d y2 = _mm256_mul_pd(y, y), xy = _mm256_mul_pd(x, y);
    const __m256d x1 = _mm256_add_pd(_mm256_fmsub_pd(x, x, y2), c_re);
    const __m256d y1 = _mm256_add_pd(_mm256_fmadd_pd(x, y, xy), c_im);
    s->x[v] = _mm256_blendv_pd(s->x[v], x1, fm);
    s->y[v] = _mm256_blendv_pd(s->y[v], y1, fm);
    s->cnt[v] = _mm256_castpd_si256(_mm256_blendv_pd(
        _mm256_castsi256_pd(s->cnt[v]), _mm256_castsi256_pd(_mm256_set1_epi64x(1)), fm));
}

/* See kernel_avx512.c's settle. */
static inline __attribute__((always_inline)) void
settle(const jl_job *job, state *s, int v, unsigned over, unsigned worker, const bool mandel) {
    const unsigned inactive = (unsigned)_mm256_movemask_pd(s->active[v]) ^ 0xFu;
    const unsigned frozen = s->live[v] & inactive & ~over;
    const unsigned esc = frozen & (unsigned)_mm256_movemask_pd(
                                      _mm256_cmp_pd(s->sn[v], _mm256_set1_pd(job->hi), _CMP_GE_OQ));
    const unsigned band = frozen & ~esc;
    const unsigned done = frozen | over;
    if (done == 0) {
        return;
    }
    uint64_t cnt[JL256_L];
    double nn[JL256_L];
    _mm256_storeu_si256((__m256i *)(void *)cnt, s->cnt[v]);
    _mm256_storeu_pd(nn, s->sn[v]);
    for (unsigned bits = done; bits != 0; bits &= bits - 1) {
        const int l = __builtin_ctz(bits);
        if ((band >> l) & 1u) {
            if (jl_pixel_scalar(job, s->idx[v][l], worker) != HL_OK) {
                s->cancelled = true;
            }
        } else {
            const bool e = (esc >> l) & 1u;
            jl_store(job, s->idx[v][l], e ? (uint32_t)(cnt[l] - 1) : job->itermax, nn[l]);
        }
    }
    refill(job, s, v, done, mandel);
}

static inline __attribute__((always_inline)) hl_status run(const jl_job *job, size_t begin,
                                                           size_t end, unsigned worker,
                                                           const bool mandel) {
    state s;
    s.next = begin;
    s.end = end;
    s.cancelled = false;
    const __m256d cr = _mm256_set1_pd(job->c_re), ci = _mm256_set1_pd(job->c_im);
    const __m256d lo = _mm256_set1_pd(job->lo);
    const __m256i itm = _mm256_set1_epi64x((long long)job->itermax);
    for (int v = 0; v < JL256_NV; v++) {
        s.x[v] = s.y[v] = s.cx[v] = s.cy[v] = s.sn[v] = s.active[v] = _mm256_setzero_pd();
        s.cnt[v] = _mm256_setzero_si256();
        s.live[v] = 0;
        refill(job, &s, v, 0xFu, mandel);
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
                s.y[v] = _mm256_add_pd(_mm256_fmadd_pd(x, y, xy), c_im);
            }
        }
        unsigned any = 0;
#pragma GCC unroll 4
        for (int v = 0; v < JL256_NV; v++) {
            const unsigned over = s.live[v] & (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(
                                                  _mm256_cmpgt_epi64(s.cnt[v], itm)));
            const unsigned inactive = (unsigned)_mm256_movemask_pd(s.active[v]) ^ 0xFu;
            if ((s.live[v] & inactive) != 0 || over != 0) {
                settle(job, &s, v, over, worker, mandel);
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
