/* Tests of the poisson kernel's dense small-level rows (core/src/poisson/dense.h): every
 * variant against the scalar definition hl_pd_quant(hl_pd_dist(...)), pair by pair, on every
 * domain, with duplicates and distances at and next to d_min and d_max. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/poisson/dense.h"
#include "harness.h"
#include "hotloop/rng.h"

/* m points of `dim` coordinates for the domain: uniform in [0, 1)^dim (unit vectors for the
 * sphere and rotations), then duplicates and pairs along the first axis at distances d_min,
 * d_max and their neighbouring doubles from point 0. */
static double *dense_points(uint64_t seed, size_t m, size_t dim, hl_poisson_domain domain,
                            const hl_pd_weight *wt) {
    double *p = malloc(m * dim * sizeof *p);
    hl_rng r;
    hl_rng_seed(&r, seed);
    for (size_t i = 0; i < m; i++) {
        double *x = p + i * dim, s = 0.0;
        for (size_t k = 0; k < dim; k++) {
            x[k] = domain == HL_POISSON_SPHERE || domain == HL_POISSON_ROTATIONS
                       ? hl_rng_normal(&r)
                       : hl_rng_uniform(&r);
            s += x[k] * x[k];
        }
        if (domain == HL_POISSON_SPHERE || domain == HL_POISSON_ROTATIONS) {
            for (size_t k = 0; k < dim; k++) {
                x[k] /= sqrt(s);
            }
        }
    }
    memcpy(p + (m - 1) * dim, p, dim * sizeof(double)); /* a duplicate */
    const double at[6] = {wt->d_min, nextafter(wt->d_min, 0.0), nextafter(wt->d_min, 1.0),
                          wt->d_max, nextafter(wt->d_max, 0.0), nextafter(wt->d_max, 1.0)};
    if (domain == HL_POISSON_BOX || domain == HL_POISSON_PERIODIC) {
        for (size_t e = 0; e < 6 && 2 + e < m - 1; e++) {
            double *x = p + (2 + e) * dim;
            memcpy(x, p, dim * sizeof(double));
            x[0] = p[0] + at[e]; /* may leave [0, 1): the periodic metric wraps it */
        }
    }
    return p;
}

HL_TEST(poisson_dense_rows_match_the_scalar_definition_on_every_variant) {
    const hl_poisson_domain domains[] = {HL_POISSON_BOX, HL_POISSON_PERIODIC, HL_POISSON_SPHERE,
                                         HL_POISSON_ROTATIONS};
    const size_t sizes[] = {2, 9, 37, 200, HL_PD_DENSE_MAX};
    const hl_simd_level levels[] = {HL_SIMD_SCALAR, HL_SIMD_AUTO};
    size_t pairs = 0, band = 0;
    for (size_t di = 0; di < 4; di++) {
        for (size_t dim = 1; dim <= HL_POISSON_MAX_DIM; dim++) {
            hl_poisson_domain domain = domains[di];
            if ((domain == HL_POISSON_SPHERE && dim < 2) ||
                (domain == HL_POISSON_ROTATIONS && dim != 4)) {
                continue;
            }
            hl_pd_metric mt;
            memset(&mt, 0, sizeof mt);
            mt.domain = domain;
            mt.dim = dim;
            for (size_t k = 0; k < dim; k++) {
                mt.lo[k] = 0.0;
                mt.hi[k] = mt.len[k] = 1.0;
                mt.half[k] = 0.5;
            }
            for (size_t si = 0; si < 5; si++) {
                for (int variant = 0; variant < 3; variant++) {
                    size_t m = sizes[si];
                    /* alpha 8 with weight limiting, without it (d_min 0), and alpha 3.5 */
                    hl_pd_weight wt = {.d_max = 0.3 + 0.1 * (double)dim,
                                       .alpha = variant == 2 ? 3.5 : 8.0,
                                       .alpha8 = variant != 2};
                    wt.d_min = variant == 1 ? 0.0 : 0.6 * wt.d_max;
                    if (domain == HL_POISSON_PERIODIC && wt.d_max > 0.5) {
                        wt.d_max = 0.5;
                        wt.d_min = variant == 1 ? 0.0 : 0.3;
                    }
                    hl_pd_scale(&wt);
                    double *p = dense_points(100 * dim + si, m, dim, domain, &wt);
                    double *xc = malloc(m * dim * sizeof(double));
                    const double **x = malloc(m * sizeof(const double *));
                    for (size_t r = 0; r < m; r++) {
                        x[r] = p + r * dim;
                        for (size_t k = 0; k < dim; k++) {
                            xc[k * m + r] = x[r][k];
                        }
                    }
                    for (size_t li = 0; li < 2; li++) {
                        hl_pd_dense dn;
                        hl_pd_dense_init(&dn, &mt, &wt, xc, x, m, levels[li]);
                        uint32_t *q = malloc(m * m * sizeof(uint32_t));
                        double w[HL_PD_DENSE_MAX];
                        for (size_t r = 0; r < m; r++) {
                            w[r] = 0.0;
                        }
                        for (size_t i = 0; i < m; i++) {
                            uint32_t *c = q + i * m;
                            c[i] = 12345; /* c[0..i] stays as it is */
                            w[i] += (double)hl_pd_dense_row(&dn, i, c, w);
                            CHECK_EQ_U64(c[i], 12345);
                            for (size_t j = i + 1; j < m; j++) {
                                double d = hl_pd_dist(&mt, x[i], x[j], NULL);
                                uint32_t want = d < wt.d_max ? hl_pd_quant(&wt, d) : 0;
                                CHECK_EQ_U64(c[j], want);
                                pairs++;
                                band += d > wt.d_min && d < wt.d_max;
                            }
                        }
                        hl_pd_dense_mirror(&dn, q);
                        /* the mirror image, and each weight the exact sum of its row */
                        for (size_t i = 0; i < m; i++) {
                            int64_t sum = -12345;
                            for (size_t j = 0; j < m; j++) {
                                CHECK_EQ_U64(q[j * m + i], q[i * m + j]);
                                sum += q[i * m + j];
                            }
                            CHECK(w[i] == (double)sum);
                        }
                        free(q);
                    }
                    free(xc);
                    free(x);
                    free(p);
                }
            }
        }
    }
    CHECK(band > pairs / 50); /* the band (root, division, power) was exercised */
}

HL_TEST(poisson_dense_update_max_and_find_agree_on_every_variant) {
    hl_rng r;
    hl_rng_seed(&r, 5);
    for (size_t m = 1; m <= HL_PD_DENSE_MAX; m += (m < 20 ? 1 : 37)) {
        double w[2][HL_PD_DENSE_MAX];
        uint32_t q[HL_PD_DENSE_MAX];
        for (size_t i = 0; i < m; i++) {
            /* integer weights with repeats, some removed (-2^62), and contributions < 2^31 */
            w[0][i] = w[1][i] = i % 7 == 3 ? -0x1p62 : (double)hl_rng_below(&r, 50) * 0x1p30;
            q[i] = (uint32_t)hl_rng_below(&r, 3) * 0x20000000u;
        }
        hl_pd_dense dn[2];
        const hl_simd_level levels[2] = {HL_SIMD_SCALAR, HL_SIMD_AUTO};
        hl_pd_metric mt = {.domain = HL_POISSON_BOX, .dim = 1};
        hl_pd_weight wt = {.d_max = 1.0, .alpha = 8.0, .alpha8 = 1};
        hl_pd_scale(&wt);
        for (size_t li = 0; li < 2; li++) {
            hl_pd_dense_init(&dn[li], &mt, &wt, NULL, NULL, m, levels[li]);
        }
        for (int step = 0; step < 3; step++) {
            double best[2];
            for (size_t li = 0; li < 2; li++) {
                best[li] = hl_pd_dense_update_max(&dn[li], w[li], q);
            }
            CHECK(best[0] == best[1]);
            double want = w[0][0];
            for (size_t i = 0; i < m; i++) {
                CHECK(w[0][i] == w[1][i]);
                want = w[0][i] > want ? w[0][i] : want;
            }
            CHECK(best[0] == want);
            CHECK(hl_pd_dense_max(w[0], m) == want);
            size_t first = 0;
            while (w[0][first] != want) {
                first++;
            }
            CHECK_EQ_U64(hl_pd_dense_find(&dn[0], w[0], want), first);
            CHECK_EQ_U64(hl_pd_dense_find(&dn[1], w[1], want), first);
        }
    }
}
