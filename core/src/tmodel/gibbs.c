/* The Gibbs sampler of the scaled Student-t model: many chains in parallel, in rounds so the
 * calling thread can answer Ctrl-C. See hotloop/tmodel.h for the model and the contract. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hotloop/parallel.h"
#include "hotloop/tmodel.h"

#include "conditionals.h"

/* Point-updates (n times sweeps) one chain does per round: about 5 ms of work on the AVX-512
 * path (15 ms scalar), so a Ctrl-C (polled between chains and rounds) is answered well within
 * 0.1 s, while the threads, started once per round, start rarely: the document's workload
 * (n = 500, 4000 sweeps) takes two rounds. */
#define HL_TM_ROUND_POINTS 1048576u

void hl_tmodel_options_init(hl_tmodel_options *opt) {
    opt->nu = 0.0;
    opt->prior = HL_TMODEL_PRIOR_LOG_SIGMA;
    opt->variant = HL_TMODEL_EXACT;
    opt->burn_in = 1000;
    opt->sample_size = 2000;
    opt->thin = 1;
    opt->chains = 1;
    opt->seed = 0;
    opt->n_threads = 0;
    opt->init_mu = NULL;
    opt->init_sigma2 = NULL;
    opt->simd = HL_SIMD_AUTO;
}

typedef struct run_ctx {
    const hl_tm_model *model;
    double center, scale; /* the draws of the standardised data map back through these */
    hl_tm_chain *chains;
    size_t from, to; /* sweeps [from, to) of this round */
    size_t burn_in, thin, sample_size;
    double *mu_out, *sigma2_out;
    hl_monitor *mon;
} run_ctx;

/* Advances chains [begin, end) through the round's sweeps, storing the kept draws. Each chain
 * touches only its own state and output rows, so any scheduling gives the same result. */
static hl_status run_range(void *p, size_t begin, size_t end, unsigned worker) {
    (void)worker;
    const run_ctx *c = p;
    for (size_t k = begin; k < end; k++) {
        hl_tm_chain *ch = &c->chains[k];
        double *mu_row = c->mu_out + k * c->sample_size;
        double *s2_row = c->sigma2_out + k * c->sample_size;
        for (size_t s = c->from; s < c->to; s++) {
            const double sigma2 = hl_tm_sweep(c->model, ch);
            if (!(isfinite(ch->mu) && sigma2 > 0.0 && isfinite(sigma2) && ch->tau2 > 0.0 &&
                  isfinite(ch->tau2) && ch->alpha2 > 0.0 && isfinite(ch->alpha2))) {
                return HL_ENUMERIC;
            }
            if (s >= c->burn_in) {
                const size_t j = s - c->burn_in;
                if ((j + 1) % c->thin == 0) {
                    const double s2 = sigma2 * c->scale * c->scale;
                    if (!isfinite(s2)) {
                        return HL_ENUMERIC; /* sigma^2 beyond the double range */
                    }
                    mu_row[j / c->thin] = c->center + c->scale * ch->mu;
                    s2_row[j / c->thin] = s2;
                }
            }
        }
        hl_monitor_add(c->mon, c->to - c->from);
    }
    return HL_OK;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * The sampler runs on standardised data z_i = (x_i - c) / s (c the median, s the largest
 * |x_i - c|, so every z_i lies in [-1, 1]) and maps its draws back: mu = c + s mu_z,
 * sigma^2 = s^2 sigma_z^2. The posterior is location-scale equivariant under both priors (the
 * Jacobian of the map is a constant), so this is the same sampler for the data as given, and
 * data at any scale (1e-300 or 1e300) runs without overflow or underflow in the pass.
 * Fills z (n values) and returns HL_EINVAL when the data's range does not fit a double.
 */
static hl_status standardise(const double *x, size_t n, double *z, double *center, double *scale) {
    memcpy(z, x, n * sizeof *z);
    qsort(z, n, sizeof *z, cmp_double);
    const double c = n % 2 ? z[n / 2] : 0.5 * z[n / 2 - 1] + 0.5 * z[n / 2];
    const double s = fmax(z[n - 1] - c, c - z[0]);
    if (!(s > 0.0) || !isfinite(s)) {
        return HL_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        z[i] = (x[i] - c) / s;
    }
    *center = c;
    *scale = s;
    return HL_OK;
}

/* Overdispersed starting values around the data (see the header), from the chain's stream. */
static void default_start(hl_tm_chain *ch, const double *x, size_t n) {
    double mean = 0.0;
    for (size_t i = 0; i < n; i++) {
        mean += x[i];
    }
    mean /= (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        ss += (x[i] - mean) * (x[i] - mean);
    }
    const double var = ss / (double)(n - 1);
    const double z1 = hl_rng_normal(&ch->rng);
    const double z2 = hl_rng_normal(&ch->rng);
    ch->mu = mean + 2.0 * z1 * sqrt(var / (double)n);
    ch->tau2 = var * exp(z2);
}

hl_status hl_tmodel_run(const double *x, size_t n, const hl_tmodel_options *opt, double *mu_out,
                        double *sigma2_out, hl_monitor *mon) {
    if (opt == NULL || mu_out == NULL || sigma2_out == NULL) {
        return HL_EINVAL;
    }
    if (opt->sample_size == 0 || opt->thin == 0 || opt->chains == 0 ||
        (unsigned)opt->variant > (unsigned)HL_TMODEL_TEST_TAU_FROZEN) {
        return HL_EINVAL;
    }
    hl_status st = hl_tmodel_check_data(x, n, opt->nu, opt->prior);
    if (st != HL_OK) {
        return st;
    }
    size_t kept, total, out_size;
    if (!hl_size_mul(opt->sample_size, opt->thin, &kept) ||
        !hl_size_add(opt->burn_in, kept, &total) ||
        !hl_size_mul(opt->chains, opt->sample_size, &out_size) ||
        !hl_size_mul(out_size, sizeof(double), &out_size)) {
        return HL_EOVERFLOW;
    }
    for (size_t c = 0; c < opt->chains; c++) {
        if ((opt->init_mu != NULL && !isfinite(opt->init_mu[c])) ||
            (opt->init_sigma2 != NULL &&
             !(opt->init_sigma2[c] > 0.0 && isfinite(opt->init_sigma2[c])))) {
            return HL_EINVAL;
        }
    }

    double *z = hl_alloc_array(n, sizeof *z);
    /* Cache-line aligned (and sized) chain states: chains on different threads never share a
     * line. */
    hl_tm_chain *chains = hl_aligned_alloc(64, opt->chains, sizeof *chains);
    hl_rng *streams = hl_alloc_array(opt->chains, sizeof *streams);
    if (z == NULL || chains == NULL || streams == NULL) {
        free(z);
        hl_aligned_free(chains);
        free(streams);
        return HL_ENOMEM;
    }
    double center, scale;
    st = standardise(x, n, z, &center, &scale);
    if (st != HL_OK) {
        free(z);
        hl_aligned_free(chains);
        free(streams);
        return st;
    }
    hl_rng_streams(opt->seed, opt->chains, streams);
    for (size_t c = 0; c < opt->chains; c++) {
        hl_tm_chain *ch = &chains[c];
        ch->rng = streams[c];
        hl_tm_lanes_seed(&ch->lanes, &ch->rng);
        ch->alpha2 = 1.0;
        if (opt->init_mu == NULL || opt->init_sigma2 == NULL) {
            default_start(ch, z, n); /* always drawn, so a given start does not shift the stream */
        }
        if (opt->init_mu != NULL) {
            ch->mu = (opt->init_mu[c] - center) / scale;
        }
        if (opt->init_sigma2 != NULL) {
            ch->tau2 = opt->init_sigma2[c] / scale / scale;
        }
        /* Starts more than 1e100 data scales away are clamped there (so (z - mu)^2 and nu tau^2
         * stay finite); one sweep forgets a start anyway. */
        ch->mu = fmin(fmax(ch->mu, -1e100), 1e100);
        ch->tau2 = fmin(fmax(ch->tau2, 1e-100), 1e100);
    }
    free(streams);

    hl_tm_model model;
    hl_tm_model_init(&model, z, n, opt->nu, opt->prior, opt->variant, opt->simd);
    run_ctx ctx = {
        .model = &model,
        .center = center,
        .scale = scale,
        .chains = chains,
        .burn_in = opt->burn_in,
        .thin = opt->thin,
        .sample_size = opt->sample_size,
        .mu_out = mu_out,
        .sigma2_out = sigma2_out,
        .mon = mon,
    };
    size_t round = HL_TM_ROUND_POINTS / n;
    if (round == 0) {
        round = 1;
    }
    hl_monitor_begin(mon, total * opt->chains);
    st = HL_OK;
    for (size_t from = 0; from < total && st == HL_OK; from = ctx.to) {
        ctx.from = from;
        ctx.to = total - from > round ? from + round : total;
        st = hl_parallel_for(opt->chains, 1, opt->n_threads, run_range, &ctx, mon);
        if (st == HL_OK) {
            st = hl_monitor_poll(mon);
        }
    }
    hl_aligned_free(chains);
    free(z);
    return st;
}
