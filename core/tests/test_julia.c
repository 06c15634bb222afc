/* Tests of the julia kernel: np.linspace and NumPy |z| arithmetic, every SIMD level and
 * thread count against the scalar per-pixel reference (exact |z| at every step), the band
 * around the threshold, non-finite points, cancellation, bad arguments. */
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
    /* z_1 = z_0^2 with c = 0: points whose |z_1| is within a few ulp of the threshold, where
     * |z|^2 and NumPy's |z| disagree; plus inf/nan points. */
    const size_t n = 20000;
    double *z = malloc(2 * n * sizeof *z);
    uint32_t *out = malloc(n * sizeof *out);
    hl_rng rng;
    hl_rng_seed(&rng, 12345);
    for (size_t i = 0; i < n; i++) {
        const double th = 6.283185307179586 * hl_rng_uniform(&rng);
        const double r = sqrt(2.0) * (1.0 + (hl_rng_uniform(&rng) - 0.5) * 1e-15);
        z[2 * i] = r * cos(th);
        z[2 * i + 1] = r * sin(th);
    }
    const double specials[][2] = {{HUGE_VAL, 0.0}, {((double)NAN), 0.0}, {0.0, ((double)NAN)},
                                  {1e200, 1e200},  {-HUGE_VAL, 1},       {1e-320, 0.0}};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
        z[2 * i] = specials[i][0];
        z[2 * i + 1] = specials[i][1];
    }
    const hl_julia_params p = {0.0, 0.0, 2.0, 0, 3, false};
    for (size_t li = 0; li < 3; li++) {
        hl_julia_options o = {.level = levels[li], .n_threads = 2};
        CHECK_OK(hl_julia_points(&p, z, n, out, &o, NULL));
        int bad = 0, escaped = 0;
        for (size_t i = 0; i < n; i++) {
            const uint32_t want =
                hl_julia_escape_reference(z[2 * i], z[2 * i + 1], 0.0, 0.0, 2.0, 3);
            bad += out[i] != want;
            escaped += out[i] == 0;
        }
        CHECK(bad == 0);
        CHECK(escaped > 1000 && escaped < (int)n - 1000); /* both sides are exercised */
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
