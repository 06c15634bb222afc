/* Tests of the tmodel kernel's core: the U pass's gamma draws (KS), the data check, every SIMD
 * level and piece size giving the same draws, determinism across thread counts, the fold
 * leaving the draws unchanged, long runs staying finite, bad arguments and cancellation. The
 * gamma ziggurat's own tests are in test_tmodel_zig.c; the statistical tests against the
 * posterior itself (the grid oracle) in tests/test_tmodel_oracle.py.
 *
 * The distribution tests here (KS, fixed seeds) reject at p < 1e-4: a correct generator or
 * conditional fails for a given seed with probability 1e-4. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hotloop/rng.h"
#include "hotloop/tmodel.h"

/* A small t-distributed data set (nu = 4, mu = 1.5, sigma = 2), fixed. */
static void make_data(double *x, size_t n, uint64_t seed) {
    hl_rng r;
    hl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        x[i] = 1.5 + 2.0 * hl_rng_normal(&r) / sqrt(hl_rng_chisq(&r, 4.0) / 4.0);
    }
}

HL_TEST(tmodel_check_data_domain) {
    const double good[] = {1.0, 2.0, 4.0, 8.0};
    CHECK_OK(hl_tmodel_check_data(good, 4, 6.0, HL_TMODEL_PRIOR_LOG_SIGMA));
    CHECK_OK(hl_tmodel_check_data(good, 2, 6.0, HL_TMODEL_PRIOR_LOG_SIGMA));
    CHECK_OK(hl_tmodel_check_data(good, 4, 6.0, HL_TMODEL_PRIOR_FLAT));
    CHECK_STATUS(hl_tmodel_check_data(good, 3, 6.0, HL_TMODEL_PRIOR_FLAT), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(good, 1, 6.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(good, 4, 0.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(good, 4, -1.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(good, 4, INFINITY, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(good, 4, NAN, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(NULL, 4, 6.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(good, 4, 6.0, (hl_tmodel_prior)7), HL_EINVAL);
    const double with_nan[] = {1.0, NAN, 3.0};
    CHECK_STATUS(hl_tmodel_check_data(with_nan, 3, 6.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    const double with_inf[] = {1.0, -INFINITY, 3.0};
    CHECK_STATUS(hl_tmodel_check_data(with_inf, 3, 6.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    const double equal[] = {2.5, 2.5, 2.5, 2.5};
    CHECK_STATUS(hl_tmodel_check_data(equal, 4, 6.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(equal, 4, 6.0, HL_TMODEL_PRIOR_FLAT), HL_EINVAL);
    /* Ties: k = 2 of n = 3 equal; p = nu (n - k) - k + 1 = nu - 1 must be >= 1: nu >= 2. */
    const double ties[] = {1.0, 1.0, 2.0};
    CHECK_OK(hl_tmodel_check_data(ties, 3, 2.5, HL_TMODEL_PRIOR_LOG_SIGMA));
    CHECK_STATUS(hl_tmodel_check_data(ties, 3, 1.5, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(ties, 3, 0.5, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    /* All distinct: p = nu (n - 1); n = 11 needs nu >= 0.1. */
    const double ten[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CHECK_OK(hl_tmodel_check_data(ten, 11, 0.1, HL_TMODEL_PRIOR_LOG_SIGMA));
    CHECK_STATUS(hl_tmodel_check_data(ten, 11, 0.09, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    /* Ranges whose squares would leave the double range. */
    const double huge[2] = {0.0, 1e151}, tiny[2] = {1.0, 1.0 + 1e-151}, fine[2] = {0.0, 1e133};
    CHECK_STATUS(hl_tmodel_check_data(huge, 2, 4.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_check_data(tiny, 2, 4.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_OK(hl_tmodel_check_data(fine, 2, 4.0, HL_TMODEL_PRIOR_LOG_SIGMA));
    /* Heavy tails with few points: two points may spread over 1.3e134 at most (P(sigma > t R)
     * ~ 1/t), six over 1e150; nu = 1 and n = 2 (p = 1) need a range of at least 1.5e-134. */
    const double wide2[2] = {0.0, 1e149}, wide6[6] = {0.0, 1e148, 1e149, 2e149, 5e149, 1e150};
    CHECK_STATUS(hl_tmodel_check_data(wide2, 2, 4.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_OK(hl_tmodel_check_data(wide6, 6, 4.0, HL_TMODEL_PRIOR_LOG_SIGMA));
    CHECK_STATUS(hl_tmodel_check_data(wide6, 6, 4.0, HL_TMODEL_PRIOR_FLAT), HL_EINVAL);
    const double narrow[2] = {0.0, 1e-140}, narrow_ok[2] = {0.0, 1e-133};
    CHECK_STATUS(hl_tmodel_check_data(narrow, 2, 1.0, HL_TMODEL_PRIOR_LOG_SIGMA), HL_EINVAL);
    CHECK_OK(hl_tmodel_check_data(narrow_ok, 2, 1.0, HL_TMODEL_PRIOR_LOG_SIGMA));
    double lo, hi;
    hl_tmodel_range_bounds(2, 1.0, HL_TMODEL_PRIOR_LOG_SIGMA, &lo, &hi);
    CHECK(fabs(hi / 1.3e134 - 1.0) < 1e-12 && fabs(lo / 1.5e-134 - 1.0) < 1e-12);
    hl_tmodel_range_bounds(6, 20.0, HL_TMODEL_PRIOR_LOG_SIGMA, &lo, &hi);
    CHECK(hi == HL_TMODEL_MAX_RANGE && lo == HL_TMODEL_MIN_RANGE);
}

static hl_tmodel_options opts(double nu, size_t burn, size_t draws, size_t chains) {
    hl_tmodel_options o;
    hl_tmodel_options_init(&o);
    o.nu = nu;
    o.burn_in = burn;
    o.sample_size = draws;
    o.chains = chains;
    o.seed = 2024;
    return o;
}

static double gamma_cdf_unit(double x, const void *p) {
    return hl_test_gamma_p(*(const double *)p, x);
}

HL_TEST(tmodel_lane_gamma_ks) {
    /* The U pass's gamma draws (shape (nu + 1) / 2: below 1 boosted), KS at p < 1e-4. */
    const double shapes[] = {0.55, 0.75, 1.0, 3.5, 17.0};
    enum { N = 100000 };
    double *a = malloc(N * sizeof *a);
    CHECK(a != NULL);
    if (a == NULL) {
        return;
    }
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        CHECK_OK(hl_tmodel_testing_gamma(shapes[s], 99 + s, N, a));
        const double d = hl_test_ks_statistic(a, N, gamma_cdf_unit, &shapes[s]);
        CHECK(hl_test_ks_pvalue(d, N) > 1e-4);
    }
    free(a);
}

HL_TEST(tmodel_every_simd_level_gives_the_same_draws) {
    /* n = 203 covers full blocks of eight and a tail; nu = 0.6 takes the boosted
     * Marsaglia-Tsang gamma (scalar), the others the ziggurat's SIMD paths, small and large
     * shapes. */
    enum { N = 203, C = 2, S = 400 };
    double x[N];
    make_data(x, N, 6);
    const double nus[5] = {4.0, 0.6, 1.0, 30.0, 500.0};
    for (int k = 0; k < 5; k++) {
        double *mu[3], *s2[3];
        const hl_simd_level levels[3] = {HL_SIMD_SCALAR, HL_SIMD_AVX2, HL_SIMD_AVX512};
        for (int l = 0; l < 3; l++) {
            mu[l] = malloc(C * S * sizeof(double));
            s2[l] = malloc(C * S * sizeof(double));
            CHECK(mu[l] != NULL && s2[l] != NULL);
            if (mu[l] == NULL || s2[l] == NULL) {
                return;
            }
            hl_tmodel_options o = opts(nus[k], 50, S, C);
            o.simd = levels[l];
            CHECK_OK(hl_tmodel_run(x, N, &o, mu[l], s2[l], NULL));
        }
        for (int l = 1; l < 3; l++) {
            CHECK(memcmp(mu[0], mu[l], C * S * sizeof(double)) == 0);
            CHECK(memcmp(s2[0], s2[l], C * S * sizeof(double)) == 0);
        }
        for (int l = 0; l < 3; l++) {
            free(mu[l]);
            free(s2[l]);
        }
    }
}

HL_TEST(tmodel_upass_every_level_agrees) {
    /* The U pass alone over sizes around the AVX-512 variant's edges (a partial block, one
     * block, a tail; two chunks of 1024 draws), eight passes each (the draws a pass leaves
     * over go to the next), for the exponential's ziggurat (nu = 1), a shape just above it,
     * the document's nu = 6, larger shapes (nu = 300, 3e7, 1e13) and the Marsaglia-Tsang pass
     * (nu = 0.6): every level gives the scalar bits. */
    enum { REPS = 8, NNU = 7, NLEVELS = 3 };
    const size_t ns[7] = {1, 5, 8, 13, 203, 1030, 2061};
    const double nus[NNU] = {1.0, 1.0002, 6.0, 300.0, 3e7, 1e13, 0.6};
    const hl_simd_level levels[NLEVELS] = {HL_SIMD_SCALAR, HL_SIMD_AVX2, HL_SIMD_AVX512};
    double *x = malloc(2061 * sizeof(double));
    double *w[NLEVELS];
    int ok = x != NULL;
    for (int l = 0; l < NLEVELS; l++) {
        w[l] = malloc(REPS * 2061 * sizeof(double));
        ok = ok && w[l] != NULL;
    }
    CHECK(ok);
    if (ok) {
        make_data(x, 2061, 3);
        for (int a = 0; a < 7; a++) {
            for (int b = 0; b < NNU; b++) {
                for (int l = 0; l < NLEVELS; l++) {
                    CHECK_OK(hl_tmodel_testing_upass(x, ns[a], nus[b], 1.2, 3.5, 17 + (uint64_t)a,
                                                     REPS, levels[l], w[l]));
                }
                for (int l = 1; l < NLEVELS; l++) {
                    CHECK(memcmp(w[0], w[l], REPS * ns[a] * sizeof(double)) == 0);
                }
            }
        }
    }
    free(x);
    for (int l = 0; l < NLEVELS; l++) {
        free(w[l]);
    }
}

HL_TEST(tmodel_results_do_not_depend_on_threads) {
    enum { N = 200, C = 5, S = 300 };
    double x[N];
    make_data(x, N, 1);
    double *mu[3], *s2[3];
    const unsigned threads[3] = {1, 2, 4};
    for (int t = 0; t < 3; t++) {
        mu[t] = malloc(C * S * sizeof(double));
        s2[t] = malloc(C * S * sizeof(double));
        CHECK(mu[t] != NULL && s2[t] != NULL);
        if (mu[t] == NULL || s2[t] == NULL) {
            return;
        }
        hl_tmodel_options o = opts(4.0, 100, S, C);
        o.thin = 3;
        o.n_threads = threads[t];
        CHECK_OK(hl_tmodel_run(x, N, &o, mu[t], s2[t], NULL));
    }
    for (int t = 1; t < 3; t++) {
        CHECK(memcmp(mu[0], mu[t], C * S * sizeof(double)) == 0);
        CHECK(memcmp(s2[0], s2[t], C * S * sizeof(double)) == 0);
    }
    /* A one-chain run is chain 0 of the bigger run (a chain's stream ignores the others). */
    double one_mu[S], one_s2[S];
    hl_tmodel_options o1 = opts(4.0, 100, S, 1);
    o1.thin = 3;
    CHECK_OK(hl_tmodel_run(x, N, &o1, one_mu, one_s2, NULL));
    CHECK(memcmp(mu[0], one_mu, S * sizeof(double)) == 0);
    /* Chains differ from one another. */
    CHECK(memcmp(mu[0], mu[0] + S, S * sizeof(double)) != 0);
    for (int t = 0; t < 3; t++) {
        free(mu[t]);
        free(s2[t]);
    }
}

HL_TEST(tmodel_fold_leaves_draws_unchanged) {
    /* With the same random numbers, the folded and the textbook sampler give the same (mu,
     * sigma^2) up to rounding: the fold only moves alpha between the variables. */
    enum { N = 50, S = 200 };
    double x[N], mu_a[S], s2_a[S], mu_b[S], s2_b[S];
    make_data(x, N, 2);
    hl_tmodel_options o = opts(3.0, 0, S, 1);
    CHECK_OK(hl_tmodel_run(x, N, &o, mu_a, s2_a, NULL));
    o.variant = HL_TMODEL_TEST_NOFOLD;
    CHECK_OK(hl_tmodel_run(x, N, &o, mu_b, s2_b, NULL));
    double worst = 0.0;
    for (int i = 0; i < S; i++) {
        const double d1 = fabs(mu_a[i] - mu_b[i]) / (1.0 + fabs(mu_a[i]));
        const double d2 = fabs(s2_a[i] - s2_b[i]) / s2_a[i];
        worst = fmax(worst, fmax(d1, d2));
    }
    CHECK(worst < 1e-9);
}

HL_TEST(tmodel_n3_million_sweeps_stays_finite) {
    const double x[3] = {-1.0, 0.25, 3.0};
    enum { S = 2000 };
    double mu[S], s2[S];
    hl_tmodel_options o = opts(2.0, 1000000, S, 1);
    CHECK_OK(hl_tmodel_run(x, 3, &o, mu, s2, NULL));
    for (int i = 0; i < S; i++) {
        CHECK(isfinite(mu[i]) && isfinite(s2[i]) && s2[i] > 0.0);
    }
}

HL_TEST(tmodel_bad_arguments) {
    double x[10], mu[20], s2[20];
    make_data(x, 10, 3);
    hl_tmodel_options o = opts(6.0, 10, 10, 2);
    CHECK_STATUS(hl_tmodel_run(x, 10, NULL, mu, s2, NULL), HL_EINVAL);
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, NULL, s2, NULL), HL_EINVAL);
    o.sample_size = 0;
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, mu, s2, NULL), HL_EINVAL);
    o = opts(6.0, 10, 10, 2);
    o.thin = 0;
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, mu, s2, NULL), HL_EINVAL);
    o = opts(6.0, 10, 10, 0);
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, mu, s2, NULL), HL_EINVAL);
    o = opts(0.0, 10, 10, 2);
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, mu, s2, NULL), HL_EINVAL);
    o = opts(6.0, 10, SIZE_MAX / 2, 2);
    o.thin = 4;
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, mu, s2, NULL), HL_EOVERFLOW);
    o = opts(6.0, 10, SIZE_MAX / 4, 8);
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, mu, s2, NULL), HL_EOVERFLOW);
    o = opts(6.0, 10, 10, 2);
    const double bad_s2[2] = {1.0, -1.0}, good_mu[2] = {0.0, 1.0}, bad_mu[2] = {0.0, NAN};
    o.init_sigma2 = bad_s2;
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, mu, s2, NULL), HL_EINVAL);
    o.init_sigma2 = NULL;
    o.init_mu = bad_mu;
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, mu, s2, NULL), HL_EINVAL);
    o.init_mu = good_mu;
    CHECK_OK(hl_tmodel_run(x, 10, &o, mu, s2, NULL));
    o = opts(6.0, 10, 10, 2);
    o.variant = (hl_tmodel_variant)9;
    CHECK_STATUS(hl_tmodel_run(x, 10, &o, mu, s2, NULL), HL_EINVAL);
}

typedef struct stop_after {
    int calls, limit;
} stop_after;

static int stop_check(void *p) {
    stop_after *s = p;
    return ++s->calls > s->limit;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

HL_TEST(tmodel_ties_polls_before_the_sort) {
    /* The data check's finite test and copy poll every HL_TM_POLL_ELEMENTS values, the sort's
     * histogram pass every HL_TM_SORT_POLL_ELEMENTS, so a cancellation is seen before the whole
     * data is read. Equal values make the sort skip every scatter pass (the passes that polled
     * before), so without those polls a monitor that stops at once would never be asked. */
    const size_t n = ((size_t)1 << 22) + 5;
    double *x = malloc(n * sizeof *x);
    CHECK(x != NULL);
    if (x != NULL) {
        for (size_t i = 0; i < n; i++) {
            x[i] = 2.5;
        }
        stop_after s = {0, 0};
        hl_monitor mon;
        hl_monitor_init(&mon, stop_check, &s);
        size_t k = 0;
        CHECK_STATUS(hl_tmodel_ties(x, n, &k, &mon), HL_ECANCELLED);
        CHECK(s.calls == 1);
        stop_after never = {0, 1 << 30};
        hl_monitor_init(&mon, stop_check, &never);
        CHECK_OK(hl_tmodel_ties(x, n, &k, &mon));
        CHECK(k == n);
        /* two chunks of the check (HL_TM_POLL_ELEMENTS), five of the histogram
         * (HL_TM_SORT_POLL_ELEMENTS) */
        CHECK(never.calls == 7);
        free(x);
    }
}

HL_TEST(tmodel_radix_sort_matches_qsort) {
    /* Negative and positive values over many magnitudes (subnormals included), both zeros, and
     * runs of ties: the radix sort gives qsort's order (-0.0 and +0.0 compare equal). Then a
     * cancellation at any poll is answered at that poll. */
    enum { N = 20000 };
    double *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    CHECK(a != NULL && b != NULL);
    if (a != NULL && b != NULL) {
        hl_rng r;
        hl_rng_seed(&r, 77);
        for (size_t i = 0; i < N; i++) {
            const double u = hl_rng_uniform(&r);
            const double mag = ldexp(hl_rng_uniform(&r), (int)(hl_rng_next(&r) % 2000) - 1070);
            a[i] = i % 7 == 0 ? (double)(i % 5) : (u < 0.5 ? -mag : mag);
        }
        a[1] = 0.0;
        a[2] = -0.0;
        a[3] = 5e-324;
        a[4] = -1.7976931348623157e308;
        memcpy(b, a, N * sizeof *a);
        qsort(b, N, sizeof *b, cmp_double);
        double *c = malloc(N * sizeof *c);
        CHECK(c != NULL);
        if (c != NULL) {
            memcpy(c, a, N * sizeof *a);
            CHECK_OK(hl_tmodel_testing_sort(c, N, 1000, 64, NULL));
            int same = 1;
            for (size_t i = 0; i < N; i++) {
                same &= c[i] == b[i];
            }
            CHECK(same);
            /* A stop at any poll is answered there: polls 1-20 are in the histogram pass (20
             * chunks of 1000), the later ones in the scatter passes. The array is scratch then
             * (its bits unspecified), so only the status and the number of polls are checked. */
            const int stops[] = {0, 10, 19, 20, 21, 30, 45, 70, 100};
            for (size_t t = 0; t < sizeof stops / sizeof *stops; t++) {
                memcpy(c, a, N * sizeof *a);
                stop_after s = {0, stops[t]};
                hl_monitor mon;
                hl_monitor_init(&mon, stop_check, &s);
                CHECK_STATUS(hl_tmodel_testing_sort(c, N, 1000, 64, &mon), HL_ECANCELLED);
                CHECK(s.calls == stops[t] + 1);
            }
            free(c);
        }
        /* below `small`, qsort */
        double few[5] = {3.0, -1.0, 2.0, -1.0, 0.0};
        CHECK_OK(hl_tmodel_testing_sort(few, 5, 1000, 64, NULL));
        CHECK(few[0] == -1.0 && few[1] == -1.0 && few[2] == 0.0 && few[3] == 2.0 && few[4] == 3.0);
        CHECK_STATUS(hl_tmodel_testing_sort(few, 5, 0, 64, NULL), HL_EINVAL);
    }
    free(a);
    free(b);
}

HL_TEST(tmodel_cancellation_stops_and_frees) {
    enum { N = 1000, C = 3, S = 1000 };
    double *x = malloc(N * sizeof *x), *mu = malloc(C * S * sizeof *mu),
           *s2 = malloc(C * S * sizeof *s2);
    CHECK(x != NULL && mu != NULL && s2 != NULL);
    if (x != NULL && mu != NULL && s2 != NULL) {
        make_data(x, N, 4);
        stop_after s = {0, 2};
        hl_monitor mon;
        hl_monitor_init(&mon, stop_check, &s);
        hl_tmodel_options o = opts(6.0, 100000, S, C);
        o.n_threads = 2;
        CHECK_STATUS(hl_tmodel_run(x, N, &o, mu, s2, &mon), HL_ECANCELLED);
        CHECK(atomic_load(&mon.done) < mon.total);
        CHECK(mon.total == (size_t)C * (100000 + S));
    }
    free(x);
    free(mu);
    free(s2);
}

HL_TEST(tmodel_cancellation_inside_one_sweep) {
    /* A sweep over many points runs in pieces with a look at the monitor between them: 5000
     * points in 64-point pieces are 79 pieces, so 10 sweeps ask the monitor at least 780 times,
     * and a check that says stop at its tenth call stops the run inside the first sweep,
     * before any sweep is counted. */
    enum { N = 5000, S = 10 };
    double *x = malloc(N * sizeof *x), mu[S], s2[S];
    CHECK(x != NULL);
    if (x != NULL) {
        make_data(x, N, 8);
        hl_tmodel_options o = opts(6.0, 0, S, 1);
        o.piece = 64;
        stop_after never = {0, 1 << 30};
        hl_monitor mon;
        hl_monitor_init(&mon, stop_check, &never);
        CHECK_OK(hl_tmodel_run(x, N, &o, mu, s2, &mon));
        CHECK(never.calls >= S * 78);
        stop_after tenth = {0, 9};
        hl_monitor_init(&mon, stop_check, &tenth);
        CHECK_STATUS(hl_tmodel_run(x, N, &o, mu, s2, &mon), HL_ECANCELLED);
        CHECK_EQ_U64(atomic_load(&mon.done), 0);
    }
    free(x);
}

HL_TEST(tmodel_pieces_of_a_sweep_leave_the_draws_unchanged) {
    /* Pieces of whole blocks of 8 points (any size, rounded up) carry the per-lane sums, so the
     * draws are those of one piece, on every instruction set. */
    enum { N = 2061, C = 2, S = 60 };
    double *x = malloc(N * sizeof *x), *mu = malloc(2 * C * S * sizeof *mu),
           *s2 = malloc(2 * C * S * sizeof *s2);
    CHECK(x != NULL && mu != NULL && s2 != NULL);
    if (x != NULL && mu != NULL && s2 != NULL) {
        make_data(x, N, 9);
        const hl_simd_level levels[3] = {HL_SIMD_SCALAR, HL_SIMD_AVX2, HL_SIMD_AVX512};
        const size_t pieces[4] = {1, 24, 1000, 2056};
        for (int l = 0; l < 3; l++) {
            hl_tmodel_options o = opts(6.0, 20, S, C);
            o.simd = levels[l];
            CHECK_OK(hl_tmodel_run(x, N, &o, mu, s2, NULL));
            for (int p = 0; p < 4; p++) {
                o.piece = pieces[p];
                CHECK_OK(hl_tmodel_run(x, N, &o, mu + C * S, s2 + C * S, NULL));
                CHECK(memcmp(mu, mu + C * S, C * S * sizeof *mu) == 0);
                CHECK(memcmp(s2, s2 + C * S, C * S * sizeof *s2) == 0);
            }
        }
    }
    free(x);
    free(mu);
    free(s2);
}

HL_TEST(tmodel_progress_counts_every_sweep) {
    double x[20], mu[30], s2[30];
    make_data(x, 20, 5);
    hl_monitor mon;
    hl_monitor_init(&mon, NULL, NULL);
    hl_tmodel_options o = opts(6.0, 7, 5, 3);
    o.thin = 2;
    CHECK_OK(hl_tmodel_run(x, 20, &o, mu, s2, &mon));
    CHECK_EQ_U64(atomic_load(&mon.done), 3 * (7 + 10));
    CHECK_EQ_U64(mon.total, 3 * (7 + 10));
}

typedef struct gamma_cdf_p {
    double shape, rate;
} gamma_cdf_p;

static double gamma_cdf(double x, const void *p) {
    const gamma_cdf_p *g = p;
    return hl_test_gamma_p(g->shape, g->rate * x);
}

HL_TEST(tmodel_tau2_conditional_ks) {
    enum { N = 7, R = 200000 };
    const double x[N] = {0.3, -1.2, 2.2, 0.9, 5.0, -0.4, 1.1};
    const double u[N] = {0.5, 1.5, 2.0, 0.8, 4.0, 1.0, 0.3};
    const double nu = 2.5;
    double *out = malloc(R * sizeof *out);
    CHECK(out != NULL);
    if (out == NULL) {
        return;
    }
    double s1 = 0.0;
    for (int i = 0; i < N; i++) {
        s1 += 1.0 / u[i];
    }
    for (int prior = 0; prior < 2; prior++) {
        CHECK_OK(hl_tmodel_draw_conditional(HL_TMODEL_COND_TAU2, HL_TMODEL_EXACT, x, N, nu,
                                            (hl_tmodel_prior)prior, 0.7, 1.3, 1.0, u,
                                            11 + (uint64_t)prior, R, out));
        gamma_cdf_p g = {0.5 * nu * N + (prior == 1 ? 1.0 : 0.0), 0.5 * nu * s1};
        const double d = hl_test_ks_statistic(out, R, gamma_cdf, &g);
        CHECK(hl_test_ks_pvalue(d, R) > 1e-4);
    }
    free(out);
}

HL_TEST(tmodel_draws_scale_exactly_with_the_data) {
    /* Standardisation makes the sampler exactly equivariant under power-of-two scalings, and
     * data at 1e150 or 1e-150 runs. */
    enum { N = 37, S = 200 };
    double x[N], xs[N], mu[S], s2[S], mu_s[S], s2_s[S];
    make_data(x, N, 7);
    const double factors[2] = {0x1.0p+400, 0x1.0p-400};
    hl_tmodel_options o = opts(3.0, 20, S, 1);
    CHECK_OK(hl_tmodel_run(x, N, &o, mu, s2, NULL));
    for (int f = 0; f < 2; f++) {
        for (int i = 0; i < N; i++) {
            xs[i] = x[i] * factors[f];
        }
        CHECK_OK(hl_tmodel_run(xs, N, &o, mu_s, s2_s, NULL));
        int same = 1;
        for (int i = 0; i < S; i++) {
            same &= mu_s[i] == mu[i] * factors[f];
            same &= s2_s[i] == s2[i] * factors[f] * factors[f];
        }
        CHECK(same);
    }
    /* A range that overflows a double is refused, not run. */
    const double wide[3] = {-1.7e308, 0.0, 1.7e308};
    CHECK_STATUS(hl_tmodel_run(wide, 3, &o, mu, s2, NULL), HL_EINVAL);
}
