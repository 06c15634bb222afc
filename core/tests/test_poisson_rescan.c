/* Tests of the elimination without lists (core/src/poisson/rescan.h): its starting weights and
 * its removals against the neighbour lists', on the portable and AVX-512 passes; its leaf
 * search against the tree's; its filter at the edge of d_max; whole calls against the lists. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/poisson/kdtree.h"
#include "../src/poisson/neighbors.h"
#include "../src/poisson/rescan.h"
#include "harness.h"
#include "hotloop/poisson.h"
#include "hotloop/rng.h"

/* Pairs on an edge: from every 61st anchor on, starting at `first`, six points at chord
 * distances d_edge (1 - delta), delta from 0 to 1e-6 (the filter must let every one of them
 * through); returns the exact hl_pd_dist of the first delta = 0 pair. */
static double edge_pairs(double *q, size_t m, size_t first, double d_edge) {
    hl_pd_metric mt = {.domain = HL_POISSON_ROTATIONS, .dim = 4};
    const double deltas[6] = {0.0, 1e-15, 1e-12, 1e-9, 1e-7, 1e-6};
    double d_exact = d_edge;
    for (size_t i = first; i + 60 < m; i += 61) {
        const double *a = q + 4 * i;
        for (size_t v = 0; v < 6; v++) {
            /* b = a turned in the (w, x) plane by the angle whose chord is d_edge (1 - delta);
             * negated every other time (the nearer of b and -b is the one that counts) */
            double *b = q + 4 * (i + 4 + v);
            double phi = 2.0 * asin(d_edge * (1.0 - deltas[v]) / 2.0);
            double sg = (v & 1) ? -1.0 : 1.0;
            b[0] = sg * (a[0] * cos(phi) - a[1] * sin(phi));
            b[1] = sg * (a[0] * sin(phi) + a[1] * cos(phi));
            b[2] = sg * a[2];
            b[3] = sg * a[3];
            if (i == first && v == 0) {
                d_exact = hl_pd_dist(&mt, a, b, NULL);
            }
        }
    }
    return d_exact;
}

/* m unit quaternions (the generator's), with hard cases mixed in: exact duplicates, negated
 * duplicates (the same rotation), points on the seam w = 0, and (d_edge > 0) edge pairs at
 * d_edge from anchors 20, 81, ... (edge_pairs). *d_exact gets the exact distance of the first
 * delta = 0 pair: with it as d_max, pairs sit on the edge of the strict test. */
static double *quaternions(uint64_t seed, size_t m, double d_edge, double *d_exact) {
    double *q = malloc(m * 4 * sizeof *q);
    if (hl_poisson_candidates(seed, m, 4, HL_POISSON_ROTATIONS, NULL, NULL, 0, q, NULL) != HL_OK) {
        free(q);
        return NULL;
    }
    for (size_t i = 0; i + 40 < m; i += 97) {
        memcpy(q + 4 * (i + 1), q + 4 * i, 4 * sizeof(double)); /* duplicate */
        for (size_t k = 0; k < 4; k++) {
            q[4 * (i + 2) + k] = -q[4 * i + k]; /* the same rotation, negated */
        }
        double *s = q + 4 * (i + 3);
        double n = sqrt(s[1] * s[1] + s[2] * s[2] + s[3] * s[3]);
        s[0] = 0.0; /* on the seam */
        for (size_t k = 1; k < 4; k++) {
            s[k] /= n;
        }
    }
    *d_exact = d_edge > 0.0 ? edge_pairs(q, m, 20, d_edge) : d_edge;
    return q;
}

static void setup(hl_pd_weight *wt, double d_max) {
    *wt = (hl_pd_weight){.d_max = d_max, .d_min = 0.4 * d_max, .alpha = 8.0, .alpha8 = 1};
    hl_pd_scale(wt);
}

/* Every pass (portable, AVX2 and AVX-512 where the CPU has them) against the lists: the
 * starting weights (on 1, 2 and 3 threads), then the weights after every removal of a fixed
 * pseudo-random sequence that removes 90% of the points. Edge pairs at the zero-contribution
 * distance (where the filter's bound is tight) are added from anchor 50 on; `norms` scales
 * every 13th point by 0.75 and every 17th by 1.35 (squared norms 0.56 and 1.82, which the
 * filter's bound allows for). */
static void check_against_lists(hl_test_ctx *t_, double *q, size_t m, double d_max, int norms) {
    hl_pd_metric mt = {.domain = HL_POISSON_ROTATIONS, .dim = 4};
    hl_pd_weight wt;
    setup(&wt, d_max);
    double d_zero = hl_pd_rescan_zero_distance(&wt);
    CHECK(hl_pd_quant(&wt, d_zero) == 0 && hl_pd_quant(&wt, nextafter(d_zero, 0.0)) > 0);
    if (d_zero < 1.4) {
        edge_pairs(q, m, 50, d_zero);
    }
    for (size_t i = 0; norms && i < m; i++) {
        double f = i % 13 == 0 ? 0.75 : i % 17 == 0 ? 1.35 : 1.0;
        for (size_t k = 0; k < 4; k++) {
            q[4 * i + k] *= f;
        }
    }
    hl_kdtree t;
    CHECK_OK(hl_kdtree_build(&t, q, m, 4, NULL, 1, NULL));
    hl_pd_lists L;
    CHECK_OK(hl_pd_lists_build(&L, &t, &mt, &wt, 1, SIZE_MAX, NULL));
    const hl_simd_level levels[3] = {HL_SIMD_SCALAR, HL_SIMD_AVX2, HL_SIMD_AVX512};
    int64_t *w = malloc(m * sizeof *w), *lw = malloc(m * sizeof *lw);
    for (int li = 0; li < 3; li++) {
        if (hl_cpu_resolve_level(levels[li]) != levels[li]) {
            continue; /* a level this CPU lacks */
        }
        for (unsigned threads = 1; threads <= 3; threads++) {
            hl_pd_rescan R;
            CHECK_OK(hl_pd_rescan_init(&R, &t, &wt, SIZE_MAX, levels[li], threads, NULL));
            CHECK(R.level == levels[li]);
            /* beyond a chord of about 1.4 the bound lets everything through (-1) */
            CHECK((R.bound_q == -1) == (d_zero * d_zero / 2.0 > (norms ? 0.5625 : 1.0) - 0.001));
            CHECK_OK(hl_pd_rescan_weights(&R, w, threads, NULL));
            CHECK(memcmp(w, L.w, m * sizeof *w) == 0);
            if (threads == 1) {
                memcpy(lw, L.w, m * sizeof *lw);
                size_t bad = 0;
                for (size_t k = 0; k < m - m / 10; k++) {
                    uint32_t i = (uint32_t)((k * 2654435761u + 12345u) % m);
                    if (w[i] < 0) {
                        continue;
                    }
                    w[i] = lw[i] = -1;
                    hl_pd_rescan_remove(&R, i, w);
                    size_t len;
                    const uint32_t *nb = hl_pd_list(&L, i, &len);
                    for (size_t e = 0; e < len; e++) {
                        if (lw[nb[2 * e]] >= 0) {
                            lw[nb[2 * e]] -= nb[2 * e + 1];
                        }
                    }
                    bad += (k % 64 == 0 && memcmp(w, lw, m * sizeof *w) != 0);
                }
                CHECK(bad == 0);
                CHECK(memcmp(w, lw, m * sizeof *w) == 0);
            }
            hl_pd_rescan_free(&R);
        }
    }
    free(w);
    free(lw);
    hl_pd_lists_free(&L);
    hl_kdtree_free(&t);
}

HL_TEST(poisson_rescan_weights_and_removals_match_the_lists) {
    /* chords: about 30, 230 and 1000 neighbours of 3000; beyond sqrt(2) every pair is one */
    const double d_max[] = {0.2, 0.41, 0.7, 1.5};
    const size_t sizes[] = {300, 1500, 3000};
    for (size_t s = 0; s < 3; s++) {
        for (size_t di = 0; di < 4; di++) {
            if (sizes[s] > 1500 && d_max[di] > 1.0) {
                continue;
            }
            for (int norms = 0; norms < 1 + (s == 1); norms++) {
                double d_exact;
                double *q = quaternions(70 + s, sizes[s], d_max[di], &d_exact);
                CHECK(q != NULL);
                check_against_lists(t_, q, sizes[s], d_exact, norms);
                free(q);
            }
        }
    }
}

/* The brute-force leaf test gives the tree search's leaves near the box or its negation (the
 * same test on every leaf), and its vector forms the portable bits. */
HL_TEST(poisson_rescan_leaf_boxes_match_the_tree_search) {
    const size_t m = 2500;
    double unused;
    double *q = quaternions(81, m, 0.0, &unused);
    hl_kdtree t;
    CHECK_OK(hl_kdtree_build(&t, q, m, 4, NULL, 1, NULL));
    const size_t nl = t.n_leaves, stride = (nl + 7) / 8 * 8;
    double *boxes = malloc(stride * 8 * sizeof *boxes);
    for (size_t l = 0; l < stride; l++) {
        for (size_t k = 0; k < 8; k++) {
            boxes[k * stride + l] = l < nl ? hl_kdtree_box(&t, t.leaves[l])[k] : 1e300;
        }
    }
    hl_u32vec near = {0};
    uint8_t *bits = malloc(stride / 8), *bits_v = malloc(stride / 8);
    unsigned char *listed = malloc(t.n_nodes);
    const double r2s[] = {0.01, 0.1, 0.3, 1.0};
    for (size_t ri = 0; ri < 4; ri++) {
        for (size_t a = 0; a < nl; a += 7) {
            near.len = 0;
            const double *blo = hl_kdtree_box(&t, t.leaves[a]);
            double nlo[4], nhi[4];
            for (size_t k = 0; k < 4; k++) {
                nlo[k] = -blo[4 + k];
                nhi[k] = -blo[k];
            }
            CHECK_OK(hl_kdtree_leaves_near(&t, blo, blo + 4, r2s[ri], &near));
            CHECK_OK(hl_kdtree_leaves_near(&t, nlo, nhi, r2s[ri], &near));
            memset(listed, 0, t.n_nodes);
            size_t n_listed = 0;
            for (size_t e = 0; e < near.len; e++) {
                n_listed += !listed[near.data[e]];
                listed[near.data[e]] = 1;
            }
            size_t found = 0, mismatches = 0;
            hl_pd_rescan_near_scalar(boxes, stride, a, r2s[ri], bits);
#if defined(HL_X86_64)
            if (hl_cpu_resolve_level(HL_SIMD_AVX2) == HL_SIMD_AVX2) {
                hl_pd_rescan_near_avx2(boxes, stride, a, r2s[ri], bits_v);
                mismatches += memcmp(bits, bits_v, stride / 8) != 0;
            }
            if (hl_cpu_resolve_level(HL_SIMD_AVX512) == HL_SIMD_AVX512) {
                hl_pd_rescan_near_avx512(boxes, stride, a, r2s[ri], bits_v);
                mismatches += memcmp(bits, bits_v, stride / 8) != 0;
            }
#endif
            for (size_t b = 0; b < stride / 8; b++) {
                for (unsigned v = bits[b]; v != 0; v &= v - 1) {
                    size_t l = 8 * b + (size_t)__builtin_ctz(v);
                    mismatches += !listed[t.leaves[l]];
                    found++;
                }
            }
            CHECK(mismatches == 0 && found == n_listed);
        }
    }
    hl_u32vec_free(&near);
    free(listed);
    free(bits);
    free(bits_v);
    free(boxes);
    hl_kdtree_free(&t);
    free(q);
}

/* Whole eliminations: the rescan's result is the lists' (and AUTO's), index for index, for
 * plain and progressive runs, on 1 and 2 threads; quaternions far from unit length make the
 * rescan decline (its filter assumes near-unit ones) and the lists answer. */
HL_TEST(poisson_rescan_whole_calls_match_the_lists) {
    const size_t ms[] = {1200, 4000};
    const size_t ns[] = {30, 150};
    for (size_t s = 0; s < 2; s++) {
        size_t m = ms[s];
        double unused;
        double *q = quaternions(90 + s, m, 0.0, &unused);
        if (s == 1) {
            for (size_t k = 0; k < 4; k++) {
                q[4 * 5 + k] *= 3.0; /* norm 3: the rescan declines */
            }
        }
        for (size_t ni = 0; ni < 2; ni++) {
            for (int prog = 0; prog < 2; prog++) {
                size_t n = ns[ni];
                hl_poisson_options o;
                hl_poisson_options_init(&o);
                o.domain = HL_POISSON_ROTATIONS;
                o.d_max = 2.0 * sin(2.0 * hl_poisson_max_radius(3, 8.0 * M_PI * M_PI, n) / 4.0);
                o.d_min = 0.3 * o.d_max;
                o.progressive = prog;
                int64_t *out[3];
                for (int meth = 0; meth < 3; meth++) {
                    out[meth] = malloc(n * sizeof(int64_t));
                    o.method = (hl_poisson_method)meth;
                    o.n_threads = 1 + (unsigned)meth % 2;
                    CHECK_OK(hl_poisson_eliminate(q, m, 4, n, &o, out[meth], NULL));
                }
                CHECK(memcmp(out[0], out[1], n * sizeof(int64_t)) == 0);
                CHECK(memcmp(out[2], out[1], n * sizeof(int64_t)) == 0);
                for (int meth = 0; meth < 3; meth++) {
                    free(out[meth]);
                }
            }
        }
        free(q);
    }
}

/* The choice of method: rotations with alpha 8 and many expected neighbours, with AVX2 or
 * AVX-512 (a larger size limit with AVX2 alone, where the lists are slower). */
HL_TEST(poisson_rescan_is_chosen_for_dense_rotation_levels_only) {
    hl_pd_metric rot = {.domain = HL_POISSON_ROTATIONS, .dim = 4};
    hl_pd_metric box = {.domain = HL_POISSON_BOX, .dim = 4};
    hl_pd_weight dense, sparse, pow7;
    setup(&dense, 0.41);  /* about 230 of 8000 within reach */
    setup(&sparse, 0.12); /* about 6 */
    setup(&pow7, 0.41);
    pow7.alpha = 7.0;
    pow7.alpha8 = 0;
    const int avx2 = hl_cpu_resolve_level(HL_SIMD_AVX2) == HL_SIMD_AVX2;
    const int avx512 = hl_cpu_resolve_level(HL_SIMD_AVX512) == HL_SIMD_AVX512;
    CHECK(hl_pd_rescan_suits(&rot, &dense, 8000, HL_SIMD_AUTO) == avx2);
    CHECK(hl_pd_rescan_suits(&rot, &dense, 8000, HL_SIMD_AVX2) == avx2);
    CHECK(!hl_pd_rescan_suits(&rot, &sparse, 8000, HL_SIMD_AUTO));
    CHECK(hl_pd_rescan_suits(&rot, &sparse, 0, HL_SIMD_AUTO) == avx2);
    CHECK(!hl_pd_rescan_suits(&rot, &dense, 8000, HL_SIMD_SCALAR));
    CHECK(!hl_pd_rescan_suits(&box, &dense, 8000, HL_SIMD_AUTO));
    CHECK(!hl_pd_rescan_suits(&rot, &pow7, 8000, HL_SIMD_AUTO));
    setup(&dense, 0.2); /* about 230 of 64000 */
    CHECK(hl_pd_rescan_suits(&rot, &dense, 64000, HL_SIMD_AVX2) == avx2);
    CHECK(!hl_pd_rescan_suits(&rot, &dense, HL_PD_RESCAN_MAX_POINTS_AVX2 + 1, HL_SIMD_AVX2));
    CHECK(!hl_pd_rescan_suits(&rot, &dense, HL_PD_RESCAN_MAX_POINTS + 1, HL_SIMD_AVX512) ||
          !avx512);
}
