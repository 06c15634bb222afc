/*
 * dense.h (internal to the poisson kernel): the pair contributions of a small elimination
 * level, all pairs at once.
 *
 * Levels of up to HL_PD_DENSE_MAX points (the document's 200 -> 8 rotations, and the last
 * levels of every progressive run) skip the tree and the lists: eliminate.c fills a dense
 * matrix of all pairs' quantised contributions, one row at a time, with hl_pd_dense_row.
 * Nearly all of a small call's time is these rows (a distance, a square root and a division
 * per pair), so they have an AVX-512 variant; every variant gives exactly the values of
 * hl_pd_quant_n applied to hl_pd_dist (metric.h), bit for bit.
 */
#ifndef HOTLOOP_POISSON_DENSE_H
#define HOTLOOP_POISSON_DENSE_H

#include "hotloop/cpu.h"
#include "metric.h"

/* Up to this many points a level is eliminated by brute force (a 256 KB matrix of uint32 at
 * most): with so few points the tree, the lists, the heap and the threads cost more than they
 * save. */
#define HL_PD_DENSE_MAX 256

typedef struct hl_pd_dense {
    const hl_pd_metric *mt;
    const hl_pd_weight *wt; /* with its scale set (hl_pd_scale) */
    const double *xc;       /* the level's coordinates in columns: xc[k * m + r] */
    const double *const *x; /* x[r]: the level's point r (dim coordinates) */
    size_t m;               /* points, 2 .. HL_PD_DENSE_MAX */
    /* Squared distances <= sure_lo certainly have a root <= d_min, contribution c_lo; those
     * >= sure_hi a root >= d_max, contribution 0 (see hl_pd_dense_init). */
    double sure_lo, sure_hi;
    uint32_t c_lo;
    hl_simd_level level; /* the variant hl_pd_dense_row runs */
} hl_pd_dense;

/* Fills *dn for the level (pointers kept, not copied) and resolves `requested` (HL_SIMD_AUTO:
 * the best the CPU has) to the variant the rows will use. */
void hl_pd_dense_init(hl_pd_dense *dn, const hl_pd_metric *mt, const hl_pd_weight *wt,
                      const double *xc, const double *const *x, size_t m, hl_simd_level requested);

/* c[j] for i < j < m: the quantised contribution of the pair (i, j), that is
 * d < d_max ? hl_pd_quant(wt, d) : 0 with d = hl_pd_dist(mt, x[i], x[j], NULL). c[0..i] is
 * left as it is. */
void hl_pd_dense_row(const hl_pd_dense *dn, size_t i, uint32_t *c);

/* The AVX-512 (F, DQ, VL) variant of hl_pd_dense_row for the BOX, SPHERE and ROTATIONS
 * domains; call only when hl_pd_dense_init chose it. */
void hl_pd_dense_row_avx512(const hl_pd_dense *dn, size_t i, uint32_t *c);

#endif /* HOTLOOP_POISSON_DENSE_H */
