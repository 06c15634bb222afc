/* Tests of the poisson kernel: kd-tree and heap invariants, ball queries against brute force,
 * elimination invariants (count, determinism across threads, symmetries of the domains),
 * argument checks, cancellation, the max-radius formula and the candidate generator. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/poisson/heap.h"
#include "../src/poisson/kdtree.h"
#include "../src/poisson/neighbors.h"
#include "harness.h"
#include "hotloop/poisson.h"
#include "hotloop/rng.h"

static double *random_points(uint64_t seed, size_t m, size_t dim) {
    double *p = malloc(m * dim * sizeof *p);
    hl_rng r;
    hl_rng_seed(&r, seed);
    for (size_t i = 0; i < m * dim; i++) {
        p[i] = hl_rng_uniform(&r);
    }
    return p;
}

HL_TEST(poisson_kdtree_invariants_and_ball_queries_match_brute_force) {
    const size_t dims[] = {1, 2, 3, 5, 8};
    for (size_t di = 0; di < 5; di++) {
        size_t dim = dims[di], m = 1500;
        double *p = random_points(11 + dim, m, dim);
        /* duplicates and ties: copy a block of points and snap some coordinates */
        for (size_t i = 0; i < 200; i++) {
            memcpy(p + (m - 1 - i) * dim, p + i * dim, dim * sizeof(double));
        }
        for (size_t i = 300; i < 500; i++) {
            p[i * dim] = 0.5;
        }
        hl_kdtree t;
        CHECK_OK(hl_kdtree_build(&t, p, m, dim, NULL, 1, NULL));
        CHECK_OK(hl_kdtree_validate(&t, p, NULL));
        hl_u32vec out = {0};
        double r = dim == 1 ? 0.01 : 0.3;
        for (size_t qi = 0; qi < 50; qi++) {
            const double *q = p + qi * 29 * dim;
            out.len = 0;
            CHECK_OK(hl_kdtree_ball(&t, q, r * r, &out));
            size_t brute = 0;
            for (size_t i = 0; i < m; i++) {
                brute += hl_kd_sqdist(q, p + i * dim, dim) < r * r;
            }
            CHECK_EQ_U64(out.len, brute);
            for (size_t h = 0; h < out.len; h++) {
                CHECK(hl_kd_sqdist(q, t.coords + (size_t)out.data[h] * dim, dim) < r * r);
            }
        }
        hl_u32vec_free(&out);
        hl_kdtree_free(&t);
        free(p);
    }
}

HL_TEST(poisson_kdtree_parallel_build_matches_serial) {
    size_t m = 200000, dim = 3;
    double *p = random_points(77, m, dim);
    hl_kdtree a, b;
    CHECK_OK(hl_kdtree_build(&a, p, m, dim, NULL, 1, NULL));
    const unsigned threads[] = {2, 3, 8};
    for (int k = 0; k < 3; k++) {
        CHECK_OK(hl_kdtree_build(&b, p, m, dim, NULL, threads[k], NULL));
        CHECK_OK(hl_kdtree_validate(&b, p, NULL));
        CHECK_EQ_U64(b.n_leaves, a.n_leaves);
        CHECK(memcmp(a.perm, b.perm, m * sizeof(uint32_t)) == 0);
        CHECK(memcmp(a.coords, b.coords, m * dim * sizeof(double)) == 0);
        for (size_t l = 0; l < a.n_leaves; l++) {
            CHECK(a.nodes[a.leaves[l]].begin == b.nodes[b.leaves[l]].begin);
        }
        hl_kdtree_free(&b);
    }
    hl_kdtree_free(&a);
    free(p);
}

HL_TEST(poisson_kdtree_over_a_row_subset_and_all_identical_points) {
    size_t m = 777, dim = 2;
    double *p = malloc(m * dim * sizeof *p);
    for (size_t i = 0; i < m * dim; i++) {
        p[i] = 0.25;
    }
    hl_kdtree t;
    CHECK_OK(hl_kdtree_build(&t, p, m, dim, NULL, 1, NULL));
    CHECK_OK(hl_kdtree_validate(&t, p, NULL));
    hl_kdtree_free(&t);
    uint32_t rows[100];
    for (uint32_t s = 0; s < 100; s++) {
        rows[s] = 7 * s;
    }
    double *q = random_points(5, m, dim);
    CHECK_OK(hl_kdtree_build(&t, q, 100, dim, rows, 1, NULL));
    CHECK_OK(hl_kdtree_validate(&t, q, rows));
    t.coords[3] += 1.0; /* a corrupted tree is caught */
    CHECK_STATUS(hl_kdtree_validate(&t, q, rows), HL_EINTERNAL);
    hl_kdtree_free(&t);
    hl_kdtree_free(&t); /* freeing twice is harmless */
    free(p);
    free(q);
}

/* The metric of `domain` in `dim` dimensions (no bounds) and the default weight with
 * d_min = 0.4 d_max, for the tests that build lists directly. */
static void lists_setup(hl_pd_metric *mt, hl_pd_weight *wt, hl_poisson_domain domain, size_t dim,
                        double d_max) {
    memset(mt, 0, sizeof *mt);
    mt->domain = domain;
    mt->dim = dim;
    *wt = (hl_pd_weight){.d_max = d_max, .d_min = 0.4 * d_max, .alpha = 8.0, .alpha8 = 1};
    hl_pd_scale(wt);
}

/* The lists of one tree built with the scans on `level` equal the portable ones entry for
 * entry (the SIMD scans must find the same hits with the same squared distances, in order). */
static void check_lists_match_scalar(hl_test_ctx *t_, const double *p, size_t m, size_t dim,
                                     hl_poisson_domain domain, double d_max) {
    hl_kdtree t;
    CHECK_OK(hl_kdtree_build(&t, p, m, dim, NULL, 1, NULL));
    hl_pd_metric mt;
    hl_pd_weight wt;
    lists_setup(&mt, &wt, domain, dim, d_max);
    hl_pd_lists a, b;
    CHECK_OK(hl_pd_lists_build_level(&a, &t, &mt, &wt, 1, SIZE_MAX, NULL, HL_SIMD_SCALAR));
    CHECK_OK(hl_pd_lists_build_level(&b, &t, &mt, &wt, 2, SIZE_MAX, NULL, HL_SIMD_AUTO));
    CHECK(a.n_chunks == b.n_chunks && a.max_len == b.max_len);
    CHECK(memcmp(a.end, b.end, m * sizeof *a.end) == 0);
    CHECK(memcmp(a.w, b.w, m * sizeof *a.w) == 0);
    for (size_t c = 0; c < a.n_chunks; c++) {
        CHECK(a.chunk[c].len == b.chunk[c].len);
        CHECK(memcmp(a.chunk[c].data, b.chunk[c].data, a.chunk[c].len * sizeof(uint32_t)) == 0);
    }
    hl_pd_lists_free(&a);
    hl_pd_lists_free(&b);
    hl_kdtree_free(&t);
}

HL_TEST(poisson_simd_lists_match_the_portable_lists) {
    const size_t sizes[] = {300, 1001, 9000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t m = sizes[s];
        double *p = random_points(40 + s, m, 2);
        for (size_t i = 0; i < m / 3; i++) {
            p[2 * (3 * i + 1)] = p[2 * (3 * i)]; /* duplicates and shared coordinates */
        }
        check_lists_match_scalar(t_, p, m, 2, HL_POISSON_BOX, 3.0 / sqrt((double)m));
        free(p);
        double *q = malloc(m * 4 * sizeof *q);
        CHECK_OK(hl_poisson_candidates(9 + s, m, 4, HL_POISSON_ROTATIONS, NULL, NULL, 0, q, NULL));
        check_lists_match_scalar(t_, q, m, 4, HL_POISSON_ROTATIONS, 0.5);
        check_lists_match_scalar(t_, q, m < 1001 ? m : 1001, 4, HL_POISSON_ROTATIONS, 1.5);
        free(q);
    }
}

static int cancel_on_third(void *ctx) {
    int *calls = ctx;
    return ++*calls >= 3;
}

/* One region (up to 8192 points) with thousands of neighbours per point takes far longer than
 * the monitor's millisecond: the build must see a cancellation inside the region (progress is
 * added per finished region, so it is still 0), and every buffer it fills, the region's own
 * entries included, is charged against the memory limit. */
HL_TEST(poisson_lists_cancel_inside_a_region_and_charge_every_buffer) {
    const size_t m = 8000, dim = 2;
    double *p = random_points(77, m, dim);
    hl_kdtree t;
    CHECK_OK(hl_kdtree_build(&t, p, m, dim, NULL, 1, NULL));
    hl_pd_metric mt;
    hl_pd_weight wt;
    lists_setup(&mt, &wt, HL_POISSON_BOX, dim, 0.3);
    hl_pd_lists L;
    int calls = 0;
    hl_monitor mon;
    hl_monitor_init(&mon, cancel_on_third, &calls);
    CHECK_STATUS(hl_pd_lists_build(&L, &t, &mt, &wt, 1, SIZE_MAX, &mon), HL_ECANCELLED);
    CHECK(calls == 3);
    CHECK(atomic_load(&mon.done) == 0);
    /* About 2000 neighbours per point: the lists need ~130 MB; the region's own entries alone
     * (about half of them) pass a 40 MB limit before any list is laid out. */
    CHECK_STATUS(hl_pd_lists_build(&L, &t, &mt, &wt, 1, (size_t)40 << 20, NULL), HL_ENOMEM);
    CHECK_OK(hl_pd_lists_build(&L, &t, &mt, &wt, 2, SIZE_MAX, NULL));
    CHECK(L.max_len > 1000);
    hl_pd_lists_free(&L);
    hl_kdtree_free(&t);
    free(p);
}

static int count_polls(void *ctx) {
    ++*(size_t *)ctx;
    return 0;
}

/* Duplicates: every point is every other's neighbour, a region's lists are all its points
 * times all the points, and the first points of a region write into every list of it. The
 * build must poll while it finds the entries and while it lays them out, not only between
 * leaves (it did: 2-5 s without a poll for 20000 duplicates), at least once every 4096 entry
 * words (it polls every 1024 while laying them out). The lists are still right. */
HL_TEST(poisson_lists_of_duplicates_poll_while_laid_out) {
    const size_t m = 3000, dim = 2;
    double *p = malloc(m * dim * sizeof *p);
    for (size_t i = 0; i < m * dim; i++) {
        p[i] = 0.25;
    }
    hl_kdtree t;
    CHECK_OK(hl_kdtree_build(&t, p, m, dim, NULL, 1, NULL));
    hl_pd_metric mt;
    hl_pd_weight wt;
    lists_setup(&mt, &wt, HL_POISSON_BOX, dim, 0.1);
    const unsigned threads[] = {1, 2};
    for (size_t k = 0; k < 2; k++) {
        hl_pd_lists L;
        size_t polls = 0;
        hl_monitor mon;
        hl_monitor_init(&mon, count_polls, &polls);
        CHECK_OK(hl_pd_lists_build(&L, &t, &mt, &wt, threads[k], SIZE_MAX, &mon));
        size_t entries = 0;
        for (size_t i = 0; i < m; i++) {
            size_t len;
            (void)hl_pd_list(&L, (uint32_t)i, &len);
            CHECK_EQ_U64(len, m - 1);
            entries += len;
        }
        CHECK_EQ_U64(L.w[0], (uint64_t)(m - 1) * (uint64_t)hl_pd_quant(&wt, 0.0));
        /* One region of 3000 points: every entry found once (by the earlier point of its pair)
         * and laid out twice. The calling thread runs it whatever the thread count. */
        CHECK(polls * 4096 >= 2 * entries);
        hl_pd_lists_free(&L);
    }
    hl_kdtree_free(&t);
    free(p);
}

/* Orders that stress the selection's pivots and block partition: sorted, reversed, organ pipe
 * (its maximum ends up at the front of a sorted run), few distinct values, a stride
 * permutation; every build must be a valid tree with small leaves. */
HL_TEST(poisson_kdtree_sorted_and_few_valued_inputs) {
    const size_t m = 5000, dim = 2;
    double *p = malloc(m * dim * sizeof *p);
    for (int pattern = 0; pattern < 6; pattern++) {
        for (size_t i = 0; i < m; i++) {
            double v = (double)i;
            switch (pattern) {
            case 1:
                v = -(double)i;
                break;
            case 2:
                v = (double)(i < m / 2 ? i : m - i);
                break;
            case 3:
                v = (double)(i % 2);
                break;
            case 4:
                v = (double)(i % 100);
                break;
            case 5:
                v = (double)((i * 7919) % m);
                break;
            default:
                break;
            }
            p[i * dim] = v;
            p[i * dim + 1] = pattern % 2 == 0 ? v : -v;
        }
        hl_kdtree t;
        CHECK_OK(hl_kdtree_build(&t, p, m, dim, NULL, 1, NULL));
        CHECK_OK(hl_kdtree_validate(&t, p, NULL));
        hl_kdtree_free(&t);
    }
    free(p);
}

HL_TEST(poisson_blocked_heap_top_is_the_true_maximum_under_decreases) {
    size_t n = 3000;
    int64_t *w = malloc(n * sizeof *w);
    uint32_t *tie = malloc(n * sizeof *tie);
    unsigned char *gone = calloc(n, 1);
    hl_rng r;
    hl_rng_seed(&r, 3);
    for (size_t i = 0; i < n; i++) {
        w[i] = (int64_t)hl_rng_below(&r, 50) * 1000; /* many equal weights */
        tie[i] = (uint32_t)((i * 7919) % n);         /* ties in a scrambled order */
    }
    hl_heap h;
    CHECK_OK(hl_heap_build(&h, n, w, tie));
    CHECK_OK(hl_heap_validate(&h));
    for (size_t step = 0; step < 2500; step++) {
        /* brute force: the largest true weight, then the smallest tie */
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            if (!gone[i] &&
                (best == SIZE_MAX || w[i] > w[best] || (w[i] == w[best] && tie[i] < tie[best]))) {
                best = i;
            }
        }
        uint32_t id = hl_heap_top(&h);
        CHECK_EQ_U64(id, best);
        gone[id] = 1;
        w[id] = -1;
        hl_heap_update(&h, id >> HL_HEAP_BLOCK_SHIFT);
        for (int k = 0; k < 5; k++) { /* lower some weights near the removed one */
            uint32_t j = (uint32_t)((id + hl_rng_below(&r, 200)) % n);
            if (!gone[j]) {
                int64_t dec = (int64_t)hl_rng_below(&r, 3000);
                w[j] = w[j] > dec ? w[j] - dec : 0;
                hl_heap_update(&h, j >> HL_HEAP_BLOCK_SHIFT);
            }
        }
        if (step % 500 == 0) {
            CHECK_OK(hl_heap_validate(&h));
        }
    }
    CHECK_OK(hl_heap_validate(&h));
    uint32_t top = hl_heap_top(&h);
    w[top] += 1; /* a block whose weights changed behind the heap's back is caught */
    CHECK_STATUS(hl_heap_validate(&h), HL_EINTERNAL);
    w[top] -= 1;
    h.a[h.n_blocks - 1].w = INT64_MAX; /* a broken heap is caught */
    CHECK_STATUS(hl_heap_validate(&h), HL_EINTERNAL);
    hl_heap_free(&h);
    hl_heap_free(&h);
    free(w);
    free(tie);
    free(gone);
}

static void default_opts(hl_poisson_options *o, size_t dim, size_t n, double measure) {
    hl_poisson_options_init(o);
    double r = hl_poisson_max_radius((int)dim, measure, n);
    o->d_max = 2.0 * r;
    o->d_min = o->d_max * 0.65 * (1.0 - pow(0.2, 1.5));
    o->progressive_factor = pow(2.0, 1.0 / (double)dim);
}

static double min_dist(const double *p, const int64_t *idx, size_t n, size_t dim) {
    double best = INFINITY;
    for (size_t a = 0; a < n; a++) {
        for (size_t b = a + 1; b < n; b++) {
            double d = sqrt(hl_kd_sqdist(p + idx[a] * dim, p + idx[b] * dim, dim));
            best = d < best ? d : best;
        }
    }
    return best;
}

HL_TEST(poisson_eliminate_counts_order_quality_and_thread_independence) {
    size_t m = 5000, n = 1000, dim = 2;
    double *p = random_points(99, m, dim);
    hl_poisson_options o;
    default_opts(&o, dim, n, 1.0);
    int64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    o.n_threads = 1;
    CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, a, NULL));
    for (size_t i = 1; i < n; i++) {
        CHECK(a[i - 1] < a[i]);
    }
    CHECK(a[0] >= 0 && a[n - 1] < (int64_t)m);
    double r_max = o.d_max / 2;
    CHECK(min_dist(p, a, n, dim) / r_max > 1.2);
    const unsigned threads[] = {2, 3, 8, 0};
    for (int k = 0; k < 4; k++) {
        o.n_threads = threads[k];
        CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, b, NULL));
        CHECK(memcmp(a, b, n * sizeof *a) == 0);
    }
    /* progressive: a permutation of the same set, whose prefixes are spread out */
    o.progressive = 1;
    CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, b, NULL));
    int64_t *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, b, n * sizeof *b);
    for (size_t i = 1; i < n; i++) { /* insertion sort, n is small */
        int64_t v = sorted[i];
        size_t j = i;
        while (j > 0 && sorted[j - 1] > v) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = v;
    }
    CHECK(memcmp(sorted, a, n * sizeof *a) == 0);
    double r_100 = hl_poisson_max_radius(2, 1.0, 100);
    CHECK(min_dist(p, b, 100, dim) / r_100 > 1.0);
    free(sorted);
    free(a);
    free(b);
    free(p);
}

HL_TEST(poisson_progressive_with_few_removals_at_level_zero) {
    /* level 0 removes 6 points, level 1 removes 27: the removal buffer must hold both */
    size_t m = 59, n = 53, dim = 3;
    double *p = random_points(619160822, m, dim);
    hl_poisson_options o;
    default_opts(&o, dim, n, 1.0);
    o.progressive = 1;
    int64_t out[53];
    CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, out, NULL));
    unsigned char seen[59] = {0};
    for (size_t i = 0; i < n; i++) {
        CHECK(out[i] >= 0 && out[i] < (int64_t)m && !seen[out[i]]);
        seen[out[i]] = 1;
    }
    free(p);
}

HL_TEST(poisson_rotations_invariant_under_sign_flips) {
    size_t m = 2000, n = 100, dim = 4;
    double *q = malloc(m * dim * sizeof *q);
    CHECK_OK(hl_poisson_candidates(7, m, dim, HL_POISSON_ROTATIONS, NULL, NULL, 0, q, NULL));
    hl_poisson_options o;
    hl_poisson_options_init(&o);
    o.domain = HL_POISSON_ROTATIONS;
    o.d_max = 2.0 * sin(0.5 * hl_poisson_max_radius(3, 8.0 * 9.869604401089358, n)); /* chord */
    int64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    CHECK_OK(hl_poisson_eliminate(q, m, dim, n, &o, a, NULL));
    for (size_t i = 0; i < m; i += 3) {
        for (size_t k = 0; k < dim; k++) {
            q[i * dim + k] = -q[i * dim + k];
        }
    }
    CHECK_OK(hl_poisson_eliminate(q, m, dim, n, &o, b, NULL));
    CHECK(memcmp(a, b, n * sizeof *a) == 0);
    free(a);
    free(b);
    free(q);
}

HL_TEST(poisson_periodic_invariant_under_translation_mod_box) {
    size_t m = 3000, n = 500, dim = 2;
    double lo[2] = {0.0, 0.0}, hi[2] = {1.0, 1.0};
    double *p = malloc(m * dim * sizeof *p);
    CHECK_OK(hl_poisson_candidates(21, m, dim, HL_POISSON_PERIODIC, lo, hi, 0, p, NULL));
    /* snap to a dyadic grid so the translation is exact */
    for (size_t i = 0; i < m * dim; i++) {
        p[i] = floor(p[i] * 1048576.0) / 1048576.0;
    }
    hl_poisson_options o;
    default_opts(&o, dim, n, 1.0);
    o.domain = HL_POISSON_PERIODIC;
    o.lo = lo;
    o.hi = hi;
    int64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, a, NULL));
    for (size_t i = 0; i < m * dim; i++) {
        p[i] = fmod(p[i] + 0.375, 1.0);
    }
    CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, b, NULL));
    CHECK(memcmp(a, b, n * sizeof *a) == 0);
    free(a);
    free(b);
    free(p);
}

static int cancel_after(void *ctx) {
    int *calls = ctx;
    return ++*calls > 2;
}

HL_TEST(poisson_eliminate_rejects_bad_arguments_and_cancels) {
    size_t m = 100, dim = 2;
    double *p = random_points(1, m, dim);
    int64_t out[100];
    hl_poisson_options o;
    default_opts(&o, dim, 10, 1.0);
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, 0, &o, out, NULL), HL_EINVAL);
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, m, &o, out, NULL), HL_EINVAL);
    CHECK_STATUS(hl_poisson_eliminate(p, m, 0, 10, &o, out, NULL), HL_EINVAL);
    hl_poisson_options bad = o;
    bad.d_max = -1.0;
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, 10, &bad, out, NULL), HL_EINVAL);
    bad = o;
    bad.d_min = bad.d_max;
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, 10, &bad, out, NULL), HL_EINVAL);
    bad = o;
    bad.domain = HL_POISSON_ROTATIONS;
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, 10, &bad, out, NULL), HL_EINVAL);
    double lo[2] = {0.0, 0.0}, hi[2] = {0.5, 1.0};
    bad = o;
    bad.domain = HL_POISSON_PERIODIC;
    bad.lo = lo;
    bad.hi = hi;
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, 10, &bad, out, NULL), HL_EINVAL); /* outside */
    hi[0] = 1.0;
    bad.d_max = 0.6;
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, 10, &bad, out, NULL), HL_EINVAL); /* > L/2 */
    p[5] = NAN;
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, 10, &o, out, NULL), HL_EINVAL);
    free(p);
    size_t big = 200000;
    double *q = random_points(2, big, dim);
    default_opts(&o, dim, big / 5, 1.0);
    int64_t *res = malloc(big / 5 * sizeof *res);
    int calls = 0;
    hl_monitor mon;
    hl_monitor_init(&mon, cancel_after, &calls);
    o.n_threads = 1;
    CHECK_STATUS(hl_poisson_eliminate(q, big, dim, big / 5, &o, res, &mon), HL_ECANCELLED);
    o.memory_limit = 1024; /* far too small for the lists */
    CHECK_STATUS(hl_poisson_eliminate(q, big, dim, big / 5, &o, res, NULL), HL_ENOMEM);
    free(res);
    free(q);
}

/* The alpha precondition (poisson.h, "A bounded alpha"): a call whose quantised weights would
 * drop the neighbours beyond 0.7 d_max on some level is refused before anything is written. */
HL_TEST(poisson_eliminate_refuses_an_alpha_whose_weights_truncate) {
    size_t m = 300, n = 60, dim = 2;
    double *p = random_points(5, m, dim);
    int64_t out[60];
    hl_poisson_options o;
    default_opts(&o, dim, n, 1.0);
    o.d_min = 0.0; /* no weight limiting: x0 = 1 - 2^(-30 / alpha) */
    const double ok[] = {8.0, 15.0, 17.2}, refused[] = {17.3, 24.0, 64.0, 1e6};
    for (size_t k = 0; k < 3; k++) {
        o.alpha = ok[k];
        CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, out, NULL));
    }
    for (size_t k = 0; k < 4; k++) {
        o.alpha = refused[k];
        for (size_t i = 0; i < n; i++) {
            out[i] = -7;
        }
        CHECK_STATUS(hl_poisson_eliminate(p, m, dim, n, &o, out, NULL), HL_EINVAL);
        for (size_t i = 0; i < n; i++) {
            CHECK(out[i] == -7);
        }
    }
    /* Weight limiting allows more, on level 0; progressive levels keep d_min and widen d_max,
     * so the last of them (60 -> ... -> 3 points, d_max 2^(5/2) times larger) reaches least. */
    o.d_min = 0.5 * o.d_max;
    o.alpha = 30.0;
    CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, out, NULL));
    o.progressive = 1;
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, n, &o, out, NULL), HL_EINVAL);
    o.alpha = 17.0;
    CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, out, NULL));
    /* A scale beyond the doubles: w(d_min) = 0.01^160 is subnormal, 2^S would be infinite (and
     * every contribution's cast to an integer undefined). */
    o.progressive = 0;
    o.d_min = 0.99 * o.d_max;
    o.alpha = 160.0;
    CHECK_STATUS(hl_poisson_eliminate(p, m, dim, n, &o, out, NULL), HL_EINVAL);
    o.alpha = 100.0; /* 1e-200: fine, and every neighbour nearer than d_min weighs w_max */
    CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, out, NULL));
    free(p);
}

typedef struct done_steps {
    const hl_monitor *mon;
    size_t from, last, max_step; /* the largest step of done seen once it passed `from` */
} done_steps;

static int record_done_steps(void *ctx) {
    done_steps *s = ctx;
    size_t done = atomic_load(&s->mon->done);
    if (s->last >= s->from && done - s->last > s->max_step) {
        s->max_step = done - s->last;
    }
    s->last = done;
    return 0;
}

/* The elimination polls by the work its removals do, not every 1024 removals: in 4000
 * duplicates a removal walks a list of 4001 entries, so a poll comes every 32 removals or so
 * (the progress added at each poll is the removals since the last one). */
HL_TEST(poisson_elimination_of_duplicates_polls_by_work) {
    const size_t m = 4002, n = 400, dim = 2;
    double *p = malloc(m * dim * sizeof *p);
    for (size_t i = 0; i < m * dim; i++) {
        p[i] = i < 2 * (m - 2) ? 0.5 : (double)(i & 1);
    }
    hl_poisson_options o;
    default_opts(&o, dim, n, 1.0);
    o.n_threads = 1;
    int64_t *out = malloc(n * sizeof *out);
    hl_monitor mon;
    done_steps steps = {.mon = &mon, .from = m};
    hl_monitor_init(&mon, record_done_steps, &steps);
    CHECK_OK(hl_poisson_eliminate(p, m, dim, n, &o, out, &mon));
    CHECK(steps.max_step > 0 && steps.max_step <= 64);
    CHECK(atomic_load(&mon.done) == 2 * m - n); /* the lists' m, then every removal */
    /* The two corners are kept, and n - 2 of the duplicates. */
    CHECK(out[n - 2] == (int64_t)m - 2 && out[n - 1] == (int64_t)m - 1);
    free(out);
    free(p);
}

HL_TEST(poisson_max_radius_formulas) {
    CHECK_NEAR(hl_poisson_max_radius(2, 1.0, 100), sqrt(1.0 / (2.0 * sqrt(3.0) * 100.0)), 1e-15);
    CHECK_NEAR(hl_poisson_max_radius(3, 2.0, 10), cbrt(2.0 / (4.0 * sqrt(2.0) * 10.0)), 1e-15);
    CHECK_NEAR(hl_poisson_max_radius(1, 1.0, 10), 0.05, 1e-15);
    /* V_4 = pi^2 / 2, V_5 = 8 pi^2 / 15 */
    CHECK_NEAR(hl_poisson_max_radius(4, 3.0, 7), pow(3.0 / 7.0 / (M_PI * M_PI / 2.0), 0.25), 1e-14);
    CHECK_NEAR(hl_poisson_max_radius(5, 1.0, 7), pow(1.0 / 7.0 / (8.0 * M_PI * M_PI / 15.0), 0.2),
               1e-14);
    CHECK(isnan(hl_poisson_max_radius(0, 1.0, 7)));
    CHECK(isnan(hl_poisson_max_radius(2, 0.0, 7)));
    CHECK(isnan(hl_poisson_max_radius(2, 1.0, 0)));
}

HL_TEST(poisson_measures_and_level_radii) {
    CHECK_NEAR(hl_poisson_measure(HL_POISSON_SPHERE, 2), 2.0 * M_PI, 1e-15);
    CHECK_NEAR(hl_poisson_measure(HL_POISSON_SPHERE, 3), 4.0 * M_PI, 1e-14);
    CHECK_NEAR(hl_poisson_measure(HL_POISSON_SPHERE, 4), 2.0 * M_PI * M_PI, 1e-14);
    CHECK_NEAR(hl_poisson_measure(HL_POISSON_SPHERE, 5), 8.0 * M_PI * M_PI / 3.0, 1e-14);
    CHECK_NEAR(hl_poisson_measure(HL_POISSON_ROTATIONS, 4), 8.0 * M_PI * M_PI, 1e-13);
    CHECK(isnan(hl_poisson_measure(HL_POISSON_SPHERE, 1)));
    CHECK(isnan(hl_poisson_measure(HL_POISSON_ROTATIONS, 3)));
    CHECK(isnan(hl_poisson_measure(HL_POISSON_BOX, 2)));
    double hi, lo;
    /* Box: d_max = 2 r, d_min = d_max 0.65 (1 - (8/200)^1.5). */
    hl_poisson_level_radii(HL_POISSON_BOX, 0.25, 200, 8, 0.65, 1.5, 1, &hi, &lo);
    CHECK(hi == 0.5);
    CHECK_NEAR(lo, 0.5 * 0.65 * (1.0 - pow(0.04, 1.5)), 1e-16);
    hl_poisson_level_radii(HL_POISSON_SPHERE, 0.25, 200, 8, 0.65, 1.5, 0, &hi, &lo);
    CHECK(hi == 0.5 && lo == 0.0);
    /* Rotations: chords 2 sin(angle / 4); angles beyond 2 pi saturate at chord 2, and when
     * both do, d_min is 0. */
    hl_poisson_level_radii(HL_POISSON_ROTATIONS, 0.5, 200, 8, 0.65, 1.5, 1, &hi, &lo);
    CHECK_NEAR(hi, 2.0 * sin(0.25), 1e-16);
    CHECK_NEAR(lo, 2.0 * sin(0.25 * 0.65 * (1.0 - pow(0.04, 1.5))), 1e-16);
    hl_poisson_level_radii(HL_POISSON_ROTATIONS, 10.0, 3, 1, 0.65, 1.5, 1, &hi, &lo);
    CHECK(hi == 2.0 * sin(2.0 * M_PI / 4.0) && lo == 0.0);
}

HL_TEST(poisson_candidates_are_seeded_thread_independent_and_in_range) {
    size_t m = 10000, dim = 3;
    double lo[3] = {-1.0, 2.0, 0.0}, hi[3] = {1.0, 3.0, 1e-3};
    double *a = malloc(m * dim * sizeof *a), *b = malloc(m * dim * sizeof *b);
    CHECK_OK(hl_poisson_candidates(42, m, dim, HL_POISSON_BOX, lo, hi, 1, a, NULL));
    CHECK_OK(hl_poisson_candidates(42, m, dim, HL_POISSON_BOX, lo, hi, 4, b, NULL));
    CHECK(memcmp(a, b, m * dim * sizeof *a) == 0);
    for (size_t i = 0; i < m * dim; i++) {
        CHECK(a[i] >= lo[i % 3] && a[i] <= hi[i % 3]);
    }
    CHECK_OK(hl_poisson_candidates(43, m, dim, HL_POISSON_SPHERE, NULL, NULL, 0, a, NULL));
    double mean = 0.0;
    for (size_t i = 0; i < m; i++) {
        CHECK_NEAR(sqrt(hl_kd_sqdist(a + i * 3, (const double[3]){0, 0, 0}, 3)), 1.0, 1e-12);
        mean += a[i * 3 + 2];
    }
    CHECK(fabs(mean / (double)m) < 5.0 * sqrt(1.0 / 3.0 / (double)m)); /* 5 sigma */
    CHECK_STATUS(hl_poisson_candidates(1, m, 3, HL_POISSON_ROTATIONS, NULL, NULL, 0, a, NULL),
                 HL_EINVAL);
    free(a);
    free(b);
}

HL_TEST(poisson_nn_distances_match_brute_force) {
    size_t m = 800;
    const hl_poisson_domain doms[] = {HL_POISSON_BOX, HL_POISSON_PERIODIC, HL_POISSON_ROTATIONS};
    for (int di = 0; di < 3; di++) {
        size_t dim = doms[di] == HL_POISSON_ROTATIONS ? 4 : 3;
        double lo[4] = {0, 0, 0, 0}, hi[4] = {1, 1, 1, 1};
        double *p = malloc(m * dim * sizeof *p);
        CHECK_OK(hl_poisson_candidates(5, m, dim, doms[di], lo, hi, 0, p, NULL));
        hl_poisson_options o;
        hl_poisson_options_init(&o);
        o.domain = doms[di];
        o.lo = lo;
        o.hi = hi;
        double *nn = malloc(m * sizeof *nn);
        CHECK_OK(hl_poisson_nn_distances(p, m, dim, &o, 1e-3, nn, NULL));
        for (size_t i = 0; i < m; i += 7) {
            double best = INFINITY;
            for (size_t j = 0; j < m; j++) {
                if (j == i) {
                    continue;
                }
                double s = 0.0, s2 = 0.0;
                for (size_t k = 0; k < dim; k++) {
                    double d = p[j * dim + k] - p[i * dim + k];
                    if (doms[di] == HL_POISSON_PERIODIC) {
                        d = d - round(d);
                    }
                    s += d * d;
                    double e = p[j * dim + k] + p[i * dim + k];
                    s2 += e * e;
                }
                double dist = sqrt(s);
                if (doms[di] == HL_POISSON_ROTATIONS) {
                    dist = sqrt(s < s2 ? s : s2);
                }
                best = dist < best ? dist : best;
            }
            CHECK_NEAR(nn[i], best, 1e-12);
        }
        free(nn);
        free(p);
    }
}
