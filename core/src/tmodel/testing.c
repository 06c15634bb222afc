/* Test-only entries of the tmodel kernel: single full conditionals and the inlined gamma
 * generator, drawn through the sampler's own code (conditionals.h). See hotloop/tmodel.h. */
#include <math.h>
#include <stdlib.h>

#include "hotloop/tmodel.h"

#include "conditionals.h"
#include "sort.h"

hl_status hl_tmodel_testing_gamma(double shape, uint64_t seed, size_t count, double *out) {
    if (!(shape > 0.0) || !isfinite(shape) || (out == NULL && count > 0)) {
        return HL_EINVAL;
    }
    hl_rng rng;
    hl_rng_seed(&rng, seed);
    hl_tm_zig *zig = hl_aligned_alloc(64, 1, sizeof *zig);
    if (zig == NULL) {
        return HL_ENOMEM;
    }
    if (hl_tm_zig_get(shape, zig) == 0) {
        for (size_t i = 0; i < count; i++) {
            while (!hl_tm_zig_attempt(&rng, zig, &out[i])) {
            }
        }
        hl_aligned_free(zig);
        return HL_OK;
    }
    hl_aligned_free(zig);
    hl_tm_upass a = {.shape = shape, .boost = shape < 1.0};
    a.d = (a.boost ? shape + 1.0 : shape) - 1.0 / 3.0;
    a.c = 1.0 / sqrt(9.0 * a.d);
    for (size_t i = 0; i < count; i++) {
        out[i] = hl_tm_lane_gamma(&rng, &a);
    }
    return HL_OK;
}

/* The model of one test entry, and the U pass's lanes seeded from stream 0 of `seed` (then
 * *rng continues that stream). */
static void test_setup(hl_tm_model *m, hl_tm_lanes *lanes, hl_rng *rng, const double *x, size_t n,
                       double nu, hl_tmodel_prior prior, hl_tmodel_variant variant,
                       hl_simd_level level, uint64_t seed) {
    hl_tm_model_init(m, x, n, nu, prior, variant, level);
    hl_rng_seed(rng, seed);
    hl_tm_lanes_seed(lanes, rng);
}

hl_status hl_tmodel_testing_upass(const double *x, size_t n, double nu, double mu, double tau2,
                                  uint64_t seed, size_t reps, hl_simd_level level, double *out) {
    size_t total;
    if (x == NULL || out == NULL || n == 0 || !(nu > 0.0) || !isfinite(nu) || !isfinite(mu) ||
        !(tau2 > 0.0) || !isfinite(tau2)) {
        return HL_EINVAL;
    }
    if (!hl_size_mul(reps, n, &total)) {
        return HL_EOVERFLOW;
    }
    hl_tm_model *m = hl_aligned_alloc(64, 1, sizeof *m);
    if (m == NULL) {
        return HL_ENOMEM;
    }
    hl_tm_lanes lanes;
    hl_rng rng;
    test_setup(m, &lanes, &rng, x, n, nu, HL_TMODEL_PRIOR_LOG_SIGMA, HL_TMODEL_EXACT, level, seed);
    for (size_t r = 0; r < reps; r++) {
        hl_tm_sums s;
        (void)hl_tm_u_pass(m, mu, tau2, 1.0, &lanes, out + r * n, NULL, &s);
    }
    hl_aligned_free(m);
    return HL_OK;
}

/* The draws of hl_tmodel_draw_conditional on the model *m (arguments checked). */
static hl_status conditional_draws(hl_tm_model *m, hl_tmodel_conditional which,
                                   hl_tmodel_variant variant, const double *x, size_t n, double nu,
                                   hl_tmodel_prior prior, double mu, double tau2, double alpha2,
                                   const double *u, uint64_t seed, size_t reps, double *out) {
    hl_tm_lanes lanes;
    hl_rng rng;
    test_setup(m, &lanes, &rng, x, n, nu, prior, variant, HL_SIMD_AUTO, seed);
    if (which == HL_TMODEL_COND_U) {
        size_t total;
        if (!hl_size_mul(reps, n, &total)) {
            return HL_EOVERFLOW;
        }
        const double r2scale = variant == HL_TMODEL_TEST_ALPHA_MUL ? alpha2 : 1.0 / alpha2;
        for (size_t r = 0; r < reps; r++) {
            double *w = out + r * n;
            hl_tm_sums s;
            (void)hl_tm_u_pass(m, mu, tau2, r2scale, &lanes, w, NULL, &s);
            for (size_t i = 0; i < n; i++) {
                w[i] = 1.0 / w[i]; /* U_i = 1 / w_i */
            }
        }
        return HL_OK;
    }
    if (u == NULL) {
        return HL_EINVAL;
    }
    hl_tm_sums s = {0.0, 0.0, 0.0};
    for (size_t i = 0; i < n; i++) {
        if (!(u[i] > 0.0) || !isfinite(u[i])) {
            return HL_EINVAL;
        }
        const double r = x[i] - mu, w = 1.0 / u[i];
        s.s1 += w;
        s.s2 += r * r * w;
        s.s3 += r * w;
    }
    for (size_t r = 0; r < reps; r++) {
        switch (which) {
        case HL_TMODEL_COND_ALPHA2:
            out[r] = hl_tm_draw_alpha2(m, s.s2, &rng);
            break;
        case HL_TMODEL_COND_MU:
            out[r] = hl_tm_draw_mu(mu, s, alpha2, &rng);
            break;
        case HL_TMODEL_COND_TAU2:
            out[r] = hl_tm_draw_tau2(m, s.s1, &rng);
            break;
        default:
            return HL_EINVAL;
        }
    }
    return HL_OK;
}

hl_status hl_tmodel_draw_conditional(hl_tmodel_conditional which, hl_tmodel_variant variant,
                                     const double *x, size_t n, double nu, hl_tmodel_prior prior,
                                     double mu, double tau2, double alpha2, const double *u,
                                     uint64_t seed, size_t reps, double *out) {
    if (x == NULL || out == NULL || n == 0 || !(nu > 0.0) || !isfinite(nu) || !isfinite(mu) ||
        !(tau2 > 0.0) || !isfinite(tau2) || !(alpha2 > 0.0) || !isfinite(alpha2) ||
        (unsigned)variant > (unsigned)HL_TMODEL_TEST_TAU_FROZEN ||
        (prior != HL_TMODEL_PRIOR_LOG_SIGMA && prior != HL_TMODEL_PRIOR_FLAT)) {
        return HL_EINVAL;
    }
    if (prior == HL_TMODEL_PRIOR_FLAT && n < 3) {
        return HL_EINVAL;
    }
    hl_tm_model *m = hl_aligned_alloc(64, 1, sizeof *m); /* 80 KiB of tables: not the stack */
    if (m == NULL) {
        return HL_ENOMEM;
    }
    const hl_status st =
        conditional_draws(m, which, variant, x, n, nu, prior, mu, tau2, alpha2, u, seed, reps, out);
    hl_aligned_free(m);
    return st;
}

hl_status hl_tmodel_testing_sort(double *a, size_t n, size_t poll_every, size_t small,
                                 hl_monitor *mon) {
    if ((a == NULL && n > 0) || poll_every == 0) {
        return HL_EINVAL;
    }
    double *tmp = hl_alloc_array(n > 0 ? n : 1, sizeof *tmp);
    if (tmp == NULL) {
        return HL_ENOMEM;
    }
    const hl_status st = hl_tm_sort_with(a, n, tmp, mon, poll_every, small);
    free(tmp);
    return st;
}
