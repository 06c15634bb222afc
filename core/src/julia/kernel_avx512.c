/* The AVX-512 julia kernel (float64, exact): 8 pixels per vector, JL512_NV vectors in flight
 * per thread to hide the ~20-cycle latency of one step.
 *
 * Steps run in batches of JL512_BATCH without branches: a lane whose |z|^2 reaches the band's
 * lower edge (or is NaN) freezes: the ordered compare `|z|^2 < lo` is directly the new active
 * mask, and the masked adds that finish the step keep a frozen lane's z_k and count k, so the
 * step needs no separate capture of |z_k|^2 (settle() recomputes it from z_k with the same
 * operations). After the batch the frozen lanes are settled together: the exact test decides,
 * finished pixels are stored and their lanes refilled at once with the next pixels
 * (mask-expand from the row's y values), already advanced to z_1, so no lane idles for long.
 * Lanes that outlive itermax inside a batch keep iterating harmlessly and are reported as
 * itermax at the settle.
 *
 * A step is 2 multiplies, 2 FMAs, 4 adds (2 masked) and 1 compare; the counts are brought up
 * to date once per batch from the stored active masks (a lane gains one per step it was
 * active). The masks lengthen the dependency chain (mul -> fma -> add -> add -> cmp -> add),
 * so julia runs 8 vectors in flight (mandelbrot, which also holds c per vector, 4).
 *
 * The arithmetic is julia.h's: exact NumPy square (fmsub/fmadd, one rounding each where
 * NumPy fuses) and the filtered |z| test with the exact NumPy |z| in the band. The test of
 * z_k shares its y*y (and x*x, inside the fmsub) with the step to z_{k+1}. */
#include <immintrin.h>
#include <string.h>

#include "julia_internal.h"

#define JL512_NV 8        /* julia: x, y, count of 8 vectors fit the 32 registers */
#define JL512_NV_MANDEL 4 /* mandelbrot: each vector also holds its c */
#define JL512_L 8
#define JL512_BATCH 16 /* the counts' bit sums in run() take 16 masks as two 64-bit words */
_Static_assert(JL512_BATCH == 16, "run() sums 16 step masks");

/* NumPy's complex absolute (loops_unary_complex, AVX-512 build) on 8 lanes. */
static inline __m512d numpy_abs8(__m512d re, __m512d im) {
    const __m512d inf = _mm512_set1_pd(JL_INF), nan = _mm512_set1_pd(JL_NAN);
    re = _mm512_abs_pd(re);
    im = _mm512_abs_pd(im);
    const __mmask8 re_inf = _mm512_cmp_pd_mask(re, inf, _CMP_EQ_OQ);
    const __mmask8 im_inf = _mm512_cmp_pd_mask(im, inf, _CMP_EQ_OQ);
    im = _mm512_mask_mov_pd(im, re_inf, inf);
    re = _mm512_mask_mov_pd(re, im_inf, inf);
    const __mmask8 re_ok = _mm512_cmp_pd_mask(re, re, _CMP_ORD_Q);
    const __mmask8 im_ok = _mm512_cmp_pd_mask(im, im, _CMP_ORD_Q);
    im = _mm512_mask_mov_pd(nan, re_ok, im);
    re = _mm512_mask_mov_pd(nan, im_ok, re);
    const __m512d larger = _mm512_max_pd(re, im);
    const __m512d smaller = _mm512_min_pd(im, re);
    const __mmask8 zero = _mm512_cmp_pd_mask(larger, _mm512_setzero_pd(), _CMP_EQ_OQ);
    const __mmask8 sinf = _mm512_cmp_pd_mask(smaller, inf, _CMP_EQ_OQ);
    const __m512d ratio = _mm512_maskz_div_pd((__mmask8) ~(zero | sinf), smaller, larger);
    const __m512d h = _mm512_sqrt_pd(_mm512_fmadd_pd(ratio, ratio, _mm512_set1_pd(1.0)));
    return _mm512_mul_pd(h, larger);
}

/* The lanes of all vectors: arithmetic state (kept in registers after unrolling) and the
 * bookkeeping of which pixel each lane holds. */
typedef struct state {
    __m512d x[JL512_NV], y[JL512_NV], cx[JL512_NV], cy[JL512_NV];
    __m512d sn[JL512_NV]; /* settle(): |z_k|^2 of the frozen lanes */
    __m512i cnt[JL512_NV];
    __mmask8 live[JL512_NV];    /* lane holds a pixel */
    __mmask8 active[JL512_NV];  /* lane holds a pixel and is not frozen */
    __m512i idx[JL512_NV];      /* pixel index of each lane */
    size_t next, end, row, col; /* next pixel to hand out and its grid position */
    bool cancelled;
} state;

/* One exact step z <- z*z + c on the lanes of m (count + 1). */
static inline __attribute__((always_inline)) void step_lanes(state *s, int v, __mmask8 m,
                                                             __m512d c_re, __m512d c_im) {
    const __m512d x = s->x[v], y = s->y[v];
    const __m512d y2 = _mm512_mul_pd(y, y), xy = _mm512_mul_pd(x, y);
    s->x[v] = _mm512_mask_add_pd(x, m, _mm512_fmsub_pd(x, x, y2), c_re);
    s->y[v] = _mm512_mask_add_pd(y, m, _mm512_fmadd_pd(x, y, xy), c_im);
    s->cnt[v] = _mm512_mask_add_epi64(s->cnt[v], m, s->cnt[v], _mm512_set1_epi64(1));
}

/* Gives the lanes of `m` (in order) the next pixels, advanced to z_1; lanes with no pixel
 * left die. */
static inline __attribute__((always_inline)) void refill(const jl_job *job, state *s, int v,
                                                         __mmask8 m, const bool mandel) {
    const size_t avail = s->end - s->next;
    __mmask8 fill = m;
    unsigned k = (unsigned)__builtin_popcount(m);
    if (k > avail) {
        fill = 0;
        __mmask8 rest = m;
        for (size_t i = 0; i < avail; i++) {
            const __mmask8 low = (__mmask8)(rest & (unsigned)-(int)rest);
            fill |= low;
            rest = (__mmask8)(rest & ~low);
        }
        k = (unsigned)avail;
    }
    const __mmask8 dead = (__mmask8)(m & ~fill);
    s->live[v] = (__mmask8)((s->live[v] & ~dead) | fill);
    s->active[v] = (__mmask8)((s->active[v] & ~dead) | fill);
    if (k == 0) {
        return;
    }
    __m512d a, b;
    if (job->source == JL_SRC_GRID && s->col + k <= job->ny) {
        /* The common case: k consecutive y values of one row, expanded into the lanes. */
        const __m512d ys = _mm512_maskz_loadu_pd((__mmask8)((1u << k) - 1u), job->ys + s->col);
        b = _mm512_maskz_expand_pd(fill, ys);
        a = _mm512_set1_pd(job->xs[s->row]);
        s->col += k;
        if (s->col == job->ny) {
            s->col = 0;
            s->row++;
        }
    } else {
        double la[JL512_L] = {0}, lb[JL512_L] = {0};
        size_t p = s->next;
        for (int l = 0; l < JL512_L; l++) {
            if (!((fill >> l) & 1u)) {
                continue;
            }
            if (job->source == JL_SRC_GRID) {
                la[l] = job->xs[p / job->ny];
                lb[l] = job->ys[p % job->ny];
            } else {
                la[l] = job->pts[2 * p];
                lb[l] = job->pts[2 * p + 1];
            }
            p++;
        }
        a = _mm512_loadu_pd(la);
        b = _mm512_loadu_pd(lb);
        if (job->source == JL_SRC_GRID) {
            s->row = p / job->ny;
            s->col = p % job->ny;
        }
    }
    if (mandel) {
        s->cx[v] = _mm512_mask_mov_pd(s->cx[v], fill, a);
        s->cy[v] = _mm512_mask_mov_pd(s->cy[v], fill, b);
        s->x[v] = _mm512_mask_mov_pd(s->x[v], fill, _mm512_setzero_pd());
        s->y[v] = _mm512_mask_mov_pd(s->y[v], fill, _mm512_setzero_pd());
    } else {
        s->x[v] = _mm512_mask_mov_pd(s->x[v], fill, a);
        s->y[v] = _mm512_mask_mov_pd(s->y[v], fill, b);
    }
    s->cnt[v] = _mm512_mask_mov_epi64(s->cnt[v], fill, _mm512_setzero_si512());
    step_lanes(s, v, fill, mandel ? s->cx[v] : _mm512_set1_pd(job->c_re),
               mandel ? s->cy[v] : _mm512_set1_pd(job->c_im));
    const __m512i ids = _mm512_add_epi64(_mm512_set1_epi64((long long)s->next),
                                         _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    s->idx[v] = _mm512_mask_expand_epi64(s->idx[v], fill, ids);
    s->next += k;
}

/* After a batch: decides the frozen lanes of vector v, stores finished pixels and refills
 * their lanes. `over` holds the live lanes whose count passed itermax. A frozen lane kept the
 * count k and z_k of the step that froze it; with |z_k|^2 at or above the band it escaped at
 * k - 1. Inside the band (or NaN, from non-finite
 * points) the pixel is recomputed by the scalar kernel, whose arithmetic is the same. */
static inline __attribute__((always_inline)) void
settle(const jl_job *job, state *s, int v, __mmask8 over, unsigned worker, const bool mandel) {
    const __mmask8 frozen = (__mmask8)(s->live[v] & ~s->active[v] & ~over);
    /* the |z_k|^2 that froze each lane, formed exactly as in run()'s step */
    {
        const __m512d x = s->x[v], y = s->y[v];
        const __m512d y2 = _mm512_mul_pd(y, y);
        s->sn[v] = _mm512_add_pd(_mm512_fmsub_pd(x, x, y2), _mm512_add_pd(y2, y2));
    }
    const __mmask8 esc =
        _mm512_mask_cmp_pd_mask(frozen, s->sn[v], _mm512_set1_pd(job->hi), _CMP_GE_OQ);
    const __mmask8 band = (__mmask8)(frozen & ~esc);
    const __mmask8 done = (__mmask8)(frozen | over);
    if (done == 0) {
        return;
    }
    /* count = cnt - 1 for escaped lanes, itermax for the others */
    const __m512i itm = _mm512_set1_epi64((long long)job->itermax);
    const __m512i count = _mm512_mask_sub_epi64(itm, esc, s->cnt[v], _mm512_set1_epi64(1));
    if (band == 0 && job->kind == HL_JULIA_COUNTS) {
        _mm512_mask_i64scatter_epi32(job->out, done, s->idx[v], _mm512_cvtepi64_epi32(count), 4);
    } else if (band == 0 && job->kind == HL_JULIA_NORMALISED) {
        /* jl_normalise in vector form (exact conversions, one correctly rounded division):
         * cheaper than gathering the table */
        const __m512i itmin = _mm512_set1_epi64((long long)job->itermin);
        const __m512d num =
            _mm512_cvtepi64_pd(_mm512_sub_epi64(_mm512_max_epu64(count, itmin), itmin));
        const __m512d val = _mm512_div_pd(num, _mm512_set1_pd(job->norm_den));
        _mm512_mask_i64scatter_pd(job->out, done, s->idx[v], val, 8);
    } else if (band == 0 && job->kind == HL_JULIA_PICTURE && job->lut8 != NULL) {
        /* picture position (ny-1-j)*nx + i of pixel p = i*ny + j: i from a float64 quotient
         * (exact to +-1 for p < 2^52) corrected once each way */
        const __m512i ny = _mm512_set1_epi64((long long)job->ny);
        const __m512i p = s->idx[v];
        __m512i i = _mm512_cvttpd_epi64(
            _mm512_mul_pd(_mm512_cvtepi64_pd(p), _mm512_set1_pd(1.0 / (double)job->ny)));
        __m512i j = _mm512_sub_epi64(p, _mm512_mullo_epi64(i, ny));
        const __mmask8 neg = _mm512_cmplt_epi64_mask(j, _mm512_setzero_si512());
        i = _mm512_mask_sub_epi64(i, neg, i, _mm512_set1_epi64(1));
        j = _mm512_mask_add_epi64(j, neg, j, ny);
        const __mmask8 big = _mm512_cmpge_epi64_mask(j, ny);
        i = _mm512_mask_add_epi64(i, big, i, _mm512_set1_epi64(1));
        j = _mm512_mask_sub_epi64(j, big, j, ny);
        const __m512i row = _mm512_sub_epi64(_mm512_sub_epi64(ny, _mm512_set1_epi64(1)), j);
        const __m512i pos =
            _mm512_add_epi64(_mm512_mullo_epi64(row, _mm512_set1_epi64((long long)job->nx)), i);
        uint64_t c[JL512_L], at[JL512_L];
        _mm512_storeu_si512((void *)c, count);
        _mm512_storeu_si512((void *)at, pos);
        uint8_t *out = job->out;
        uint8_t dummy;
        for (int l = 0; l < JL512_L; l++) {
            uint8_t *dst = ((done >> l) & 1u) ? out + at[l] : &dummy;
            *dst = job->lut8[c[l]];
        }
    } else {
        uint64_t c[JL512_L], id[JL512_L];
        double nn[JL512_L];
        _mm512_storeu_si512((void *)c, count);
        _mm512_storeu_si512((void *)id, s->idx[v]);
        _mm512_storeu_pd(nn, s->sn[v]);
        for (unsigned bits = done; bits != 0; bits &= bits - 1) {
            const int l = __builtin_ctz(bits);
            if ((band >> l) & 1u) {
                if (jl_pixel_scalar(job, id[l], worker) != HL_OK) {
                    s->cancelled = true;
                }
            } else {
                jl_store(job, id[l], (uint32_t)c[l], nn[l]);
            }
        }
    }
    refill(job, s, v, done, mandel);
}

static inline __attribute__((always_inline)) hl_status run(const jl_job *job, size_t begin,
                                                           size_t end, unsigned worker,
                                                           const bool mandel) {
    state s;
    s.next = begin;
    s.cancelled = false;
    s.end = end;
    s.row = job->source == JL_SRC_GRID ? begin / job->ny : 0;
    s.col = job->source == JL_SRC_GRID ? begin % job->ny : 0;
    const __m512d cr = _mm512_set1_pd(job->c_re), ci = _mm512_set1_pd(job->c_im);
    const __m512d lo = _mm512_set1_pd(job->lo);
    const __m512i itm = _mm512_set1_epi64((long long)job->itermax);
    const int nv = mandel ? JL512_NV_MANDEL : JL512_NV;
    for (int v = 0; v < JL512_NV; v++) {
        s.x[v] = s.y[v] = s.cx[v] = s.cy[v] = s.sn[v] = _mm512_setzero_pd();
        s.cnt[v] = _mm512_setzero_si512();
        s.live[v] = s.active[v] = 0;
        s.idx[v] = _mm512_setzero_si512();
        if (v < nv) {
            refill(job, &s, v, 0xFF, mandel);
        }
    }
    uint32_t budget = JL_POLL_STEPS / JL512_BATCH;
    uint8_t hist[JL512_NV][JL512_BATCH]; /* active masks of the batch's steps */
    for (;;) {
        for (int it = 0; it < JL512_BATCH; it++) {
#pragma GCC unroll 8
            for (int v = 0; v < nv; v++) {
                /* t = x*x - y*y is NumPy's real part before + c; |z|^2 = t + 2*y*y with
                 * adds only (within 3 ulp: see julia_internal.h), leaving the multiply
                 * units to the 4 products of the square. A lane stays active while
                 * |z|^2 < lo (ordered: NaN freezes it); a frozen lane keeps its z_k and
                 * count k, so settle() recomputes this very |z|^2 from them. */
                const __m512d x = s.x[v], y = s.y[v];
                const __m512d y2 = _mm512_mul_pd(y, y);
                const __m512d xy = _mm512_mul_pd(x, y);
                const __m512d t = _mm512_fmsub_pd(x, x, y2);
                const __m512d n = _mm512_add_pd(t, _mm512_add_pd(y2, y2));
                const __mmask8 act = _mm512_mask_cmp_pd_mask(s.active[v], n, lo, _CMP_LT_OQ);
                s.active[v] = act;
                hist[v][it] = act;
                const __m512d c_re = mandel ? s.cx[v] : cr;
                const __m512d c_im = mandel ? s.cy[v] : ci;
                s.x[v] = _mm512_mask_add_pd(x, act, t, c_re);
                s.y[v] = _mm512_mask_add_pd(y, act, _mm512_fmadd_pd(x, y, xy), c_im);
            }
        }
        /* counts: lane l gained one per step in which it was active, i.e. the set bits l of
         * the batch's active masks: byte-wise bit sums, added up by one multiply */
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++) {
            uint64_t h0, h1;
            memcpy(&h0, hist[v], 8);
            memcpy(&h1, hist[v] + 8, 8);
            const __m512i lanes = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
            const __m512i bytes = _mm512_set1_epi64(0x0101010101010101LL);
            const __m512i b0 =
                _mm512_and_si512(_mm512_srlv_epi64(_mm512_set1_epi64((long long)h0), lanes), bytes);
            const __m512i b1 =
                _mm512_and_si512(_mm512_srlv_epi64(_mm512_set1_epi64((long long)h1), lanes), bytes);
            const __m512i sum =
                _mm512_srli_epi64(_mm512_mullo_epi64(_mm512_add_epi64(b0, b1), bytes), 56);
            s.cnt[v] = _mm512_add_epi64(s.cnt[v], sum);
        }
        __mmask8 any = 0;
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++) {
            const __mmask8 over = _mm512_mask_cmpgt_epi64_mask(s.live[v], s.cnt[v], itm);
            if ((__mmask8)(s.live[v] & ~s.active[v]) != 0 || over != 0) {
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
            budget = JL_POLL_STEPS / JL512_BATCH;
            if (jl_should_stop(job->ctl, worker)) {
                return HL_ECANCELLED;
            }
        }
    }
}

hl_status jl_kernel_avx512(const jl_job *job, size_t begin, size_t end, unsigned worker) {
    return job->mandelbrot ? run(job, begin, end, worker, true)
                           : run(job, begin, end, worker, false);
}
