/*
 * rescan.h (internal to the poisson kernel): elimination without neighbour lists, for rotation
 * levels where every point has hundreds of neighbours (the document's 8000 -> 200: about 230).
 *
 * Lists (neighbors.h) cost what they hold: every pair is evaluated, written as two 8-byte
 * entries at scattered places and read back by the elimination, 15 MB for 8000 rotations, and
 * the lists took three quarters of such a call. When neighbourhoods are that large it is
 * cheaper to keep only the coordinates (by column, in the tree's kd order: 40 bytes a point,
 * in cache) and recompute: the starting weights in one pass over the pairs (each pair once,
 * its contribution added to both points), and each removal's contributions in one pass over
 * the removed point's candidates, lowering the live ones. A point's candidates are the points
 * of the leaves near its leaf's box or its negation (found once per leaf, as runs of
 * consecutive kd positions). The vector pass rejects most candidates with an integer
 * dot-product bound (the coordinates rounded to 16-bit integers: 8 bytes a point, 16 points a
 * vector, exact integer arithmetic) and evaluates the exact distance of metric.h for the rest
 * only, so the contributions are hl_pd_quant's bit for bit, the weights the lists' exactly,
 * and so is the result.
 *
 * For ROTATIONS with alpha 8 where the CPU has AVX2 or AVX-512 (the scalar pass is for the
 * tests: without vectors the lists are faster).
 */
#ifndef HOTLOOP_POISSON_RESCAN_H
#define HOTLOOP_POISSON_RESCAN_H

#include <math.h>
#include <stdint.h>

#include "hotloop/cpu.h"
#include "kdtree.h"
#include "metric.h"

/* When the rescan is chosen (measured against the lists, C driver, 1 and 2 threads, uniform
 * quaternions; see docs/poisson.md): from 16 expected neighbours a point, up to 32768 points
 * with AVX-512 and 65536 with AVX2 alone.
 * - AVX-512: at 8000 points faster from 5 neighbours a point (7.0 -> 4.9 ms) to 230 (28.5 ->
 *   17.0 ms); at 20000 and 32000 from about 57 (43 -> 36 ms, 71 -> 58 ms), level at 14; at
 *   50000 slower below about 200 neighbours on two threads (the lists then run their regions
 *   in parallel, the removals here are sequential).
 * - AVX2 (the lists' rotation scan has no AVX2 form): faster everywhere up to 50000 points
 *   (8000 -> 200: 40.4 -> 17.8 ms; 50000 points, 57 neighbours, two threads: 109 -> 77 ms),
 *   level at 100000. */
#ifndef HL_PD_RESCAN_MAX_POINTS
#define HL_PD_RESCAN_MAX_POINTS 32768
#endif
#ifndef HL_PD_RESCAN_MAX_POINTS_AVX2
#define HL_PD_RESCAN_MAX_POINTS_AVX2 65536
#endif
#ifndef HL_PD_RESCAN_MIN_NEIGHBOURS
#define HL_PD_RESCAN_MIN_NEIGHBOURS 16
#endif

/* The per-point pass's two uses. */
typedef enum hl_pd_rescan_mode {
    HL_PD_RESCAN_ADD = 0, /* starting weights: j > i, w[j] += c_ij */
    HL_PD_RESCAN_SUB = 1, /* a removal: j != i and w[j] >= 0 (live), w[j] -= c_ij */
} hl_pd_rescan_mode;

typedef struct hl_pd_rescan {
    const hl_kdtree *t;
    hl_pd_metric mt; /* ROTATIONS, dim 4 */
    hl_pd_weight wt; /* with its scale set (hl_pd_scale) */
    size_t m;        /* points */
    /* The filter's arrays and the runs are indexed by slot: the points still live at the last
     * compaction, in kd order (at first slot s is kd position s). When removals have left half
     * the slots dead, hl_pd_rescan_remove compacts them, so later passes filter fewer. */
    int32_t *qa, *qb;  /* per slot: coordinates 0 and 1 (qa), 2 and 3 (qb) as
                          hl_pd_rescan_pair words; 0 for a removed slot and past the slots */
    double *rows;      /* per slot: its 4 coordinates (the exact step reads these) */
    size_t stride;     /* entries per slot array: m + 16 (whole vectors are loaded past the end) */
    int32_t bound_q;   /* the filter's bound (rescan.c, rescan_bound): |D| > bound_q passes */
    uint8_t *live;     /* per slot: 1 until removed; 0 past the slots */
    uint32_t *pos_at;  /* per slot: its kd position (`stride` entries) */
    uint32_t *slot_of; /* per kd position: its slot (while it is live) */
    uint32_t *rank;    /* compaction scratch: m + 1 */
    size_t n_slots;    /* slots in use */
    size_t n_live;     /* live points */
    uint32_t *leaf_of; /* per kd position: the ordinal of its leaf (t->leaves) */
    uint32_t *run_at;  /* per leaf ordinal: where its runs start in `runs` (n_leaves + 1) */
    hl_u32vec runs;    /* candidate runs: (begin, end) slots, increasing, disjoint */
    size_t max_cands;  /* the most candidates (points in runs) of any leaf */
    uint32_t *buf;     /* the removals' scratch (hl_pd_rescan_remove): max_cands + 16 */
    hl_simd_level level;
} hl_pd_rescan;

/*
 * Whether a level of m points with these weights should be eliminated by rescanning on
 * instruction set `level` (HL_SIMD_AUTO: the CPU's best): ROTATIONS, alpha 8, AVX-512, at most
 * HL_PD_RESCAN_MAX_POINTS points, expected to have at least HL_PD_RESCAN_MIN_NEIGHBOURS
 * neighbours each if they were uniform; m == 0: whenever it can run (a forced choice). Only a
 * choice of method: both give the same result.
 */
int hl_pd_rescan_suits(const hl_pd_metric *mt, const hl_pd_weight *wt, size_t m,
                       hl_simd_level level);

/*
 * Prepares the passes over tree t (ROTATIONS, dim 4) with weight wt (scale set): columns,
 * leaf ordinals and every leaf's candidate runs (leaf searches on n_threads threads).
 * HL_EINVAL when some point's squared norm is above 2 or not finite (the filter's integers
 * assume near-unit quaternions: the caller then uses the lists), HL_ENOMEM past `limit`
 * bytes or on allocation failure, HL_ECANCELLED from `mon`. On error *R is freed.
 */
hl_status hl_pd_rescan_init(hl_pd_rescan *R, const hl_kdtree *t, const hl_pd_weight *wt,
                            size_t limit, hl_simd_level level, unsigned n_threads, hl_monitor *mon);

/*
 * The starting weights: w[i] = sum of c_ij over the neighbours j of i (d_ij < d_max, j != i),
 * c_ij = hl_pd_quant(wt, hl_pd_dist(x_i, x_j)), for every kd position i < m; each pair is
 * evaluated once. Parallel over leaves on n_threads (0: all); the integer sums do not depend
 * on the thread count. HL_ENOMEM, HL_ECANCELLED (then w is undefined).
 */
hl_status hl_pd_rescan_weights(const hl_pd_rescan *R, int64_t *w, unsigned n_threads,
                               hl_monitor *mon);

/*
 * One removal: marks the kd position i removed and lowers every live neighbour j of i
 * (w[j] -= c_ij); compacts the slots when half of them are dead. The caller has already set
 * w[i] below 0. Sequential, no allocation.
 */
void hl_pd_rescan_remove(hl_pd_rescan *R, uint32_t i, int64_t *w);

/* Frees what *R holds (a zeroed or freed one is fine) and zeroes it. */
void hl_pd_rescan_free(hl_pd_rescan *R);

/* The smallest distance from which every contribution is 0: hl_pd_quant(wt, d) is 0 for all
 * d >= the result and positive just below it (wt's scale set; d_min < d_max). The passes
 * need no exact evaluation beyond it. */
double hl_pd_rescan_zero_distance(const hl_pd_weight *wt);

/* The filter's fixed-point scale: a coordinate x becomes the integer nearest x 2^14 (in any
 * rounding mode: the bound allows an error below 1). Squared norms up to 2 keep every
 * coordinate within int16 and every dot product of two such points within int32. */
#define HL_PD_RESCAN_SCALE 16384.0

/* Coordinates x and y as one filter word: x's integer in the low 16 bits, y's in the high
 * (the pairs that vpmaddwd multiplies and adds). |x|, |y| <= sqrt(2). */
static inline int32_t hl_pd_rescan_pair(double x, double y) {
    uint32_t lo = (uint16_t)(int16_t)lrint(x * HL_PD_RESCAN_SCALE);
    uint32_t hi = (uint16_t)(int16_t)lrint(y * HL_PD_RESCAN_SCALE);
    return (int32_t)(lo | hi << 16);
}

/* The weight updates of a vector pass's step 2 (shared by its AVX2 and AVX-512 forms): the
 * contributions cq[0 .. n) of the candidates in slots[0 .. n), to the points pos_at[slot];
 * sub: w[j] -= c for the live ones (a removed one can get here only when bound_q is -1),
 * else w[j] += c. Returns the sum of the contributions applied. */
static inline int64_t hl_pd_rescan_apply_lanes(const uint32_t *cq, const uint32_t *slots,
                                               unsigned n, const uint32_t *pos_at, int64_t *w,
                                               int sub) {
    int64_t sum = 0;
    for (unsigned l = 0; l < n; l++) {
        const uint32_t j = pos_at[slots[l]];
        int64_t c = cq[l];
        if (sub) {
            c = w[j] < 0 ? 0 : c;
            w[j] -= c;
        } else {
            w[j] += c;
        }
        sum += c;
    }
    return sum;
}

/* The passes themselves: point i's (a kd position) pass over the slot runs runs[0 .. 2 n_runs)
 * in `mode` (above; HL_PD_RESCAN_ADD before any compaction), on the
 * portable path, with AVX2 and with AVX-512 (the same updates bit for bit); each returns the
 * sum of the
 * contributions it applied. buf: scratch for R->max_cands + 16 candidates. */
int64_t hl_pd_rescan_pass_scalar(const hl_pd_rescan *R, uint32_t i, const uint32_t *runs,
                                 size_t n_runs, int64_t *w, uint32_t *buf, hl_pd_rescan_mode mode);

/* The leaves near leaf a: bit l of bits[b] for leaf 8 b + l, set when the box-to-box squared
 * gap of a's box or of its negation is below r2 (hl_kdtree_leaves_near's test on
 * each). boxes: 8
 * columns of `stride` (a multiple of 8): the leaves' lows for coordinates 0..3, then their
 * highs, padded with boxes far from everything. Portable, AVX2 and AVX-512 (the same bits). */
void hl_pd_rescan_near_scalar(const double *boxes, size_t stride, size_t a, double r2,
                              uint8_t *bits);
#if defined(HL_X86_64)
void hl_pd_rescan_near_avx2(const double *boxes, size_t stride, size_t a, double r2, uint8_t *bits);
int64_t hl_pd_rescan_pass_avx2(const hl_pd_rescan *R, uint32_t i, const uint32_t *runs,
                               size_t n_runs, int64_t *w, uint32_t *buf, hl_pd_rescan_mode mode);
void hl_pd_rescan_near_avx512(const double *boxes, size_t stride, size_t a, double r2,
                              uint8_t *bits);
int64_t hl_pd_rescan_pass_avx512(const hl_pd_rescan *R, uint32_t i, const uint32_t *runs,
                                 size_t n_runs, int64_t *w, uint32_t *buf, hl_pd_rescan_mode mode);
#endif

#endif /* HOTLOOP_POISSON_RESCAN_H */
