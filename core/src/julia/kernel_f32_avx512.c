/* The AVX-512 float32 julia kernel (approximate mode): 16 pixels per vector, in single
 * precision, without the exact band: a point escapes when its float32 t + 2*y*y >=
 * threshold^2, exactly as the scalar float32 kernel decides, so both give the same counts.
 * As in kernel_avx512.c, a vector holds a group of 16 consecutive pixels until all are done,
 * then stores their 16 results at once and loads the next 16; steps run in branch-free
 * batches, and a lane that escapes keeps iterating but stops counting. The scalar kernel's
 * imaginary part fmaf(x, y, x*y) is formed as x*y + x*y, the same value (see kernel_avx512.c;
 * core/tests/test_julia.c checks it in single precision too): 113-115 -> 108-110 ms on the
 * zoom, one thread, 6 alternating rounds, 2026-11-23. */
#include <immintrin.h>

#include "julia_internal.h"

#define JLF_NV 4
#define JLF_L 16
#define JLF_BATCH 16

typedef struct state {
    __m512 x[JLF_NV], y[JLF_NV], cx[JLF_NV], cy[JLF_NV], sn[JLF_NV];
    __m512i cnt[JLF_NV];
    __mmask16 live[JLF_NV], active[JLF_NV];
    size_t base[JLF_NV]; /* pixel index of lane 0; lane l holds pixel base + l */
    size_t next, end, row, col;
    bool cancelled; /* a pixel handed to the scalar kernel was cancelled */
} state;

/* Loads the next (up to) 16 pixels into vector v, advanced to z_1 with count 1; with no pixel
 * left the vector dies. */
static inline __attribute__((always_inline)) void load_group(const jl_job *job, state *s, int v,
                                                             const bool mandel) {
    const size_t k = s->end - s->next < JLF_L ? s->end - s->next : JLF_L;
    const __mmask16 m = (__mmask16)((1u << k) - 1u);
    s->live[v] = s->active[v] = m;
    if (k == 0) {
        return;
    }
    __m512 a, b;
    if (job->source == JL_SRC_GRID && s->col + k <= job->ny) {
        b = _mm512_maskz_loadu_ps(m, job->ys32 + s->col);
        a = _mm512_set1_ps(job->xs32[s->row]);
        s->col += k;
        if (s->col == job->ny) {
            s->col = 0;
            s->row++;
        }
    } else {
        float la[JLF_L] = {0}, lb[JLF_L] = {0};
        for (size_t l = 0; l < k; l++) {
            if (job->source == JL_SRC_GRID) {
                la[l] = job->xs32[s->row];
                lb[l] = job->ys32[s->col];
                if (++s->col == job->ny) {
                    s->col = 0;
                    s->row++;
                }
            } else {
                la[l] = (float)job->pts[2 * (s->next + l)];
                lb[l] = (float)job->pts[2 * (s->next + l) + 1];
            }
        }
        a = _mm512_loadu_ps(la);
        b = _mm512_loadu_ps(lb);
    }
    __m512 x = a, y = b, c_re = _mm512_set1_ps((float)job->c_re),
           c_im = _mm512_set1_ps((float)job->c_im);
    if (mandel) {
        s->cx[v] = c_re = a;
        s->cy[v] = c_im = b;
        x = y = _mm512_setzero_ps();
    }
    const __m512 y2 = _mm512_mul_ps(y, y), xy = _mm512_mul_ps(x, y);
    s->x[v] = _mm512_add_ps(_mm512_fmsub_ps(x, x, y2), c_re);
    s->y[v] = _mm512_add_ps(_mm512_add_ps(xy, xy), c_im);
    s->cnt[v] = _mm512_set1_epi32(1);
    s->sn[v] = _mm512_setzero_ps();
    s->base[v] = s->next;
    s->next += k;
}

/* Stores the results of vector v's group once all its lanes are done (escaped, or past
 * itermax: `over`), then loads the next group. Smooth values of escapes whose float32 |z|^2
 * overflowed (or is NaN) come from the scalar float32 kernel, which keeps z to compute log|z|
 * without the square. */
static inline __attribute__((always_inline)) void
finish(const jl_job *job, state *s, int v, __mmask16 over, unsigned worker, const bool mandel) {
    const __mmask16 live = s->live[v];
    const __mmask16 esc = (__mmask16)(live & ~over);
    const __m512i count = _mm512_mask_sub_epi32(_mm512_set1_epi32((int)job->itermax), esc,
                                                s->cnt[v], _mm512_set1_epi32(1));
    if (job->kind == HL_JULIA_F32 && job->table32 != NULL) {
        const __m512 val =
            _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, count, job->table32, 4);
        _mm512_mask_storeu_ps((float *)job->out + s->base[v], live, val);
    } else {
        uint32_t c[JLF_L];
        float nn[JLF_L];
        _mm512_storeu_si512((void *)c, count);
        _mm512_storeu_ps(nn, s->sn[v]);
        const bool smooth = jl_kind_smooth(job->kind);
        for (unsigned bits = live; bits != 0; bits &= bits - 1) {
            const int l = __builtin_ctz(bits);
            const size_t p = s->base[v] + (size_t)l;
            if (smooth && ((esc >> l) & 1u) && !isfinite(nn[l])) {
                if (jl_kernel_f32_scalar(job, p, p + 1, worker) != HL_OK) {
                    s->cancelled = true;
                }
            } else {
                jl_store(job, p, c[l], (double)nn[l]);
            }
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
    s.row = begin / job->ny;
    s.col = begin % job->ny;
    s.cancelled = false;
    const __m512 cr = _mm512_set1_ps((float)job->c_re), ci = _mm512_set1_ps((float)job->c_im);
    const __m512 t2 = _mm512_set1_ps((float)(job->threshold * job->threshold));
    const __m512i itm = _mm512_set1_epi32((int)job->itermax);
    const __m512i one = _mm512_set1_epi32(1);
    for (int v = 0; v < JLF_NV; v++) {
        s.x[v] = s.y[v] = s.cx[v] = s.cy[v] = s.sn[v] = _mm512_setzero_ps();
        s.cnt[v] = _mm512_setzero_si512();
        load_group(job, &s, v, mandel);
    }
    uint32_t budget = JL_POLL_STEPS / JLF_BATCH;
    for (;;) {
        for (int it = 0; it < JLF_BATCH; it++) {
#pragma GCC unroll 4
            for (int v = 0; v < JLF_NV; v++) {
                const __m512 x = s.x[v], y = s.y[v];
                const __m512 y2 = _mm512_mul_ps(y, y);
                const __m512 xy = _mm512_mul_ps(x, y);
                const __m512 t = _mm512_fmsub_ps(x, x, y2);
                const __m512 n = _mm512_add_ps(t, _mm512_add_ps(y2, y2));
                const __mmask16 cand = _mm512_mask_cmp_ps_mask(s.active[v], n, t2, _CMP_NLT_UQ);
                const __mmask16 act = (__mmask16)(s.active[v] & ~cand);
                s.active[v] = act;
                s.sn[v] = _mm512_mask_mov_ps(s.sn[v], cand, n);
                s.cnt[v] = _mm512_mask_add_epi32(s.cnt[v], act, s.cnt[v], one);
                const __m512 c_re = mandel ? s.cx[v] : cr;
                const __m512 c_im = mandel ? s.cy[v] : ci;
                s.x[v] = _mm512_add_ps(t, c_re);
                s.y[v] = _mm512_add_ps(_mm512_add_ps(xy, xy), c_im);
            }
        }
        __mmask16 any = 0;
#pragma GCC unroll 4
        for (int v = 0; v < JLF_NV; v++) {
            /* a group is done when none of its lanes is active or under itermax (counts
             * compared unsigned: itermax may use all 32 bits) */
            const __mmask16 over = _mm512_mask_cmpgt_epu32_mask(s.live[v], s.cnt[v], itm);
            if (s.live[v] != 0 && (__mmask16)(s.active[v] & ~over) == 0) {
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
            budget = JL_POLL_STEPS / JLF_BATCH;
            if (jl_should_stop(job->ctl, worker)) {
                return HL_ECANCELLED;
            }
        }
    }
}

hl_status jl_kernel_f32_avx512(const jl_job *job, size_t begin, size_t end, unsigned worker) {
    return job->mandelbrot ? run(job, begin, end, worker, true)
                           : run(job, begin, end, worker, false);
}
