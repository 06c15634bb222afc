/* rescan.c: elimination passes without neighbour lists (see rescan.h): the choice of method,
 * the columns and candidate runs, the starting weights and the portable pass. */
#include "rescan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hotloop/parallel.h"
#include "neighbors.h"

/* The fraction of SO(3) (rotations, uniform measure) within chord c of a rotation: the chord
 * 2 sin(theta / 4) is an angle theta, and the rotations within angle theta of one fill
 * (theta - sin theta) / pi of the group (the angle of a uniform rotation has density
 * (1 - cos theta) / pi on [0, pi]). */
static double rotation_ball_fraction(double chord) {
    double s = chord / 2.0;
    if (!(s < 0.7071067811865476)) { /* theta >= pi: the whole group */
        return 1.0;
    }
    double theta = 4.0 * asin(s);
    return (theta - sin(theta)) / 3.141592653589793;
}

int hl_pd_rescan_suits(const hl_pd_metric *mt, const hl_pd_weight *wt, size_t m,
                       hl_simd_level level) {
    hl_simd_level have = hl_cpu_resolve_level(level);
    if (mt->domain != HL_POISSON_ROTATIONS || mt->dim != 4 || !wt->alpha8 || have < HL_SIMD_AVX2) {
        return 0;
    }
    size_t max_points =
        have == HL_SIMD_AVX512 ? HL_PD_RESCAN_MAX_POINTS : HL_PD_RESCAN_MAX_POINTS_AVX2;
    return m == 0 || (m <= max_points && (double)(m - 1) * rotation_ball_fraction(wt->d_max) >=
                                             HL_PD_RESCAN_MIN_NEIGHBOURS);
}

/*
 * The smallest distance from which every contribution is 0: hl_pd_quant(d) is 0 for all
 * d >= d_zero, and positive just below it. The weight truncated to 31 bits vanishes a little
 * inside d_max (at 8000 -> 200, from 0.977 d_max on), and pairs beyond that need no exact
 * evaluation: skipping them changes no weight. The rounded evaluation is monotone in d (a
 * division, a subtraction from 1, squarings and a scaling, each rounded monotonically), so a
 * bisection over the doubles in [d_min, d_max] finds it.
 */
double hl_pd_rescan_zero_distance(const hl_pd_weight *wt) {
    double lo = wt->d_min, hi = wt->d_max; /* quant(lo) > 0 (it is about 2^30), quant(hi) == 0 */
    while (nextafter(lo, hi) < hi) {
        /* midpoint in the ordering of the doubles (both are >= 0) */
        uint64_t a, b;
        memcpy(&a, &lo, sizeof a);
        memcpy(&b, &hi, sizeof b);
        uint64_t c = a + (b - a) / 2;
        double mid;
        memcpy(&mid, &c, sizeof mid);
        if (mid <= lo || mid >= hi) {
            break;
        }
        if (hl_pd_quant(wt, mid) == 0) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    return hi;
}

/*
 * The filter's bound. The vector passes round every coordinate to an integer at scale Q = 2^14
 * (hl_pd_rescan_pair: error below 1 in any rounding mode), compute D = sum_k a'_k b'_k exactly
 * in 32-bit integers and skip a pair when |D| <= bound. With a'_k = Q a_k + e_k, |e_k| < 1:
 * |D - Q^2 (a . b)| <= Q (sum |a_k| + sum |b_k|) + 4 <= 4 Q sqrt(n_max) + 4, since sum |a_k|
 * <= 2 |a| in four coordinates. A pair contributes when hl_pd_dist's d = fl(sqrt(s)) < d_zero,
 * which needs s < d_zero^2 (rounding is monotone and d_zero a double), where s =
 * min(fl(sum (a - b)^2), fl(sum (a + b)^2)) in double (u = 2^-53) is at least g (1 - u)^6 (a
 * rounded difference, a square and three additions of non-negative terms) and g =
 * min(|a - b|^2, |a + b|^2) = |a|^2 + |b|^2 - 2 |a . b| exactly. So a contributing pair has
 * 2 |a . b| > 2 n_min - d_zero^2 (1 + 7u) and
 *   |D| > Q^2 (n_min - d_zero^2 (1 + 7u) / 2) - 4 Q sqrt(n_max) - 4.
 * The bound below is that minus 64 (more than the rounding of its own evaluation and of n_min
 * and n_max, whose relative errors are below 2^-50), so no contributing pair is ever skipped.
 * The allowance for the integers' error lets through 0.46% more pairs than contribute (at
 * 8000 -> 200: 213.8 against 212.8 a point, of 1442 candidates). -1 (every pair passes) when that
 * is not positive: the passes then rely on their check of w[j] for removed points, whose words are
 * 0.
 */
static int32_t rescan_bound(double d_zero, double n_min, double n_max) {
    const double q = HL_PD_RESCAN_SCALE, slack = 1.0 + 0x1p-50;
    double x = q * q * (n_min / slack - d_zero * d_zero * slack / 2.0) -
               4.0 * q * sqrt(n_max * slack) - 4.0 - 64.0;
    return x > 0.0 ? (int32_t)x : -1; /* x < 2^29 (n_min <= 2) */
}

void hl_pd_rescan_near_scalar(const double *boxes, size_t stride, size_t a, double r2,
                              uint8_t *bits) {
    for (size_t b0 = 0; b0 < stride; b0 += 8) {
        unsigned near = 0;
        for (size_t l = 0; l < 8; l++) {
            double sp = 0.0, sn = 0.0;
            for (size_t k = 0; k < 4; k++) {
                const double *lo = boxes + k * stride, *hi = boxes + (4 + k) * stride;
                double blo = lo[b0 + l], bhi = hi[b0 + l];
                double dp = fmax(fmax(blo - hi[a], lo[a] - bhi), 0.0);
                double dn = fmax(fmax(blo - -lo[a], -hi[a] - bhi), 0.0);
                sp += dp * dp;
                sn += dn * dn;
            }
            near |= (unsigned)(sp < r2 || sn < r2) << l;
        }
        bits[b0 / 8] = (uint8_t)near;
    }
}

/* The leaves' neighbourhoods are found by testing every pair of leaf boxes, 8 at a time (about
 * 6 operations a pair). Tree searches visit a good part of the tree when neighbourhoods are as
 * large as the rescan's, and took 7.2 ms for the 512 leaves of 8000 points against 1.1 ms;
 * the rescan runs on at most 65536 points (rescan.h), where the sweep stays a small part (at
 * 64000 points with AVX2: 33 ms of a 209 ms level, the lists taking 398 ms). */
typedef struct runs_ctx {
    const hl_kdtree *t;
    double r2;
    const double *boxes; /* the leaves' boxes by column (leaf_boxes) */
    size_t box_stride;
    hl_simd_level level;
    hl_u32vec *per_leaf; /* each leaf's runs, before they are joined */
    uint8_t **bits;      /* per worker: box_stride / 8 bytes of near leaves */
} runs_ctx;

/* Appends the points of leaf lf to the runs `out`, joined to the last run if it ends there. */
static hl_status add_leaf(hl_u32vec *out, const hl_kdnode *lf) {
    if (out->len > 0 && out->data[out->len - 1] == lf->begin) {
        out->data[out->len - 1] = lf->end;
        return HL_OK;
    }
    if (hl_u32vec_push(out, lf->begin) != HL_OK || hl_u32vec_push(out, lf->end) != HL_OK) {
        return HL_ENOMEM;
    }
    return HL_OK;
}

/* The candidate runs of leaves [lbegin, lend): the leaves near each one's box or its negation
 * (kd order), consecutive leaves joined into one run. */
static hl_status leaf_runs_range(void *p, size_t lbegin, size_t lend, unsigned worker) {
    runs_ctx *cx = p;
    const hl_kdtree *t = cx->t;
    uint8_t *bits = cx->bits[worker];
    for (size_t l = lbegin; l < lend; l++) {
        hl_u32vec *out = &cx->per_leaf[l];
#if defined(HL_X86_64)
        if (cx->level == HL_SIMD_AVX512) {
            hl_pd_rescan_near_avx512(cx->boxes, cx->box_stride, l, cx->r2, bits);
        } else if (cx->level == HL_SIMD_AVX2) {
            hl_pd_rescan_near_avx2(cx->boxes, cx->box_stride, l, cx->r2, bits);
        } else
#endif
        {
            hl_pd_rescan_near_scalar(cx->boxes, cx->box_stride, l, cx->r2, bits);
        }
        for (size_t b = 0; b < cx->box_stride / 8; b++) {
            for (unsigned v = bits[b]; v != 0; v &= v - 1) {
                if (add_leaf(out, &t->nodes[t->leaves[8 * b + (size_t)__builtin_ctz(v)]]) !=
                    HL_OK) {
                    return HL_ENOMEM;
                }
            }
        }
    }
    return HL_OK;
}

/* The leaves' boxes by column for the sweep, padded to whole vectors of 8 with
 * boxes at 1e300 (far from every query, with no overflow to infinity). NULL on failure. */
static double *leaf_boxes(const hl_kdtree *t, size_t *stride) {
    const size_t n_leaves = t->n_leaves;
    *stride = (n_leaves + 7) / 8 * 8;
    double *boxes = hl_alloc_array(*stride, 8 * sizeof(double));
    if (boxes == NULL) {
        return NULL;
    }
    for (size_t l = 0; l < *stride; l++) {
        const double *box = l < n_leaves ? hl_kdtree_box(t, t->leaves[l]) : NULL;
        for (size_t k = 0; k < 8; k++) {
            boxes[k * *stride + l] = box != NULL ? box[k] : 1e300;
        }
    }
    return boxes;
}

void hl_pd_rescan_free(hl_pd_rescan *R) {
    free(R->qa);
    free(R->qb);
    free(R->rows);
    free(R->live);
    free(R->pos_at);
    free(R->slot_of);
    free(R->rank);
    free(R->leaf_of);
    free(R->run_at);
    free(R->buf);
    hl_u32vec_free(&R->runs);
    memset(R, 0, sizeof *R);
}

/* Leaves per chunk of the parallel loops (their costs vary with where they are). */
#define HL_PD_RESCAN_GRAIN 8

hl_status hl_pd_rescan_init(hl_pd_rescan *R, const hl_kdtree *t, const hl_pd_weight *wt,
                            size_t limit, hl_simd_level level, unsigned n_threads,
                            hl_monitor *mon) {
    memset(R, 0, sizeof *R);
    const size_t m = t->m, n_leaves = t->n_leaves;
    if (t->dim != 4) {
        return HL_EINVAL;
    }
    R->t = t;
    R->mt.domain = HL_POISSON_ROTATIONS;
    R->mt.dim = 4;
    R->wt = *wt;
    R->m = m;
    R->level = hl_cpu_resolve_level(level);
    if (m > limit / 72) { /* the slot arrays, ordinals and weights: about 70 bytes a point */
        return HL_ENOMEM;
    }
    double n_min = INFINITY, n_max = 0.0;
    for (size_t j = 0; j < m; j++) {
        const double *x = t->coords + 4 * j;
        double n2 = x[0] * x[0] + x[1] * x[1] + x[2] * x[2] + x[3] * x[3];
        if (!(n2 <= 2.0)) { /* also NaN */
            return HL_EINVAL;
        }
        n_min = n2 < n_min ? n2 : n_min;
        n_max = n2 > n_max ? n2 : n_max;
    }
    R->stride = m + 16;
    R->qa = hl_calloc_array(R->stride, sizeof(int32_t));
    R->qb = hl_calloc_array(R->stride, sizeof(int32_t));
    R->rows = hl_alloc_array(R->stride, 4 * sizeof(double));
    R->live = hl_calloc_array(R->stride, 1);
    R->pos_at = hl_calloc_array(R->stride, sizeof(uint32_t));
    R->slot_of = hl_alloc_array(m, sizeof(uint32_t));
    R->rank = hl_alloc_array(m + 1, sizeof(uint32_t));
    R->leaf_of = hl_alloc_array(m, sizeof(uint32_t));
    R->run_at = hl_alloc_array(n_leaves + 1, sizeof(uint32_t));
    if (R->qa == NULL || R->qb == NULL || R->rows == NULL || R->live == NULL || R->pos_at == NULL ||
        R->slot_of == NULL || R->rank == NULL || R->leaf_of == NULL || R->run_at == NULL) {
        hl_pd_rescan_free(R);
        return HL_ENOMEM;
    }
    memcpy(R->rows, t->coords, m * 4 * sizeof(double));
    for (size_t j = 0; j < m; j++) {
        const double *x = t->coords + 4 * j;
        R->qa[j] = hl_pd_rescan_pair(x[0], x[1]);
        R->qb[j] = hl_pd_rescan_pair(x[2], x[3]);
        R->live[j] = 1;
        R->pos_at[j] = R->slot_of[j] = (uint32_t)j;
    }
    R->bound_q = rescan_bound(hl_pd_rescan_zero_distance(wt), n_min, n_max);
    R->n_slots = R->n_live = m;
    for (size_t l = 0; l < n_leaves; l++) {
        const hl_kdnode *lf = &t->nodes[t->leaves[l]];
        for (uint32_t j = lf->begin; j < lf->end; j++) {
            R->leaf_of[j] = (uint32_t)l;
        }
    }
    unsigned workers = hl_parallel_threads(n_leaves, HL_PD_RESCAN_GRAIN, n_threads);
    double r = hl_pd_tree_radius(&R->mt, wt->d_max); /* the lists' search radius */
    runs_ctx cx = {.t = t, .r2 = r * r, .level = R->level};
    double *boxes = leaf_boxes(t, &cx.box_stride);
    cx.boxes = boxes;
    cx.per_leaf = hl_calloc_array(n_leaves, sizeof(hl_u32vec));
    cx.bits = hl_calloc_array(workers, sizeof(uint8_t *));
    int ready = boxes != NULL && cx.per_leaf != NULL && cx.bits != NULL;
    for (unsigned k = 0; ready && k < workers; k++) {
        ready = (cx.bits[k] = hl_alloc_array(cx.box_stride / 8, 1)) != NULL;
    }
    hl_status st = HL_ENOMEM;
    if (ready) {
        st = hl_parallel_for(n_leaves, HL_PD_RESCAN_GRAIN, n_threads, leaf_runs_range, &cx, mon);
    }
    size_t total = 0;
    for (size_t l = 0; st == HL_OK && l < n_leaves; l++) {
        total += cx.per_leaf[l].len;
    }
    if (st == HL_OK && (total >= UINT32_MAX || total > limit / 8)) {
        st = HL_ENOMEM;
    }
    if (st == HL_OK) {
        R->runs.data = hl_alloc_array(total > 0 ? total : 1, sizeof(uint32_t));
        R->runs.cap = total;
        st = R->runs.data != NULL ? HL_OK : HL_ENOMEM;
    }
    for (size_t l = 0; st == HL_OK && l < n_leaves; l++) {
        R->run_at[l] = (uint32_t)(R->runs.len / 2);
        memcpy(R->runs.data + R->runs.len, cx.per_leaf[l].data,
               cx.per_leaf[l].len * sizeof(uint32_t));
        R->runs.len += cx.per_leaf[l].len;
    }
    if (st == HL_OK) {
        R->run_at[n_leaves] = (uint32_t)(R->runs.len / 2);
        for (size_t l = 0; l < n_leaves; l++) {
            size_t c = 0;
            for (uint32_t u = R->run_at[l]; u < R->run_at[l + 1]; u++) {
                c += R->runs.data[2 * u + 1] - R->runs.data[2 * u];
            }
            R->max_cands = c > R->max_cands ? c : R->max_cands;
        }
        R->buf = hl_alloc_array(R->max_cands + 16, sizeof(uint32_t));
        st = R->buf != NULL ? HL_OK : HL_ENOMEM;
    }
    for (size_t l = 0; cx.per_leaf != NULL && l < n_leaves; l++) {
        hl_u32vec_free(&cx.per_leaf[l]);
    }
    for (unsigned k = 0; cx.bits != NULL && k < workers; k++) {
        free(cx.bits[k]);
    }
    free(cx.bits);
    free(cx.per_leaf);
    free(boxes);
    if (st != HL_OK) {
        hl_pd_rescan_free(R);
    }
    return st;
}

/* Point i's pass on the variant R->level. */
static inline int64_t rescan_pass(const hl_pd_rescan *R, uint32_t i, int64_t *w, uint32_t *buf,
                                  hl_pd_rescan_mode mode) {
    uint32_t l = R->leaf_of[i];
    const uint32_t *runs = R->runs.data + 2 * (size_t)R->run_at[l];
    size_t n_runs = R->run_at[l + 1] - R->run_at[l];
#if defined(HL_X86_64)
    if (R->level == HL_SIMD_AVX512) {
        return hl_pd_rescan_pass_avx512(R, i, runs, n_runs, w, buf, mode);
    }
    if (R->level == HL_SIMD_AVX2) {
        return hl_pd_rescan_pass_avx2(R, i, runs, n_runs, w, buf, mode);
    }
#endif
    return hl_pd_rescan_pass_scalar(R, i, runs, n_runs, w, buf, mode);
}

typedef struct weights_ctx {
    const hl_pd_rescan *R;
    int64_t **acc;  /* per worker: its partial sums, m each (allocated on first use) */
    uint32_t **buf; /* per worker: pass scratch, max_cands + 16 */
} weights_ctx;

static hl_status weights_range(void *p, size_t lbegin, size_t lend, unsigned worker) {
    weights_ctx *cx = p;
    const hl_pd_rescan *R = cx->R;
    const hl_kdtree *t = R->t;
    if (cx->acc[worker] == NULL) {
        cx->acc[worker] = hl_calloc_array(R->m, sizeof(int64_t));
        cx->buf[worker] = hl_alloc_array(R->max_cands + 16, sizeof(uint32_t));
        if (cx->acc[worker] == NULL || cx->buf[worker] == NULL) {
            return HL_ENOMEM;
        }
    }
    int64_t *acc = cx->acc[worker];
    uint32_t *buf = cx->buf[worker];
    for (size_t l = lbegin; l < lend; l++) {
        const hl_kdnode *lf = &t->nodes[t->leaves[l]];
        for (uint32_t i = lf->begin; i < lf->end; i++) {
            acc[i] += rescan_pass(R, i, acc, buf, HL_PD_RESCAN_ADD);
        }
    }
    return HL_OK;
}

hl_status hl_pd_rescan_weights(const hl_pd_rescan *R, int64_t *w, unsigned n_threads,
                               hl_monitor *mon) {
    const size_t m = R->m, n_leaves = R->t->n_leaves;
    unsigned workers = hl_parallel_threads(n_leaves, HL_PD_RESCAN_GRAIN, n_threads);
    weights_ctx cx = {.R = R,
                      .acc = hl_calloc_array(workers, sizeof(int64_t *)),
                      .buf = hl_calloc_array(workers, sizeof(uint32_t *))};
    if (cx.acc == NULL || cx.buf == NULL) {
        free(cx.acc);
        free(cx.buf);
        return HL_ENOMEM;
    }
    /* Which worker adds which pair varies from run to run; the integer sums do not. */
    hl_status st =
        hl_parallel_for(n_leaves, HL_PD_RESCAN_GRAIN, n_threads, weights_range, &cx, mon);
    if (st == HL_OK) {
        memset(w, 0, m * sizeof(int64_t));
        for (unsigned k = 0; k < workers; k++) {
            const int64_t *acc = cx.acc[k];
            for (size_t j = 0; acc != NULL && j < m; j++) {
                w[j] += acc[j];
            }
        }
    }
    for (unsigned k = 0; k < workers; k++) {
        free(cx.acc[k]);
        free(cx.buf[k]);
    }
    free(cx.acc);
    free(cx.buf);
    return st;
}

/* Drops the dead slots: the live ones move down in order (filter words, rows, pos_at,
 * slot_of), and every run [b, e) becomes the live slots it held, empty runs dropped. O(slots +
 * runs); done when half the slots are dead, so O(m) over a level. */
static void compact(hl_pd_rescan *R) {
    const size_t n = R->n_slots;
    uint32_t *rank = R->rank, k = 0;
    for (size_t s = 0; s < n; s++) {
        rank[s] = k;
        if (R->live[s]) {
            R->qa[k] = R->qa[s];
            R->qb[k] = R->qb[s];
            memcpy(R->rows + 4 * (size_t)k, R->rows + 4 * s, 4 * sizeof(double));
            R->pos_at[k] = R->pos_at[s];
            R->slot_of[R->pos_at[k]] = k;
            R->live[k++] = 1;
        }
    }
    rank[n] = k;
    memset(R->live + k, 0, n - k); /* the lanes past the slots are never live */
    memset(R->qa + k, 0, (n - k) * sizeof(int32_t));
    memset(R->qb + k, 0, (n - k) * sizeof(int32_t));
    uint32_t *runs = R->runs.data, out = 0;
    const size_t n_leaves = R->t->n_leaves;
    for (size_t l = 0; l < n_leaves; l++) {
        uint32_t from = R->run_at[l], to = R->run_at[l + 1], first = out;
        for (uint32_t u = from; u < to; u++) {
            uint32_t b = rank[runs[2 * u]], e = rank[runs[2 * u + 1]];
            if (b == e) {
                continue;
            }
            if (out > first && runs[2 * out - 1] == b) {
                runs[2 * out - 1] = e;
            } else {
                runs[2 * out] = b;
                runs[2 * out + 1] = e;
                out++;
            }
        }
        R->run_at[l] = first;
    }
    R->run_at[n_leaves] = out;
    R->runs.len = 2 * (size_t)out;
    R->n_slots = k;
}

/* Below this many slots a compaction saves less than it costs. */
#define HL_PD_RESCAN_COMPACT_MIN 256

void hl_pd_rescan_remove(hl_pd_rescan *R, uint32_t i, int64_t *w) {
    const uint32_t si = R->slot_of[i];
    R->live[si] = 0;
    R->qa[si] = R->qb[si] = 0; /* D = 0: the filter skips it (bound_q >= 0) */
    R->n_live--;
    (void)rescan_pass(R, i, w, R->buf, HL_PD_RESCAN_SUB);
    if (2 * R->n_live <= R->n_slots && R->n_slots >= HL_PD_RESCAN_COMPACT_MIN) {
        compact(R);
    }
}

int64_t hl_pd_rescan_pass_scalar(const hl_pd_rescan *R, uint32_t i, const uint32_t *runs,
                                 size_t n_runs, int64_t *w, uint32_t *buf, hl_pd_rescan_mode mode) {
    (void)buf;
    const double *coords = R->t->coords, *xi = coords + 4 * (size_t)i;
    const double d_max = R->wt.d_max;
    const uint32_t si = R->slot_of[i];
    int64_t sum = 0;
    for (size_t r = 0; r < n_runs; r++) {
        uint32_t b = runs[2 * r], e = runs[2 * r + 1];
        if (mode == HL_PD_RESCAN_ADD) {
            if (e <= si + 1) {
                continue;
            }
            b = b > si + 1 ? b : si + 1;
        }
        for (uint32_t s = b; s < e; s++) {
            uint32_t j = R->pos_at[s];
            if (mode == HL_PD_RESCAN_SUB && (j == i || w[j] < 0)) {
                continue;
            }
            double d = hl_pd_dist(&R->mt, xi, coords + 4 * (size_t)j, NULL);
            if (d < d_max) {
                int64_t c = hl_pd_quant(&R->wt, d);
                w[j] += mode == HL_PD_RESCAN_ADD ? c : -c;
                sum += c;
            }
        }
    }
    return sum;
}
