/*
 * scan.h (internal to the poisson kernel): SIMD variants of the neighbour lists' leaf scan
 * (neighbors.c, scan_range). Each appends to (hj, hs) from slot nh on every point j in
 * [j0, j1) whose squared distance s to the query q is below r2, in increasing j, and returns
 * the new count; s is computed with the same operations in the same order as the portable scan
 * (no FMA), so the hits and their values are bit for bit the same. The caller provides room for
 * j1 - j0 + 8 more hits (whole vectors are stored).
 */
#ifndef HOTLOOP_POISSON_SCAN_H
#define HOTLOOP_POISSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "metric.h"

#if defined(HL_X86_64)
/* 2D Euclidean: s = (q0 - x0)^2 + (q1 - x1)^2. coords: 2 per point. */
size_t hl_pd_scan2_avx512(const double *coords, const double *q, uint32_t j0, uint32_t j1,
                          double r2, uint32_t *hj, double *hs, size_t nh);

/* ROTATIONS: s = min(sum (q - x)^2, sum (q + x)^2), each summed over k = 0..3 in order (as
 * hl_pd_dist sums it). The points by column: coordinate k of point j at cols[k * stride + j]
 * (one plain load per coordinate and 8 points, where rows would need shuffles). */
size_t hl_pd_scan_rot_avx512(const double *cols, size_t stride, const double *q, uint32_t j0,
                             uint32_t j1, double r2, uint32_t *hj, double *hs, size_t nh);

/* The weights of a point's hits (alpha 8 only): for h < nh, d = sqrt(hs[h]); keeps the hits
 * with d < d_max, in order, with hj and hc[k] = hl_pd_quant(wt, d) (the values of hl_pd_sqrt_n
 * and hl_pd_quant_n bit for bit); returns how many it kept. hj and hc need room for nh + 8
 * (whole vectors are stored). */
size_t hl_pd_weigh_avx512(const hl_pd_weight *wt, uint32_t *hj, const double *hs, uint32_t *hc,
                          size_t nh);
#endif

#endif /* HOTLOOP_POISSON_SCAN_H */
