/*
 * hotloop/poisson.h: Poisson disc sample sets by weighted sample elimination.
 *
 * Cem Yuksel, "Sample Elimination for Generating Poisson Disk Sample Sets", Computer Graphics
 * Forum 34(2) (Eurographics 2015), 25-32. From M candidate points keep N < M: every point i
 * carries the weight W_i = sum over its neighbours j (d_ij < d_max) of
 *     w(d_ij) = (1 - d_hat / d_max)^alpha,   d_hat = max(d_ij, d_min)   (weight limiting),
 * and the heaviest point is removed (its contributions subtracted from its neighbours) until N
 * remain. Progressive mode (as cyCodeBase's cySampleElim.h) then keeps halving the kept set,
 * multiplying d_max by 2^(1/k) per level (k: the intrinsic dimension), and orders the output so
 * that every prefix is itself a Poisson disc set.
 *
 * What this implementation guarantees, beyond the paper:
 *
 * - Exact, order-independent weights. Each contribution w(d) is a double computed by one fixed
 *   formula (below), then quantised to fixed point, q = trunc(w * 2^S) < 2^31, with
 *   S = 31 - e where w_max = w(d_min) = f * 2^e, f in [0.5, 1) (the largest contribution
 *   possible, so every level keeps 31 bits relative to it). Sums (int64) and the subtractions
 *   of the elimination are integer, hence exact: a point's weight is a pure function of the
 *   set of its surviving neighbours, whatever order they are visited in. The result therefore
 *   does not depend on the thread count, on the spatial order of the kd-tree, or on the order
 *   of neighbour lists, and a brute-force twin reproduces it exactly.
 * - Deterministic ties: the point removed next is the one with the largest weight; among equal
 *   weights, the one with the smallest index in the caller's input.
 * - A bounded alpha. Quantising relative to w_max truncates to 0 every contribution below one
 *   quantum, i.e. beyond x0 d_max with x0 = 1 - (1 - d_min / d_max) (f 2^31)^(-1 / alpha): a
 *   large alpha (steep weights) makes the outer part of every neighbourhood count for nothing,
 *   and the result degrades silently (docs/poisson.md: 2D, 1500 -> 300, the mean
 *   nearest-neighbour ratio is 1.40 against 1.54 with float64 weights at x0 = 0.59, 1.26 at
 *   alpha 32 without weight limiting, within about 0.03 for x0 >= 0.7). hl_poisson_eliminate
 *   refuses (HL_EINVAL) a call where, on any of its levels, a neighbour at
 *   HL_POISSON_MIN_REACH d_max (x0 <= 0.7) would contribute 0, or where the scale 2^S would not
 *   be a finite double (w_max below about 2^-992). alpha <= 15 always passes (x0 >= 0.75, see
 *   eliminate.c); without weight limiting the limit is about alpha 17.2, with it larger.
 * - The contribution formula: d from the domain's distance (below); d_hat = d < d_min ? d_min :
 *   d; t = 1 - d_hat / d_max; w = t^8 by three squarings when alpha == 8 (t2 = t*t, t4 = t2*t2,
 *   w = t4*t4), else pow(t, alpha); w = 0 when t <= 0. Neighbours are pairs with d < d_max
 *   (strict), i != j.
 *
 * Domains and their distances (points are rows of an m x dim row-major double array):
 * - HL_POISSON_BOX: Euclidean, d = sqrt(sum_k (b_k - a_k)^2), the sum in increasing k.
 * - HL_POISSON_PERIODIC: toroidal in the box [lo, hi): per coordinate delta = b_k - a_k,
 *   minus L_k if delta > L_k / 2, plus L_k if delta < -L_k / 2 (L_k = hi_k - lo_k); then as BOX.
 *   Points must lie in [lo, hi]; neighbours are found through images of the query shifted by
 *   +-L_k across the faces it is near (the ghost copies of cyCodeBase's tiling, done on the
 *   query side so no point is stored twice); each pair is counted once, at its minimal image.
 * - HL_POISSON_SPHERE: points on the unit sphere S^(dim-1) in R^dim; chord (Euclidean) distance.
 * - HL_POISSON_ROTATIONS: unit quaternions (dim 4), q and -q the same rotation; the distance is
 *   the chord to the nearer of b and -b, c = sqrt(min(sum (a-b)^2, sum (a+b)^2)) =
 *   2 sin(theta / 4) for the rotation angle theta between them (monotone in theta, so "angle <
 *   D" is "chord < 2 sin(D / 4)"; the Python layer converts its angles). Computed from the
 *   coordinates, no cancellation near 0 and no asin in the inner loops. Neighbours are searched
 *   around q and -q, so there is no seam at w = 0.
 *
 * d_max, d_min and the progressive factor are inputs (the Python layer derives them from the
 * domain's measure: d_max = 2 r_max, see hl_poisson_max_radius); the core does not guess them.
 *
 * Threads: neighbour lists and weights are computed in parallel (per point, so the result is
 * independent of the thread count); the elimination itself is sequential. Levels of at most
 * 256 points are eliminated on one thread from a dense matrix of all pairs, and rotation levels
 * whose points have many neighbours (on AVX-512 CPUs) recompute each removal's contributions
 * instead of caching lists (opt->method; the same result either way).
 * Cancellation through the monitor, polled by the work done (list entries, candidates), not by
 * points, so it is seen within milliseconds also where every point has thousands of neighbours
 * (duplicates); memory for neighbour lists is bounded by opt->memory_limit (HL_ENOMEM, never an
 * OOM kill).
 */
#ifndef HOTLOOP_POISSON_H
#define HOTLOOP_POISSON_H

#include "hotloop/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest dimension the core accepts (the Python API promises 1..8). */
#define HL_POISSON_MAX_DIM 16

/* The reach every level's quantised weights must keep, in units of d_max: a neighbour at this
 * distance contributes at least one quantum (the file comment, "A bounded alpha"). */
#define HL_POISSON_MIN_REACH 0.7

typedef enum hl_poisson_domain {
    HL_POISSON_BOX = 0,
    HL_POISSON_PERIODIC = 1,
    HL_POISSON_SPHERE = 2,
    HL_POISSON_ROTATIONS = 3,
} hl_poisson_domain;

/* How a level finds its points' neighbours (the same result either way; see hl_poisson_options). */
typedef enum hl_poisson_method {
    HL_POISSON_METHOD_AUTO = 0,   /* the faster one for the level, as estimated */
    HL_POISSON_METHOD_LISTS = 1,  /* cached neighbour lists */
    HL_POISSON_METHOD_RESCAN = 2, /* no lists: rescan each removed point's candidates; only for
                                     ROTATIONS with alpha 8 on AVX-512 CPUs, else the lists */
} hl_poisson_method;

typedef struct hl_poisson_options {
    hl_poisson_domain domain;
    const double *lo, *hi;     /* dim values each; used by PERIODIC only (may be NULL otherwise) */
    double d_max;              /* > 0, finite: the weight function's support radius */
    double d_min;              /* >= 0 and < d_max: weight limiting (0: off) */
    double alpha;              /* > 0, finite, and small enough ("A bounded alpha") */
    int progressive;           /* non-zero: order the output progressively */
    double progressive_factor; /* > 1: d_max multiplier per halving (2^(1/k)); progressive only */
    unsigned n_threads;        /* 0: all CPUs */
    size_t memory_limit;       /* bytes of neighbour lists allowed; 0: 3/4 of physical memory
                                  (no limit for a level of at most 256 points: its dense
                                  matrix, 256 KB at most, is within it on any machine) */
    hl_poisson_method method;  /* AUTO (the default); the others are for tests and benchmarks */
} hl_poisson_options;

/* Fills *opt with defaults: BOX, alpha 8, d_min 0, no progressive, all threads, auto memory.
 * d_max is set to 0 (invalid): the caller must set it. */
HL_API void hl_poisson_options_init(hl_poisson_options *opt);

/*
 * Weighted sample elimination: keeps n of the m points (rows of `points`, m x dim, row-major,
 * finite) and writes their row indices to out[0..n).
 * Non-progressive: the kept indices in increasing order. Progressive: level 0 keeps n of m;
 * level l >= 1 keeps floor(s/2) of the s points kept by level l-1 (while s >= 3) with
 * d_max * factor^l (d_min unchanged, as cyCodeBase); out lists the last level's survivors in
 * increasing index order, then the points removed by each level from the last to the first,
 * each level's in reverse order of removal. Every prefix of out is then a Poisson disc set.
 * Memory: about 8 bytes per neighbour pair and 60 per point beyond the input.
 * Requires 1 <= n < m < 2^32 - 1, 1 <= dim <= HL_POISSON_MAX_DIM (4 for ROTATIONS, >= 2 for
 * SPHERE), valid options, alpha small enough that every level keeps contributions out to
 * HL_POISSON_MIN_REACH d_max (the file comment; checked before any work, in O(log n)), and for
 * PERIODIC lo < hi, points within [lo, hi] and d_max <= min_k (hi_k - lo_k) / 2.
 * Errors: HL_EINVAL (bad argument; nothing written),
 * HL_ENOMEM (allocation or memory_limit), HL_ECANCELLED. Deterministic (see the file comment);
 * thread-safe for distinct outputs; `points` is not modified.
 */
HL_API hl_status hl_poisson_eliminate(const double *points, size_t m, size_t dim, size_t n,
                                      const hl_poisson_options *opt, int64_t *out, hl_monitor *mon);

/*
 * The maximal Poisson disc radius of n points in a domain of intrinsic dimension k and measure
 * `measure` (area, volume, ...), as Yuksel 2015, section 4 (densest packings):
 * k = 2: sqrt(A / (2 sqrt(3) n)); k = 3: cbrt(V / (4 sqrt(2) n)); other k:
 * (measure / (n * V_k))^(1/k) with V_k the volume of the unit k-ball. Returns NaN for k < 1,
 * n == 0 or measure <= 0. Pure.
 */
HL_API double hl_poisson_max_radius(int k, double measure, size_t n);

/*
 * The measure of a domain that needs no bounds, which hl_poisson_max_radius takes: SPHERE, the
 * surface of the unit sphere S^(dim-1) in R^dim, 2 pi^(dim/2) / Gamma(dim/2), for 2 <= dim <=
 * HL_POISSON_MAX_DIM (intrinsic dimension dim - 1); ROTATIONS (dim 4), the volume of SO(3) in
 * the rotation-angle metric, 8 pi^2 (intrinsic dimension 3). NaN otherwise. Pure.
 */
HL_API double hl_poisson_measure(hl_poisson_domain domain, size_t dim);

/*
 * The options' d_max and d_min for eliminating m points to n with maximal radius r_max in the
 * domain's own metric: d_max = 2 r_max and, with weight limiting, d_min = d_max beta
 * (1 - (n/m)^gamma) (Yuksel 2015, eq. 7), else 0. For ROTATIONS r_max is a rotation angle and
 * both are returned as quaternion chords, 2 sin(angle / 4) with the angle capped at 2 pi (the
 * distance the core measures); when both saturate, d_min is 0. Pure; no checks (the caller
 * passes 0 < n < m and a finite r_max > 0).
 */
HL_API void hl_poisson_level_radii(hl_poisson_domain domain, double r_max, size_t m, size_t n,
                                   double beta, double gamma, int weight_limiting, double *d_max,
                                   double *d_min);

/*
 * Nearest-neighbour distance of every point (rows of `points`, m x dim) to the others, in the
 * domain's distance (see the file comment; opt->domain, lo/hi for PERIODIC, n_threads; the
 * other options are ignored). out[i] = min over j != i of d(i, j) (0 for duplicates).
 * `r_guess` > 0 is the search radius to start from (it doubles until a neighbour is found).
 * Requires m >= 2. Errors: HL_EINVAL, HL_ENOMEM, HL_ECANCELLED. Thread-count independent.
 */
HL_API hl_status hl_poisson_nn_distances(const double *points, size_t m, size_t dim,
                                         const hl_poisson_options *opt, double r_guess, double *out,
                                         hl_monitor *mon);

/*
 * Seeded uniform candidates: m points written to out (m x dim, row-major).
 * BOX / PERIODIC: lo_k + (hi_k - lo_k) * u, u uniform in [0, 1) (53 bits), lo < hi finite.
 * SPHERE / ROTATIONS: a vector of dim standard normals (ziggurat), normalised (Muller 1959),
 * redrawn in the (probability ~0) case of a norm below 1e-150; ROTATIONS requires dim 4 and
 * gives uniformly distributed rotations (Haar measure) as unit quaternions.
 * Point i is drawn from stream floor(i / 4096) of `seed` (hotloop/rng.h), so the output depends
 * on (seed, m, dim, domain, bounds) only, never on threads. Errors: HL_EINVAL, HL_ENOMEM,
 * HL_ECANCELLED.
 */
HL_API hl_status hl_poisson_candidates(uint64_t seed, size_t m, size_t dim,
                                       hl_poisson_domain domain, const double *lo, const double *hi,
                                       unsigned n_threads, double *out, hl_monitor *mon);

#ifdef __cplusplus
}
#endif
#endif /* HOTLOOP_POISSON_H */
