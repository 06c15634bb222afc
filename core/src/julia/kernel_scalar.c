/* The portable julia kernels (float64 exact and float32 approximate), one pixel at a time.
 * The float64 kernel is the reference the SIMD kernels must equal bit for bit. */
#include "julia_internal.h"

/* The starting point and constant of pixel p. */
static inline void pixel(const jl_job *job, size_t p, double *z_re, double *z_im, double *c_re,
                         double *c_im) {
    double a, b;
    if (job->source == JL_SRC_GRID) {
        a = job->xs[p / job->ny];
        b = job->ys[p % job->ny];
    } else {
        a = job->pts[2 * p];
        b = job->pts[2 * p + 1];
    }
    if (job->mandelbrot) {
        *z_re = 0.0;
        *z_im = 0.0;
        *c_re = a;
        *c_im = b;
    } else {
        *z_re = a;
        *z_im = b;
        *c_re = job->c_re;
        *c_im = job->c_im;
    }
}

/* The escape count of one pixel. |z|^2 is formed as t + 2*y*y from t = x*x - y*y, the real
 * part of NumPy's square before + c (the SIMD kernels form it the same way, so smooth values
 * agree across levels too). For the smooth kinds *log_modulus gets log|z_{count+1}| of an
 * escaped pixel (jl_escape_log_modulus: z_i is kept for the case where z_{i+1} overflowed).
 * Polls for cancellation every JL_POLL_STEPS steps through *budget; returns false when
 * cancelled. */
static inline bool escape_one(const jl_job *job, size_t p, unsigned worker, uint32_t *budget,
                              uint32_t *count, double *log_modulus) {
    const double lo = job->lo, hi = job->hi, thr = job->threshold;
    double x, y, cr, ci;
    pixel(job, p, &x, &y, &cr, &ci);
    double y2 = y * y;
    double t = fma(x, x, -y2);
    *count = job->itermax;
    *log_modulus = 0.0;
    for (uint32_t i = 0; i < job->itermax; i++) {
        /* np.square then + c_0: re = fma(x, x, -y*y), im = fma(x, y, y*x). */
        const double px = x, py = y;
        const double xy = x * y;
        const double ny = fma(x, y, xy) + ci;
        x = t + cr;
        y = ny;
        y2 = y * y;
        t = fma(x, x, -y2);
        const double n = t + (y2 + y2);
        if (!(n < lo) && (n >= hi || jl_numpy_abs(x, y) >= thr)) {
            *count = i;
            if (jl_kind_smooth(job->kind)) {
                *log_modulus = jl_escape_log_modulus(n, x, y, px, py, cr, ci);
            }
            return true;
        }
        if (--*budget == 0) {
            *budget = JL_POLL_STEPS;
            if (jl_should_stop(job->ctl, worker)) {
                return false;
            }
        }
    }
    return true;
}

hl_status jl_pixel_scalar(const jl_job *job, size_t p, unsigned worker) {
    uint32_t budget = JL_POLL_STEPS, count;
    double log_modulus;
    if (!escape_one(job, p, worker, &budget, &count, &log_modulus)) {
        return HL_ECANCELLED;
    }
    jl_store_log(job, p, count, log_modulus);
    return HL_OK;
}

hl_status jl_kernel_scalar(const jl_job *job, size_t begin, size_t end, unsigned worker) {
    uint32_t budget = JL_POLL_STEPS;
    for (size_t p = begin; p < end; p++) {
        uint32_t count;
        double log_modulus;
        if (!escape_one(job, p, worker, &budget, &count, &log_modulus)) {
            return HL_ECANCELLED;
        }
        jl_store_log(job, p, count, log_modulus);
    }
    return HL_OK;
}

/* The float32 recurrence: the same formulas in single precision; escape when t + 2*y*y >=
 * threshold^2 in float32 (no exact band: this mode is approximate by contract). */
hl_status jl_kernel_f32_scalar(const jl_job *job, size_t begin, size_t end, unsigned worker) {
    const float t2 = (float)(job->threshold * job->threshold);
    const uint32_t itermax = job->itermax;
    uint32_t budget = JL_POLL_STEPS;
    for (size_t p = begin; p < end; p++) {
        float a, b;
        if (job->source == JL_SRC_GRID) {
            a = job->xs32[p / job->ny];
            b = job->ys32[p % job->ny];
        } else {
            a = (float)job->pts[2 * p];
            b = (float)job->pts[2 * p + 1];
        }
        float x = a, y = b, cr = (float)job->c_re, ci = (float)job->c_im;
        if (job->mandelbrot) {
            x = 0.0f;
            y = 0.0f;
            cr = a;
            ci = b;
        }
        uint32_t count = itermax;
        double log_modulus = 0.0;
        float y2 = y * y;
        float t = fmaf(x, x, -y2);
        for (uint32_t i = 0; i < itermax; i++) {
            const float px = x, py = y;
            const float xy = x * y;
            const float ny = fmaf(x, y, xy) + ci;
            x = t + cr;
            y = ny;
            y2 = y * y;
            t = fmaf(x, x, -y2);
            const float n = t + (y2 + y2);
            if (!(n < t2)) {
                count = i;
                if (jl_kind_smooth(job->kind)) {
                    /* |z|^2 overflows float32 for thresholds above about 1.4e9 (|z_{i+1}| up
                     * to threshold^2): then log|z| in double from the float z_{i+1}, or from
                     * z_i where z_{i+1} itself overflowed */
                    log_modulus = jl_escape_log_modulus((double)n, (double)x, (double)y, (double)px,
                                                        (double)py, (double)cr, (double)ci);
                }
                break;
            }
            if (--budget == 0) {
                budget = JL_POLL_STEPS;
                if (jl_should_stop(job->ctl, worker)) {
                    return HL_ECANCELLED;
                }
            }
        }
        jl_store_log(job, p, count, log_modulus);
    }
    return HL_OK;
}
