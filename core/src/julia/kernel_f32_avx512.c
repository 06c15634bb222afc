/* The AVX-512 float32 julia kernel (approximate mode): 16 pixels per vector, the scheme of
 * kernel_avx512.c without the exact band (escape when x*x + y*y >= threshold^2 in float32,
 * like the scalar float32 kernel, so both give the same counts). */
#include <immintrin.h>

#include "julia_internal.h"

#define JLF_NV 4
#define JLF_L 16

typedef struct state {
    __m512 x[JLF_NV], y[JLF_NV], cx[JLF_NV], cy[JLF_NV];
    __m512i cnt[JLF_NV];
    __mmask16 live[JLF_NV];
    size_t idx[JLF_NV][JLF_L];
    size_t next, end, row, col;
} state;

static inline __attribute__((always_inline)) void refill(const jl_job *job, state *s, int v,
                                                         __mmask16 m, const bool mandel) {
    const size_t avail = s->end - s->next;
    __mmask16 fill = m;
    unsigned k = (unsigned)__builtin_popcount(m);
    if (k > avail) {
        fill = 0;
        __mmask16 rest = m;
        for (size_t i = 0; i < avail; i++) {
            const __mmask16 low = (__mmask16)(rest & (unsigned)-(int)rest);
            fill |= low;
            rest = (__mmask16)(rest & ~low);
        }
        k = (unsigned)avail;
        const __mmask16 dead = (__mmask16)(m & ~fill);
        s->live[v] = (__mmask16)(s->live[v] & ~dead);
        s->x[v] = _mm512_mask_mov_ps(s->x[v], dead, _mm512_setzero_ps());
        s->y[v] = _mm512_mask_mov_ps(s->y[v], dead, _mm512_setzero_ps());
        if (mandel) {
            s->cx[v] = _mm512_mask_mov_ps(s->cx[v], dead, _mm512_setzero_ps());
            s->cy[v] = _mm512_mask_mov_ps(s->cy[v], dead, _mm512_setzero_ps());
        }
    }
    if (k == 0) {
        return;
    }
    __m512 a, b;
    if (job->source == JL_SRC_GRID && s->col + k <= job->ny) {
        const __m512 ys = _mm512_maskz_loadu_ps((__mmask16)((1u << k) - 1u), job->ys32 + s->col);
        b = _mm512_maskz_expand_ps(fill, ys);
        a = _mm512_set1_ps(job->xs32[s->row]);
        s->col += k;
        if (s->col == job->ny) {
            s->col = 0;
            s->row++;
        }
    } else {
        float la[JLF_L] = {0}, lb[JLF_L] = {0};
        for (int l = 0; l < JLF_L; l++) {
            if (!((fill >> l) & 1u)) {
                continue;
            }
            const size_t p =
                s->next + (size_t)__builtin_popcount((unsigned)fill & ((1u << l) - 1u));
            if (job->source == JL_SRC_GRID) {
                la[l] = job->xs32[p / job->ny];
                lb[l] = job->ys32[p % job->ny];
            } else {
                la[l] = (float)job->pts[2 * p];
                lb[l] = (float)job->pts[2 * p + 1];
            }
        }
        a = _mm512_loadu_ps(la);
        b = _mm512_loadu_ps(lb);
        if (job->source == JL_SRC_GRID) {
            const size_t last = s->next + k;
            s->row = last / job->ny;
            s->col = last % job->ny;
        }
    }
    if (mandel) {
        s->cx[v] = _mm512_mask_mov_ps(s->cx[v], fill, a);
        s->cy[v] = _mm512_mask_mov_ps(s->cy[v], fill, b);
        s->x[v] = _mm512_mask_mov_ps(s->x[v], fill, _mm512_setzero_ps());
        s->y[v] = _mm512_mask_mov_ps(s->y[v], fill, _mm512_setzero_ps());
    } else {
        s->x[v] = _mm512_mask_mov_ps(s->x[v], fill, a);
        s->y[v] = _mm512_mask_mov_ps(s->y[v], fill, b);
    }
    s->cnt[v] = _mm512_mask_mov_epi32(s->cnt[v], fill, _mm512_setzero_si512());
    for (int l = 0; l < JLF_L; l++) {
        if ((fill >> l) & 1u) {
            s->idx[v][l] = s->next++;
        }
    }
    s->live[v] = (__mmask16)(s->live[v] | fill);
}

static inline __attribute__((always_inline)) void settle(const jl_job *job, state *s, int v,
                                                         __m512 n, __mmask16 cand, __mmask16 atmax,
                                                         const bool mandel) {
    const __mmask16 fresh = _mm512_testn_epi32_mask(s->cnt[v], s->cnt[v]);
    const __mmask16 esc = (__mmask16)(cand & ~fresh);
    const __mmask16 done = (__mmask16)(esc | atmax);
    if (done == 0) {
        return;
    }
    uint32_t cnt[JLF_L];
    float nn[JLF_L];
    _mm512_storeu_si512((void *)cnt, s->cnt[v]);
    _mm512_storeu_ps(nn, n);
    for (unsigned bits = done; bits != 0; bits &= bits - 1) {
        const int l = __builtin_ctz(bits);
        const bool e = (esc >> l) & 1u;
        jl_store(job, s->idx[v][l], e ? cnt[l] - 1u : job->itermax, e ? (double)nn[l] : 0.0);
    }
    refill(job, s, v, done, mandel);
}

static inline __attribute__((always_inline)) hl_status run(const jl_job *job, size_t begin,
                                                           size_t end, unsigned worker,
                                                           const bool mandel) {
    state s;
    s.next = begin;
    s.end = end;
    s.row = begin / job->ny;
    s.col = begin % job->ny;
    const __m512 cr = _mm512_set1_ps((float)job->c_re), ci = _mm512_set1_ps((float)job->c_im);
    const __m512 t2 = _mm512_set1_ps((float)(job->threshold * job->threshold));
    const __m512i itm = _mm512_set1_epi32((int)job->itermax);
    const __m512i one = _mm512_set1_epi32(1);
    for (int v = 0; v < JLF_NV; v++) {
        s.x[v] = s.y[v] = s.cx[v] = s.cy[v] = _mm512_setzero_ps();
        s.cnt[v] = _mm512_setzero_si512();
        s.live[v] = 0;
        refill(job, &s, v, 0xFFFF, mandel);
    }
    uint32_t budget = JL_POLL_STEPS;
    for (;;) {
        __mmask16 any = 0;
#pragma GCC unroll 4
        for (int v = 0; v < JLF_NV; v++) {
            __m512 x = s.x[v], y = s.y[v];
            const __m512 x2 = _mm512_mul_ps(x, x);
            __m512 y2 = _mm512_mul_ps(y, y);
            const __m512 n = _mm512_add_ps(x2, y2);
            const __mmask16 cand = _mm512_mask_cmp_ps_mask(s.live[v], n, t2, _CMP_NLT_UQ);
            const __mmask16 atmax = _mm512_mask_cmpeq_epi32_mask(s.live[v], s.cnt[v], itm);
            if (__builtin_expect((cand | atmax) != 0, 0)) {
                settle(job, &s, v, n, cand, atmax, mandel);
                x = s.x[v];
                y = s.y[v];
                y2 = _mm512_mul_ps(y, y);
            }
            const __m512 xy = _mm512_mul_ps(x, y);
            const __m512 c_re = mandel ? s.cx[v] : cr;
            const __m512 c_im = mandel ? s.cy[v] : ci;
            s.x[v] = _mm512_add_ps(_mm512_fmsub_ps(x, x, y2), c_re);
            s.y[v] = _mm512_add_ps(_mm512_fmadd_ps(x, y, xy), c_im);
            s.cnt[v] = _mm512_add_epi32(s.cnt[v], one);
            any |= s.live[v];
        }
        if (any == 0) {
            return HL_OK;
        }
        if (--budget == 0) {
            budget = JL_POLL_STEPS;
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
