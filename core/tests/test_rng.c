/* Tests of the random generators: golden values (so a seed gives the same stream on every run
 * and machine), stream independence, and each distribution against its exact CDF.
 *
 * Distribution tests: Kolmogorov-Smirnov with n = 200,000 draws from a fixed seed, rejected at
 * p < 1e-4. The seeds are fixed, so each test is deterministic; for a correct generator the
 * chance that a given seed fails one test is 1e-4 (about 1e-3 over the whole file), and every
 * seed we ship passes. A wrong distribution (e.g. a shape off by 1%) fails by a wide margin. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hotloop/rng.h"

#define KS_N 200000
#define KS_ALPHA 1e-4

HL_TEST(rng_xoshiro_golden_values) {
    /* Reference outputs of xoshiro256** from the state {1, 2, 3, 4} (Vigna's reference code). */
    hl_rng r = {{1, 2, 3, 4}};
    const uint64_t want[6] = {UINT64_C(11520),
                              UINT64_C(0),
                              UINT64_C(1509978240),
                              UINT64_C(1215971899390074240),
                              UINT64_C(1216172134540287360),
                              UINT64_C(607988272756665600)};
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_U64(hl_rng_next(&r), want[i]);
    }
}

HL_TEST(rng_splitmix_golden_values) {
    /* splitmix64 from state 0 (Steele, Lea & Flood; Vigna's splitmix64.c). */
    uint64_t s = 0;
    CHECK_EQ_U64(hl_splitmix64(&s), UINT64_C(0xE220A8397B1DCDAF));
    CHECK_EQ_U64(hl_splitmix64(&s), UINT64_C(0x6E789E6AA1B965F4));
    CHECK_EQ_U64(hl_splitmix64(&s), UINT64_C(0x06C45D188009454F));
}

HL_TEST(rng_seeded_streams_are_pinned) {
    /* Pinned outputs of hotloop's own seeding and jump: if these change, every seeded result
     * of hotloop changes, so a change must be deliberate (and the version bumped). */
    hl_rng r;
    hl_rng_seed(&r, 0);
    CHECK_EQ_U64(hl_rng_next(&r), UINT64_C(11091344671253066420));
    CHECK_EQ_U64(hl_rng_next(&r), UINT64_C(13793997310169335082));
    hl_rng streams[3];
    hl_rng_streams(42, 3, streams);
    hl_rng s2;
    hl_rng_stream(&s2, 42, 2);
    CHECK(memcmp(&streams[2], &s2, sizeof s2) == 0);
    CHECK(memcmp(&streams[0], &streams[1], sizeof s2) != 0);
    hl_rng a;
    hl_rng_seed(&a, 42);
    CHECK(memcmp(&a, &streams[0], sizeof a) == 0);
}

HL_TEST(rng_jump_matches_known_property) {
    /* A jump must commute with stepping: jump(step(x)) == step(jump(x)). */
    hl_rng a, b;
    hl_rng_seed(&a, 7);
    b = a;
    (void)hl_rng_next(&a);
    hl_rng_jump(&a);
    hl_rng_jump(&b);
    (void)hl_rng_next(&b);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
}

HL_TEST(rng_below_is_in_range_and_unbiased) {
    hl_rng r;
    hl_rng_seed(&r, 3);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t v = hl_rng_below(&r, 7);
        CHECK(v < 7);
        counts[v]++;
    }
    /* Chi-square with 6 dof; 27.9 is the 1e-4 upper quantile. */
    double chi = 0;
    for (int k = 0; k < 7; k++) {
        chi += (counts[k] - 10000.0) * (counts[k] - 10000.0) / 10000.0;
    }
    CHECK(chi < 27.9);
    CHECK(hl_rng_below(&r, 1) == 0);
}

static double cdf_uniform(double x, const void *p) {
    (void)p;
    return x < 0 ? 0 : (x > 1 ? 1 : x);
}
static double cdf_normal(double x, const void *p) {
    (void)p;
    return 0.5 * erfc(-x / sqrt(2.0));
}
static double cdf_exponential(double x, const void *p) {
    (void)p;
    return x <= 0 ? 0 : -expm1(-x);
}
static double cdf_gamma(double x, const void *p) {
    return hl_test_gamma_p(*(const double *)p, x);
}
static double cdf_chisq(double x, const void *p) {
    return hl_test_gamma_p(0.5 * *(const double *)p, 0.5 * x);
}

typedef double (*draw_fn)(hl_rng *r, double param);
static double draw_uniform(hl_rng *r, double p) {
    (void)p;
    return hl_rng_uniform(r);
}
static double draw_normal(hl_rng *r, double p) {
    (void)p;
    return hl_rng_normal(r);
}
static double draw_exponential(hl_rng *r, double p) {
    (void)p;
    return hl_rng_exponential(r);
}
static double draw_gamma(hl_rng *r, double p) {
    return hl_rng_gamma(r, p);
}
static double draw_chisq(hl_rng *r, double p) {
    return hl_rng_chisq(r, p);
}

/* KS p-value of KS_N draws of `draw` against `cdf`. */
static double ks_pvalue(draw_fn draw, double param, double (*cdf)(double, const void *),
                        uint64_t seed) {
    double *x = malloc(KS_N * sizeof *x);
    hl_rng r;
    hl_rng_seed(&r, seed);
    for (size_t i = 0; i < KS_N; i++) {
        x[i] = draw(&r, param);
    }
    double d = hl_test_ks_statistic(x, KS_N, cdf, &param);
    free(x);
    return hl_test_ks_pvalue(d, KS_N);
}

HL_TEST(rng_uniform_normal_exponential_ks) {
    CHECK(ks_pvalue(draw_uniform, 0, cdf_uniform, 11) > KS_ALPHA);
    CHECK(ks_pvalue(draw_normal, 0, cdf_normal, 12) > KS_ALPHA);
    CHECK(ks_pvalue(draw_exponential, 0, cdf_exponential, 13) > KS_ALPHA);
}

HL_TEST(rng_normal_tail_and_moments) {
    /* The ziggurat's tail (|x| > r = 3.654) holds 2.58e-4 of the mass: check its frequency
     * with a binomial z-test (|z| < 4.5: false-failure rate 7e-6), and the 4th moment (3). */
    hl_rng r;
    hl_rng_seed(&r, 99);
    const size_t n = 4000000;
    size_t tail = 0;
    double m4 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = hl_rng_normal(&r);
        tail += fabs(x) > 3.6541528853610088;
        m4 += x * x * x * x;
    }
    const double p = erfc(3.6541528853610088 / sqrt(2.0));
    const double nd = (double)n;
    const double z = ((double)tail - nd * p) / sqrt(nd * p * (1 - p));
    CHECK(fabs(z) < 4.5);
    CHECK_NEAR(m4 / (double)n, 3.0, 0.03); /* sd of the mean is ~0.0049 */
}

HL_TEST(rng_gamma_ks_all_shapes) {
    const double shapes[] = {0.05, 0.3, 1.0, 2.5, 50.0, 3000.0};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        double pv = ks_pvalue(draw_gamma, shapes[i], cdf_gamma, 100 + i);
        if (!(pv > KS_ALPHA)) {
            printf("  gamma shape %g: p = %g\n", shapes[i], pv);
        }
        CHECK(pv > KS_ALPHA);
    }
    hl_rng r;
    hl_rng_seed(&r, 1);
    CHECK(isnan(hl_rng_gamma(&r, 0.0)));
    CHECK(isnan(hl_rng_gamma(&r, -1.0)));
    CHECK(isnan(hl_rng_gamma(&r, INFINITY)));
}

HL_TEST(rng_chisq_ks) {
    const double dofs[] = {1.0, 7.0, 501.0};
    for (size_t i = 0; i < sizeof dofs / sizeof dofs[0]; i++) {
        CHECK(ks_pvalue(draw_chisq, dofs[i], cdf_chisq, 200 + i) > KS_ALPHA);
    }
}

HL_TEST(rng_negative_control_detects_wrong_shape) {
    /* The KS test must be able to fail: gamma(2.5) draws against the gamma(2.55) CDF. */
    double shape = 2.5, wrong = 2.55;
    double *x = malloc(KS_N * sizeof *x);
    hl_rng r;
    hl_rng_seed(&r, 5);
    for (size_t i = 0; i < KS_N; i++) {
        x[i] = hl_rng_gamma(&r, shape);
    }
    double d = hl_test_ks_statistic(x, KS_N, cdf_gamma, &wrong);
    free(x);
    CHECK(hl_test_ks_pvalue(d, KS_N) < KS_ALPHA);
}
