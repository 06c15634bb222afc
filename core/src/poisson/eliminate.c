/*
 * eliminate.c: weighted sample elimination (Yuksel 2015) over cached neighbour lists
 * (neighbors.h) with a blocked max-heap (heap.h), cyCodeBase's progressive ordering and the
 * argument checks of the public API (the radii are in radii.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dense.h"
#include "heap.h"
#include "hotloop/poisson.h"
#include "kdtree.h"
#include "metric.h"
#include "neighbors.h"
#include "rescan.h"

void hl_poisson_options_init(hl_poisson_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->domain = HL_POISSON_BOX;
    opt->alpha = 8.0;
    opt->progressive_factor = 1.4142135623730951;
}

/* 3/4 of physical memory: the default bound of the neighbour lists. */
static size_t default_memory_limit(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) {
        return SIZE_MAX / 2;
    }
    size_t total;
    if (!hl_size_mul((size_t)pages, (size_t)page, &total)) {
        return SIZE_MAX / 2;
    }
    return total / 4 * 3;
}

/* Fills the metric from the options; HL_EINVAL if the domain and dimension disagree. */
static hl_status make_metric(hl_pd_metric *mt, const hl_poisson_options *opt, size_t dim) {
    memset(mt, 0, sizeof *mt);
    if (dim < 1 || dim > HL_POISSON_MAX_DIM) {
        return HL_EINVAL;
    }
    mt->domain = opt->domain;
    mt->dim = dim;
    switch (opt->domain) {
    case HL_POISSON_BOX:
        return HL_OK;
    case HL_POISSON_SPHERE:
        return dim >= 2 ? HL_OK : HL_EINVAL;
    case HL_POISSON_ROTATIONS:
        return dim == 4 ? HL_OK : HL_EINVAL;
    case HL_POISSON_PERIODIC:
        if (opt->lo == NULL || opt->hi == NULL) {
            return HL_EINVAL;
        }
        for (size_t k = 0; k < dim; k++) {
            double lo = opt->lo[k], hi = opt->hi[k];
            if (!isfinite(lo) || !isfinite(hi) || !(lo < hi) || !isfinite(hi - lo)) {
                return HL_EINVAL;
            }
            mt->lo[k] = lo;
            mt->hi[k] = hi;
            mt->len[k] = hi - lo;
            mt->half[k] = 0.5 * (hi - lo);
        }
        return HL_OK;
    default:
        return HL_EINVAL;
    }
}

/* Checks the points: finite, and inside [lo, hi] for PERIODIC. */
static hl_status check_points(const hl_pd_metric *mt, const double *points, size_t m) {
    const size_t dim = mt->dim;
    for (size_t i = 0; i < m; i++) {
        const double *p = points + i * dim;
        for (size_t k = 0; k < dim; k++) {
            if (!isfinite(p[k])) {
                return HL_EINVAL;
            }
            if (mt->domain == HL_POISSON_PERIODIC && !(p[k] >= mt->lo[k] && p[k] <= mt->hi[k])) {
                return HL_EINVAL;
            }
        }
    }
    return HL_OK;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

typedef struct level_args {
    const double *points;
    size_t dim;
    const uint32_t *rows; /* the level's points as input rows (NULL: rows 0..m-1) */
    size_t m, n;
    const hl_pd_metric *mt;
    hl_pd_weight wt; /* scale filled in by the level */
    unsigned n_threads;
    size_t limit;
    hl_poisson_method method;
} level_args;

/* The progress units of a level of m points keeping n: m for its setup (tree and weights, or
 * the dense matrix) and one per removal. hl_monitor totals and adds use it on every path. */
static size_t level_work(size_t m, size_t n) {
    return m + (m - n);
}

/* How many rows ahead the dense fill prefetches the matrix. */
#define HL_PD_AHEAD 4

/*
 * The dense elimination of a small level (m <= HL_PD_DENSE_MAX), same contract and same result
 * as eliminate_level: the neighbour relation is the metric's test d < d_max and the weights
 * are the same exact integer sums. The level's rows are in increasing input order (level 0:
 * 0..m-1; later levels: the previous level's sorted survivors), so among equal weights the
 * first local index is the smallest input index.
 */
static hl_status eliminate_dense(level_args *a, uint32_t *removed, uint32_t *kept,
                                 hl_monitor *mon) {
    const size_t m = a->m, dim = a->dim;
    size_t q_bytes = m * m * sizeof(uint32_t);
    if (q_bytes > a->limit) {
        return HL_ENOMEM;
    }
    if (hl_monitor_poll(mon) != HL_OK) {
        return HL_ECANCELLED;
    }
    hl_pd_scale(&a->wt);
    const hl_pd_weight wt = a->wt;
    uint32_t *q = malloc(q_bytes);
    double *w = malloc(m * sizeof(double));
    const double **x = malloc(m * sizeof(const double *));
    double *xc = malloc(m * dim * sizeof(double));
    if (q == NULL || w == NULL || x == NULL || xc == NULL) {
        free(q);
        free(w);
        free(x);
        free(xc);
        return HL_ENOMEM;
    }
    for (size_t r = 0; r < m; r++) {
        x[r] = a->points + (size_t)(a->rows ? a->rows[r] : r) * dim;
        for (size_t k = 0; k < dim; k++) {
            xc[k * m + r] = x[r][k];
        }
        w[r] = 0.0;
    }
    hl_pd_dense dn;
    hl_pd_dense_init(&dn, a->mt, &wt, xc, x, m, HL_SIMD_AUTO);
    for (size_t i = 0; i < m; i++) {
        uint32_t *qi = q + i * m;
        qi[i] = 0;
        if (i + HL_PD_AHEAD < m) {
            /* On a fresh call the matrix is not in cache: fetch row i + HL_PD_AHEAD (both
             * triangles) while row i computes, rather than waiting for each line as it is
             * written; the whole matrix is then in cache for the mirror image below. */
            const uint32_t *ahead = q + (i + HL_PD_AHEAD) * m;
            for (size_t b = 0; b < m; b += 16) {
                __builtin_prefetch(ahead + b, 1);
            }
        }
        w[i] += (double)hl_pd_dense_row(&dn, i, qi, w);
    }
    hl_pd_dense_mirror(&dn, q);
    /* Weights in doubles: every weight is an integer below m * 2^31 < 2^53, so the double
     * sums and differences are the exact integers of the list path. A removed point's weight drops
     * to -2^62 and then takes the subtractions like any other (less than 2^39 in all): the
     * update is a plain vector subtraction, and a removed point is never the maximum, live
     * weights being >= 0 (and n >= 1 of them left). */
    double best = hl_pd_dense_max(w, m);
    for (size_t k = 0; k < m - a->n; k++) {
        /* the first of equal maxima: the smallest input index */
        size_t i = hl_pd_dense_find(&dn, w, best);
        removed[k] = a->rows ? a->rows[i] : (uint32_t)i;
        w[i] = -0x1p62;
        best = hl_pd_dense_update_max(&dn, w, q + i * m);
    }
    size_t n_kept = 0;
    for (size_t r = 0; r < m; r++) {
        if (w[r] >= 0.0) {
            kept[n_kept++] = a->rows ? a->rows[r] : (uint32_t)r;
        }
    }
    hl_monitor_add(mon, level_work(m, a->n)); /* small: counted at the end */
    free(q);
    free(w);
    free(x);
    free(xc);
    return HL_OK;
}

/* Up to this many points the weights (8 bytes each, 256 KB) stay in a core's L2 cache. */
#define HL_PD_WEIGHTS_CACHED 32768

/* One removal on the lists: lowers the live neighbours of i (whose weight is already -1) by
 * their contributions, and prefetches what the next pops will read. Returns the length of i's
 * list (the work done, for the polls). */
static size_t remove_listed(hl_pd_lists *L, const hl_heap *h, uint32_t i, size_t m) {
    size_t len;
    const uint32_t *nb = hl_pd_list(L, i, &len);
    if (m > HL_PD_WEIGHTS_CACHED) {
        /* The point is anywhere in space, its neighbourhood cold: ask for the weights'
         * cache lines at once so the misses overlap instead of queueing. (Weights that
         * stay in cache need no such pass: it would only read the list twice.) */
        for (size_t e = 0; e < len; e++) {
            __builtin_prefetch(&L->w[nb[2 * e]]);
        }
    }
    /* The next pop is, far more often than not, the maximum of one of the root's four
     * children (or the root's own block, rescanned): start fetching their lists now,
     * while this pop's misses are outstanding. Finding a list takes end[], itself a
     * miss: ask for it one step ahead, for the maxima of the grandchildren (slots 5..20,
     * four cache lines of the heap), which are mostly the next step's children. */
    for (size_t c = 5; c <= 20 && c < h->n_blocks; c++) {
        uint32_t nx = h->a[c].arg;
        __builtin_prefetch(&L->end[nx > 0 ? nx - 1 : 0]);
    }
    for (size_t c = 1; c <= 4 && c < h->n_blocks; c++) {
        size_t l2;
        const uint32_t *next = hl_pd_list(L, h->a[c].arg, &l2);
        for (size_t o = 0; o < 2 * l2 && o < 128; o += 16) {
            __builtin_prefetch(next + o); /* the list, up to 64 entries (8 lines) */
        }
    }
    int64_t *w = L->w;
    for (size_t e = 0; e < len; e++) {
        uint32_t j = nb[2 * e];
        if (w[j] >= 0) {
            w[j] -= nb[2 * e + 1];
        }
    }
    return len;
}

/* Work units (list entries or rescanned candidates, plus HL_PD_POP_WORK a removal for the heap)
 * between two polls of the elimination: about a millisecond at the slowest (cold lists), so a
 * Ctrl-C is seen in time even when every point has thousands of neighbours (duplicates: a
 * removal then walks a list as long as the level). A poll is a clock read, nothing beside a
 * removal, but sparse inputs still poll only every 1024 removals or so. */
#define HL_PD_POLL_WORK_ELIM ((size_t)1 << 17)
#define HL_PD_POP_WORK 128

/*
 * One elimination: keeps a->n of the level's a->m points. removed[0..m-n) gets the input rows
 * in order of removal, kept[0..n) the surviving input rows in increasing order.
 */
static hl_status eliminate_level(level_args *a, uint32_t *removed, uint32_t *kept,
                                 hl_monitor *mon) {
    if (a->m <= HL_PD_DENSE_MAX) {
        return eliminate_dense(a, removed, kept, mon);
    }
    hl_kdtree t;
    hl_pd_lists L;
    hl_pd_rescan R;
    hl_heap h;
    memset(&L, 0, sizeof L);
    memset(&R, 0, sizeof R);
    memset(&h, 0, sizeof h);
    uint32_t *orig = NULL, *removed_local = NULL;
    int64_t *w = NULL; /* the weights: the lists' (L.w), or the rescan's own array */
    const size_t m = a->m;
    /* Rotations: the tree is built on the level's quaternions flipped into the half w >= 0.
     * The metric does not see the signs (bit for bit, metric.h), and the neighbours of most
     * points are then near them in space rather than split between q and -q, so leaves are
     * smaller and a point's candidate leaves fewer. */
    double *flipped = NULL;
    if (a->mt->domain == HL_POISSON_ROTATIONS) {
        flipped = hl_alloc_array(m, 4 * sizeof(double));
        if (flipped == NULL) {
            return HL_ENOMEM;
        }
        for (size_t r = 0; r < m; r++) {
            const double *q = a->points + 4 * (size_t)(a->rows ? a->rows[r] : r);
            int neg = q[0] < 0.0;
            for (size_t k = 0; k < 4; k++) {
                flipped[4 * r + k] = neg ? -q[k] : q[k];
            }
        }
    }
    hl_status st = flipped != NULL
                       ? hl_kdtree_build(&t, flipped, m, 4, NULL, a->n_threads, mon)
                       : hl_kdtree_build(&t, a->points, m, a->dim, a->rows, a->n_threads, mon);
    free(flipped); /* the tree keeps its own copy */
    if (st != HL_OK) {
        return st;
    }
    hl_pd_scale(&a->wt);
    orig = hl_alloc_array(m, sizeof(uint32_t));
    removed_local = hl_alloc_array(m - a->n, sizeof(uint32_t));
    if (orig == NULL || removed_local == NULL) {
        st = HL_ENOMEM;
        goto done;
    }
    for (size_t r = 0; r < m; r++) {
        uint32_t s = t.perm[r];
        orig[r] = a->rows ? a->rows[s] : s;
    }
    /* Forced: whenever it can run (m = 0 skips the neighbour estimate). */
    int rescan = a->method != HL_POISSON_METHOD_LISTS &&
                 hl_pd_rescan_suits(a->mt, &a->wt, a->method == HL_POISSON_METHOD_RESCAN ? 0 : m,
                                    HL_SIMD_AUTO);
    if (rescan) {
        st = hl_pd_rescan_init(&R, &t, &a->wt, a->limit, HL_SIMD_AUTO, a->n_threads, mon);
        if (st == HL_EINVAL) {
            rescan = 0; /* far from unit quaternions: the lists take them */
        } else if (st != HL_OK) {
            goto done;
        } else {
            w = hl_alloc_array(m, sizeof(int64_t));
            st = w == NULL ? HL_ENOMEM : hl_pd_rescan_weights(&R, w, a->n_threads, mon);
            if (st != HL_OK) {
                goto done;
            }
            hl_monitor_add(mon, m); /* the setup's units, as the lists' build counts them */
        }
    }
    if (!rescan) {
        st = hl_pd_lists_build(&L, &t, a->mt, &a->wt, a->n_threads, a->limit, mon);
        if (st != HL_OK) {
            goto done;
        }
        w = L.w;
    }
    st = hl_heap_build(&h, m, w, orig);
    if (st != HL_OK) {
        goto done;
    }
    /* The elimination proper: sequential by nature (each removal changes the next choice).
     * Polled by work done, not by removals: a removal costs its list (or its candidates). */
    size_t work = 0, polled_at = 0;
    for (size_t k = 0; k < m - a->n; k++) {
        if (work >= HL_PD_POLL_WORK_ELIM) {
            hl_monitor_add(mon, k - polled_at);
            work = 0;
            polled_at = k;
            if (hl_monitor_poll(mon) != HL_OK) {
                st = HL_ECANCELLED;
                goto done;
            }
        }
        uint32_t i = hl_heap_top_lazy(&h); /* the lowered weights need no heap work */
        removed_local[k] = i;              /* mapped to input rows after the loop: no miss in it */
        w[i] = -1; /* removed: live weights are sums of contributions >= 0 */
        if (rescan) {
            hl_pd_rescan_remove(&R, i, w);
            work += R.max_cands + HL_PD_POP_WORK; /* at most; a bound is enough here */
        } else {
            work += remove_listed(&L, &h, i, m) + HL_PD_POP_WORK;
        }
    }
    hl_monitor_add(mon, m - a->n - polled_at);
    for (size_t k = 0; k < m - a->n; k++) {
        removed[k] = orig[removed_local[k]];
    }
    size_t n_kept = 0;
    for (size_t r = 0; r < m; r++) {
        if (w[r] >= 0) {
            kept[n_kept++] = orig[r];
        }
    }
    qsort(kept, n_kept, sizeof(uint32_t), cmp_u32);
done:
    hl_heap_free(&h);
    if (w != L.w) {
        free(w);
    }
    hl_pd_lists_free(&L);
    hl_pd_rescan_free(&R);
    free(orig);
    free(removed_local);
    hl_kdtree_free(&t);
    return st;
}

/* Up to this alpha every level keeps its contributions out to HL_POISSON_MIN_REACH d_max, so
 * weights_reach needs no evaluation. Proof: with t_max = 1 - d_min / d_max > 0 (a double, so
 * t_max >= 2^-53: d_min / d_max rounds to at most 1 - 2^-53, and the subtraction is exact),
 * w_max = t_max^alpha >= 2^-795 is a normal double and the scale 2^S = 2^(31 - e) <= 2^826 is
 * finite, with w_max 2^S = f 2^31 >= 2^30. A neighbour at x d_max, x = 0.7, contributes
 * w_max 2^S when x <= d_min / d_max, else (t / t_max)^alpha w_max 2^S with t = 1 - x = 0.3 and
 * t_max <= 1, at least 0.3^15 2^30 = 15.4 quanta (the roundings are relative errors near
 * 1e-16): at least one either way. Progressive levels only raise t_max (d_max grows). */
#define HL_PD_ALPHA_ALWAYS_REACHES 15.0

/* Whether one level's weights (scale not yet set) keep a neighbour at HL_POISSON_MIN_REACH d_max
 * at one quantum or more, with a finite scale: hl_pd_quant of that distance, without its cast
 * (the scale may be infinite here, and the product then too). */
static int level_reaches(hl_pd_weight wt) {
    hl_pd_scale(&wt);
    return isfinite(wt.scale) &&
           hl_pd_weight_of(&wt, HL_POISSON_MIN_REACH * wt.d_max) * wt.scale >= 1.0;
}

/* The precondition on alpha of hl_poisson_eliminate (poisson.h), on every level the call would
 * run: level 0, and with progressive the levels of n, n / 2, ... points (while at least 3) with
 * d_max multiplied by the factor once more each, as hl_poisson_eliminate computes them. The
 * last level has the smallest d_min / d_max and so the shortest reach, but every level is
 * evaluated (a few dozen at most) rather than relying on that. */
static int weights_reach(const hl_poisson_options *opt, size_t n) {
    if (opt->alpha <= HL_PD_ALPHA_ALWAYS_REACHES) {
        return 1;
    }
    hl_pd_weight wt = {.d_max = opt->d_max, .d_min = opt->d_min, .alpha = opt->alpha};
    if (!level_reaches(wt)) {
        return 0;
    }
    for (size_t s = n; opt->progressive && s >= 3; s /= 2) {
        wt.d_max *= opt->progressive_factor;
        if (!level_reaches(wt)) {
            return 0;
        }
    }
    return 1;
}

hl_status hl_poisson_eliminate(const double *points, size_t m, size_t dim, size_t n,
                               const hl_poisson_options *opt, int64_t *out, hl_monitor *mon) {
    if (points == NULL || opt == NULL || out == NULL || n < 1 || n >= m || m >= UINT32_MAX) {
        return HL_EINVAL;
    }
    if (!(opt->d_max > 0.0) || !isfinite(opt->d_max) || !(opt->d_min >= 0.0) ||
        !(opt->d_min < opt->d_max) || !(1.0 - opt->d_min / opt->d_max > 0.0) ||
        !(opt->alpha > 0.0) || !isfinite(opt->alpha)) {
        return HL_EINVAL;
    }
    if (opt->progressive &&
        (!(opt->progressive_factor > 1.0) || !isfinite(opt->progressive_factor))) {
        return HL_EINVAL;
    }
    if (!weights_reach(opt, n)) {
        return HL_EINVAL; /* alpha too large: see poisson.h */
    }
    hl_pd_metric mt;
    hl_status st = make_metric(&mt, opt, dim);
    if (st != HL_OK) {
        return st;
    }
    size_t bytes;
    if (!hl_size_mul(m, dim, &bytes) || !hl_size_mul(bytes, sizeof(double), &bytes)) {
        return HL_ENOMEM;
    }
    if (mt.domain == HL_POISSON_PERIODIC) {
        for (size_t k = 0; k < dim; k++) {
            if (opt->d_max > mt.half[k]) {
                return HL_EINVAL; /* the minimal image would not be the only one in reach */
            }
        }
    }
    st = check_points(&mt, points, m);
    if (st != HL_OK) {
        return st;
    }
    /* The progress total: every level's units, as eliminate_level counts them. */
    size_t work_total = level_work(m, n);
    for (size_t s = n; opt->progressive && s >= 3; s /= 2) {
        work_total += level_work(s, s / 2);
    }
    hl_monitor_begin(mon, work_total);
    level_args a = {
        .points = points,
        .dim = dim,
        .rows = NULL,
        .m = m,
        .n = n,
        .mt = &mt,
        .wt = {.d_max = opt->d_max,
               .d_min = opt->d_min,
               .alpha = opt->alpha,
               .alpha8 = opt->alpha == 8.0},
        .n_threads = opt->n_threads,
        /* The default asks the system (sysinfo); a dense level (a matrix of at most 256 KB)
         * is within 3/4 of any machine's memory, and a small call need not wait for it. */
        .limit = opt->memory_limit      ? opt->memory_limit
                 : m <= HL_PD_DENSE_MAX ? SIZE_MAX
                                        : default_memory_limit(),
        .method = opt->method,
    };
    /* removed holds one level's removals: m - n at level 0, s - s/2 <= n - n/2 later. */
    size_t max_removed = m - n > n - n / 2 ? m - n : n - n / 2;
    uint32_t *removed = hl_alloc_array(max_removed, sizeof(uint32_t));
    uint32_t *kept = hl_alloc_array(n, sizeof(uint32_t));
    uint32_t *next = NULL;
    if (removed == NULL || kept == NULL) {
        st = HL_ENOMEM;
        goto done;
    }
    st = eliminate_level(&a, removed, kept, mon);
    if (st != HL_OK) {
        goto done;
    }
    if (!opt->progressive) {
        for (size_t s = 0; s < n; s++) {
            out[s] = kept[s];
        }
        goto done;
    }
    /* Progressive levels (cyCodeBase's loop): halve while at least 3 points remain; the removed
     * points of each level fill the output from the back, the last removed first. */
    next = hl_alloc_array(n / 2 + 1, sizeof(uint32_t));
    if (next == NULL) {
        st = HL_ENOMEM;
        goto done;
    }
    size_t s_in = n;
    while (s_in >= 3) {
        size_t s_out = s_in / 2;
        a.rows = kept;
        a.m = s_in;
        a.n = s_out;
        a.wt.d_max *= opt->progressive_factor;
        st = eliminate_level(&a, removed, next, mon);
        if (st != HL_OK) {
            goto done;
        }
        for (size_t k = 0; k < s_in - s_out; k++) {
            out[s_in - 1 - k] = removed[k];
        }
        memcpy(kept, next, s_out * sizeof(uint32_t));
        s_in = s_out;
    }
    for (size_t s = 0; s < s_in; s++) {
        out[s] = kept[s];
    }
done:
    free(removed);
    free(kept);
    free(next);
    return st;
}
