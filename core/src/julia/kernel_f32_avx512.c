/* The AVX-512 float32 julia kernel (approximate mode): 16 pixels per vector, the batched
 * scheme of kernel_avx512.c (branch-free steps, frozen lanes settled after each batch, lanes
 * refilled at once and advanced to z_1) in single precision, without the exact band: a point
 * escapes when its float32 t + 2*y*y >= threshold^2, exactly as the scalar float32 kernel
 * decides, so both give the same counts. */
#include <immintrin.h>

#include "julia_internal.h"

#define JLF_NV 4
#define JLF_L 16
#define JLF_BATCH 16

typedef struct state {
    __m512 x[JLF_NV], y[JLF_NV], cx[JLF_NV], cy[JLF_NV], sn[JLF_NV];
    __m512i cnt[JLF_NV];
    __m512i idx[JLF_NV]; /* pixel index - begin (chunks are far below 2^31 pixels) */
    __mmask16 live[JLF_NV], active[JLF_NV];
    size_t begin, next, end, row, col;
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
    }
    const __mmask16 dead = (__mmask16)(m & ~fill);
    s->live[v] = (__mmask16)((s->live[v] & ~dead) | fill);
    s->active[v] = (__mmask16)((s->active[v] & ~dead) | fill);
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
        size_t p = s->next;
        for (int l = 0; l < JLF_L; l++) {
            if (!((fill >> l) & 1u)) {
                continue;
            }
            if (job->source == JL_SRC_GRID) {
                la[l] = job->xs32[p / job->ny];
                lb[l] = job->ys32[p % job->ny];
            } else {
                la[l] = (float)job->pts[2 * p];
                lb[l] = (float)job->pts[2 * p + 1];
            }
            p++;
        }
        a = _mm512_loadu_ps(la);
        b = _mm512_loadu_ps(lb);
        if (job->source == JL_SRC_GRID) {
            s->row = p / job->ny;
            s->col = p % job->ny;
        }
    }
    __m512 x, y, c_re, c_im;
    if (mandel) {
        s->cx[v] = _mm512_mask_mov_ps(s->cx[v], fill, a);
        s->cy[v] = _mm512_mask_mov_ps(s->cy[v], fill, b);
        x = y = _mm512_setzero_ps();
        c_re = s->cx[v];
        c_im = s->cy[v];
    } else {
        x = a;
        y = b;
        c_re = _mm512_set1_ps((float)job->c_re);
        c_im = _mm512_set1_ps((float)job->c_im);
    }
    const __m512 y2 = _mm512_mul_ps(y, y), xy = _mm512_mul_ps(x, y);
    s->x[v] = _mm512_mask_add_ps(s->x[v], fill, _mm512_fmsub_ps(x, x, y2), c_re);
    s->y[v] = _mm512_mask_add_ps(s->y[v], fill, _mm512_fmadd_ps(x, y, xy), c_im);
    s->cnt[v] = _mm512_mask_mov_epi32(s->cnt[v], fill, _mm512_set1_epi32(1));
    const __m512i ids =
        _mm512_add_epi32(_mm512_set1_epi32((int)(s->next - s->begin)),
                         _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    s->idx[v] = _mm512_mask_expand_epi32(s->idx[v], fill, ids);
    s->next += k;
}

static inline __attribute__((always_inline)) void settle(const jl_job *job, state *s, int v,
                                                         __mmask16 over, const bool mandel) {
    const __mmask16 esc = (__mmask16)(s->live[v] & ~s->active[v] & ~over);
    const __mmask16 done = (__mmask16)(esc | over);
    if (done == 0) {
        return;
    }
    const __m512i count = _mm512_mask_sub_epi32(_mm512_set1_epi32((int)job->itermax), esc,
                                                s->cnt[v], _mm512_set1_epi32(1));
    if (job->kind == HL_JULIA_F32 && job->table32 != NULL) {
        const __m512 val =
            _mm512_mask_i32gather_ps(_mm512_setzero_ps(), done, count, job->table32, 4);
        _mm512_mask_i32scatter_ps((float *)job->out + s->begin, done, s->idx[v], val, 4);
    } else {
        uint32_t c[JLF_L], id[JLF_L];
        float nn[JLF_L];
        _mm512_storeu_si512((void *)c, count);
        _mm512_storeu_si512((void *)id, s->idx[v]);
        _mm512_storeu_ps(nn, s->sn[v]);
        for (unsigned bits = done; bits != 0; bits &= bits - 1) {
            const int l = __builtin_ctz(bits);
            jl_store(job, s->begin + id[l], c[l], (double)nn[l]);
        }
    }
    refill(job, s, v, done, mandel);
}

static inline __attribute__((always_inline)) hl_status run(const jl_job *job, size_t begin,
                                                           size_t end, unsigned worker,
                                                           const bool mandel) {
    state s;
    s.begin = s.next = begin;
    s.end = end;
    s.row = begin / job->ny;
    s.col = begin % job->ny;
    const __m512 cr = _mm512_set1_ps((float)job->c_re), ci = _mm512_set1_ps((float)job->c_im);
    const __m512 t2 = _mm512_set1_ps((float)(job->threshold * job->threshold));
    const __m512i itm = _mm512_set1_epi32((int)job->itermax);
    const __m512i one = _mm512_set1_epi32(1);
    for (int v = 0; v < JLF_NV; v++) {
        s.x[v] = s.y[v] = s.cx[v] = s.cy[v] = s.sn[v] = _mm512_setzero_ps();
        s.cnt[v] = s.idx[v] = _mm512_setzero_si512();
        s.live[v] = s.active[v] = 0;
        refill(job, &s, v, 0xFFFF, mandel);
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
                s.y[v] = _mm512_add_ps(_mm512_fmadd_ps(x, y, xy), c_im);
            }
        }
        __mmask16 any = 0;
#pragma GCC unroll 4
        for (int v = 0; v < JLF_NV; v++) {
            /* counts compared unsigned: itermax may use all 32 bits */
            const __mmask16 over = _mm512_mask_cmpgt_epu32_mask(s.live[v], s.cnt[v], itm);
            if ((__mmask16)(s.live[v] & ~s.active[v]) != 0 || over != 0) {
                settle(job, &s, v, over, mandel);
            }
            any |= s.live[v];
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
