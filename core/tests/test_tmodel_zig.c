/* Tests of the U pass's gamma ziggurat (core/src/tmodel/gamma_zig.h): its tables (equal areas,
 * edges on the density, tail masses against the incomplete gamma function, the cache), and its
 * draws (KS for shapes from 1 to 1e6; the tail sampler alone; how often draws reach the tails).
 *
 * Statistical tests use fixed seeds, so each is deterministic. For a correct generator and a
 * given seed, each KS check (p < 1e-4) fails with probability 1e-4 and each z-check (|z| > 4.5,
 * counts expected above 30) with about 7e-6; a test with k checks, up to k times that (in all
 * about 2e-3 for this file). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hotloop/rng.h"
#include "hotloop/tmodel.h"

#include "../src/tmodel/gamma_zig.h"

static const double shapes[] = {1.0, 1.0001, 1.5, 3.5, 17.0, 150.5, 1e6, 1e12};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

/* The mass of the scaled density f (f(M) = 1): Gamma(a) e^M / M^(a - 1). */
static double density_mass(double a) {
    const double m = a - 1.0;
    return a == 1.0 ? 1.0 : exp(lgamma(a) + m - m * log(m));
}

HL_TEST(tmodel_zig_tables_are_equal_area_and_on_the_density) {
    static hl_tm_zig z;
    for (int s = 0; s < NSHAPES; s++) {
        const double a = shapes[s];
        CHECK(hl_tm_zig_build(a, &z) == 0);
        CHECK(z.y[0] == 0.0 && z.y[HL_TM_ZIG_BOXES] == 1.0);
        /* the edges' precision is ulp(M) against a width of ~sqrt(a): looser for huge a */
        const double tol = a > 1e9 ? 1e-9 : 1e-11;
        /* base box: A = y1 width0, the left tail's mass before its inner part [L1, R1] */
        CHECK(fabs(z.box[0].width * z.y[1] / z.area - 1.0) < tol);
        CHECK(z.box[0].in_lo == z.left_x && z.box[0].in_hi == z.right_x);
        CHECK(z.box[0].left == z.left_x - z.mass_left / z.y[1]);
        CHECK(fabs(z.box[0].left + z.box[0].width - (z.right_x + z.mass_right / z.y[1])) <
              1e-12 * (1.0 + z.right_x));
        for (int i = 0; i < HL_TM_ZIG_BOXES; i++) {
            const hl_tm_zig_box *b = &z.box[i];
            CHECK(z.y[i + 1] > z.y[i]);
            CHECK(b->left >= 0.0 && b->width > 0.0);
            CHECK(b->in_lo >= b->left && b->in_hi <= b->left + b->width && b->in_lo <= b->in_hi);
            if (i >= 1) {
                /* equal areas; edges at the box's lower height; inner part = next box's edges */
                /* the top box ends at height 1 exactly: right to ~1e-9 (gamma_zig.c) */
                const double box_tol = i == HL_TM_ZIG_BOXES - 1 ? 1e-8 : tol;
                CHECK(fabs(b->width * (z.y[i + 1] - z.y[i]) / z.area - 1.0) < box_tol);
                const double ly = log(z.y[i]);
                const double right = b->left + b->width;
                CHECK(fabs(hl_tm_zig_logf(&z, right) - ly) < 1e-9 * (1.0 + fabs(ly)));
                if (b->left > 1e-290) { /* not subnormal (a = 1.0001's top boxes) */
                    CHECK(fabs(hl_tm_zig_logf(&z, b->left) - ly) < 1e-9 * (1.0 + fabs(ly)));
                }
                CHECK(b->left == z.box[i - 1].in_lo); /* the edges at y_i, twice */
                if (i + 1 < HL_TM_ZIG_BOXES) {
                    CHECK(b->in_lo == z.box[i + 1].left);
                    CHECK(b->in_hi == z.box[i + 1].left + z.box[i + 1].width ||
                          fabs(b->in_hi - (z.box[i + 1].left + z.box[i + 1].width)) <
                              1e-15 * b->in_hi + 1e-300);
                }
            }
        }
        if (a <= 200.0) {
            /* tails against the regularised incomplete gamma function; coverage */
            const double mass = density_mass(a);
            const double q = 1.0 - hl_test_gamma_p(a, z.right_x);
            CHECK(fabs(z.mass_right / mass / q - 1.0) < 1e-9);
            if (z.mass_left > 0.0) {
                CHECK(fabs(z.mass_left / mass / hl_test_gamma_p(a, z.left_x) - 1.0) < 1e-9);
            }
            const double efficiency = mass / (HL_TM_ZIG_BOXES * z.area);
            CHECK(efficiency > 0.985 && efficiency < 1.0);
        }
    }
    /* outside the ziggurat's range */
    CHECK(hl_tm_zig_build(0.999, &z) != 0);
    CHECK(hl_tm_zig_build(2e15, &z) != 0);
    CHECK(hl_tm_zig_build((double)NAN, &z) != 0);
}

HL_TEST(tmodel_zig_cache_gives_the_built_tables) {
    /* more shapes than the cache holds, each asked twice (built, then cached or rebuilt) */
    static hl_tm_zig built, got;
    for (int round = 0; round < 2; round++) {
        for (int s = 0; s < NSHAPES; s++) {
            CHECK(hl_tm_zig_build(shapes[s], &built) == 0);
            CHECK(hl_tm_zig_get(shapes[s], &got) == 0);
            CHECK(memcmp(&built, &got, sizeof built) == 0);
            CHECK(hl_tm_zig_get(shapes[s], &got) == 0);
            CHECK(memcmp(&built, &got, sizeof built) == 0);
        }
    }
}

HL_TEST(tmodel_zig_stored_base_heights_give_the_solved_tables) {
    /* nu = 1, ..., 30: the stored y1 is accepted, and the tables equal the solver's bit for
     * bit; other shapes are solved either way. */
    static hl_tm_zig built, solved;
    for (int nu = 1; nu <= 30; nu++) {
        const double a = 0.5 * (nu + 1.0);
        CHECK(hl_tm_zig_hint_valid(a));
        CHECK(hl_tm_zig_build(a, &built) == 0);
        CHECK(hl_tm_zig_solve(a, &solved) == 0);
        CHECK(memcmp(&built, &solved, sizeof built) == 0);
    }
    CHECK(!hl_tm_zig_hint_valid(1.25) && !hl_tm_zig_hint_valid(16.0));
    CHECK(hl_tm_zig_build(1.25, &built) == 0 && hl_tm_zig_solve(1.25, &solved) == 0);
    CHECK(memcmp(&built, &solved, sizeof built) == 0);
}

static double gamma_cdf_unit(double x, const void *p) {
    return hl_test_gamma_p(*(const double *)p, x);
}

HL_TEST(tmodel_zig_draws_ks) {
    /* 1, 3.5 and 17 are in tmodel_lane_gamma_ks (test_tmodel.c) */
    const double ks_shapes[] = {1.0001, 1.5, 150.5, 1e6};
    enum { N = 100000 };
    double *g = malloc(N * sizeof *g);
    CHECK(g != NULL);
    if (g == NULL) {
        return;
    }
    for (size_t s = 0; s < sizeof ks_shapes / sizeof ks_shapes[0]; s++) {
        CHECK_OK(hl_tmodel_testing_gamma(ks_shapes[s], 7 + s, N, g));
        const double d = hl_test_ks_statistic(g, N, gamma_cdf_unit, &ks_shapes[s]);
        CHECK(hl_test_ks_pvalue(d, N) > 1e-4);
    }
    free(g);
}

/* z-score of a count against its binomial expectation. */
static double count_z(size_t count, size_t n, double p) {
    const double mean = (double)n * p;
    return ((double)count - mean) / sqrt(mean * (1.0 - p));
}

HL_TEST(tmodel_zig_rejects_as_often_as_the_boxes_exceed_the_density) {
    /* An attempt gives nothing exactly when its point falls in the boxes but above the
     * density, with probability 1 - mass / (2048 A) (0.1-0.2%): a wedge test that accepts too
     * much or too little, or heights taken from the wrong box, moves the count of attempts that
     * give nothing. About 15,000 expected per shape, so a 4% error shows. */
    const double rate_shapes[] = {1.0, 3.5, 17.0};
    enum { N = 10000000 };
    static hl_tm_zig z;
    for (size_t s = 0; s < sizeof rate_shapes / sizeof rate_shapes[0]; s++) {
        const double a = rate_shapes[s];
        CHECK(hl_tm_zig_get(a, &z) == 0);
        hl_rng r;
        hl_rng_seed(&r, 500 + s);
        size_t nothing = 0;
        for (size_t i = 0; i < N; i++) {
            double g;
            nothing += !hl_tm_zig_attempt(&r, &z, &g);
        }
        const double p = 1.0 - density_mass(a) / (HL_TM_ZIG_BOXES * z.area);
        CHECK((double)N * p > 1000.0);
        CHECK(fabs(count_z(nothing, N, p)) < 4.5);
    }
}

typedef struct tail_cdf {
    double a, start, mass; /* the shape, the tail's start, P(X beyond it) */
    int left;
} tail_cdf;

/* The CDF of Gamma(a) restricted to the tail. */
static double tail_cdf_at(double x, const void *p) {
    const tail_cdf *t = p;
    return t->left ? hl_test_gamma_p(t->a, x) / t->mass
                   : (hl_test_gamma_p(t->a, x) - hl_test_gamma_p(t->a, t->start)) / t->mass;
}

HL_TEST(tmodel_zig_tail_sampler_ks) {
    /* The tail sampler alone (the KS tests of whole draws barely see it), against Gamma(a)
     * restricted to each tail. */
    const double tail_shapes[] = {1.0, 3.5, 17.0, 150.5};
    enum { N = 50000 };
    double *g = malloc(N * sizeof *g);
    static hl_tm_zig z;
    CHECK(g != NULL);
    if (g == NULL) {
        return;
    }
    for (size_t s = 0; s < sizeof tail_shapes / sizeof tail_shapes[0]; s++) {
        const double a = tail_shapes[s];
        CHECK(hl_tm_zig_get(a, &z) == 0);
        for (int left = 0; left < 2; left++) {
            if (left && !(z.left_x > 0.0)) {
                continue;
            }
            hl_rng r;
            hl_rng_seed(&r, 300 + 2 * s + (uint64_t)left);
            for (size_t i = 0; i < N; i++) {
                g[i] = hl_tm_zig_tail(&r, &z, left);
                CHECK(left ? g[i] < z.left_x && g[i] > 0.0 : g[i] > z.right_x);
            }
            tail_cdf t = {a, left ? z.left_x : z.right_x, 0.0, left};
            t.mass = left ? hl_test_gamma_p(a, t.start) : 1.0 - hl_test_gamma_p(a, t.start);
            const double d = hl_test_ks_statistic(g, N, tail_cdf_at, &t);
            CHECK(hl_test_ks_pvalue(d, N) > 1e-4);
        }
    }
    free(g);
}

HL_TEST(tmodel_zig_draws_reach_the_tails_as_often_as_gamma) {
    /* The base box sends a draw to the tails with the right frequency: the draws beyond each
     * tail's start, counted against P(X > R_1) and P(X < L_1) where that count is expected
     * above 30 (the left tail of a = 3.5 holds only 1.6 of 8 million). */
    const double tail_shapes[] = {1.0, 3.5, 17.0, 150.5};
    enum { CHUNK = 1000000, CHUNKS = 8 };
    double *g = malloc(CHUNK * sizeof *g);
    static hl_tm_zig z;
    CHECK(g != NULL);
    if (g == NULL) {
        return;
    }
    const size_t n = (size_t)CHUNK * CHUNKS;
    for (size_t s = 0; s < sizeof tail_shapes / sizeof tail_shapes[0]; s++) {
        const double a = tail_shapes[s];
        CHECK(hl_tm_zig_get(a, &z) == 0);
        size_t right = 0, left = 0;
        for (uint64_t c = 0; c < CHUNKS; c++) {
            CHECK_OK(hl_tmodel_testing_gamma(a, 1000 + 16 * s + c, CHUNK, g));
            for (size_t i = 0; i < CHUNK; i++) {
                right += g[i] > z.right_x;
                left += g[i] < z.left_x;
            }
        }
        const double q = 1.0 - hl_test_gamma_p(a, z.right_x);
        CHECK((double)n * q > 30.0);
        CHECK(fabs(count_z(right, n, q)) < 4.5);
        const double p_left = hl_test_gamma_p(a, z.left_x);
        if ((double)n * p_left > 30.0) {
            CHECK(fabs(count_z(left, n, p_left)) < 4.5);
        }
    }
    free(g);
}
