/* The Gibbs sampler of the scaled Student-t model: many chains in parallel, handed to the
 * workers in segments so the calling thread can answer Ctrl-C. See hotloop/tmodel.h for the
 * model and the contract. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotloop/parallel.h"
#include "hotloop/tmodel.h"

#include "../monotonic_wait.h"
#include "check.h"
#include "conditionals.h"
#include "sort.h"

/* Point-updates (n times sweeps) in one segment: a chain is held by one worker for a segment at
 * a time. About 0.15 ms of work with AVX-512 or AVX2 (0.3 ms scalar), so the calling thread,
 * which polls the monitor between its segments, answers Ctrl-C well within 0.1 s. Near the end
 * of a run segments get shorter, down to 1/HL_TM_SEGMENT_SHRINK of this (see take_chain), so
 * that the workers finish together even when their cores run at different speeds. */
#define HL_TM_SEGMENT_POINTS 65536u
#define HL_TM_SEGMENT_SHRINK 8u

/* How long the calling thread sleeps, at most, while the chains left are held by other
 * workers: it is woken as soon as one is given back, and polls the monitor on every wake-up. */
#define HL_TM_WAIT_NS 10000000L

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
    opt->piece = 0;
}

/*
 * The chains' schedule. A chain's sweeps must run in order, but any worker may run them: a
 * worker takes the free chain with the fewest sweeps done (the lower index on a tie), runs one
 * segment of it and gives it back. So the work goes to the workers as fast as each one runs,
 * which matters on shared or unequal cores: with chains dealt out whole (or per round), the
 * slowest core set the time of the call, and a chain held up on a slow core catches up as soon
 * as it is given back. The free chains wait in a binary min-heap on (sweeps done, index) under
 * a mutex, so taking and giving back cost O(log chains): a scan of every chain per segment made
 * runs of many short chains quadratic (128000 chains of one sweep took 15 s). The result
 * cannot depend on the schedule: a chain's state and its output rows are touched only by the
 * worker holding it, and the mutex orders one holder's writes before the next one's reads.
 */
typedef struct chain_queue {
    pthread_mutex_t lock;
    pthread_cond_t given_back; /* signalled on every give-back; the calling thread waits on it */
    size_t *heap;              /* the free chains with sweeps left: heap[0] has the fewest done */
    size_t len;                /* chains in the heap */
    size_t *done;    /* sweeps done per chain; a held chain's entry changes only on give-back */
    size_t left;     /* sweeps not yet given back, summed over the chains */
    size_t finished; /* chains with every sweep done */
} chain_queue;

typedef struct run_ctx {
    const hl_tm_model *model;
    double center, scale; /* the draws of the standardised data map back through these */
    hl_tm_chain *chains;
    chain_queue queue;
    size_t n_chains, total;      /* sweeps per chain */
    size_t segment, min_segment; /* sweeps per segment: the usual length, the shortest */
    unsigned workers;
    size_t burn_in, thin, sample_size;
    double *mu_out, *sigma2_out;
    hl_monitor *mon;
    atomic_int stop; /* a worker failed or the call was cancelled: take no new segment */
} run_ctx;

/* Whether chain a goes before chain b in the queue: fewer sweeps done, then the lower index. */
static inline bool queue_before(const chain_queue *q, size_t a, size_t b) {
    return q->done[a] < q->done[b] || (q->done[a] == q->done[b] && a < b);
}

/* Puts chain k into the heap (the lock held). */
static void queue_push(chain_queue *q, size_t k) {
    size_t at = q->len++;
    while (at > 0) {
        const size_t parent = (at - 1) / 2;
        if (!queue_before(q, k, q->heap[parent])) {
            break;
        }
        q->heap[at] = q->heap[parent];
        at = parent;
    }
    q->heap[at] = k;
}

/* Removes and returns the first chain of a non-empty heap (the lock held). */
static size_t queue_pop(chain_queue *q) {
    const size_t first = q->heap[0], last = q->heap[--q->len];
    size_t at = 0;
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= q->len) {
            break;
        }
        if (child + 1 < q->len && queue_before(q, q->heap[child + 1], q->heap[child])) {
            child++;
        }
        if (!queue_before(q, q->heap[child], last)) {
            break;
        }
        q->heap[at] = q->heap[child];
        at = child;
    }
    if (q->len > 0) {
        q->heap[at] = last;
    }
    return first;
}

/*
 * Takes the free chain with the fewest sweeps done into *k, and the sweeps to run, [*from, *to);
 * false when no chain is free (all done, or the rest held by other workers).
 *
 * The segment's length: the usual one while much work is left, then a share of what is left
 * (1/(2 workers) of the sweeps not yet given back), but not under min_segment: guided
 * self-scheduling (Polychronopoulos and Kuck, IEEE Trans. Computers 36(12), 1987). With whole
 * segments to the end, a worker that found no free chain waited for up to one segment on the
 * slowest core: 0.11-0.14 ms at n = 500, where a 4-chain run on 2 threads takes about 7 ms.
 */
static bool take_chain(run_ctx *c, size_t *k, size_t *from, size_t *to) {
    chain_queue *q = &c->queue;
    pthread_mutex_lock(&q->lock);
    const bool got = q->len > 0;
    if (got) {
        *k = queue_pop(q);
        *from = q->done[*k];
        size_t len = q->left / (2u * c->workers);
        len = len > c->segment ? c->segment : len < c->min_segment ? c->min_segment : len;
        *to = c->total - *from > len ? *from + len : c->total;
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

/* Gives chain k back after its sweeps [from, to), and wakes a waiting calling thread. */
static void give_back(run_ctx *c, size_t k, size_t from, size_t to) {
    chain_queue *q = &c->queue;
    pthread_mutex_lock(&q->lock);
    q->done[k] = to;
    q->left -= to - from;
    if (to < c->total) {
        queue_push(q, k);
    } else {
        q->finished++;
    }
    pthread_cond_signal(&q->given_back);
    pthread_mutex_unlock(&q->lock);
}

/* The calling thread's wait when no chain is free: returns true at once when every chain is
 * done; otherwise sleeps until a chain is given back (or HL_TM_WAIT_NS pass, so the monitor
 * is polled) and returns false. */
static bool wait_for_chain(run_ctx *c) {
    chain_queue *q = &c->queue;
    pthread_mutex_lock(&q->lock);
    const bool all = q->finished == c->n_chains;
    if (!all && q->len == 0) {
        const struct timespec until = hl_monotonic_after_ns(HL_TM_WAIT_NS);
        pthread_cond_timedwait(&q->given_back, &q->lock, &until);
    }
    pthread_mutex_unlock(&q->lock);
    return all;
}

/* What a worker asks between the pieces of a long sweep: the calling thread (worker 0) the
 * monitor, passing a cancellation on through `stop`; the other workers `stop`. */
typedef struct piece_poll {
    run_ctx *c;
    unsigned worker;
} piece_poll;

static bool stop_between_pieces(void *p) {
    const piece_poll *pp = p;
    if (pp->worker == 0 && hl_monitor_poll(pp->c->mon) != HL_OK) {
        atomic_store(&pp->c->stop, 1);
    }
    return atomic_load_explicit(&pp->c->stop, memory_order_relaxed) != 0;
}

/* Advances chain k through sweeps [from, to), storing the kept draws. */
static hl_status run_segment(run_ctx *c, size_t k, size_t from, size_t to, unsigned worker) {
    hl_tm_chain *ch = &c->chains[k];
    double *mu_row = c->mu_out + k * c->sample_size;
    double *s2_row = c->sigma2_out + k * c->sample_size;
    piece_poll pp = {c, worker};
    const hl_tm_poll poll = {stop_between_pieces, &pp};
    for (size_t s = from; s < to; s++) {
        double sigma2;
        if (!hl_tm_sweep(c->model, ch, &poll, &sigma2)) {
            return HL_ECANCELLED;
        }
        if (!(isfinite(ch->mu) && sigma2 > 0.0 && isfinite(sigma2) && ch->tau2 > 0.0 &&
              isfinite(ch->tau2) && ch->alpha2 > 0.0 && isfinite(ch->alpha2))) {
            return HL_ENUMERIC;
        }
        if (s >= c->burn_in) {
            const size_t j = s - c->burn_in;
            if ((j + 1) % c->thin == 0) {
                const double s2 = sigma2 * c->scale * c->scale;
                if (!(isfinite(s2) && s2 >= DBL_MIN)) {
                    /* sigma^2 beyond the double range, or below its normal numbers (0, or
                     * a subnormal that has lost its digits): refused, never returned */
                    return HL_ENUMERIC;
                }
                mu_row[j / c->thin] = c->center + c->scale * ch->mu;
                s2_row[j / c->thin] = s2;
            }
        }
    }
    return HL_OK;
}

/* One worker: segments of free chains until none is left. The calling thread (worker 0)
 * polls the monitor between its segments, and stays until every chain is done: when the
 * chains left are held by other workers it waits for them (taking one over when it is given
 * back), so a Ctrl-C is still seen, and passed on through `stop`, within a segment. The other
 * workers leave when they find no free chain. */
static hl_status run_worker(void *p, size_t begin, size_t end, unsigned worker) {
    (void)begin;
    (void)end;
    run_ctx *c = p;
    while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
        hl_status st = worker == 0 ? hl_monitor_poll(c->mon) : HL_OK;
        if (st != HL_OK) {
            atomic_store(&c->stop, 1);
            return st;
        }
        size_t k, from, to;
        if (!take_chain(c, &k, &from, &to)) {
            if (worker != 0 || wait_for_chain(c)) {
                return HL_OK;
            }
            continue;
        }
        st = run_segment(c, k, from, to, worker);
        give_back(c, k, from, to);
        if (st != HL_OK) {
            atomic_store(&c->stop, 1);
            return st;
        }
        hl_monitor_add(c->mon, to - from);
    }
    return HL_OK;
}

/*
 * The sampler runs on standardised data z_i = (x_i - c) / s (c the median, s the largest
 * |x_i - c|, so every z_i lies in [-1, 1]) and maps its draws back: mu = c + s mu_z,
 * sigma^2 = s^2 sigma_z^2. The posterior is location-scale equivariant under both priors (the
 * Jacobian of the map is a constant), so this is the same sampler for the data as given, and
 * data at any scale (1e-300 or 1e300) runs without overflow or underflow in the pass.
 * `sorted` holds x sorted (from the data check); z (n values) receives the standardised data.
 * Returns HL_EINVAL when the data's range does not fit a double.
 */
static hl_status standardise(const double *x, size_t n, const double *sorted, double *z,
                             double *center, double *scale, hl_monitor *mon) {
    const double c = n % 2 ? sorted[n / 2] : 0.5 * sorted[n / 2 - 1] + 0.5 * sorted[n / 2];
    const double s = fmax(sorted[n - 1] - c, c - sorted[0]);
    if (!(s > 0.0) || !isfinite(s)) {
        return HL_EINVAL;
    }
    for (size_t i0 = 0; i0 < n; i0 += HL_TM_POLL_ELEMENTS) {
        const size_t i1 = n - i0 < HL_TM_POLL_ELEMENTS ? n : i0 + HL_TM_POLL_ELEMENTS;
        for (size_t i = i0; i < i1; i++) {
            z[i] = (x[i] - c) / s;
        }
        if (hl_monitor_poll(mon) != HL_OK) {
            return HL_ECANCELLED;
        }
    }
    *center = c;
    *scale = s;
    return HL_OK;
}

/* The mean and the sample variance of z (two passes, summed in index order), for the default
 * starting values: computed once for all chains, and polled, so that many chains on much data
 * neither repeat the passes nor delay a Ctrl-C (32 chains of 10 million points took 0.3-0.6 s
 * to answer one when every chain made its own). */
static hl_status data_moments(const double *z, size_t n, double *mean_out, double *var_out,
                              hl_monitor *mon) {
    double mean = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += HL_TM_POLL_ELEMENTS) {
        const size_t i1 = n - i0 < HL_TM_POLL_ELEMENTS ? n : i0 + HL_TM_POLL_ELEMENTS;
        for (size_t i = i0; i < i1; i++) {
            mean += z[i];
        }
        if (hl_monitor_poll(mon) != HL_OK) {
            return HL_ECANCELLED;
        }
    }
    mean /= (double)n;
    double ss = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += HL_TM_POLL_ELEMENTS) {
        const size_t i1 = n - i0 < HL_TM_POLL_ELEMENTS ? n : i0 + HL_TM_POLL_ELEMENTS;
        for (size_t i = i0; i < i1; i++) {
            ss += (z[i] - mean) * (z[i] - mean);
        }
        if (hl_monitor_poll(mon) != HL_OK) {
            return HL_ECANCELLED;
        }
    }
    *mean_out = mean;
    *var_out = ss / (double)(n - 1);
    return HL_OK;
}

/* Overdispersed starting values around the data (see the header), from the chain's stream:
 * mean and var are data_moments()'s. */
static void default_start(hl_tm_chain *ch, double mean, double var, size_t n) {
    const double z1 = hl_rng_normal(&ch->rng);
    const double z2 = hl_rng_normal(&ch->rng);
    ch->mu = mean + 2.0 * z1 * sqrt(var / (double)n);
    ch->tau2 = var * exp(z2);
}

/* Number of chains set up between two polls of the monitor: a chain's stream is a jump of
 * the previous one (256 xoshiro steps); unpolled, a million chains answered Ctrl-C after about
 * 0.5 s (an audit's measurement). */
#define HL_TM_POLL_CHAINS 4096

hl_status hl_tmodel_run(const double *x, size_t n, const hl_tmodel_options *opt, double *mu_out,
                        double *sigma2_out, hl_monitor *mon) {
    if (opt == NULL || mu_out == NULL || sigma2_out == NULL) {
        return HL_EINVAL;
    }
    if (opt->sample_size == 0 || opt->thin == 0 || opt->chains == 0 ||
        (unsigned)opt->variant > (unsigned)HL_TMODEL_TEST_TAU_FROZEN) {
        return HL_EINVAL;
    }
    if (x == NULL || n < 2) {
        return HL_EINVAL; /* the rest of the data check comes with the sort, below */
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

    double *z = hl_alloc_large_array(n, sizeof *z);
    double *sorted = hl_alloc_large_array(n, sizeof *sorted);
    /* Cache-line aligned (and sized) chain states: chains on different threads never share a
     * line. */
    hl_tm_chain *chains = hl_aligned_alloc(64, opt->chains, sizeof *chains);
    size_t *heap = hl_alloc_array(opt->chains, sizeof *heap);
    size_t *done = hl_alloc_array(opt->chains, sizeof *done);
    hl_status st = z == NULL || sorted == NULL || chains == NULL || heap == NULL || done == NULL
                       ? HL_ENOMEM
                       : HL_OK;
    hl_monitor_begin(mon, total * opt->chains);
    /* One sort serves the data check (ties) and the standardisation (median, range); z is its
     * scratch before it receives the standardised data. */
    double center = 0.0, scale = 1.0;
    if (st == HL_OK) {
        st = hl_tm_check_sorted(x, n, opt->nu, opt->prior, sorted, z, mon);
    }
    if (st == HL_OK) {
        st = standardise(x, n, sorted, z, &center, &scale, mon);
    }
    free(sorted);
    const bool drawn_start = opt->init_mu == NULL || opt->init_sigma2 == NULL;
    double mean = 0.0, var = 0.0;
    if (st == HL_OK && drawn_start) {
        st = data_moments(z, n, &mean, &var, mon);
    }
    /* Chain c's stream is stream c of the seed (hl_rng_streams' order), made here one jump
     * after the other so that the loop can poll. */
    hl_rng stream;
    hl_rng_seed(&stream, opt->seed);
    for (size_t c = 0; c < opt->chains && st == HL_OK; c++) {
        hl_tm_chain *ch = &chains[c];
        if (c > 0) {
            hl_rng_jump(&stream);
        }
        ch->rng = stream;
        hl_tm_lanes_seed(&ch->lanes, &ch->rng);
        ch->alpha2 = 1.0;
        if (drawn_start) {
            /* always drawn, so a given start of one parameter does not shift the stream */
            default_start(ch, mean, var, n);
        }
        if (opt->init_mu != NULL) {
            ch->mu = (opt->init_mu[c] - center) / scale;
        }
        if (opt->init_sigma2 != NULL) {
            ch->tau2 = opt->init_sigma2[c] / scale / scale;
        }
        /* Starts more than 1e100 data scales away are clamped there, so (z - mu)^2 and nu tau^2
         * stay finite. Such a start is not forgotten in one sweep (from mu = 1e100 scales, mu
         * was still near 1e92 after 10): it needs its burn-in like any poor start. */
        ch->mu = fmin(fmax(ch->mu, -1e100), 1e100);
        ch->tau2 = fmin(fmax(ch->tau2, 1e-100), 1e100);
        if (c % HL_TM_POLL_CHAINS == HL_TM_POLL_CHAINS - 1) {
            st = hl_monitor_poll(mon);
        }
    }
    if (st != HL_OK) {
        free(z);
        hl_aligned_free(chains);
        free(heap);
        free(done);
        return st;
    }

    /* On the heap: the model holds the 80 KiB gamma tables, and workers read it all run. */
    hl_tm_model *model = hl_aligned_alloc(64, 1, sizeof *model);
    if (model == NULL) {
        free(z);
        hl_aligned_free(chains);
        free(heap);
        free(done);
        return HL_ENOMEM;
    }
    hl_tm_model_init(model, z, n, opt->nu, opt->prior, opt->variant, opt->simd);
    hl_tm_model_set_piece(model, opt->piece);
    for (size_t c = 0; c < opt->chains; c++) {
        heap[c] = c; /* all at 0 sweeps: in index order, a valid heap */
        done[c] = 0;
    }
    run_ctx ctx = {
        .model = model,
        .center = center,
        .scale = scale,
        .chains = chains,
        .queue = {.heap = heap, .len = opt->chains, .done = done, .finished = 0},
        .n_chains = opt->chains,
        .total = total,
        .segment = n < HL_TM_SEGMENT_POINTS ? HL_TM_SEGMENT_POINTS / n : 1,
        .burn_in = opt->burn_in,
        .thin = opt->thin,
        .sample_size = opt->sample_size,
        .mu_out = mu_out,
        .sigma2_out = sigma2_out,
        .mon = mon,
    };
    ctx.min_segment =
        ctx.segment / HL_TM_SEGMENT_SHRINK > 0 ? ctx.segment / HL_TM_SEGMENT_SHRINK : 1;
    /* The sweeps of all chains; only the segments' lengths depend on it, so a count beyond
     * size_t (a run that could never finish) is held at SIZE_MAX. */
    if (!hl_size_mul(total, opt->chains, &ctx.queue.left)) {
        ctx.queue.left = SIZE_MAX;
    }
    /* one item per worker: each runs segments until no chain is left (run_worker) */
    ctx.workers = hl_parallel_threads(opt->chains, 1, opt->n_threads);
    atomic_init(&ctx.stop, 0);
    if (pthread_mutex_init(&ctx.queue.lock, NULL) != 0) {
        st = HL_ENOMEM;
    } else {
        /* the wait's deadline is on the monotonic clock, which a change of the date cannot move */
        if (hl_cond_init_monotonic(&ctx.queue.given_back) != 0) {
            st = HL_ENOMEM;
        } else {
            st = hl_parallel_for(ctx.workers, 1, ctx.workers, run_worker, &ctx, mon);
            pthread_cond_destroy(&ctx.queue.given_back);
        }
        pthread_mutex_destroy(&ctx.queue.lock);
    }
    hl_aligned_free(model);
    free(heap);
    free(done);
    hl_aligned_free(chains);
    free(z);
    return st;
}
