/* Tests of the julia kernel: np.linspace and NumPy |z| arithmetic, every SIMD level and
 * thread count against the scalar per-pixel reference (exact |z| at every step), the band
 * around the threshold, non-finite points, smooth values for huge thresholds, cancellation, bad
 * arguments. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hotloop/julia.h"
#include "hotloop/rng.h"

static const hl_simd_level levels[] = {HL_SIMD_SCALAR, HL_SIMD_AVX2, HL_SIMD_AVX512};

HL_TEST(julia_linspace_matches_numpy_rules) {
    /* np.linspace(-1.6, 1.6, 5) = [-1.6, -0.8, 0, 0.8, 1.6] with k*step + start. */
    const double step = (1.6 - -1.6) / 4.0;
    for (size_t k = 0; k < 4; k++) {
        CHECK(hl_julia_linspace_at(-1.6, 1.6, 5, k) == (double)k * step + -1.6);
    }
    CHECK(hl_julia_linspace_at(-1.6, 1.6, 5, 4) == 1.6);
    CHECK(hl_julia_linspace_at(3.0, 7.0, 1, 0) == 3.0);
    /* A step that underflows to 0 takes the divide-first branch. */
    const double a = 1e-320, b = 2e-320;
    CHECK((b - a) / 9999.0 == 0.0);
    CHECK(hl_julia_linspace_at(a, b, 10000, 5000) == (5000.0 / 9999.0) * (b - a) + a);
}

HL_TEST(julia_numpy_abs_special_values) {
    CHECK(hl_julia_numpy_abs(3.0, 4.0) == 5.0);
    CHECK(hl_julia_numpy_abs(0.0, 0.0) == 0.0);
    CHECK(hl_julia_numpy_abs(-2.0, 0.0) == 2.0);
    CHECK(isinf(hl_julia_numpy_abs(HUGE_VAL, ((double)NAN))));
    CHECK(isinf(hl_julia_numpy_abs(((double)NAN), -HUGE_VAL)));
    CHECK(isnan(hl_julia_numpy_abs(((double)NAN), 1.0)));
    CHECK(isinf(hl_julia_numpy_abs(HUGE_VAL, HUGE_VAL)));
    CHECK(isinf(hl_julia_numpy_abs(1.5e308, 1.5e308)));
    /* Not hypot: (1, 1e-8*pi) rounds differently through sqrt(fma(r, r, 1)). */
    const double r = 1.0 / 3.0;
    CHECK(hl_julia_numpy_abs(3.0, 1.0) == sqrt(fma(r, r, 1.0)) * 3.0);
}

static uint32_t *render_counts(const hl_julia_params *p, const hl_julia_grid *g,
                               hl_simd_level level, unsigned threads) {
    uint32_t *out = malloc(g->nx * g->ny * sizeof *out + 1);
    hl_julia_options o = {.level = level, .n_threads = threads};
    if (hl_julia_render(p, g, HL_JULIA_COUNTS, out, &o, NULL) != HL_OK) {
        free(out);
        return NULL;
    }
    return out;
}

/* a and b are the same floating-point value: equal with the same sign of zero, or both NaN
 * (double or float). */
#define SAME_VALUE(a, b)                                                                           \
    (((a) == (b) || (isnan(a) && isnan(b))) && !((a) == 0 && signbit(a) != signbit(b)))

/* The SIMD kernels form NumPy's imaginary part fma(x, y, x*y) as p + p with p = x*y (an add
 * instead of an FMA, see kernel_avx512.c): the same value, because fma(x, y, p) = round(2p + e)
 * with e = x*y - p, and |e| is under half the gap next to 2p. Checked on random doubles over
 * the whole exponent range (products that overflow and underflow, subnormals, both signs),
 * with zeros, infinities and NaN among them; and the same in single precision, for the float32
 * kernels. */
HL_TEST(julia_fused_imaginary_part_is_twice_the_product) {
    hl_rng rng;
    hl_rng_seed(&rng, 0x9e3779b97f4a7c15u);
    long mismatches = 0;
    for (long i = 0; i < 4000000; i++) {
        double v[2];
        for (int k = 0; k < 2; k++) {
            uint64_t bits = hl_rng_next(&rng);
            switch (i % 16) {
            case 0: /* exponents near 1: products near powers of two */
                bits = (bits & 0x800FFFFFFFFFFFFFu) | ((uint64_t)(1020 + (bits >> 60)) << 52);
                break;
            case 1: /* a few mantissa bits: exact products, ties, powers of two */
                bits &= 0xFFFFF00000000000u;
                break;
            default:
                break;
            }
            memcpy(&v[k], &bits, sizeof bits);
        }
        if (i < 64) {
            const double special[] = {0.0,         -0.0,    HUGE_VAL,     -HUGE_VAL,
                                      (double)NAN, DBL_MIN, DBL_TRUE_MIN, DBL_MAX};
            v[i % 2] = special[(i / 2) % 8];
        }
        const double p = v[0] * v[1];
        const double fused = fma(v[0], v[1], p), twice = p + p;
        if (!SAME_VALUE(fused, twice)) {
            mismatches++;
        }
    }
    CHECK(mismatches == 0);
    /* the float32 kernels rely on the same identity in single precision */
    long mismatches32 = 0;
    for (long i = 0; i < 4000000; i++) {
        const uint64_t word = hl_rng_next(&rng);
        uint32_t bits[2] = {(uint32_t)word, (uint32_t)(word >> 32)};
        if (i % 16 == 1) { /* a few mantissa bits: exact products, ties, powers of two */
            bits[0] &= 0xFFFF0000u;
            bits[1] &= 0xFFFF0000u;
        }
        float v[2];
        memcpy(v, bits, sizeof v);
        const float p = v[0] * v[1];
        const float fused = fmaf(v[0], v[1], p), twice = p + p;
        if (!SAME_VALUE(fused, twice)) {
            mismatches32++;
        }
    }
    CHECK(mismatches32 == 0);
}

HL_TEST(julia_every_level_and_thread_count_equals_reference) {
    const hl_julia_grid grids[] = {
        {-1.6, 1.6, -1.0, 1.0, 97, 61},   {-0.1, 0.1, -0.1, 0.1, 64, 64},
        {-2.0, -1.6, -2.0, -1.6, 50, 49}, {0.3, 0.3000001, 0.5, 0.4999999, 33, 17},
        {1.5, -1.5, 1.2, -1.2, 20, 123},
    };
    const hl_julia_params params[] = {
        {-0.835, -0.2321, 2.0, 0, 80, false},   {-0.4, 0.6, 2.0, 0, 200, false},
        {0.285, 0.01, 3.5, 0, 150, false},      {0.0, 0.0, 2.0, 0, 100, true},
        {-0.835, -0.2321, 1e301, 0, 30, false}, /* filter off: exact test at every step */
        {-0.835, -0.2321, 1e80, 0, 40, false},  /* filter on, |z|^2 near overflow */
        {0.3, -0.5, 1e-3, 0, 20, false},        /* tiny radius */
    };
    for (size_t gi = 0; gi < sizeof grids / sizeof grids[0]; gi++) {
        const hl_julia_grid *g = &grids[gi];
        for (size_t pi = 0; pi < sizeof params / sizeof params[0]; pi++) {
            const hl_julia_params *p = &params[pi];
            int bad = 0;
            for (size_t li = 0; li < 3; li++) {
                for (unsigned th = 1; th <= 3; th++) {
                    uint32_t *out = render_counts(p, g, levels[li], th);
                    CHECK(out != NULL);
                    if (out == NULL) {
                        continue;
                    }
                    for (size_t i = 0; i < g->nx; i++) {
                        const double x = hl_julia_linspace_at(g->x_start, g->x_stop, g->nx, i);
                        for (size_t j = 0; j < g->ny; j++) {
                            const double y = hl_julia_linspace_at(g->y_start, g->y_stop, g->ny, j);
                            const uint32_t want =
                                p->mandelbrot ? hl_julia_escape_reference(0.0, 0.0, x, y,
                                                                          p->threshold, p->itermax)
                                              : hl_julia_escape_reference(x, y, p->c_re, p->c_im,
                                                                          p->threshold, p->itermax);
                            bad += out[i * g->ny + j] != want;
                        }
                    }
                    free(out);
                }
            }
            CHECK(bad == 0);
        }
    }
}

HL_TEST(julia_points_on_the_threshold_circle) {
    /* z_k = z_0^(2^k) with c = 0: points whose |z_k| is within a few ulp of the threshold,
     * where |z|^2 and NumPy's |z| disagree; plus inf/nan points. A third each for k = 1, 2
     * and 3: in the AVX-512 kernel's pairs mode z_1 and z_3 are untested steps, where only
     * finish() decides, and z_2 is tested, where a filter that reads |z|^2 low would let the
     * lane run on. */
    const size_t n = 30000;
    double *z = malloc(2 * n * sizeof *z);
    uint32_t *out = malloc(n * sizeof *out);
    hl_rng rng;
    hl_rng_seed(&rng, 12345);
    for (size_t i = 0; i < n; i++) {
        const double th = 6.283185307179586 * hl_rng_uniform(&rng);
        const double root = i % 3 == 0 ? 0.5 : (i % 3 == 1 ? 0.25 : 0.125);
        const double r = pow(2.0, root) * (1.0 + (hl_rng_uniform(&rng) - 0.5) * 1e-15);
        z[2 * i] = r * cos(th);
        z[2 * i + 1] = r * sin(th);
    }
    const double specials[][2] = {{HUGE_VAL, 0.0}, {((double)NAN), 0.0}, {0.0, ((double)NAN)},
                                  {1e200, 1e200},  {-HUGE_VAL, 1},       {1e-320, 0.0}};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
        z[2 * i] = specials[i][0];
        z[2 * i + 1] = specials[i][1];
    }
    const hl_julia_params p = {0.0, 0.0, 2.0, 0, 6, false};
    for (size_t li = 0; li < 3; li++) {
        hl_julia_options o = {.level = levels[li], .n_threads = 2};
        CHECK_OK(hl_julia_points(&p, z, n, out, &o, NULL));
        int bad = 0, at_step[3] = {0, 0, 0};
        for (size_t i = 0; i < n; i++) {
            const uint32_t want =
                hl_julia_escape_reference(z[2 * i], z[2 * i + 1], 0.0, 0.0, 2.0, 6);
            bad += out[i] != want;
            at_step[i % 3] += out[i] == (uint32_t)(i % 3); /* escaped at z_k itself */
        }
        CHECK(bad == 0);
        for (int k = 0; k < 3; k++) { /* both sides of the circle are exercised */
            CHECK(at_step[k] > 1000 && at_step[k] < (int)n / 3 - 1000);
        }
    }
    free(z);
    free(out);
}

HL_TEST(julia_normalised_and_smooth_outputs) {
    const hl_julia_grid g = {-1.6, 1.6, -1.0, 1.0, 40, 25};
    const hl_julia_params p = {-0.835, -0.2321, 2.0, 5, 80, false};
    uint32_t counts[1000];
    double norm[1000], smooth[1000];
    float f32[1000];
    for (size_t li = 0; li < 3; li++) {
        hl_julia_options o = {.level = levels[li], .n_threads = 2};
        CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_COUNTS, counts, &o, NULL));
        CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_NORMALISED, norm, &o, NULL));
        CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_SMOOTH, smooth, &o, NULL));
        CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_F32, f32, &o, NULL));
        int bad = 0, f32_close = 0;
        for (size_t i = 0; i < 1000; i++) {
            const uint32_t c = counts[i] > 5 ? counts[i] : 5;
            bad += norm[i] != (double)(c - 5) / 75.0;
            /* smooth lies within one band above the integer value */
            bad += !(smooth[i] >= norm[i] - 1e-12 && smooth[i] <= norm[i] + 1.0 / 75.0 + 1e-12);
            f32_close += fabsf(f32[i] - (float)norm[i]) <= 2.0f / 75.0f;
        }
        CHECK(bad == 0);
        CHECK(f32_close >= 950);
    }
}

HL_TEST(julia_log_modulus_without_the_square) {
    CHECK_NEAR(hl_julia_log_modulus(3.0, 4.0), log(5.0), 1e-15);
    CHECK_NEAR(hl_julia_log_modulus(-1e-300, 0.0), log(1e-300), 1e-12);
    /* |z|^2 overflows (and for DBL_MAX, |z| too): log|z| = log(m) + log(2)/2 */
    CHECK_NEAR(hl_julia_log_modulus(1e300, -1e300), log(1e300) + 0.5 * log(2.0), 1e-12);
    CHECK_NEAR(hl_julia_log_modulus(DBL_MAX, DBL_MAX), log(DBL_MAX) + 0.5 * log(2.0), 1e-12);
    CHECK(isinf(hl_julia_log_modulus(0.0, 0.0)) && hl_julia_log_modulus(0.0, 0.0) < 0);
    CHECK(isinf(hl_julia_log_modulus(HUGE_VAL, ((double)NAN))));
    CHECK(isnan(hl_julia_log_modulus(((double)NAN), 1.0)));
    /* z^2 + c where z^2 overflows: (1e200)^2 = 1e400; (1e154 (1 + i))^2 = 2e308 i */
    CHECK_NEAR(hl_julia_log_modulus_next(1e200, 0.0, 1.0, 0.0), 2.0 * log(1e200), 1e-12);
    CHECK_NEAR(hl_julia_log_modulus_next(1e154, 1e154, 1.0, -1.0), log(2.0) + 2.0 * log(1e154),
               1e-12);
    /* (1e160 i)^2 - DBL_MAX = -(1e320 + 1.8e308): c matters to the last digits */
    CHECK_NEAR(hl_julia_log_modulus_next(0.0, 1e160, -DBL_MAX, 0.0),
               2.0 * log(1e160) + log1p(DBL_MAX / 1e160 / 1e160), 1e-12);
    CHECK_NEAR(hl_julia_log_modulus_next(0.0, 0.0, 3.0, 4.0), log(5.0), 1e-15);
    CHECK(isinf(hl_julia_log_modulus_next(0.0, 0.0, 0.0, 0.0)));
    CHECK(isinf(hl_julia_log_modulus_next(HUGE_VAL, 0.0, 0.0, 0.0)));
    CHECK(isnan(hl_julia_log_modulus_next(((double)NAN), 0.0, 0.0, 0.0)));
    /* the smooth value takes log|z|: |z| = R^2 gives the band's start, |z| = R its end */
    CHECK(hl_julia_smooth_value(7, 2.0 * log(10.0), 10.0, 50) == 7.0);
    CHECK_NEAR(hl_julia_smooth_value(7, log(10.0), 10.0, 50), 8.0, 1e-15);
    CHECK(hl_julia_smooth_value(7, (double)NAN, 10.0, 50) == 7.0);
    CHECK(hl_julia_smooth_value(50, 1.0, 10.0, 50) == 50.0);
}

/* log|z_{i+1}| of a pixel with the escape count of hl_julia_escape_reference, in long double
 * from z_i (80-bit on x86-64: |z|^2 up to 10^4932 does not overflow): an oracle that shares
 * no code with the kernels' log|z|. Returns the count. */
static uint32_t smooth_oracle(double x, double y, double cr, double ci, double thr,
                              uint32_t itermax, long double *log_modulus) {
    for (uint32_t i = 0; i < itermax; i++) {
        const double nx = fma(x, x, -(y * y)) + cr, ny = fma(x, y, y * x) + ci;
        if (hl_julia_numpy_abs(nx, ny) >= thr) {
            const long double re = (long double)x * x - (long double)y * y + cr;
            const long double im = 2.0L * x * y + ci;
            *log_modulus = 0.5L * logl(re * re + im * im);
            return i;
        }
        x = nx;
        y = ny;
    }
    return itermax;
}

HL_TEST(julia_smooth_for_huge_thresholds) {
    /* |z_{i+1}| reaches threshold^2: |z|^2 overflows the doubles above about 1.2e77 (1e90:
     * band filter on; 1e150: off), z_{i+1} itself above about 1.3e154 (1e300, DBL_MAX). The
     * smooth values must stay right: every level and thread count against the oracle. */
    const double thresholds[] = {1e60, 1e90, 1e150, 1e300, DBL_MAX};
    const hl_julia_grid g = {-2.0, 2.0, -2.0, 2.0, 37, 29};
    const size_t n = g.nx * g.ny;
    double *out = malloc(n * sizeof *out), *first = malloc(n * sizeof *first);
    uint8_t *pic = malloc(n);
    for (size_t ti = 0; ti < sizeof thresholds / sizeof thresholds[0]; ti++) {
        for (int mandel = 0; mandel <= 1; mandel++) {
            const hl_julia_params p = {-0.835, -0.2321, thresholds[ti], 2, 40, mandel != 0};
            int bad = 0, unequal = 0, fractional = 0, bad_pic = 0;
            for (size_t li = 0; li < 3; li++) {
                for (unsigned th = 1; th <= 3; th += 2) {
                    hl_julia_options o = {.level = levels[li], .n_threads = th};
                    CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_SMOOTH, out, &o, NULL));
                    CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_PICTURE_SMOOTH, pic, &o, NULL));
                    if (li == 0 && th == 1) {
                        memcpy(first, out, n * sizeof *out);
                    }
                    unequal += memcmp(first, out, n * sizeof *out) != 0;
                    for (size_t i = 0; i < g.nx; i++) {
                        for (size_t j = 0; j < g.ny; j++) {
                            const double v = out[i * g.ny + j];
                            const uint8_t level = pic[(g.ny - 1 - j) * g.nx + i];
                            bad_pic += level != (uint8_t)(v * 255.0);
                        }
                    }
                }
            }
            if (LDBL_MAX_EXP > 2 * DBL_MAX_EXP) {
                for (size_t i = 0; i < g.nx; i++) {
                    const double x = hl_julia_linspace_at(g.x_start, g.x_stop, g.nx, i);
                    for (size_t j = 0; j < g.ny; j++) {
                        const double y = hl_julia_linspace_at(g.y_start, g.y_stop, g.ny, j);
                        long double lnz = 0.0L;
                        const uint32_t c =
                            mandel ? smooth_oracle(0.0, 0.0, x, y, p.threshold, 40, &lnz)
                                   : smooth_oracle(x, y, p.c_re, p.c_im, p.threshold, 40, &lnz);
                        double nu = c;
                        if (c < 40) {
                            const long double frac = log2l(lnz / logl((long double)p.threshold));
                            const long double v = (long double)c + 1.0L - frac;
                            nu = (double)(v < c ? c : (v > c + 1.0L ? c + 1.0L : v));
                            fractional += nu > c + 0.01 && nu < c + 0.99;
                        }
                        const double want = (nu > 2.0 ? nu - 2.0 : 0.0) / 38.0;
                        bad += !(fabs(first[i * g.ny + j] - want) <= 1e-12);
                    }
                }
            }
            CHECK(bad == 0);
            CHECK(unequal == 0);
            CHECK(bad_pic == 0);
            CHECK(LDBL_MAX_EXP <= 2 * DBL_MAX_EXP || fractional > (int)n / 10); /* not banded */
        }
    }
    free(out);
    free(first);
    free(pic);
}

HL_TEST(julia_float32_smooth_for_large_thresholds) {
    /* float32 |z|^2 overflows above about 1.4e9; the valid range ends near 1.8e19 */
    const hl_julia_grid g = {-2.0, 2.0, -2.0, 2.0, 64, 48};
    const size_t n = g.nx * g.ny;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    double *exact = malloc(n * sizeof *exact);
    const double thresholds[] = {1e10, 1e15, 1.8e19};
    for (size_t ti = 0; ti < 3; ti++) {
        const hl_julia_params p = {-0.835, -0.2321, thresholds[ti], 0, 50, false};
        hl_julia_options o = {.level = HL_SIMD_SCALAR, .n_threads = 1};
        CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_F32_SMOOTH, a, &o, NULL));
        CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_SMOOTH, exact, &o, NULL));
        o.level = HL_SIMD_AVX512;
        o.n_threads = 2;
        CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_F32_SMOOTH, b, &o, NULL));
        CHECK(memcmp(a, b, n * sizeof *a) == 0);
        size_t close = 0;
        for (size_t i = 0; i < n; i++) {
            close += fabs((double)a[i] - exact[i]) <= 1e-4;
        }
        CHECK(close >= n - n / 50); /* float32 counts differ only near the set's edge */
    }
    free(a);
    free(b);
    free(exact);
}

static int cancel_after(void *ctx) {
    int *calls = ctx;
    return ++*calls > 3;
}

HL_TEST(julia_cancellation_and_huge_itermax) {
    /* A point in the set with itermax 2^32-1 would run for minutes: cancellation must stop it. */
    const hl_julia_grid g = {-0.01, 0.01, -0.01, 0.01, 8, 8};
    const hl_julia_params p = {0.0, 0.0, 2.0, 0, UINT32_MAX, false};
    uint32_t out[64];
    for (size_t li = 0; li < 3; li++) {
        int calls = 0;
        hl_monitor mon;
        hl_monitor_init(&mon, cancel_after, &calls);
        hl_julia_options o = {.level = levels[li], .n_threads = 2};
        CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_COUNTS, out, &o, &mon), HL_ECANCELLED);
        float f32[64];
        hl_julia_params q = p;
        q.itermin = 0;
        calls = 0;
        CHECK_STATUS(hl_julia_render(&q, &g, HL_JULIA_F32, f32, &o, &mon), HL_ECANCELLED);
    }
}

HL_TEST(julia_bad_arguments) {
    const hl_julia_grid g = {-1.0, 1.0, -1.0, 1.0, 4, 4};
    hl_julia_params p = {-0.8, 0.2, 2.0, 0, 10, false};
    double out[16];
    CHECK_STATUS(hl_julia_render(NULL, &g, HL_JULIA_NORMALISED, out, NULL, NULL), HL_EINVAL);
    CHECK_STATUS(hl_julia_render(&p, NULL, HL_JULIA_NORMALISED, out, NULL, NULL), HL_EINVAL);
    CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_NORMALISED, NULL, NULL, NULL), HL_EINVAL);
    CHECK_STATUS(hl_julia_render(&p, &g, (hl_julia_output)9, out, NULL, NULL), HL_EINVAL);
    p.threshold = 0.0;
    CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_NORMALISED, out, NULL, NULL), HL_EINVAL);
    p.threshold = ((double)NAN);
    CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_NORMALISED, out, NULL, NULL), HL_EINVAL);
    p.threshold = 1.0;
    CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_SMOOTH, out, NULL, NULL), HL_EINVAL);
    /* float32 kinds: threshold^2 must be a normal finite float */
    float f32[16];
    p.threshold = 1.9e19;
    CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_F32, f32, NULL, NULL), HL_EINVAL);
    CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_F32_SMOOTH, f32, NULL, NULL), HL_EINVAL);
    p.threshold = 1e-20;
    CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_F32, f32, NULL, NULL), HL_EINVAL);
    CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_NORMALISED, out, NULL, NULL));
    p.threshold = 1.8e19;
    CHECK_OK(hl_julia_render(&p, &g, HL_JULIA_F32, f32, NULL, NULL));
    p.threshold = 2.0;
    p.c_re = HUGE_VAL;
    CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_NORMALISED, out, NULL, NULL), HL_EINVAL);
    p.c_re = 0.0;
    p.itermin = 10;
    CHECK_STATUS(hl_julia_render(&p, &g, HL_JULIA_NORMALISED, out, NULL, NULL), HL_EINVAL);
    p.itermin = 0;
    hl_julia_grid big = {-1.0, 1.0, -1.0, 1.0, SIZE_MAX / 2, 3};
    CHECK_STATUS(hl_julia_render(&p, &big, HL_JULIA_NORMALISED, out, NULL, NULL), HL_ENOMEM);
    hl_julia_grid nan_grid = {-1.0, ((double)NAN), -1.0, 1.0, 4, 4};
    CHECK_STATUS(hl_julia_render(&p, &nan_grid, HL_JULIA_NORMALISED, out, NULL, NULL), HL_EINVAL);
    hl_julia_grid empty = {-1.0, 1.0, -1.0, 1.0, 4, 0};
    CHECK_OK(hl_julia_render(&p, &empty, HL_JULIA_NORMALISED, out, NULL, NULL));
    double peak = 0.0;
    CHECK_STATUS(hl_julia_fma_peak(HL_SIMD_AUTO, 0.0, &peak), HL_EINVAL);
    CHECK_OK(hl_julia_fma_peak(HL_SIMD_AUTO, 0.01, &peak));
    CHECK(peak > 1e8);
}
