/*
 * conditionals.h (private to the tmodel kernel): the four full conditionals of the scaled
 * Student-t model and one sweep of the Gibbs sampler (see hotloop/tmodel.h for the model and
 * the fold of alpha). Shared by the sampler (gibbs.c) and the test-only single-conditional
 * entry (testing.c), so the tests draw through the code the sampler runs.
 */
#ifndef HOTLOOP_TMODEL_CONDITIONALS_H
#define HOTLOOP_TMODEL_CONDITIONALS_H

#include "hotloop/tmodel.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hotloop/cpu.h"
#include "hotloop/rng.h"

#include "upass.h"

/* What every chain of one run shares. */
typedef struct hl_tm_model {
    const double *x;
    size_t n;
    double nu;
    hl_tmodel_variant variant;
    hl_simd_level level;                  /* the U pass's variant, resolved against the CPU */
    double gamma_d, gamma_c, gamma_shape; /* Marsaglia-Tsang constants of (nu + 1) / 2 */
    int gamma_boost;
    int use_zig;      /* the shape has a ziggurat (nu >= 1): the U pass draws from it */
    hl_tm_zig zig;    /* its tables (80 KiB: a model lives on the heap) */
    double shape_tau; /* nu n / 2, + 1 under the flat prior */
    double df_alpha;  /* n, or n - 2 under the flat prior */
    size_t piece;     /* points per piece of a U pass (a multiple of 8; see hl_tm_u_pass) */
} hl_tm_model;

/* Points per piece of a U pass when the caller does not choose: about 4 ms on the AVX-512
 * path and 15 ms on the scalar one, so a sweep over many millions of points still answers
 * Ctrl-C within 0.1 s. */
#define HL_TM_PIECE_POINTS ((size_t)1 << 20)

/* Asked between the pieces of a U pass: true abandons the sweep (the run is being cancelled). */
typedef struct hl_tm_poll {
    bool (*stop)(void *ctx);
    void *ctx;
} hl_tm_poll;

/* The state of one chain. alpha2 is 1 at the start of every sweep of the exact sampler. */
typedef struct hl_tm_chain {
    _Alignas(64) hl_tm_lanes lanes; /* the U pass's eight streams (64-byte aligned; the chain
                                     * is padded to whole lines) */
    hl_rng rng; /* the chain's stream: seeds the lanes, then the per-sweep draws */
    double mu, tau2, alpha2;
} hl_tm_chain;

static inline void hl_tm_model_init(hl_tm_model *m, const double *x, size_t n, double nu,
                                    hl_tmodel_prior prior, hl_tmodel_variant variant,
                                    hl_simd_level level) {
    m->x = x;
    m->n = n;
    m->nu = nu;
    m->variant = variant;
    m->level = hl_cpu_resolve_level(level);
    const double shape = 0.5 * (nu + 1.0);
    m->gamma_shape = shape;
    m->gamma_boost = shape < 1.0;
    m->gamma_d = (m->gamma_boost ? shape + 1.0 : shape) - 1.0 / 3.0;
    m->gamma_c = 1.0 / sqrt(9.0 * m->gamma_d);
    m->use_zig = hl_tm_zig_get(shape, &m->zig) == 0;
    const int flat = prior == HL_TMODEL_PRIOR_FLAT;
    m->shape_tau = 0.5 * nu * (double)n + (flat ? 1.0 : 0.0);
    m->df_alpha = (double)n - (flat ? 2.0 : 0.0);
    m->piece = HL_TM_PIECE_POINTS;
}

/* Sets the piece size of the U pass: `points` rounded up to a multiple of 8 (0: the default).
 * The draws do not depend on it. */
static inline void hl_tm_model_set_piece(hl_tm_model *m, size_t points) {
    m->piece = points == 0 ? HL_TM_PIECE_POINTS
                           : (points > SIZE_MAX - 7 ? SIZE_MAX - 7 : (points + 7) / 8 * 8);
}

/*
 * The U conditional, fused with the sums (upass.h): for each i,
 *     U_i = (nu tau^2 + r_i^2 / alpha^2) / chi^2_{nu+1},
 * so w_i = 1 / U_i = 2 G_i / (nu tau^2 + r_i^2 / alpha^2) with G_i ~ Gamma((nu + 1) / 2).
 * `r2scale` is 1 / alpha^2 (alpha^2 under the Rust bug). w_out (n values) receives the w_i when
 * not NULL. One pass, one gamma draw and one division per point, in pieces of m->piece points
 * with `poll` (may be NULL) asked between them. Returns false, the pass unfinished, when the
 * poll says stop; else true with the sums in *sums.
 */
static inline bool hl_tm_u_pass(const hl_tm_model *m, double mu, double tau2, double r2scale,
                                hl_tm_lanes *lanes, double *w_out, const hl_tm_poll *poll,
                                hl_tm_sums *sums) {
    hl_tm_upass a = {
        .x = m->x,
        .n = m->n,
        .mu = mu,
        .nu_tau2 = m->nu * tau2,
        .r2scale = r2scale,
        .zig = m->use_zig ? &m->zig : NULL,
        .d = m->gamma_d,
        .c = m->gamma_c,
        .shape = m->gamma_shape,
        .boost = m->gamma_boost,
        .w_out = w_out,
    };
    hl_tm_acc acc;
    memset(&acc, 0, sizeof acc);
    for (size_t b = 0; b < m->n; b += m->piece) {
        if (b > 0 && poll != NULL && poll->stop(poll->ctx)) {
            return false;
        }
        a.x = m->x + b;
        a.n = m->n - b < m->piece ? m->n - b : m->piece;
        a.w_out = w_out == NULL ? NULL : w_out + b;
        hl_tm_upass_run(&a, lanes, &acc, m->level);
    }
    *sums = hl_tm_reduce(&acc);
    return true;
}

/* alpha^2 | mu, U ~ Inv-chi^2(df, s2 / df) = s2 / chi^2_df (df = n, or n - 2 flat). */
static inline double hl_tm_draw_alpha2(const hl_tm_model *m, double s2, hl_rng *rng) {
    return s2 / hl_rng_chisq(rng, m->df_alpha);
}

/* mu | alpha^2, U ~ N(sum(x_i w_i) / sum(w_i), alpha^2 / sum(w_i)); the mean is written as
 * mu_old + s3 / s1, the same number without the cancellation of sum(x_i w_i) for offset data. */
static inline double hl_tm_draw_mu(double mu_old, hl_tm_sums s, double alpha2, hl_rng *rng) {
    const double mean = mu_old + s.s3 / s.s1;
    return mean + sqrt(alpha2 / s.s1) * hl_rng_normal(rng);
}

/* tau^2 | U ~ Gamma(shape_tau, rate (nu / 2) s1). */
static inline double hl_tm_draw_tau2(const hl_tm_model *m, double s1, hl_rng *rng) {
    return hl_rng_gamma(rng, m->shape_tau) / (0.5 * m->nu * s1);
}

/* One sweep (U, alpha^2, mu, tau^2, then the fold): the draw of sigma^2 in *sigma2. Returns
 * false, the chain half-updated, when `poll` (may be NULL) stops the U pass. */
static inline bool hl_tm_sweep(const hl_tm_model *m, hl_tm_chain *ch, const hl_tm_poll *poll,
                               double *sigma2_out) {
    const double r2scale = m->variant == HL_TMODEL_TEST_ALPHA_MUL ? ch->alpha2 : 1.0 / ch->alpha2;
    hl_tm_sums s;
    if (!hl_tm_u_pass(m, ch->mu, ch->tau2, r2scale, &ch->lanes, NULL, poll, &s)) {
        return false;
    }
    const double a = hl_tm_draw_alpha2(m, s.s2, &ch->rng);
    ch->mu = hl_tm_draw_mu(ch->mu, s, a, &ch->rng);
    const double t =
        m->variant == HL_TMODEL_TEST_TAU_FROZEN ? ch->tau2 : hl_tm_draw_tau2(m, s.s1, &ch->rng);
    const double sigma2 = a * t;
    if (m->variant == HL_TMODEL_EXACT) {
        /* The fold: tau^2 <- alpha^2 tau^2, (U <- alpha^2 U, never stored), alpha^2 <- 1. */
        ch->tau2 = sigma2;
        ch->alpha2 = 1.0;
    } else {
        ch->tau2 = t;
        ch->alpha2 = a;
    }
    *sigma2_out = sigma2;
    return true;
}

#endif
