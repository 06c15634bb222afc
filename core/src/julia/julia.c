/* The julia driver: argument checks, np.linspace coordinates, kernel dispatch by SIMD level,
 * the parallel loop over pixel ranges, cancellation. See hotloop/julia.h. */
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotloop/parallel.h"
#include "julia_internal.h"

/* Worst-case lane-steps per parallel chunk: about a millisecond of work, so the calling
 * thread polls for Ctrl-C often and the chunks balance across threads. */
#define JL_CHUNK_STEPS ((size_t)1 << 20)
#define JL_MIN_GRAIN ((size_t)16)
#define JL_MAX_GRAIN ((size_t)1 << 15)
/* Outputs from this size on are made resident before a parallel render (run_job). */
#define JL_POPULATE_MIN ((size_t)16 << 20)
/* Normalised values come from a table when itermax is at most this. */
#define JL_TABLE_MAX 65536u

typedef hl_status (*jl_kernel)(const jl_job *job, size_t begin, size_t end, unsigned worker);

double hl_julia_linspace_at(double start, double stop, size_t n, size_t k) {
    if (n <= 1) {
        return 0.0 * (stop - start) + start;
    }
    if (k == n - 1) {
        return stop;
    }
    const double div = (double)(n - 1);
    const double delta = stop - start;
    const double step = delta / div;
    if (step == 0.0) {
        /* np.linspace's underflow branch: y = arange / div * delta + start. */
        return ((double)k / div) * delta + start;
    }
    return (double)k * step + start;
}

double hl_julia_numpy_abs(double re, double im) {
    return jl_numpy_abs(re, im);
}

uint32_t hl_julia_escape_reference(double z_re, double z_im, double c_re, double c_im,
                                   double threshold, uint32_t itermax) {
    double x = z_re, y = z_im;
    for (uint32_t i = 0; i < itermax; i++) {
        const double nx = fma(x, x, -(y * y)) + c_re;
        const double ny = fma(x, y, y * x) + c_im;
        x = nx;
        y = ny;
        if (jl_numpy_abs(x, y) >= threshold) {
            return i;
        }
    }
    return itermax;
}

double hl_julia_smooth_value(uint32_t count, double log_modulus, double threshold,
                             uint32_t itermax) {
    if (count >= itermax) {
        return (double)itermax;
    }
    /* Vepstas, "Renormalizing the Mandelbrot escape" (1997): with |z_{n+1}| >= R > |z_n|,
     * log(log|z|/log R)/log 2 lies in [0, 1) when |z| grows like |z|^2, so n + 1 - that
     * interpolates between the integer bands. */
    const double frac = log2(log_modulus / log(threshold));
    double nu = (double)count + 1.0 - frac;
    if (!(nu >= (double)count)) { /* also catches NaN */
        nu = (double)count;
    }
    if (nu > (double)count + 1.0) {
        nu = (double)count + 1.0;
    }
    return nu;
}

double hl_julia_log_modulus(double re, double im) {
    return jl_log_modulus(re, im);
}

double hl_julia_log_modulus_next(double z_re, double z_im, double c_re, double c_im) {
    return jl_log_modulus_next(z_re, z_im, c_re, c_im);
}

static bool is_finite(double v) {
    return isfinite(v) != 0;
}

static hl_status check_params(const hl_julia_params *p) {
    if (p == NULL || !(p->threshold > 0.0) || !is_finite(p->c_re) || !is_finite(p->c_im)) {
        return HL_EINVAL;
    }
    return HL_OK;
}

/* Fills the job's arithmetic fields from the parameters. */
static void setup_job(jl_job *job, const hl_julia_params *p) {
    job->mandelbrot = p->mandelbrot;
    job->c_re = p->c_re;
    job->c_im = p->c_im;
    job->threshold = p->threshold;
    job->itermin = p->itermin;
    job->itermax = p->itermax;
    job->norm_den = (double)(p->itermax - (p->itermin < p->itermax ? p->itermin : p->itermax));
    if (p->threshold >= JL_FILTER_MIN && p->threshold <= JL_FILTER_MAX) {
        const double t2 = p->threshold * p->threshold;
        job->lo = t2 * (1.0 - JL_BAND);
        job->hi = t2 * (1.0 + JL_BAND);
    } else {
        job->lo = -1.0;   /* every |z|^2 is a candidate ... */
        job->hi = JL_NAN; /* ... and none escapes without the exact test */
    }
    job->absorbing = !p->mandelbrot && jl_escape_absorbing(p->threshold, p->c_re, p->c_im);
    const double t4 = (p->threshold * p->threshold) * (p->threshold * p->threshold);
    job->t4lo = job->absorbing ? t4 * (1.0 - JL_BAND) : 0.0;
    job->t4hi = job->absorbing ? t4 * (1.0 + JL_BAND) : 0.0;
}

static jl_kernel pick_kernel(hl_simd_level requested, bool f32, uint32_t itermax) {
    const hl_simd_level level = hl_cpu_resolve_level(requested);
#if defined(HL_X86_64)
    /* The float32 SIMD kernel counts in 32-bit lanes that may run a batch past itermax:
     * near 2^32 they would wrap, so such itermax values take the scalar float32 kernel. */
    const bool f32_simd_ok = itermax <= UINT32_MAX - 1024u;
    if (level == HL_SIMD_AVX512 && (!f32 || f32_simd_ok)) {
        return f32 ? jl_kernel_f32_avx512 : jl_kernel_avx512;
    }
    if (level == HL_SIMD_AVX2 && !f32) {
        return jl_kernel_avx2;
    }
#else
    (void)level;
#endif
    return f32 ? jl_kernel_f32_scalar : jl_kernel_scalar;
}

/* Bytes per output element of each kind. */
static size_t jl_out_size(hl_julia_output kind) {
    switch (kind) {
    case HL_JULIA_NORMALISED:
    case HL_JULIA_SMOOTH:
        return sizeof(double);
    case HL_JULIA_COUNTS:
        return sizeof(uint32_t);
    case HL_JULIA_F32:
    case HL_JULIA_F32_SMOOTH:
        return sizeof(float);
    case HL_JULIA_PICTURE:
    case HL_JULIA_PICTURE_SMOOTH:
        return sizeof(uint8_t);
    }
    return 1;
}

typedef struct run_ctx {
    const jl_job *job;
    jl_kernel kernel;
} run_ctx;

static hl_status run_body(void *p, size_t begin, size_t end, unsigned worker) {
    const run_ctx *rc = p;
    hl_status st = rc->kernel(rc->job, begin, end, worker);
    if (st == HL_OK) {
        hl_monitor_add(rc->job->ctl->outer, end - begin);
    }
    return st;
}

/* The check of the monitor handed to hl_parallel_for: asks the caller's monitor (we are on
 * the calling thread) and raises the flag the kernels watch. */
static int wrap_check(void *p) {
    jl_ctl *ctl = p;
    if (hl_monitor_poll(ctl->outer) != HL_OK) {
        atomic_store_explicit(&ctl->flag, 1, memory_order_relaxed);
        return 1;
    }
    return atomic_load_explicit(&ctl->flag, memory_order_relaxed) != 0;
}

static hl_status run_job(jl_job *job, size_t n, const hl_julia_options *opts, hl_monitor *mon) {
    const hl_julia_options defaults = {.level = HL_SIMD_AUTO, .n_threads = 0};
    if (opts == NULL) {
        opts = &defaults;
    }
    const bool f32 = job->kind == HL_JULIA_F32 || job->kind == HL_JULIA_F32_SMOOTH;
    jl_ctl ctl = {.outer = mon};
    atomic_init(&ctl.flag, 0);
    job->ctl = &ctl;
    run_ctx rc = {.job = job, .kernel = pick_kernel(opts->level, f32, job->itermax)};
    hl_monitor wrap;
    hl_monitor_init(&wrap, wrap_check, &ctl);
    size_t grain = JL_CHUNK_STEPS / ((size_t)job->itermax + 1);
    grain = grain < JL_MIN_GRAIN ? JL_MIN_GRAIN : (grain > JL_MAX_GRAIN ? JL_MAX_GRAIN : grain);
    if (job->kind == HL_JULIA_PICTURE || job->kind == HL_JULIA_PICTURE_SMOOTH) {
        /* Chunks of whole blocks of 64 grid rows: a picture row's cache line then belongs to
         * one thread (no false sharing between threads writing neighbouring columns). */
        const size_t block = 64 * job->ny;
        grain = (grain + block - 1) / block * block;
    }
    hl_monitor_begin(mon, n);
    const size_t out_bytes = n * jl_out_size(job->kind);
    if (hl_parallel_threads(n, grain, opts->n_threads) > 1 && out_bytes >= JL_POPULATE_MIN) {
        /* Threads that write neighbouring chunks fault the same fresh 2 MB page at once,
         * and each may zero a huge page of its own (see hl_populate_for_write): the output's
         * pages are made resident first, each block by one worker. (Zoom on 2
         * threads: 80 -> 76.5 ms; one thread gains nothing, the zeroing costs the same.) */
        hl_populate_for_write(job->out, out_bytes, opts->n_threads, &wrap);
    }
    hl_status st = hl_parallel_for(n, grain, opts->n_threads, run_body, &rc, &wrap);
    if (st == HL_OK && atomic_load(&ctl.flag) != 0) {
        st = HL_ECANCELLED;
    }
    return st;
}

hl_status hl_julia_render(const hl_julia_params *params, const hl_julia_grid *grid,
                          hl_julia_output kind, void *out, const hl_julia_options *opts,
                          hl_monitor *mon) {
    if (check_params(params) != HL_OK || grid == NULL || out == NULL || !is_finite(grid->x_start) ||
        !is_finite(grid->x_stop) || !is_finite(grid->y_start) || !is_finite(grid->y_stop) ||
        (unsigned)kind > (unsigned)HL_JULIA_PICTURE_SMOOTH) {
        return HL_EINVAL;
    }
    const bool normalised = kind != HL_JULIA_COUNTS;
    const bool smooth =
        kind == HL_JULIA_SMOOTH || kind == HL_JULIA_F32_SMOOTH || kind == HL_JULIA_PICTURE_SMOOTH;
    if ((normalised && params->itermin >= params->itermax) ||
        (smooth && !(params->threshold > 1.0))) {
        return HL_EINVAL;
    }
    if (kind == HL_JULIA_F32 || kind == HL_JULIA_F32_SMOOTH) {
        /* the float32 kernels test |z|^2 against this float: it must be normal and finite
         * (julia.h), or the test would escape at float overflow or at once */
        const float t2 = (float)(params->threshold * params->threshold);
        if (!(t2 >= FLT_MIN && t2 <= FLT_MAX)) {
            return HL_EINVAL;
        }
    }
    size_t n;
    if (!hl_size_mul(grid->nx, grid->ny, &n)) {
        return HL_ENOMEM;
    }
    if (n == 0) {
        return HL_OK;
    }
    if (params->itermax == 0) { /* only COUNTS gets here: every count is 0 */
        memset(out, 0, n * sizeof(uint32_t));
        return HL_OK;
    }
    jl_job job;
    memset(&job, 0, sizeof job);
    setup_job(&job, params);
    job.source = JL_SRC_GRID;
    job.kind = kind;
    job.nx = grid->nx;
    job.ny = grid->ny;
    job.out = out;
    hl_status st = HL_ENOMEM;
    double *xs = hl_aligned_alloc(64, grid->nx, sizeof(double));
    double *ys = hl_aligned_alloc(64, grid->ny + 16, sizeof(double));
    float *xs32 = NULL, *ys32 = NULL;
    double *table = NULL;
    uint8_t *lut8 = NULL;
    float *table32 = NULL;
    const bool f32 = kind == HL_JULIA_F32 || kind == HL_JULIA_F32_SMOOTH;
    if (xs == NULL || ys == NULL) {
        goto done;
    }
    for (size_t i = 0; i < grid->nx; i++) {
        xs[i] = hl_julia_linspace_at(grid->x_start, grid->x_stop, grid->nx, i);
    }
    for (size_t j = 0; j < grid->ny + 16; j++) {
        ys[j] = j < grid->ny ? hl_julia_linspace_at(grid->y_start, grid->y_stop, grid->ny, j) : 0.0;
    }
    if (f32) {
        xs32 = hl_aligned_alloc(64, grid->nx, sizeof(float));
        ys32 = hl_aligned_alloc(64, grid->ny + 16, sizeof(float));
        if (xs32 == NULL || ys32 == NULL) {
            goto done;
        }
        for (size_t i = 0; i < grid->nx; i++) {
            xs32[i] = (float)xs[i];
        }
        for (size_t j = 0; j < grid->ny + 16; j++) {
            ys32[j] = (float)ys[j];
        }
    }
    if ((kind == HL_JULIA_NORMALISED || kind == HL_JULIA_F32) && params->itermax <= JL_TABLE_MAX) {
        table = hl_alloc_array((size_t)params->itermax + 1, sizeof(double));
        if (table == NULL) {
            goto done;
        }
        for (uint32_t c = 0; c <= params->itermax; c++) {
            table[c] = jl_normalise(&job, c);
        }
    }
    if (kind == HL_JULIA_PICTURE && params->itermax <= JL_TABLE_MAX) {
        lut8 = hl_alloc_array((size_t)params->itermax + 1, 1);
        if (lut8 == NULL) {
            goto done;
        }
        for (uint32_t c = 0; c <= params->itermax; c++) {
            lut8[c] = jl_level(jl_normalise(&job, c));
        }
    }
    if (kind == HL_JULIA_F32 && params->itermax <= JL_TABLE_MAX) {
        table32 = hl_alloc_array((size_t)params->itermax + 1, sizeof(float));
        if (table32 == NULL) {
            goto done;
        }
        for (uint32_t c = 0; c <= params->itermax; c++) {
            table32[c] = (float)jl_normalise(&job, c);
        }
    }
    job.table32 = table32;
    job.lut8 = lut8;
    job.xs = xs;
    job.ys = ys;
    job.xs32 = xs32;
    job.ys32 = ys32;
    job.table = table;
    st = run_job(&job, n, opts, mon);
done:
    hl_aligned_free(xs);
    hl_aligned_free(ys);
    hl_aligned_free(xs32);
    hl_aligned_free(ys32);
    free(table);
    free(lut8);
    free(table32);
    return st;
}

hl_status hl_julia_points(const hl_julia_params *params, const double *z, size_t n, uint32_t *out,
                          const hl_julia_options *opts, hl_monitor *mon) {
    if (check_params(params) != HL_OK || (n > 0 && (z == NULL || out == NULL))) {
        return HL_EINVAL;
    }
    if (n == 0) {
        return HL_OK;
    }
    if (params->itermax == 0) {
        memset(out, 0, n * sizeof(uint32_t));
        return HL_OK;
    }
    jl_job job;
    memset(&job, 0, sizeof job);
    setup_job(&job, params);
    job.source = JL_SRC_POINTS;
    job.kind = HL_JULIA_COUNTS;
    job.pts = z;
    job.out = out;
    return run_job(&job, n, opts, mon);
}

static double scalar_peak(double seconds) {
    /* Portable estimate: independent scalar multiply-adds through fma(). */
    double acc[8];
    for (int i = 0; i < 8; i++) {
        acc[i] = 1.0 + 1e-3 * i;
    }
    const double t0 = jl_cpu_seconds();
    double t1 = t0;
    unsigned long long rounds = 0;
    do {
        for (unsigned r = 0; r < 4096; r++) {
            for (int i = 0; i < 8; i++) {
                acc[i] = fma(acc[i], 0.999999, 1e-7);
            }
        }
        rounds += 4096;
        t1 = jl_cpu_seconds();
    } while (t1 - t0 < seconds);
    double s = 0.0;
    for (int i = 0; i < 8; i++) {
        s += acc[i];
    }
    return s > 0.0 ? (double)rounds * 8.0 / (t1 - t0) : 0.0;
}

hl_status hl_julia_fma_peak(hl_simd_level level, double seconds, double *ops_per_s) {
    if (ops_per_s == NULL || !(seconds > 0.0) || !(seconds <= 10.0)) {
        return HL_EINVAL;
    }
    const hl_simd_level lv = hl_cpu_resolve_level(level);
#if defined(HL_X86_64)
    if (lv == HL_SIMD_AVX512) {
        *ops_per_s = jl_fma_peak_avx512(seconds);
        return HL_OK;
    }
    if (lv == HL_SIMD_AVX2) {
        *ops_per_s = jl_fma_peak_avx2(seconds);
        return HL_OK;
    }
#endif
    (void)lv;
    *ops_per_s = scalar_peak(seconds);
    return HL_OK;
}

hl_status hl_julia_picture(const void *values, bool f32, size_t nx, size_t ny, uint8_t *out) {
    size_t n;
    if (!hl_size_mul(nx, ny, &n)) {
        return HL_ENOMEM;
    }
    if (n == 0) {
        return HL_OK;
    }
    if (values == NULL || out == NULL) {
        return HL_EINVAL;
    }
    const double *vd = values;
    const float *vf = values;
    /* 64 x 64 tiles: the reads of a tile stay in L1 while its transposed writes fill lines. */
    const size_t tile = 64;
    for (size_t i0 = 0; i0 < nx; i0 += tile) {
        const size_t i1 = i0 + tile < nx ? i0 + tile : nx;
        for (size_t j0 = 0; j0 < ny; j0 += tile) {
            const size_t j1 = j0 + tile < ny ? j0 + tile : ny;
            for (size_t j = j0; j < j1; j++) {
                uint8_t *row = out + (ny - 1 - j) * nx;
                for (size_t i = i0; i < i1; i++) {
                    row[i] = jl_level(f32 ? (double)vf[i * ny + j] : vd[i * ny + j]);
                }
            }
        }
    }
    return HL_OK;
}
