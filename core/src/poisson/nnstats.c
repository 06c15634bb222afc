/* nnstats.c: nearest-neighbour distances in a domain (the quality figures of a sample set). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hotloop/parallel.h"
#include "hotloop/poisson.h"
#include "kdtree.h"
#include "metric.h"
#include "neighbors.h"

typedef struct nn_ctx {
    const hl_kdtree *t;
    const hl_pd_metric *mt;
    double r_guess;
    double *out; /* in input order */
    hl_u32vec *cand, *codes;
    hl_monitor *mon;
    atomic_int stop; /* the loop stopped (hl_parallel_for_stop) or worker 0 saw a cancellation */
} nn_ctx;

/* Candidates examined between polls inside a chunk. A chunk is 512 points, normally a few
 * candidates each, but in a dense input (duplicates) every point has all the others as
 * candidates: 512 points of 20000 duplicates are 10 million distances. */
#define HL_PD_NN_POLL_WORK ((size_t)1 << 16)

static hl_status nn_range(void *p, size_t begin, size_t end, unsigned worker) {
    nn_ctx *cx = p;
    const hl_kdtree *t = cx->t;
    const size_t dim = t->dim;
    hl_u32vec *cand = &cx->cand[worker], *codes = &cx->codes[worker];
    size_t work = 0;
    for (size_t i = begin; i < end; i++) {
        if (work >= HL_PD_NN_POLL_WORK) {
            work = 0;
            if (worker == 0 && hl_monitor_poll(cx->mon) != HL_OK) {
                atomic_store_explicit(&cx->stop, 1, memory_order_relaxed);
            }
            if (atomic_load_explicit(&cx->stop, memory_order_relaxed)) {
                return HL_ECANCELLED;
            }
        }
        const double *xi = t->coords + i * dim;
        /* Grow the radius until a neighbour lies within it: all points nearer than the radius
         * are then among the candidates, so the minimum is exact. */
        for (double r = cx->r_guess;; r *= 2.0) {
            double tr = hl_pd_tree_radius(cx->mt, r);
            cand->len = codes->len = 0;
            hl_status st = hl_pd_query(t, cx->mt, xi, tr * tr, tr, cand, codes);
            if (st != HL_OK) {
                return st;
            }
            double best = INFINITY;
            work += cand->len + 1;
            for (size_t h = 0; h < cand->len; h++) {
                uint32_t j = cand->data[h];
                if (j != i) {
                    double d = hl_pd_dist(cx->mt, xi, t->coords + (size_t)j * dim, NULL);
                    best = d < best ? d : best;
                }
            }
            if (best < r || !isfinite(r)) {
                cx->out[t->perm[i]] = best;
                break;
            }
        }
    }
    return HL_OK;
}

hl_status hl_poisson_nn_distances(const double *points, size_t m, size_t dim,
                                  const hl_poisson_options *opt, double r_guess, double *out,
                                  hl_monitor *mon) {
    if (points == NULL || opt == NULL || out == NULL || m < 2 || m >= UINT32_MAX || dim < 1 ||
        dim > HL_POISSON_MAX_DIM || !(r_guess > 0.0) || !isfinite(r_guess)) {
        return HL_EINVAL;
    }
    hl_pd_metric mt;
    memset(&mt, 0, sizeof mt);
    mt.domain = opt->domain;
    mt.dim = dim;
    if (opt->domain == HL_POISSON_ROTATIONS && dim != 4) {
        return HL_EINVAL;
    }
    if ((unsigned)opt->domain > HL_POISSON_ROTATIONS) {
        return HL_EINVAL;
    }
    if (opt->domain == HL_POISSON_PERIODIC) {
        if (opt->lo == NULL || opt->hi == NULL) {
            return HL_EINVAL;
        }
        for (size_t k = 0; k < dim; k++) {
            if (!(opt->lo[k] < opt->hi[k]) || !isfinite(opt->lo[k]) || !isfinite(opt->hi[k])) {
                return HL_EINVAL;
            }
            mt.lo[k] = opt->lo[k];
            mt.hi[k] = opt->hi[k];
            mt.len[k] = opt->hi[k] - opt->lo[k];
            mt.half[k] = 0.5 * mt.len[k];
        }
    }
    for (size_t i = 0; i < m * dim; i++) {
        if (!isfinite(points[i])) {
            return HL_EINVAL;
        }
        if (opt->domain == HL_POISSON_PERIODIC) {
            size_t k = i % dim;
            if (!(points[i] >= mt.lo[k] && points[i] <= mt.hi[k])) {
                return HL_EINVAL;
            }
        }
    }
    hl_monitor_begin(mon, m);
    hl_kdtree t;
    hl_status st = hl_kdtree_build(&t, points, m, dim, NULL, opt->n_threads, mon);
    if (st != HL_OK) {
        return st;
    }
    const size_t grain = 512;
    unsigned workers = hl_parallel_threads(m, grain, opt->n_threads);
    nn_ctx cx = {.t = &t, .mt = &mt, .r_guess = r_guess, .out = out, .mon = mon};
    atomic_init(&cx.stop, 0);
    cx.cand = hl_calloc_array(workers, sizeof(hl_u32vec));
    cx.codes = hl_calloc_array(workers, sizeof(hl_u32vec));
    if (cx.cand == NULL || cx.codes == NULL) {
        st = HL_ENOMEM;
    } else {
        st = hl_parallel_for_stop(m, grain, opt->n_threads, nn_range, &cx, mon, &cx.stop);
    }
    if (cx.cand != NULL && cx.codes != NULL) {
        for (unsigned k = 0; k < workers; k++) {
            hl_u32vec_free(&cx.cand[k]);
            hl_u32vec_free(&cx.codes[k]);
        }
    }
    free(cx.cand);
    free(cx.codes);
    hl_kdtree_free(&t);
    return st;
}
