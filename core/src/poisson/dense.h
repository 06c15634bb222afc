/*
 * dense.h (internal to the poisson kernel): the pair contributions of a small elimination
 * level, all pairs at once.
 *
 * Levels of up to HL_PD_DENSE_MAX points (the document's 200 -> 8 rotations, and the last
 * levels of every progressive run) skip the tree and the lists: eliminate.c fills a dense
 * matrix of all pairs' quantised contributions, one row at a time, with hl_pd_dense_row.
 * Nearly all of a small call's time is these rows (a distance, a square root and a division
 * per pair), so they have an AVX-512 variant; every variant gives exactly the values of
 * hl_pd_quant_n applied to hl_pd_dist (metric.h), bit for bit. So do the vector steps of the
 * elimination that follows (the weights' updates and maxima).
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
    hl_simd_level level; /* the variant the functions below run */
} hl_pd_dense;

/* Fills *dn for the level (pointers kept, not copied) and resolves `requested` (HL_SIMD_AUTO:
 * the best the CPU has) to the variant the rows will use. */
void hl_pd_dense_init(hl_pd_dense *dn, const hl_pd_metric *mt, const hl_pd_weight *wt,
                      const double *xc, const double *const *x, size_t m, hl_simd_level requested);

/* Row i of the level: c[j] for i < j < m gets the quantised contribution of the pair (i, j),
 * that is d < d_max ? hl_pd_quant(wt, d) : 0 with d = hl_pd_dist(mt, x[i], x[j], NULL), and
 * w[j] += c[j] (each c < 2^31, so double weights stay exact integers below 2^53). Returns the
 * sum of those c[j], point i's own share. c[0..i] and w[0..i] are left as they are. */
int64_t hl_pd_dense_row(const hl_pd_dense *dn, size_t i, uint32_t *c, double *w);

/* For the m x m matrix q (row-major) filled right of the diagonal: q[j * m + i] = q[i * m + j]
 * for every i < j. Best called while q is in cache. */
void hl_pd_dense_mirror(const hl_pd_dense *dn, uint32_t *q);

/* The largest of w[0..m), m >= 1 (no NaN). */
double hl_pd_dense_max(const double *w, size_t m);

/* w[r] -= q[r] for r < m (each q < 2^31: exact), and returns the largest new w[r] (no NaN):
 * one removal's update and the next maximum in one pass. */
double hl_pd_dense_update_max(const hl_pd_dense *dn, double *w, const uint32_t *q);

/* The first r < m with w[r] == best (there must be one). */
size_t hl_pd_dense_find(const hl_pd_dense *dn, const double *w, double best);

/* The AVX-512 (F, DQ, VL) variants, the same values; call only when hl_pd_dense_init chose
 * HL_SIMD_AVX512 (the rows: not for PERIODIC). */
int64_t hl_pd_dense_row_avx512(const hl_pd_dense *dn, size_t i, uint32_t *c, double *w);
void hl_pd_dense_mirror_avx512(uint32_t *q, size_t m);
double hl_pd_dense_update_max_avx512(double *w, const uint32_t *q, size_t m);
size_t hl_pd_dense_find_avx512(const double *w, size_t m, double best);

#endif /* HOTLOOP_POISSON_DENSE_H */
