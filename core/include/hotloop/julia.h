/*
 * hotloop/julia.h: filled Julia (and Mandelbrot) set images by escape time.
 *
 * The iteration is z <- z*z + c from z_0; a pixel's escape count is the first i in
 * 0..itermax-1 with |z_{i+1}| >= threshold, else itermax. In the float64 mode every result is
 * bit-identical to NumPy's array loop (the source document's `JuliaDiv.over`), which on x86-64
 * with FMA computes, per complex128 element:
 *
 *   np.square(z):  re = fma(x, x, -(y*y)),  im = fma(x, y, y*x)   (Highway's MulComplex)
 *   np.abs(z):     L = max(|x|,|y|), S = min(|x|,|y|), r = S/L (0 when L == 0 or S == inf),
 *                  |z| = sqrt(fma(r, r, 1)) * L, with inf/nan handled as NumPy does
 *
 * Those are exact IEEE operations (fused where NumPy fuses, nowhere else), so the scalar, AVX2
 * and AVX-512 paths give identical counts (the SIMD paths form im as x*y + x*y, which equals
 * fma(x, y, x*y) for every input: the fused sum 2p + (xy - p) rounds back to 2p). The fast paths
 * compare |z|^2, formed with adds as t + 2*y*y from t = x*x - y*y (the square's real part, within 3
 * ulp of |z|^2), with threshold^2 and call the exact |z| above only in a band of relative width
 * 2^-36 around threshold^2, where the two could disagree (see julia_internal.h for the error
 * bound; the AVX-512 float64 loop filters with fma(x, x, y*y), within 2 ulp, and decides from
 * t + 2*y*y). NumPy's Python-level twins live in hotloop.reference.julia.
 *
 * Grid pixels follow np.linspace exactly: x_k = k*step + start with step = (stop-start)/(n-1),
 * the last value set to stop (see hl_julia_linspace_at). Output arrays are (nx, ny) row-major:
 * x along axis 0, so out[i*ny + j] is the pixel z_0 = x_i + i*y_j.
 *
 * The float32 mode runs the same recurrence in single precision (escape when the float32
 * t + 2*y*y >= threshold^2): an explicitly approximate fast mode whose counts differ from
 * float64 near the set's edge; scalar and AVX-512 float32 give the same counts. It needs
 * threshold^2, rounded to float, to be a normal finite float32 (threshold from 2^-63 to about
 * 1.8e19): outside that range the float32 test cannot tell |z| from the threshold.
 */
#ifndef HOTLOOP_JULIA_H
#define HOTLOOP_JULIA_H

#include "hotloop/common.h"
#include "hotloop/cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The recurrence. itermin only matters for normalised output. */
typedef struct hl_julia_params {
    double c_re, c_im; /* c_0 of the Julia set; ignored when mandelbrot is true */
    double threshold;  /* escape radius: > 0, not NaN (+inf allowed: escape on overflow) */
    uint32_t itermin;  /* normalisation floor, itermin < itermax for normalised output */
    uint32_t itermax;  /* iteration cap (0 allowed for raw counts: every count is 0) */
    bool mandelbrot;   /* true: c = the pixel and z_0 = 0 (the Mandelbrot set) */
} hl_julia_params;

/* A grid of pixels: x = linspace(x_start, x_stop, nx), y = linspace(y_start, y_stop, ny).
 * Bounds finite; nx, ny may be 0 (an empty image); nx*ny must fit size_t. */
typedef struct hl_julia_grid {
    double x_start, x_stop, y_start, y_stop;
    size_t nx, ny;
} hl_julia_grid;

/* What a render writes per pixel. */
typedef enum hl_julia_output {
    HL_JULIA_COUNTS = 0,         /* uint32_t: the escape count */
    HL_JULIA_NORMALISED = 1,     /* double: (max(count, itermin) - itermin) / (itermax - itermin) */
    HL_JULIA_SMOOTH = 2,         /* double: the same with the continuous escape time (see below) */
    HL_JULIA_F32 = 3,            /* float: NORMALISED from the float32 recurrence (approximate) */
    HL_JULIA_F32_SMOOTH = 4,     /* float: SMOOTH from the float32 recurrence (approximate) */
    HL_JULIA_PICTURE = 5,        /* uint8 picture of ny rows x nx columns, row 0 = the last y:
                                    uint8(NORMALISED * 255), the document's PNG pixels */
    HL_JULIA_PICTURE_SMOOTH = 6, /* the same from SMOOTH */
} hl_julia_output;

/* Options that change speed only, never results (float64 results are identical on every
 * level and thread count; float32 results are identical across thread counts). */
typedef struct hl_julia_options {
    hl_simd_level level; /* HL_SIMD_AUTO: the best active level; lowered to what is active */
    unsigned n_threads;  /* 0 = all CPUs */
} hl_julia_options;

/* The k-th of n values of np.linspace(start, stop, n) (endpoint included), bit for bit:
 * n == 1 gives start; otherwise step = (stop - start) / (n - 1) and value k*step + start,
 * or (k / (n - 1)) * (stop - start) + start when step underflows to 0; k == n - 1 gives stop.
 * Requires k < n. Pure. */
HL_API double hl_julia_linspace_at(double start, double stop, size_t n, size_t k);

/* |re + i*im| exactly as NumPy's complex128 absolute (the SIMD loop quoted above, FMA
 * included), including its inf/nan rules: inf if either part is inf, else nan if either is
 * nan. Pure. */
HL_API double hl_julia_numpy_abs(double re, double im);

/* The escape count of one starting point with the scalar reference recurrence and the exact
 * |z| test at every step (no fast filter): the oracle the C tests compare every path with.
 * For the Mandelbrot set pass (z0 = 0, c = pixel). Pure. */
HL_API uint32_t hl_julia_escape_reference(double z_re, double z_im, double c_re, double c_im,
                                          double threshold, uint32_t itermax);

/* Smooth (continuous) escape time of a pixel that escaped at count i with log|z_{i+1}| =
 * log_modulus (natural log; Vepstas' renormalisation with escape radius R = threshold > 1):
 *   nu = i + 1 - log2(log_modulus / log(R)),
 * clamped to [i, i + 1] (so nu is monotone in i and continuous across bands; NaN gives i),
 * and itermax for a pixel that never escaped. The input is log|z|, not |z|^2: |z_{i+1}| can
 * reach threshold^2, so |z_{i+1}|^2 overflows the doubles for any threshold above about
 * 1.2e77; the renders compute log|z| without that overflow (hl_julia_log_modulus). Pure. */
HL_API double hl_julia_smooth_value(uint32_t count, double log_modulus, double threshold,
                                    uint32_t itermax);

/* log|re + i*im| (natural log) for any finite re, im, without forming re^2 + im^2: the parts
 * are scaled by a power of two first, so the result is accurate to a few ulp even where
 * |z|^2 or |z| itself overflows. log(0) = -inf; inf or NaN parts give +inf or NaN. Pure. */
HL_API double hl_julia_log_modulus(double re, double im);

/* log|z^2 + c| (natural log) for finite z and c, with z^2 + c computed after scaling by a
 * power of two, so it is right where z^2 + c itself overflows the doubles (the smooth value of
 * a pixel whose escaping z_{i+1} = z_i^2 + c is infinite in double arithmetic). Pure. */
HL_API double hl_julia_log_modulus_next(double z_re, double z_im, double c_re, double c_im);

/*
 * Renders the grid: writes nx*ny values of the kind `kind` into `out` (uint32_t for
 * COUNTS, double for NORMALISED/SMOOTH, float for the F32 kinds, row-major (nx, ny); uint8_t
 * for the PICTURE kinds, row-major (ny, nx) with row 0 = the last y).
 * `out` must not alias anything else; nothing but `out` is written and no image-sized scratch
 * is allocated (per-thread state only).
 *
 * Errors: HL_EINVAL for NULL pointers, non-finite bounds or c, threshold <= 0 or NaN,
 * itermin >= itermax for the normalised kinds, threshold <= 1 for the smooth kinds, a
 * threshold outside the float32 range above for the F32 kinds, an unknown kind; HL_ENOMEM
 * when nx*ny overflows or threads fail; HL_ECANCELLED when the monitor asks (within about a
 * millisecond of work, even for huge itermax). Thread-safe; deterministic.
 */
HL_API hl_status hl_julia_render(const hl_julia_params *params, const hl_julia_grid *grid,
                                 hl_julia_output kind, void *out, const hl_julia_options *opts,
                                 hl_monitor *mon);

/*
 * Escape counts of n arbitrary starting points z[0..n) (interleaved re, im pairs, any values
 * including inf/nan, which behave as in NumPy) into out[0..n). In Mandelbrot mode the points
 * are the c values and z_0 = 0. Errors as hl_julia_render (itermin is ignored). Thread-safe.
 */
HL_API hl_status hl_julia_points(const hl_julia_params *params, const double *z, size_t n,
                                 uint32_t *out, const hl_julia_options *opts, hl_monitor *mon);

/*
 * Converts an (nx, ny) image of values in [0, 1] (double, or float when `f32`) into an 8-bit
 * picture of ny rows and nx columns with row 0 = the last y (the top of the plane):
 * out[(ny - 1 - j) * nx + i] = (uint8_t)(value[i][j] * 255), the document's uint8(value * 255)
 * (truncation; values outside [0, 1] saturate). Cache-blocked transpose. Thread-safe.
 */
HL_API hl_status hl_julia_picture(const void *values, bool f32, size_t nx, size_t ny, uint8_t *out);

/*
 * Measures the core's double-precision multiply/FMA throughput on `level` (after resolving):
 * runs independent FMA chains for about `seconds` of the thread's CPU time (time spent
 * descheduled on a busy machine does not lower the figure) and returns lane-operations per second
 * (one 4-lane FMA counts 4) in *ops_per_s. The benchmark divides the kernel's multiply-class
 * operations per second by it. Single-threaded.
 */
HL_API hl_status hl_julia_fma_peak(hl_simd_level level, double seconds, double *ops_per_s);

#ifdef __cplusplus
}
#endif
#endif /* HOTLOOP_JULIA_H */
