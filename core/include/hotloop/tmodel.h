/*
 * hotloop/tmodel.h: the Gibbs sampler of the scaled Student-t model (Gelman et al.,
 * "Bayesian Data Analysis", 3rd ed., section 17.5 / p. 295).
 *
 * Model: x_i ~ t_nu(mu, sigma^2), nu fixed, written with the parameter expansion of BDA3
 *     x_i ~ N(mu, alpha^2 U_i),   U_i ~ Inv-chi^2(nu, tau^2),   sigma^2 = alpha^2 tau^2.
 * Priors (HL_TMODEL_PRIOR_LOG_SIGMA, BDA3's): p(mu, log sigma) proportional to 1, realised as
 * p(mu, tau^2, alpha^2) proportional to 1 / (tau^2 alpha^2). The full conditionals:
 *     U_i     ~ Inv-chi^2(nu + 1, (nu tau^2 + ((x_i - mu) / alpha)^2) / (nu + 1))
 *     alpha^2 ~ Inv-chi^2(n, (1/n) sum (x_i - mu)^2 / U_i)
 *     mu      ~ N(sum(x_i / U_i) / sum(1 / U_i), alpha^2 / sum(1 / U_i))
 *     tau^2   ~ Gamma(shape nu n / 2, rate (nu / 2) sum(1 / U_i))
 * HL_TMODEL_PRIOR_FLAT is p(mu, sigma^2) proportional to 1, realised as p(mu, tau^2, alpha^2)
 * proportional to 1 (in the coordinates (alpha^2, sigma^2) that is 1/alpha^2, the Haar measure on
 * the working parameter, times a flat sigma^2; Liu & Wu, JASA 1999, for why a Haar working
 * prior keeps the marginal chain of (mu, sigma^2) exact). Its conditionals differ in two places:
 *     alpha^2 ~ (sum (x_i - mu)^2 / U_i) / chi^2_{n - 2},   tau^2 shape nu n / 2 + 1.
 *
 * One sweep updates U, alpha^2, mu, tau^2 in this order (the source document's), then folds
 * alpha into tau and U: tau^2 <- alpha^2 tau^2, U_i <- alpha^2 U_i, alpha^2 <- 1. The next
 * sweep's draws of (mu, sigma^2) are the same random function of the same random numbers either
 * way (every conditional above depends on alpha only through alpha^2 tau^2 and alpha^2 U_i), but
 * without the fold log alpha is a random walk that overflows after about 1e6 sweeps when n is
 * small. Since U is redrawn first in every sweep, the U_i themselves are never stored: one fused
 * pass over the data draws them and accumulates the three sums the other conditionals need.
 *
 * Randomness: chain c uses stream c of the seed (hotloop/rng.h); its U draws come from eight lane
 * streams seeded from it (point i from lane i mod 8, so the pass vectorises: AVX2 and AVX-512
 * variants give the same bits as the scalar code). The draws depend on the seed and the chain
 * index only, never on the thread count, the scheduling or the instruction set.
 */
#ifndef HOTLOOP_TMODEL_H
#define HOTLOOP_TMODEL_H

#include "hotloop/common.h"
#include "hotloop/cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The prior on (mu, sigma^2); mu is flat in both. */
typedef enum hl_tmodel_prior {
    HL_TMODEL_PRIOR_LOG_SIGMA = 0, /* p(mu, log sigma) ∝ 1 (BDA3); proper for n >= 2 points */
    HL_TMODEL_PRIOR_FLAT = 1,      /* p(mu, sigma^2) ∝ 1; proper for n >= 4 points */
} hl_tmodel_prior;

/* Which sampler runs. Everything but HL_TMODEL_EXACT exists for the test suite only: the
 * textbook form without the fold, and the two bugs of the source document, kept as negative
 * controls that the statistical tests must reject or flag. */
typedef enum hl_tmodel_variant {
    HL_TMODEL_EXACT = 0,           /* the sampler, with the fold */
    HL_TMODEL_TEST_NOFOLD = 1,     /* test only: alpha^2 kept across sweeps (drifts) */
    HL_TMODEL_TEST_ALPHA_MUL = 2,  /* test only: the Rust bug, (x - mu)^2 * alpha^2 in U */
    HL_TMODEL_TEST_TAU_FROZEN = 3, /* test only: the Python bug, tau^2 never updated */
} hl_tmodel_variant;

/* Options of hl_tmodel_run. Initialise with hl_tmodel_options_init. */
typedef struct hl_tmodel_options {
    double nu;                 /* degrees of freedom, in (0, HL_TMODEL_MAX_NU] */
    hl_tmodel_prior prior;     /* default HL_TMODEL_PRIOR_LOG_SIGMA */
    hl_tmodel_variant variant; /* default HL_TMODEL_EXACT */
    size_t burn_in;            /* sweeps discarded first, >= 0 (default 1000) */
    size_t sample_size;        /* draws kept per chain, >= 1 (default 2000) */
    size_t thin;               /* keep every thin-th sweep after burn-in, >= 1 (default 1) */
    size_t chains;             /* independent chains, >= 1 (default 1) */
    uint64_t seed;             /* chain c uses stream c of this seed */
    unsigned n_threads;        /* threads (0 = all CPUs); chains are the unit of work */
    const double *init_mu;     /* NULL, or `chains` starting values of mu (finite) */
    const double *init_sigma2; /* NULL, or `chains` starting values of sigma^2 (> 0, finite) */
    hl_simd_level simd;        /* the U pass's instruction set (default HL_SIMD_AUTO; lowered
                                  to what the CPU has); every level gives the same draws */
    size_t piece;              /* points of a sweep between two looks at the monitor (0, the
                                  default: 2^20, rounded up to a multiple of 8); the draws do
                                  not depend on it */
} hl_tmodel_options;

/* The data's range (max - min) must lie within these, and within the tighter bounds that
 * hl_tmodel_check_data derives from n, nu and the prior for heavy posterior tails. */
#define HL_TMODEL_MIN_RANGE 1e-150
#define HL_TMODEL_MAX_RANGE 1e150
/* sigma must stay between these (about the square roots of the smallest normal and the largest
 * double) with a probability per draw of at least 1 - 10^-HL_TMODEL_TAIL_DIGITS. */
#define HL_TMODEL_SIGMA_MIN 1.5e-154
#define HL_TMODEL_SIGMA_MAX 1.3e154
#define HL_TMODEL_TAIL_DIGITS 20.0
/* The smallest power p = nu (n - k) - k + 1 + e accepted (see hl_tmodel_check_data). */
#define HL_TMODEL_MIN_POWER 1.0
/* The largest nu accepted. The conditionals multiply nu by n, by tau^2, by (x_i - mu)^2 and by
 * sums of 1/U_i: from about nu = 1e305 / n those products overflowed with starts near the data
 * (a run then failed with an overflow that seemed to blame the data), and from 1e150 with
 * starts at the clamps (mu 1e100 data scales away: (x_i - mu)^2 = 1e200). Runs with nu up to
 * 1e105 from every clamp, n from 3 to 2e5, stayed finite. A t model with nu beyond about 1e15
 * is already the normal model to double precision. */
#define HL_TMODEL_MAX_NU 1e100

/* Fills *opt with the defaults above (nu = 0: the caller must set it). */
HL_API void hl_tmodel_options_init(hl_tmodel_options *opt);

/*
 * Checks that x[0..n) gives a proper posterior under `prior` with nu degrees of freedom, one
 * whose draws fit a double: n >= 2 (n >= 4 for the flat prior), every x_i finite,
 * 0 < nu <= HL_TMODEL_MAX_NU, and the ties not too heavy. With k the largest number of equal
 * values (1 when all differ), the posterior near sigma = 0 behaves like sigma^(p - 1) d sigma with
 * p = nu (n - k) - k + 1 + e (e = 0 for the log-sigma prior, 2 for the flat one): proper iff
 * p > 0, and its mass below sigma = eps is about eps^p. We require p >= HL_TMODEL_MIN_POWER
 * (1): below about p = 0.35 the chains were seen to wander to sigma^2 under 1e-300 data scales
 * (the log of sigma is spread over a range of order 1/p), and from p = 1 on the density of
 * sigma no longer grows towards 0. All values equal, heavy ties, or a tiny nu with few points
 * (p = nu (n - 1) when all differ) are refused.
 * The range R = max - min must also keep sigma^2 and its posterior tails inside the doubles.
 * sigma is of the order of R, and its tails fall like powers: P(sigma > t R) ~ t^-a for large
 * t, with a = n - 1 under the log-sigma prior (n - 3 under the flat one: a likelihood falling
 * like sigma^-n, a mu window of width sigma, the prior), and P(sigma < t R) ~ t^p for small t.
 * With n = 2 the upper tail is as heavy as 1/t: data spread over 1e150 overflowed sigma^2 in
 * about 1 run in 10 of 12000 draws. So R must lie in [lo, hi] with
 *     hi = min(HL_TMODEL_MAX_RANGE, HL_TMODEL_SIGMA_MAX 10^(-D / a)),
 *     lo = max(HL_TMODEL_MIN_RANGE, HL_TMODEL_SIGMA_MIN 10^(D / p)),  D = HL_TMODEL_TAIL_DIGITS,
 * which leaves a chance of about 10^-D per draw (the tails' constants were measured below 1)
 * that sigma^2 leaves the normal doubles: hi = 1.3e134 for n = 2, 1e150 from n = 6 on (log-sigma
 * prior). Near-ties (values much closer than R, not equal) are not covered: they can make the
 * posterior put mass far below R, and a run that then leaves the doubles fails with
 * HL_ENUMERIC.
 * Returns HL_OK, HL_EINVAL for data or nu outside that domain, HL_ENOMEM when the sorted copy
 * it needs for the tie count cannot be allocated. Thread-safe; x is not modified.
 */
HL_API hl_status hl_tmodel_check_data(const double *x, size_t n, double nu, hl_tmodel_prior prior);

/*
 * The range [*lo, *hi] that hl_tmodel_check_data accepts for max - min, for n points whose
 * power near sigma = 0 is `power` (p above, >= HL_TMODEL_MIN_POWER) under `prior`; n >= 2
 * (>= 4 for the flat prior). Pure arithmetic, thread-safe.
 */
HL_API void hl_tmodel_range_bounds(size_t n, double power, hl_tmodel_prior prior, double *lo,
                                   double *hi);

/*
 * Runs opt->chains chains of burn_in + sample_size * thin sweeps each over the data x[0..n)
 * and writes the kept draws: mu_out[c * sample_size + j] and sigma2_out[c * sample_size + j]
 * (chain-major, each array chains * sample_size doubles, caller-owned, not aliasing x).
 *
 * The chains run on the standardised data (x_i - c) / s, c the median and s the largest
 * |x_i - c|, and their draws are mapped back (mu = c + s mu_z, sigma^2 = s^2 sigma_z^2): the
 * posterior is location-scale equivariant under both priors, so this is the same sampler, and
 * data at any scale runs without overflow. Scaling the data by a power of two scales the draws
 * exactly.
 *
 * Starting values: init_mu[c] and init_sigma2[c] when given (clamped to within 1e100 data
 * scales); otherwise chain c draws them from its own stream, overdispersed around the data
 * (mu = mean + 2 z1 sd / sqrt(n), sigma^2 = var exp(z2), z standard normal, on the standardised
 * scale). The starting tau^2 is sigma^2 and alpha^2 is 1; U needs no start (it is drawn first).
 *
 * Work: O(n) per sweep and chain (one fused pass), memory O(n + chains) beyond the outputs; the
 * chains run on hl_parallel_for, in segments of about 65536 point-updates (one sweep when n
 * is larger; about 0.15 ms
 * with AVX-512 or AVX2, 0.3 ms on the scalar path) handed to whichever worker is free, between
 * which the calling thread polls `mon` (NULL allowed), so a cancellation is seen within a segment.
 * `mon` counts sweeps (total = chains * (burn_in + sample_size * thin)).
 *
 * Returns HL_OK; HL_EINVAL for NULL pointers, bad data (see hl_tmodel_check_data), nu, sizes,
 * variant or starting values, or data whose range overflows a double; HL_EOVERFLOW when the sweep
 * count or the output size overflows size_t; HL_ENOMEM; HL_ECANCELLED (outputs then partly
 * written); HL_ENUMERIC if a draw is not finite or a kept sigma^2 is below the normal doubles
 * (DBL_MIN: 0 or a subnormal; near-ties far closer than the data's range can put the posterior
 * there). Deterministic for a given seed; thread-safe for distinct outputs.
 */
HL_API hl_status hl_tmodel_run(const double *x, size_t n, const hl_tmodel_options *opt,
                               double *mu_out, double *sigma2_out, hl_monitor *mon);

/* ---- test only ------------------------------------------------------------------------- */

/* Which full conditional hl_tmodel_draw_conditional samples. */
typedef enum hl_tmodel_conditional {
    HL_TMODEL_COND_U = 0,      /* all n U_i at once (the sampler's fused pass) */
    HL_TMODEL_COND_ALPHA2 = 1, /* alpha^2 given mu and U */
    HL_TMODEL_COND_MU = 2,     /* mu given alpha^2 and U */
    HL_TMODEL_COND_TAU2 = 3,   /* tau^2 given U */
} hl_tmodel_conditional;

/*
 * Test only: draws one full conditional `reps` times with the other variables fixed at
 * (mu, tau2, alpha2, u[0..n)), through the same code the sampler runs, from stream 0 of `seed`.
 * For HL_TMODEL_COND_U out receives reps * n values (rep-major) and `u` may be NULL; otherwise
 * out receives reps values and u must hold n positive finite values (the U_i). The variant
 * matters only for HL_TMODEL_COND_U (HL_TMODEL_TEST_ALPHA_MUL applies the bug there).
 * Returns HL_OK, HL_EINVAL for bad arguments, HL_ENOMEM, HL_EOVERFLOW for reps * n overflow.
 */
HL_API hl_status hl_tmodel_draw_conditional(hl_tmodel_conditional which, hl_tmodel_variant variant,
                                            const double *x, size_t n, double nu,
                                            hl_tmodel_prior prior, double mu, double tau2,
                                            double alpha2, const double *u, uint64_t seed,
                                            size_t reps, double *out);

/* Test only: fills out[0..count) with Gamma(shape) draws of one U-pass lane seeded with `seed`
 * (the sampler's own gamma code: the ziggurat for shapes 1 to 1e15, else Marsaglia-Tsang; see
 * core/src/tmodel/upass.h). Returns HL_OK, HL_EINVAL for bad arguments, HL_ENOMEM. */
HL_API hl_status hl_tmodel_testing_gamma(double shape, uint64_t seed, size_t count, double *out);

/*
 * Test only: runs the U pass (the sampler's inner loop) `reps` times at mu, tau2 (alpha^2 = 1)
 * over x[0..n) with the instruction set `level` (resolved against the CPU), lanes seeded from
 * stream 0 of `seed`; out receives reps * n values w_i = 1 / U_i (rep-major). Every level gives
 * the same bits. Returns HL_OK, HL_EINVAL for bad arguments, HL_ENOMEM, HL_EOVERFLOW.
 */
HL_API hl_status hl_tmodel_testing_upass(const double *x, size_t n, double nu, double mu,
                                         double tau2, uint64_t seed, size_t reps,
                                         hl_simd_level level, double *out);

/*
 * The largest number of equal values among x[0..n) (finite doubles; 0 when n = 0) in *k, from
 * a sorted copy (the sampler's radix sort), polling `mon` (may be NULL) while sorting: the tie
 * count that hl_tmodel_check_data's condition needs, for callers that word their own errors.
 * Returns HL_OK, HL_EINVAL (NULL pointers, a non-finite value), HL_ENOMEM or HL_ECANCELLED.
 */
HL_API hl_status hl_tmodel_ties(const double *x, size_t n, size_t *k, hl_monitor *mon);

/*
 * Test only: sorts a[0..n) (finite doubles) with the sampler's radix sort when n >= small (else
 * qsort), polling `mon` (may be NULL) every `poll_every` elements moved. Returns HL_OK,
 * HL_ECANCELLED (a[] then holds unspecified bits: the sampler sorts a copy and drops it),
 * HL_EINVAL or HL_ENOMEM.
 */
HL_API hl_status hl_tmodel_testing_sort(double *a, size_t n, size_t poll_every, size_t small,
                                        hl_monitor *mon);

#ifdef __cplusplus
}
#endif
#endif /* HOTLOOP_TMODEL_H */
