/*
 * julia_internal.h: what the julia driver (julia.c) and its per-ISA kernels share: the job
 * description, the cancellation control, the exact NumPy arithmetic and the pixel sink.
 *
 * Not a public header: the kernels are reached only through hl_julia_render/hl_julia_points.
 */
#ifndef HOTLOOP_JULIA_INTERNAL_H
#define HOTLOOP_JULIA_INTERNAL_H

#include <math.h>
#include <stdatomic.h>
#include <time.h>

#include "hotloop/julia.h"

/* The escape filter's band. |z|^2 is formed as n = t + 2*y*y from t = fl(x*x - fl(y*y))
 * (NumPy's real part before + c): the roundings of y*y, of t and of the sum give
 * |n - (x^2 + y^2)| <= 3 * 2^-53 * (x^2 + y^2). NumPy's |z| (ratio, fma, sqrt, mul: about 4 ulp
 * of the true modulus) can only disagree with comparing n and threshold^2 inside a relative
 * band far wider than both, 2^-36: below `lo` a point has certainly not escaped, at or above
 * `hi` it certainly has, and in between (or for NaN) the exact NumPy |z| decides. The bound
 * needs threshold^2 far from overflow and underflow: outside [2^-300, 2^300] the band covers
 * everything (lo = -1, hi = NaN) and every step uses the exact test. The AVX-512 float64
 * kernel's loop filters with fma(x, x, fl(y*y)) instead, within 2 * 2^-53 * (x^2 + y^2), and
 * decides a frozen lane from t + 2*y*y again. */
#define JL_BAND 0x1p-36
#define JL_INF HUGE_VAL
#define JL_NAN ((double)NAN)
#define JL_FILTER_MIN 0x1p-300
#define JL_FILTER_MAX 0x1p300

/* Thresholds for which the AVX-512 kernel may test every second step: at least 1 and at
 * most 2^60 (so that |z_f - c|^2, about |z_{f-1}|^4 <= (threshold^2 + |c|)^4, stays far from
 * overflow). */
#define JL_ABSORB_MIN 1.0
#define JL_ABSORB_MAX 0x1p60

/* Whether escape is absorbing: once NumPy's |z_j| >= threshold, every later computed z_k
 * (k > j) has a filter value (t + 2*y*y, or the AVX-512 loop's fma form) >= lo, or is
 * infinite or NaN, so a lane that escaped at a step nobody tested still freezes at the next
 * tested one.
 *
 * Why: with t the threshold and |z_j| >= t (1 - 6 eps) (NumPy's |z| is within a few ulp), the
 * next computed z is within 8 eps (|z_j|^2 + |c|) of z_j^2 + c (eps = 2^-53: the roundings of
 * y*y, the fmsub, 2*xy and the two adds), so |z_{j+1}| >= |z_j|^2 (1 - 8 eps) - |c| (1 + 8 eps)
 * >= t whenever t^2 - t >= |c| with a margin far above these few eps; the filter's own error
 * (3 ulp) is far inside lo = t^2 (1 - 2^-36). By induction every later z stays beyond t, until
 * a part overflows to infinity (then the filter value is infinite or NaN, which also
 * freezes).
 * The margins below (2^-30, relative) cover all of that and the rounding of this test itself;
 * |c| is bounded by |c_re| + |c_im|. The threshold range keeps t^4 and |z_f - c|^2 finite
 * (see JL_ABSORB_MAX). Mandelbrot's c varies per pixel and is not covered. */
static inline bool jl_escape_absorbing(double threshold, double c_re, double c_im) {
    if (!(threshold >= JL_ABSORB_MIN && threshold <= JL_ABSORB_MAX)) {
        return false;
    }
    const double t2 = threshold * threshold;
    return t2 - threshold - 0x1p-30 * t2 >= (fabs(c_re) + fabs(c_im)) * (1.0 + 0x1p-30);
}

/* How many inner steps a kernel runs between two looks at the cancellation flag. */
#define JL_POLL_STEPS 2048u

/* Where pixels come from. */
typedef enum jl_source {
    JL_SRC_GRID = 0,   /* pixel p = (xs[p / ny], ys[p % ny]) */
    JL_SRC_POINTS = 1, /* pixel p = (pts[2p], pts[2p+1]) */
} jl_source;

/* Cancellation: worker 0 (the thread that entered the call, the only one allowed to run the
 * monitor's check) asks the monitor; any worker that sees `flag` set stops. The parallel
 * loop's own join-time polls go through the same check (jl_monitor_check), so a worker busy in
 * a long chunk stops too. */
typedef struct jl_ctl {
    atomic_int flag;
    hl_monitor *outer; /* the caller's monitor (may be NULL) */
} jl_ctl;

/* One render or points call, shared read-only by all workers. */
typedef struct jl_job {
    jl_source source;
    hl_julia_output kind;
    bool mandelbrot;
    double c_re, c_im;
    double threshold, lo, hi; /* escape radius and the filter band on |z|^2 */
    /* Escape is absorbing for these parameters (see jl_escape_absorbing): the AVX-512 kernel
     * may then test every second step (kernel_avx512.c), deciding the untested step of a
     * frozen lane from |z_f - c|^2 against the band [t4lo, t4hi] around threshold^4. */
    bool absorbing;
    double t4lo, t4hi;
    uint32_t itermin, itermax;
    double norm_den; /* (double)(itermax - itermin) */
    /* grid: linspace values, ys padded to a multiple of 16 with zeros */
    const double *xs, *ys;
    const float *xs32, *ys32;
    size_t nx, ny;
    const double *pts;    /* points source: interleaved re, im */
    const double *table;  /* normalised value per count (NULL: compute) */
    const uint8_t *lut8;  /* picture level per count (NULL: compute) */
    const float *table32; /* float32 normalised value per count (NULL: compute) */
    void *out;
    jl_ctl *ctl;
} jl_job;

/* Returns true when the call should stop; worker 0 also asks the caller's monitor. */
/* The calling thread's CPU time in seconds, for the FMA peak measurements: the peak is a
 * property of the core, and wall time would count the moments a shared machine gives the
 * thread's core to someone else (that made the C test's sanity check fail under load). */
static inline double jl_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline bool jl_should_stop(jl_ctl *ctl, unsigned worker) {
    if (worker == 0 && ctl->outer != NULL && ctl->outer->check != NULL &&
        hl_monitor_poll(ctl->outer) != HL_OK) {
        atomic_store_explicit(&ctl->flag, 1, memory_order_relaxed);
        return true;
    }
    return atomic_load_explicit(&ctl->flag, memory_order_relaxed) != 0;
}

/* NumPy's complex128 absolute value (see julia.h), in scalar form: the masks of its SIMD
 * loop become branches; fma() is the correctly rounded fused multiply-add. */
static inline double jl_numpy_abs(double re, double im) {
    double a = fabs(re), b = fabs(im);
    const bool a_inf = a == JL_INF, b_inf = b == JL_INF;
    if (a_inf) {
        b = JL_INF;
    }
    if (b_inf) {
        a = JL_INF;
    }
    const bool a_nan = isnan(a), b_nan = isnan(b);
    if (a_nan) {
        b = JL_NAN;
    }
    if (b_nan) {
        a = JL_NAN;
    }
    if (isnan(a)) {
        return a;
    }
    const double larger = a > b ? a : b;
    const double smaller = a > b ? b : a;
    const double ratio = (larger == 0.0 || smaller == JL_INF) ? 0.0 : smaller / larger;
    return sqrt(fma(ratio, ratio, 1.0)) * larger;
}

/* log(2), for the power-of-two scalings below. */
#define JL_LN2 0x1.62e42fefa39efp-1

/* log|re + i*im| without forming re^2 + im^2 (hl_julia_log_modulus): both parts scaled by
 * 2^-e, e the exponent of the larger, so the sum of squares lies in [1, 8). Zero, infinite
 * and NaN parts take log(hypot()), which gives -inf, +inf and NaN as they should. */
static inline double jl_log_modulus(double re, double im) {
    const double a = fabs(re), b = fabs(im);
    const double m = a > b ? a : b;
    if (!(m > 0.0) || m == JL_INF || isnan(a) || isnan(b)) {
        return log(hypot(a, b));
    }
    const int e = ilogb(m);
    const double sa = ldexp(a, -e), sb = ldexp(b, -e);
    return (double)e * JL_LN2 + 0.5 * log(sa * sa + sb * sb);
}

/* log|z^2 + c| for finite z and c (hl_julia_log_modulus_next; +inf for infinite parts, NaN
 * for NaN ones): z scaled by 2^-e and c by 2^-2e (exact), with e large enough that neither |z|
 * nor sqrt|c| exceeds about 2 after scaling, so the square and the sum cannot overflow; the
 * result adds back 2e*log(2). For the smooth value of a pixel whose escaping z_{i+1}
 * overflowed in double (or float) arithmetic. */
static inline double jl_log_modulus_next(double x, double y, double cr, double ci) {
    if (isnan(x) || isnan(y) || isnan(cr) || isnan(ci)) {
        return JL_NAN;
    }
    if (!(isfinite(x) && isfinite(y) && isfinite(cr) && isfinite(ci))) {
        return JL_INF; /* float32 parts beyond the float range: no scale brings them back */
    }
    const double mz = fmax(fabs(x), fabs(y)), mc = fmax(fabs(cr), fabs(ci));
    int e = mz > 0.0 ? ilogb(mz) : 0;
    if (mc > 0.0 && (mz == 0.0 || ilogb(mc) / 2 > e)) {
        e = ilogb(mc) / 2;
    }
    const double u = ldexp(x, -e), v = ldexp(y, -e);
    const double re = (u * u - v * v) + ldexp(cr, -2 * e);
    const double im = 2.0 * u * v + ldexp(ci, -2 * e);
    return 2.0 * (double)e * JL_LN2 + jl_log_modulus(re, im);
}

/* log|z_{i+1}| of an escaped pixel, from what the kernel has at the escape: norm2 = the
 * |z_{i+1}|^2 of the filter (t + 2*y*y), z_{i+1} = (x, y) and z_i = (px, py). While norm2 is
 * finite, 0.5*log(norm2), the value every kernel's jl_store computes; where it overflowed (or
 * is NaN) the same without the square, from z_{i+1} if finite, else from z_i and c. */
static inline double jl_escape_log_modulus(double norm2, double x, double y, double px, double py,
                                           double cr, double ci) {
    if (isfinite(norm2)) {
        return 0.5 * log(norm2);
    }
    if (isfinite(x) && isfinite(y)) {
        return jl_log_modulus(x, y);
    }
    return jl_log_modulus_next(px, py, cr, ci);
}

static inline bool jl_kind_smooth(hl_julia_output kind) {
    return kind == HL_JULIA_SMOOTH || kind == HL_JULIA_F32_SMOOTH ||
           kind == HL_JULIA_PICTURE_SMOOTH;
}

/* Normalised value of a count: (max(count, itermin) - itermin) / (itermax - itermin), the
 * document's formula in uint32 then float64 arithmetic. */
static inline double jl_normalise(const jl_job *job, uint32_t count) {
    const uint32_t m = count > job->itermin ? count : job->itermin;
    return (double)(m - job->itermin) / job->norm_den;
}

/* The document's uint8(value * 255) for value in [0, 1] (saturating, NaN -> 0). */
static inline uint8_t jl_level(double v) {
    const double s = v * 255.0;
    if (!(s > 0.0)) {
        return 0;
    }
    return s >= 255.0 ? 255 : (uint8_t)s;
}

/* Where pixel p = i*ny + j goes in the picture: row ny-1-j, column i. */
static inline size_t jl_picture_index(const jl_job *job, size_t p) {
    const size_t i = p / job->ny, j = p % job->ny;
    return (job->ny - 1 - j) * job->nx + i;
}

/* Writes the result of pixel p: its count, and for the smooth kinds log|z_{count+1}| of the
 * escaped point (ignored when count == itermax or for the other kinds). */
static inline void jl_store_log(const jl_job *job, size_t p, uint32_t count, double log_modulus) {
    switch (job->kind) {
    case HL_JULIA_COUNTS:
        ((uint32_t *)job->out)[p] = count;
        break;
    case HL_JULIA_NORMALISED:
        ((double *)job->out)[p] = job->table != NULL ? job->table[count] : jl_normalise(job, count);
        break;
    case HL_JULIA_SMOOTH: {
        const double nu = hl_julia_smooth_value(count, log_modulus, job->threshold, job->itermax);
        const double lo = (double)job->itermin;
        ((double *)job->out)[p] = (nu > lo ? nu - lo : 0.0) / job->norm_den;
        break;
    }
    case HL_JULIA_F32:
        ((float *)job->out)[p] =
            (float)(job->table != NULL ? job->table[count] : jl_normalise(job, count));
        break;
    case HL_JULIA_F32_SMOOTH: {
        const double nu = hl_julia_smooth_value(count, log_modulus, job->threshold, job->itermax);
        const double lo = (double)job->itermin;
        ((float *)job->out)[p] = (float)((nu > lo ? nu - lo : 0.0) / job->norm_den);
        break;
    }
    case HL_JULIA_PICTURE:
        ((uint8_t *)job->out)[jl_picture_index(job, p)] =
            job->lut8 != NULL ? job->lut8[count] : jl_level(jl_normalise(job, count));
        break;
    case HL_JULIA_PICTURE_SMOOTH: {
        const double nu = hl_julia_smooth_value(count, log_modulus, job->threshold, job->itermax);
        const double lo = (double)job->itermin;
        ((uint8_t *)job->out)[jl_picture_index(job, p)] =
            jl_level((nu > lo ? nu - lo : 0.0) / job->norm_den);
        break;
    }
    }
}

/* jl_store_log with the escaped |z_{count+1}|^2 = norm2 as the SIMD kernels have it. Their
 * norm2 must be finite for the smooth kinds: they hand pixels whose |z|^2 overflowed to the
 * scalar kernels, which keep z and compute log|z| without the square. */
static inline void jl_store(const jl_job *job, size_t p, uint32_t count, double norm2) {
    jl_store_log(job, p, count, jl_kind_smooth(job->kind) ? 0.5 * log(norm2) : 0.0);
}

/* Kernels: process pixels [begin, end) of the job; HL_OK or HL_ECANCELLED. */
/* One pixel of a float64 job by the scalar kernel (the SIMD kernels' rare exact path). */
hl_status jl_pixel_scalar(const jl_job *job, size_t p, unsigned worker);
hl_status jl_kernel_scalar(const jl_job *job, size_t begin, size_t end, unsigned worker);
hl_status jl_kernel_f32_scalar(const jl_job *job, size_t begin, size_t end, unsigned worker);
#if defined(HL_X86_64)
hl_status jl_kernel_avx2(const jl_job *job, size_t begin, size_t end, unsigned worker);
hl_status jl_kernel_avx512(const jl_job *job, size_t begin, size_t end, unsigned worker);
hl_status jl_kernel_f32_avx512(const jl_job *job, size_t begin, size_t end, unsigned worker);
double jl_fma_peak_avx2(double seconds);
double jl_fma_peak_avx512(double seconds);
#endif

#endif /* HOTLOOP_JULIA_INTERNAL_H */
