/* neighbors.c: the domain-aware neighbour search and the cached lists (see neighbors.h). */
#include "neighbors.h"

#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#endif

#include "hotloop/cpu.h"
#include "hotloop/parallel.h"
#include "scan.h"

/* PERIODIC: the images of the box [blo, bhi] (a point: blo == bhi) that a search within
 * `reach` needs: every combination of per-coordinate shifts in {0, +1, -1} where the box is
 * that close to a face, visited in one fixed order (images_shift, images_next). */
typedef struct pd_images {
    int opts[HL_POISSON_MAX_DIM][3], n_opts[HL_POISSON_MAX_DIM], idx[HL_POISSON_MAX_DIM];
} pd_images;

static void images_init(pd_images *im, const hl_pd_metric *mt, const double *blo, const double *bhi,
                        double reach) {
    for (size_t k = 0; k < mt->dim; k++) {
        im->n_opts[k] = 0;
        im->idx[k] = 0;
        im->opts[k][im->n_opts[k]++] = 0;
        if (blo[k] - mt->lo[k] < reach) {
            im->opts[k][im->n_opts[k]++] = 1;
        }
        if (mt->hi[k] - bhi[k] < reach) {
            im->opts[k][im->n_opts[k]++] = -1;
        }
    }
}

/* The current image of [blo, bhi] into [qlo, qhi]; returns its code sum_k (shift_k + 1) 3^k. */
static uint32_t images_shift(const pd_images *im, const hl_pd_metric *mt, const double *blo,
                             const double *bhi, double *qlo, double *qhi) {
    uint32_t code = 0, p3 = 1;
    for (size_t k = 0; k < mt->dim; k++) {
        int s = im->opts[k][im->idx[k]];
        qlo[k] = s == 0 ? blo[k] : blo[k] + (double)s * mt->len[k];
        qhi[k] = s == 0 ? bhi[k] : bhi[k] + (double)s * mt->len[k];
        code += (uint32_t)(s + 1) * p3;
        p3 *= 3;
    }
    return code;
}

/* Moves to the next image; 0 once every image was visited. */
static int images_next(pd_images *im, size_t dim) {
    size_t k = 0;
    while (k < dim && ++im->idx[k] == im->n_opts[k]) {
        im->idx[k] = 0;
        k++;
    }
    return k < dim;
}

double hl_pd_tree_radius(const hl_pd_metric *mt, double radius) {
    if (mt->domain == HL_POISSON_ROTATIONS) {
        /* Chords to the nearer of b and -b never exceed sqrt(2): beyond, every pair is in. */
        if (radius >= 1.41421356) {
            return 3.0;
        }
        return radius * (1.0 + 1e-7) + 1e-12;
    }
    double slack = 1e-12;
    if (mt->domain == HL_POISSON_PERIODIC) {
        /* Shifted queries x + len are rounded at the scale of the coordinates. */
        for (size_t k = 0; k < mt->dim; k++) {
            double a = fabs(mt->lo[k]) + fabs(mt->hi[k]) + mt->len[k];
            slack = a * 1e-12 > slack ? a * 1e-12 : slack;
        }
    }
    return radius * (1.0 + 1e-7) + slack;
}

hl_status hl_pd_query(const hl_kdtree *t, const hl_pd_metric *mt, const double *x, double r2,
                      double reach, hl_u32vec *cand, hl_u32vec *codes) {
    const size_t dim = mt->dim;
    if (mt->domain == HL_POISSON_ROTATIONS) {
        hl_status st = hl_kdtree_ball(t, x, r2, cand);
        if (st != HL_OK) {
            return st;
        }
        double neg[HL_POISSON_MAX_DIM];
        for (size_t k = 0; k < dim; k++) {
            neg[k] = -x[k];
        }
        size_t first = cand->len;
        st = hl_kdtree_ball(t, neg, r2, cand);
        if (st != HL_OK) {
            return st;
        }
        /* Drop hits of -x that x hit too (possible only when the radius reaches pi). */
        size_t keep = first;
        for (size_t h = first; h < cand->len; h++) {
            uint32_t r = cand->data[h];
            if (!(hl_kd_sqdist(x, t->coords + (size_t)r * dim, dim) < r2)) {
                cand->data[keep++] = r;
            }
        }
        cand->len = keep;
        return HL_OK;
    }
    if (mt->domain != HL_POISSON_PERIODIC) {
        return hl_kdtree_ball(t, x, r2, cand);
    }
    /* Periodic: every image of x that the radius needs. */
    pd_images im;
    images_init(&im, mt, x, x, reach);
    double q[HL_POISSON_MAX_DIM], q_hi[HL_POISSON_MAX_DIM];
    do {
        uint32_t code = images_shift(&im, mt, x, x, q, q_hi);
        size_t before = cand->len;
        hl_status st = hl_kdtree_ball(t, q, r2, cand);
        if (st != HL_OK) {
            return st;
        }
        for (size_t h = before; h < cand->len; h++) {
            if (hl_u32vec_push(codes, code) != HL_OK) {
                return HL_ENOMEM;
            }
        }
    } while (images_next(&im, dim));
    return HL_OK;
}

/*
 * The list builder works per region of HL_PD_REGION chunks (HL_PD_REGION * HL_PD_CHUNK points
 * in kd order), one worker per region, so the lists do not depend on the thread count. Within a
 * region every pair of its points is evaluated once, by the earlier point, and its entry is
 * written for both; a pair with a point outside the region is evaluated by each side's region.
 * The points of a kd leaf share one search for the leaves near the leaf's box; each point then
 * scans the contiguous coordinates of those leaves with a branch-free squared-distance filter
 * (8 points at a time with AVX-512 in 2D and for rotations, see scan_avx512.c; two at a time
 * with SSE2 in 2D otherwise), takes square roots and weights for the hits only, in
 * batches (hl_pd_sqrt_n, hl_pd_quant_n), and appends them to its "own" entries. When the region
 * is done, each chunk gets one exact array (lists_arena); point i's list is the entries of the
 * earlier points of the region that found i, in their order, then its own entries. Contributions
 * are symmetric bit for bit (metric.h), so an entry written for the later point of a pair is the
 * one it would compute itself; integer sums do not see the order of a list.
 */
typedef struct lists_work {
    hl_u32vec near, groups; /* the current leaf's candidate leaves, by query group */
    hl_u32vec runs;         /* below HL_PD_CHECK_DIM: near as (begin, end) runs of points */
    uint32_t *hj;           /* one point's hits: kd positions, */
    double *hs;             /* squared distances (then distances), */
    uint32_t *hc;           /* quantised contributions; */
    size_t hcap;            /* room for hcap of each */
    hl_u32vec own;          /* the region's own entries (neighbour, contribution), by point */
    size_t *own_end;        /* per region point: end of its own entries in `own` */
    uint32_t *n_mirror;     /* per region point: entries it gets from earlier points */
    uint32_t **next;        /* per region point: where its next entry goes */
    uint32_t *stamp;        /* ROTATIONS: per node, the last leaf search that listed it */
    uint32_t n_stamp;       /* searches so far (stamps start at 0, so the first is 1) */
} lists_work;

typedef struct lists_ctx {
    const hl_kdtree *t;
    const hl_pd_metric *mt;
    const hl_pd_weight *wt;
    hl_pd_lists *L;
    double r2, reach;
    int avx512;               /* the scans use scan_avx512.c */
    double *cols;             /* ROTATIONS with avx512: the points by column (scan.h), or NULL */
    lists_work *work;         /* per worker */
    atomic_size_t arena_used; /* bytes handed out from L->arena */
    atomic_size_t bytes;      /* charged against `limit`: the lists and the workers' buffers */
    size_t limit;
    hl_monitor *mon;
    atomic_int stop; /* a worker failed or the monitor asked to stop: the others stop too */
} lists_ctx;

/* Charges `add` bytes against the call's memory limit; HL_ENOMEM (and nothing charged) when
 * they would pass it. */
static hl_status charge(lists_ctx *cx, size_t add) {
    size_t now = atomic_fetch_add_explicit(&cx->bytes, add, memory_order_relaxed) + add;
    if (now < add || now > cx->limit) {
        atomic_fetch_sub_explicit(&cx->bytes, add, memory_order_relaxed);
        return HL_ENOMEM;
    }
    return HL_OK;
}

/* The capacity of a buffer growing by doubling from `cap` (first `first`) to hold `need`
 * items of `size` bytes, or 0 when that many bytes would not fit a size_t. */
static size_t grown_cap(size_t cap, size_t first, size_t need, size_t size) {
    cap = cap ? cap : first;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            return 0;
        }
        cap *= 2;
    }
    return cap > SIZE_MAX / size ? 0 : cap;
}

/* The most address space one build reserves for its lists (lists_arena): 1 GiB holds the lists
 * of about 7 million 2D candidates at the default oversampling; more go to malloc. Half of it
 * where size_t is 32 bits. */
#define HL_PD_ARENA_MAX (SIZE_MAX > 0xFFFFFFFFu ? (size_t)1 << 30 : (size_t)1 << 29)

/* Decodes a periodic image code into per-coordinate shifts -1, 0, +1. */
static void decode_shift(uint32_t code, size_t dim, int *shift) {
    for (size_t k = 0; k < dim; k++) {
        shift[k] = (int)(code % 3) - 1;
        code /= 3;
    }
}

/* Appends the leaves near the box [blo, bhi] to `near`; with dedup (ROTATIONS) skips those the
 * current search already listed (wk->stamp), so x and -x never scan a leaf twice. */
static hl_status near_leaves(lists_ctx *cx, lists_work *wk, const double *blo, const double *bhi,
                             int dedup) {
    hl_u32vec *near = &wk->near;
    size_t before = near->len;
    hl_status st = hl_kdtree_leaves_near(cx->t, blo, bhi, cx->r2, near);
    if (st != HL_OK || !dedup) {
        return st;
    }
    size_t keep = before;
    for (size_t e = before; e < near->len; e++) {
        uint32_t id = near->data[e];
        if (wk->stamp[id] != wk->n_stamp) {
            wk->stamp[id] = wk->n_stamp;
            near->data[keep++] = id;
        }
    }
    near->len = keep;
    return HL_OK;
}

/*
 * The candidate leaves of every point of a leaf, grouped by query image: one group for BOX and
 * SPHERE; one for ROTATIONS too, the leaves near the box and near its negation (each once: the
 * scan evaluates the exact rotation metric, which covers x and -x at once); for PERIODIC every
 * combination of shifts the leaf's box needs (code as hl_pd_dist). groups holds (start in near,
 * code) pairs and a final start.
 */
static hl_status leaf_groups(lists_ctx *cx, lists_work *wk, uint32_t leaf) {
    const hl_kdtree *t = cx->t;
    const hl_pd_metric *mt = cx->mt;
    const size_t dim = t->dim;
    const double *blo = hl_kdtree_box(t, leaf), *bhi = blo + dim;
    hl_u32vec *near = &wk->near, *groups = &wk->groups;
    near->len = groups->len = 0;
    hl_status st = HL_OK;
    if (mt->domain == HL_POISSON_PERIODIC) {
        pd_images im;
        images_init(&im, mt, blo, bhi, cx->reach);
        double qlo[HL_POISSON_MAX_DIM], qhi[HL_POISSON_MAX_DIM];
        do {
            uint32_t code = images_shift(&im, mt, blo, bhi, qlo, qhi);
            if (hl_u32vec_push(groups, (uint32_t)near->len) != HL_OK ||
                hl_u32vec_push(groups, code) != HL_OK) {
                return HL_ENOMEM;
            }
            if ((st = near_leaves(cx, wk, qlo, qhi, 0)) != HL_OK) {
                return st;
            }
        } while (images_next(&im, dim));
    } else {
        if (hl_u32vec_push(groups, 0) != HL_OK || hl_u32vec_push(groups, 0) != HL_OK) {
            return HL_ENOMEM;
        }
        int rot = mt->domain == HL_POISSON_ROTATIONS;
        if (rot) {
            wk->n_stamp++;
        }
        if ((st = near_leaves(cx, wk, blo, bhi, rot)) != HL_OK) {
            return st;
        }
        if (rot) {
            double nlo[HL_POISSON_MAX_DIM], nhi[HL_POISSON_MAX_DIM];
            for (size_t k = 0; k < dim; k++) {
                nlo[k] = -bhi[k];
                nhi[k] = -blo[k];
            }
            if ((st = near_leaves(cx, wk, nlo, nhi, 1)) != HL_OK) {
                return st;
            }
        }
    }
    return hl_u32vec_push(groups, (uint32_t)near->len);
}

/* Squared gap between the point q and the box [lo, hi]: max(lo - q, q - hi, 0) per axis,
 * branch-free, the same value as an if-chain. Dimensions 2 to 4 are spelled out (the loop
 * with a constant bound unrolls). */
static inline double gap2_n(const double *q, const double *lo, const double *hi, size_t dim) {
    double gap = 0.0;
    for (size_t k = 0; k < dim; k++) {
        double below = lo[k] - q[k], above = q[k] - hi[k];
        double s = below > above ? below : above;
        s = s > 0.0 ? s : 0.0;
        gap += s * s;
    }
    return gap;
}

static inline double point_gap2(const double *q, const double *lo, const double *hi, size_t dim) {
    switch (dim) {
    case 2:
        return gap2_n(q, lo, hi, 2);
    case 3:
        return gap2_n(q, lo, hi, 3);
    case 4:
        return gap2_n(q, lo, hi, 4);
    default:
        return gap2_n(q, lo, hi, dim);
    }
}

/* Whether the box [lo, hi] may hold a point within squared distance r2 of q or of -q (the
 * gap of -q to the box is the gap of q to [-hi, -lo]). */
static inline int rot_near_n(const double *q, const double *lo, const double *hi, size_t dim,
                             double r2) {
    double gm = 0.0, gp = 0.0;
    for (size_t k = 0; k < dim; k++) {
        double below = lo[k] - q[k], above = q[k] - hi[k];
        double s = below > above ? below : above;
        s = s > 0.0 ? s : 0.0;
        gm += s * s;
        below = lo[k] + q[k];
        above = -q[k] - hi[k];
        s = below > above ? below : above;
        s = s > 0.0 ? s : 0.0;
        gp += s * s;
    }
    return gm < r2 || gp < r2;
}

/* Whether the box [lo, hi] may hold a point within squared distance r2 of q or, for ROTATIONS
 * (rot), of -q. */
static inline int box_is_near(const double *q, const double *lo, const double *hi, size_t dim,
                              int rot, double r2) {
    if (!rot) {
        return point_gap2(q, lo, hi, dim) < r2;
    }
    return dim == 4 ? rot_near_n(q, lo, hi, 4, r2) : rot_near_n(q, lo, hi, dim, r2);
}

/* Writes hit slot nh for point j at squared distance s and returns the next free slot: nh + 1
 * if s < r2, else nh (the slot is overwritten next); no branch to mispredict. */
static inline size_t keep1(uint32_t j, double s, double r2, uint32_t *hj, double *hs, size_t nh) {
    hj[nh] = j;
    hs[nh] = s;
    return nh + (size_t)(s < r2);
}

#if defined(__SSE2__)
/* keep1 for points j and j + 1, their squared distances in the lanes of s. */
static inline size_t keep2(uint32_t j, __m128d s, __m128d vr2, uint32_t *hj, double *hs,
                           size_t nh) {
    int hit = _mm_movemask_pd(_mm_cmplt_pd(s, vr2));
    hj[nh] = j;
    _mm_storel_pd(hs + nh, s);
    nh += (size_t)(hit & 1);
    hj[nh] = j + 1;
    _mm_storeh_pd(hs + nh, s);
    return nh + (size_t)(hit >> 1);
}
#endif

/*
 * Appends to (hj, hs) from nh on every j in [j0, j1) whose squared distance s to q is below r2:
 * hl_kd_sqdist(q, x_j) or, for ROTATIONS (rot), the rotation metric's min(|q - x_j|^2,
 * |q + x_j|^2) summed as hl_pd_dist sums it. Branch-free (every j is written, the count
 * advances on hits), so the unpredictable test costs no mispredictions; the caller provides
 * room for j1 - j0 + 8 more. With avx512, 2D and rotations take scan_avx512.c (the same hits
 * and values, scan.h). Returns the new count.
 */
static inline size_t scan_range(const lists_ctx *cx, const double *q, uint32_t j0, uint32_t j1,
                                uint32_t *hj, double *hs, size_t nh) {
    const double *coords = cx->t->coords, r2 = cx->r2;
    const size_t dim = cx->t->dim;
    const int rot = cx->mt->domain == HL_POISSON_ROTATIONS, avx512 = cx->avx512;
#if defined(HL_X86_64)
    if (cx->cols != NULL) {
        return hl_pd_scan_rot_avx512(cx->cols, cx->t->m, q, j0, j1, r2, hj, hs, nh);
    }
    if (avx512 && !rot && dim == 2) {
        return hl_pd_scan2_avx512(coords, q, j0, j1, r2, hj, hs, nh);
    }
#else
    (void)avx512;
#endif
    if (rot && dim == 4) {
        const double a0 = q[0], a1 = q[1], a2 = q[2], a3 = q[3];
        for (uint32_t j = j0; j < j1; j++) {
            const double *b = coords + 4 * (size_t)j;
            double m0 = a0 - b[0], m1 = a1 - b[1], m2 = a2 - b[2], m3 = a3 - b[3];
            double p0 = a0 + b[0], p1 = a1 + b[1], p2 = a2 + b[2], p3 = a3 + b[3];
            double sm = m0 * m0 + m1 * m1 + m2 * m2 + m3 * m3;
            double sp = p0 * p0 + p1 * p1 + p2 * p2 + p3 * p3;
            double s = sm < sp ? sm : sp;
            nh = keep1(j, s, r2, hj, hs, nh);
        }
        return nh;
    }
    if (rot) {
        for (uint32_t j = j0; j < j1; j++) {
            const double *b = coords + dim * (size_t)j;
            double sm = 0.0, sp = 0.0;
            for (size_t k = 0; k < dim; k++) {
                double dm = q[k] - b[k], dp = q[k] + b[k];
                sm += dm * dm;
                sp += dp * dp;
            }
            double s = sm < sp ? sm : sp;
            nh = keep1(j, s, r2, hj, hs, nh);
        }
        return nh;
    }
    if (dim == 2) {
        const double a0 = q[0], a1 = q[1];
        uint32_t j = j0;
#if defined(__SSE2__)
        /* Two points at a time: the same operations in the same order, per lane. */
        const __m128d va0 = _mm_set1_pd(a0), va1 = _mm_set1_pd(a1), vr2 = _mm_set1_pd(r2);
        for (; j + 2 <= j1; j += 2) {
            __m128d u = _mm_loadu_pd(coords + 2 * (size_t)j);
            __m128d v = _mm_loadu_pd(coords + 2 * (size_t)j + 2);
            __m128d d0 = _mm_sub_pd(va0, _mm_unpacklo_pd(u, v));
            __m128d d1 = _mm_sub_pd(va1, _mm_unpackhi_pd(u, v));
            __m128d s = _mm_add_pd(_mm_mul_pd(d0, d0), _mm_mul_pd(d1, d1));
            nh = keep2(j, s, vr2, hj, hs, nh);
        }
#endif
        for (; j < j1; j++) {
            const double *b = coords + 2 * (size_t)j;
            double d0 = a0 - b[0], d1 = a1 - b[1];
            double s = d0 * d0 + d1 * d1;
            nh = keep1(j, s, r2, hj, hs, nh);
        }
        return nh;
    }
    for (uint32_t j = j0; j < j1; j++) {
        nh = keep1(j, hl_kd_sqdist(q, coords + dim * (size_t)j, dim), r2, hj, hs, nh);
    }
    return nh;
}

/* hl_pd_weigh_avx512 where it exists (the caller checks cx->avx512 first). */
static inline size_t weigh_avx512(const hl_pd_weight *wt, uint32_t *hj, const double *hs,
                                  uint32_t *hc, size_t nh) {
#if defined(HL_X86_64)
    return hl_pd_weigh_avx512(wt, hj, hs, hc, nh);
#else
    (void)wt;
    (void)hj;
    (void)hs;
    (void)hc;
    return nh;
#endif
}

/* Makes room for `more` hits past nh in the worker's hit arrays (charged to the limit). */
static hl_status reserve_hits(lists_ctx *cx, lists_work *wk, size_t nh, size_t more) {
    if (nh + more <= wk->hcap) {
        return HL_OK;
    }
    const size_t slot = sizeof *wk->hj + sizeof *wk->hs + sizeof *wk->hc;
    size_t cap = grown_cap(wk->hcap, 256, nh + more, slot);
    if (cap == 0 || charge(cx, (cap - wk->hcap) * slot) != HL_OK) {
        return HL_ENOMEM;
    }
    uint32_t *hj = realloc(wk->hj, cap * sizeof *hj);
    if (hj != NULL) {
        wk->hj = hj;
    }
    double *hs = realloc(wk->hs, cap * sizeof *hs);
    if (hs != NULL) {
        wk->hs = hs;
    }
    uint32_t *hc = realloc(wk->hc, cap * sizeof *hc);
    if (hc != NULL) {
        wk->hc = hc;
    }
    if (hj == NULL || hs == NULL || hc == NULL) {
        return HL_ENOMEM;
    }
    wk->hcap = cap;
    return HL_OK;
}

/* From this size on a worker's own entries ask for huge pages (hl_advise_huge). */
#define HL_PD_HUGE_MIN ((size_t)32 << 20)

/* From this size on a chunk of lists outside the arena asks for huge pages: two of them. */
#define HL_PD_CHUNK_HUGE_MIN ((size_t)4 << 20)

/* Huge pages (hl_advise_huge) for large buffers, whose release is part of a Ctrl-C's answer.
 * Only inputs with thousands of neighbours a point have such buffers: a worker's own entries
 * from HL_PD_HUGE_MIN on (dense inputs, duplicates: a gigabyte and more of them a region), and
 * chunks of lists that do not fit the arena (lists_arena) from HL_PD_CHUNK_HUGE_MIN on (100000
 * points with 3600 neighbours each fill 120 chunks of 24 MB beside the arena). On the 100000
 * points, Ctrl-C at 0.5-3 s into a call was answered in 0.01-0.19 s with the chunks on 4 KiB
 * pages and 0.03-0.04 s (one 0.15 s, load average 2.5) on huge ones. */

/* Makes room for `more` own entries. A region's own entries live beside the lists until the
 * build ends (the buffer is kept for the worker's next region), so they are charged to the
 * limit like the lists. */
static hl_status reserve_own(lists_ctx *cx, lists_work *wk, size_t more) {
    hl_u32vec *v = &wk->own;
    if (v->len + 2 * more <= v->cap) {
        return HL_OK;
    }
    size_t cap = grown_cap(v->cap, 4096, v->len + 2 * more, sizeof *v->data);
    if (cap == 0 || charge(cx, (cap - v->cap) * sizeof *v->data) != HL_OK) {
        return HL_ENOMEM;
    }
    uint32_t *p = realloc(v->data, cap * sizeof *p);
    if (p == NULL) {
        return HL_ENOMEM;
    }
    v->data = p;
    v->cap = cap;
    hl_advise_huge(p, cap * sizeof *p, HL_PD_HUGE_MIN);
    return HL_OK;
}

/* From this dimension on, a point skips the candidate leaves whose box is out of its own reach
 * before scanning them; below, scanning the whole leaf is cheaper than the box test and its
 * unpredictable branch (measured: lists 5-15% faster in 2D, 3D and for rotations without it). */
#define HL_PD_CHECK_DIM 5

/*
 * Below HL_PD_CHECK_DIM, where every point scans all its leaf's candidate leaves: turns each
 * group's leaves into runs of points, one per stretch of leaves that are listed one after the
 * other and lie one after the other in kd order (siblings, mostly), and makes the group starts
 * count runs. A point then scans the same points in the same order with fewer calls and fewer
 * partly filled vectors.
 */
static hl_status leaf_runs(lists_ctx *cx, lists_work *wk) {
    const hl_kdnode *nodes = cx->t->nodes;
    const hl_u32vec *near = &wk->near;
    hl_u32vec *groups = &wk->groups, *runs = &wk->runs;
    const size_t n_groups = (groups->len - 1) / 2;
    runs->len = 0;
    for (size_t g = 0; g < n_groups; g++) {
        uint32_t g_begin = groups->data[2 * g], g_end = groups->data[2 * g + 2];
        groups->data[2 * g] = (uint32_t)(runs->len / 2);
        for (uint32_t e = g_begin; e < g_end; e++) {
            const hl_kdnode *lf = &nodes[near->data[e]];
            if (e > g_begin && runs->data[runs->len - 1] == lf->begin) {
                runs->data[runs->len - 1] = lf->end;
            } else if (hl_u32vec_push(runs, lf->begin) != HL_OK ||
                       hl_u32vec_push(runs, lf->end) != HL_OK) {
                return HL_ENOMEM;
            }
        }
    }
    groups->data[2 * n_groups] = (uint32_t)(runs->len / 2);
    return HL_OK;
}

/*
 * Finds point i's neighbours j outside [r0, i] (the earlier points of its region found i
 * already) among its leaf's candidate groups, appends them to i's own entries and counts the
 * entry each j of the region gets from i.
 */
static hl_status point_entries(lists_ctx *cx, lists_work *wk, size_t i, size_t r0, size_t r1) {
    const hl_kdtree *t = cx->t;
    const hl_pd_metric *mt = cx->mt;
    const size_t dim = t->dim;
    const double r2 = cx->r2, d_max = cx->wt->d_max;
    const double *xi = t->coords + i * dim;
    const hl_u32vec *near = &wk->near, *groups = &wk->groups;
    const size_t n_groups = (groups->len - 1) / 2;
    const int periodic = mt->domain == HL_POISSON_PERIODIC;
    const int rot = mt->domain == HL_POISSON_ROTATIONS;
    size_t nh = 0;
    for (size_t g = 0; g < n_groups; g++) {
        uint32_t g_begin = groups->data[2 * g], code = groups->data[2 * g + 1];
        uint32_t g_end = groups->data[2 * g + 2];
        double q[HL_POISSON_MAX_DIM];
        if (periodic) {
            int shift[HL_POISSON_MAX_DIM];
            decode_shift(code, dim, shift);
            for (size_t k = 0; k < dim; k++) {
                q[k] = shift[k] == 0 ? xi[k] : xi[k] + (double)shift[k] * mt->len[k];
            }
        } else {
            memcpy(q, xi, dim * sizeof(double));
        }
        size_t g_hits = nh;
        for (uint32_t e = g_begin; e < g_end; e++) {
            uint32_t begin, end;
            if (dim >= HL_PD_CHECK_DIM) {
                /* The leaf is near the query's leaf; skip it if it is not near this point. */
                const double *blo = hl_kdtree_box(t, near->data[e]), *bhi = blo + dim;
                if (!box_is_near(q, blo, bhi, dim, rot, r2)) {
                    continue;
                }
                begin = t->nodes[near->data[e]].begin;
                end = t->nodes[near->data[e]].end;
            } else {
                begin = wk->runs.data[2 * e];
                end = wk->runs.data[2 * e + 1];
            }
            /* (+ 8: the SIMD scans store whole vectors, see scan.h) */
            if (reserve_hits(cx, wk, nh, end - begin + 8) != HL_OK) {
                return HL_ENOMEM;
            }
            /* [begin, end) less [r0, i]: the points before the region, and those after i. */
            uint32_t a = begin, b = end < r0 ? end : (uint32_t)r0;
            if (a < b) {
                nh = scan_range(cx, q, a, b, wk->hj, wk->hs, nh);
            }
            a = begin > i + 1 ? begin : (uint32_t)(i + 1);
            if (a < end) {
                nh = scan_range(cx, q, a, end, wk->hj, wk->hs, nh);
            }
        }
        if (periodic) {
            /* The exact distance, and only through the pair's own minimal image. */
            size_t keep = g_hits;
            for (size_t h = g_hits; h < nh; h++) {
                int32_t pair_code = 0;
                uint32_t j = wk->hj[h];
                double d = hl_pd_dist(mt, xi, t->coords + (size_t)j * dim, &pair_code);
                if ((uint32_t)pair_code == code && d < d_max) {
                    wk->hj[keep] = j;
                    wk->hs[keep++] = d;
                }
            }
            nh = keep;
        }
    }
    if (!periodic && cx->avx512 && cx->wt->alpha8 && nh > 0) {
        /* BOX, SPHERE and ROTATIONS as below, 8 hits at a time (scan.h); nh > 0: the hit
         * arrays have the 8 spare slots of the last scan. */
        nh = weigh_avx512(cx->wt, wk->hj, wk->hs, wk->hc, nh);
    } else {
        if (!periodic) {
            /* BOX and SPHERE: the squared distance is bitwise hl_pd_dist's sum (x_j - x_i)^2;
             * ROTATIONS: the scan summed sm and sp as hl_pd_dist does. */
            hl_pd_sqrt_n(wk->hs, nh);
            size_t keep = 0;
            uint32_t *hj = wk->hj;
            double *hs = wk->hs;
            for (size_t h = 0; h < nh; h++) {
                uint32_t j = hj[h];
                double d = hs[h];
                hj[keep] = j;
                hs[keep] = d;
                keep += (size_t)(d < d_max);
            }
            nh = keep;
        }
        hl_pd_quant_n(cx->wt, wk->hs, wk->hc, nh);
    }
    if (reserve_own(cx, wk, nh) != HL_OK) {
        return HL_ENOMEM;
    }
    uint32_t *own = wk->own.data + wk->own.len, *n_mirror = wk->n_mirror;
    for (size_t h = 0; h < nh; h++) {
        uint32_t j = wk->hj[h];
        own[2 * h] = j;
        own[2 * h + 1] = wk->hc[h];
        if (j >= r0 && j < r1) {
            n_mirror[j - r0]++;
        }
    }
    wk->own.len += 2 * nh;
    wk->own_end[i - r0] = wk->own.len;
    return HL_OK;
}

/* Inside a region: worker 0 (the calling thread) asks the monitor, every worker sees whether
 * the build stopped (another worker failed or saw the cancellation, or the calling thread saw
 * it while waiting for the others: hl_parallel_for_stop sets the same flag). A region can take
 * far longer than the monitor's millisecond (one region is the whole level up to 8192 points,
 * and in a dense input, duplicates say, every point has thousands of neighbours or all of
 * them: 20000 points in one place make 400 million entries), so hl_parallel_for's poll between
 * regions is not enough: the regions poll between leaves, every HL_PD_POLL_WORK entry words
 * found, and every HL_PD_LAYOUT_WORK laid out. */
static hl_status lists_poll(lists_ctx *cx, unsigned worker) {
    if (worker == 0 && hl_monitor_poll(cx->mon) != HL_OK) {
        atomic_store_explicit(&cx->stop, 1, memory_order_relaxed);
        return HL_ECANCELLED;
    }
    return atomic_load_explicit(&cx->stop, memory_order_relaxed) ? HL_ECANCELLED : HL_OK;
}

/* Entry words (two an entry) found between polls inside a region: 64K entries, well under a
 * millisecond of writing them, and a poll (a clock read) is nothing beside that. */
#define HL_PD_POLL_WORK ((size_t)1 << 17)

/* Entry words laid out between polls (region_lists): far fewer than found, because a point's
 * mirror entries land in as many lists as it has later neighbours in the region, each write
 * likely a cache miss, and in a chunk's first writes a page fault (zeroing a fresh huge page;
 * chunks from HL_PD_PREFAULT_MIN on are faulted in beforehand, see prefault_chunk). A poll (a
 * clock read, some 25 ns) every 512 entries is at most a few percent of laying them out, when
 * all are cache hits (estimated; the build's speed was not measured after this change). */
#define HL_PD_LAYOUT_WORK ((size_t)1 << 10)

/* How many entries ahead region_lists prefetches the place of a mirror entry. */
#define HL_PD_MIRROR_AHEAD 8

/* Chunks of lists from this size on get their pages faulted in by prefault_chunk: at most a
 * few thousand entries a point (1024 points to a chunk). Uniform inputs stay far below it (2D:
 * about 30 entries a point; rotations at 8000 -> 200: about 230). */
#define HL_PD_PREFAULT_MIN ((size_t)8 << 20)

/* Touches every page of a large chunk's lists (`bytes` from p) in order, polling every 2 MiB.
 * In a dense input (duplicates) the first points of a region write their mirror entries into
 * every list of the region, so without this they fault in every page of its lists (1.3 GB for
 * 20000 duplicates, each fault zeroing a fresh huge page) within a few hundred entries: seconds
 * between two polls. Here the same faults come in order, one or two between polls; the layout
 * overwrites the zeros. */
static hl_status prefault_chunk(lists_ctx *cx, unsigned worker, void *p, size_t bytes) {
    volatile unsigned char *b = p;
    for (size_t off = 0; off < bytes; off += 4096) {
        if ((off & (((size_t)1 << 21) - 1)) == 0) {
            hl_status st = lists_poll(cx, worker);
            if (st != HL_OK) {
                return st;
            }
        }
        b[off] = 0;
    }
    b[bytes - 1] = 0;
    return HL_OK;
}

/*
 * Lays out the lists of the region's chunks, each one exact array (lists_arena): point i's list is
 * the entries of the earlier points of the region that found it, in their order, then its own
 * entries; sums the weights. Polls every HL_PD_LAYOUT_WORK entry words (lists_poll, as
 * `worker`).
 */
static hl_status region_lists(lists_ctx *cx, lists_work *wk, size_t r0, size_t r1,
                              unsigned worker) {
    hl_pd_lists *L = cx->L;
    const size_t *own_end = wk->own_end;
    const uint32_t *n_mirror = wk->n_mirror;
    uint32_t **next = wk->next;
    for (size_t c0 = r0; c0 < r1; c0 += HL_PD_CHUNK) {
        size_t c1 = c0 + HL_PD_CHUNK < r1 ? c0 + HL_PD_CHUNK : r1, run = 0;
        for (size_t i = c0; i < c1; i++) {
            size_t own_begin = i == r0 ? 0 : own_end[i - r0 - 1];
            run += 2 * (size_t)n_mirror[i - r0] + (own_end[i - r0] - own_begin);
            if (run > UINT32_MAX) {
                return HL_EOVERFLOW;
            }
            L->end[i] = (uint32_t)run;
            L->w[i] = 0;
        }
        size_t cap = run > 0 ? run : 2;
        size_t add = cap * sizeof(uint32_t);
        if (charge(cx, add) != HL_OK) {
            return HL_ENOMEM;
        }
        uint32_t *out = NULL;
        if (L->arena != NULL) {
            size_t take = (add + 63) & ~(size_t)63; /* chunks start on cache lines */
            size_t at = atomic_fetch_add_explicit(&cx->arena_used, take, memory_order_relaxed);
            out = at + take <= L->arena_len ? (uint32_t *)(void *)((char *)L->arena + at) : NULL;
        }
        size_t owned = 0; /* cap 0 marks a chunk in the arena (not freed on its own) */
        if (out == NULL) {
            out = malloc(add);
            owned = cap;
            if (out != NULL) {
                hl_advise_huge(out, add, HL_PD_CHUNK_HUGE_MIN);
            }
        }
        if (out == NULL) {
            atomic_fetch_sub_explicit(&cx->bytes, add, memory_order_relaxed);
            return HL_ENOMEM;
        }
        L->chunk[c0 / HL_PD_CHUNK] = (hl_u32vec){.data = out, .len = run, .cap = owned};
        if (add >= HL_PD_PREFAULT_MIN) {
            hl_status st = prefault_chunk(cx, worker, out, add);
            if (st != HL_OK) {
                return st; /* the chunk is recorded: freed with the lists */
            }
        }
        for (size_t i = c0; i < c1; i++) {
            next[i - r0] = out + (i == c0 ? 0 : L->end[i - 1]);
        }
    }
    const uint32_t *own = wk->own.data;
    int64_t *w = L->w;
    size_t left = HL_PD_LAYOUT_WORK; /* entry words until the next poll */
    for (size_t i = r0; i < r1; i++) {
        /* Every entry i gets from an earlier point is in place: its own entries go next. */
        const size_t own_stop = own_end[i - r0];
        uint32_t *dst = next[i - r0];
        int64_t wi = w[i];
        /* In pieces of at most `left` entry words, with a poll between: in a dense input one
         * point's list is the whole level (see HL_PD_LAYOUT_WORK). */
        for (size_t e0 = i == r0 ? 0 : own_end[i - r0 - 1]; e0 < own_stop;) {
            if (left == 0) {
                hl_status st = lists_poll(cx, worker);
                if (st != HL_OK) {
                    return st;
                }
                left = HL_PD_LAYOUT_WORK;
            }
            const size_t e1 = own_stop - e0 > left ? e0 + left : own_stop;
            left -= e1 - e0;
            for (size_t e = e0; e < e1; e += 2) {
                uint32_t j = own[e], c = own[e + 1];
                /* The mirror entries land in as many places as i has later neighbours, each
                 * likely out of cache: ask for the one HL_PD_MIRROR_AHEAD entries on early
                 * (the same j never comes twice in one list, so its place does not move
                 * before). */
                if (e + 2 * HL_PD_MIRROR_AHEAD < own_stop) {
                    uint32_t ja = own[e + 2 * HL_PD_MIRROR_AHEAD];
                    if (ja >= r0 && ja < r1) {
                        __builtin_prefetch(next[ja - r0], 1);
                    }
                }
                *dst++ = j;
                *dst++ = c;
                wi += c;
                if (j >= r0 && j < r1) {
                    uint32_t *mj = next[j - r0];
                    mj[0] = (uint32_t)i;
                    mj[1] = c;
                    next[j - r0] = mj + 2;
                    w[j] += c;
                }
            }
            e0 = e1;
        }
        w[i] = wi;
    }
    return HL_OK;
}

static hl_status lists_region(lists_ctx *cx, size_t u, unsigned worker) {
    const hl_kdtree *t = cx->t;
    const size_t m = t->m, region = HL_PD_REGION * HL_PD_CHUNK;
    lists_work *wk = &cx->work[worker];
    size_t r0 = u * region, r1 = r0 + region < m ? r0 + region : m;
    wk->own.len = 0;
    memset(wk->n_mirror, 0, (r1 - r0) * sizeof(uint32_t));
    /* The first leaf that ends after r0 (leaves tile [0, m) in order). */
    size_t lo = 0, hi = t->n_leaves;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->nodes[t->leaves[mid]].end <= r0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    size_t work = 0; /* entry words found since the last poll */
    for (size_t l = lo; l < t->n_leaves && t->nodes[t->leaves[l]].begin < r1; l++) {
        const hl_kdnode *lf = &t->nodes[t->leaves[l]];
        hl_status st = lists_poll(cx, worker);
        if (st != HL_OK) {
            return st;
        }
        st = leaf_groups(cx, wk, t->leaves[l]);
        if (st == HL_OK && t->dim < HL_PD_CHECK_DIM) {
            st = leaf_runs(cx, wk);
        }
        if (st != HL_OK) {
            return st;
        }
        size_t a = lf->begin > r0 ? lf->begin : r0, b = lf->end < r1 ? lf->end : r1;
        for (size_t i = a; i < b; i++) {
            size_t before = wk->own.len;
            if ((st = point_entries(cx, wk, i, r0, r1)) != HL_OK) {
                return st;
            }
            work += wk->own.len - before;
            if (work >= HL_PD_POLL_WORK) {
                work = 0;
                if ((st = lists_poll(cx, worker)) != HL_OK) {
                    return st;
                }
            }
        }
    }
    hl_status st = region_lists(cx, wk, r0, r1, worker);
    if (st != HL_OK) {
        return st;
    }
    hl_monitor_add(cx->mon, r1 - r0);
    return HL_OK;
}

static hl_status lists_range(void *p, size_t ubegin, size_t uend, unsigned worker) {
    lists_ctx *cx = p;
    for (size_t u = ubegin; u < uend; u++) {
        hl_status st = lists_region(cx, u, worker);
        if (st != HL_OK) {
            atomic_store_explicit(&cx->stop, 1, memory_order_relaxed);
            return st;
        }
    }
    return HL_OK;
}

void hl_pd_lists_free(hl_pd_lists *L) {
    if (L->chunk != NULL) {
        for (size_t c = 0; c < L->n_chunks; c++) {
            if (L->chunk[c].cap != 0) {
                hl_u32vec_free(&L->chunk[c]);
            }
        }
    }
#if defined(__linux__)
    if (L->arena != NULL) {
        (void)munmap(L->arena, L->arena_len);
    }
#endif
    free(L->chunk);
    free(L->end);
    free(L->w);
    memset(L, 0, sizeof *L);
}

static void work_free(lists_work *wk) {
    hl_u32vec_free(&wk->near);
    hl_u32vec_free(&wk->groups);
    hl_u32vec_free(&wk->runs);
    free(wk->hj);
    free(wk->hs);
    free(wk->hc);
    hl_u32vec_free(&wk->own);
    free(wk->own_end);
    free(wk->n_mirror);
    free(wk->next);
    free(wk->stamp);
}

#if defined(__linux__) && defined(MAP_NORESERVE)
/* Whether reserving address space the lists may never use is harmless here: not when the
 * process's address space is limited (ulimit -v, batch schedulers: the reservation would eat
 * it) nor under strict overcommit (vm.overcommit_memory = 2 ignores MAP_NORESERVE and would
 * charge the whole reservation at once). */
static int arena_harmless(void) {
    struct rlimit as;
    if (getrlimit(RLIMIT_AS, &as) != 0 || as.rlim_cur != RLIM_INFINITY) {
        return 0;
    }
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    if (f == NULL) {
        return 0;
    }
    int mode = fgetc(f);
    fclose(f);
    return mode == '0' || mode == '1';
}
#endif

/* Reserves address space for the lists (at most min(`limit`, HL_PD_ARENA_MAX) bytes; pages are
 * only backed when written) and asks for huge pages there: the lists are written once and then
 * read at random places by the elimination, where 4 KiB pages would cost a TLB miss per list
 * and a page fault per 4 KiB while writing. Chunks that do not fit (larger inputs), and all of
 * them without the reservation (not Linux, a limited address space, strict overcommit, or the
 * reservation refused), are a malloc each; the lists are the same. */
static void lists_arena(hl_pd_lists *L, size_t limit) {
#if defined(__linux__) && defined(MAP_NORESERVE)
    const size_t huge = (size_t)1 << 21;
    size_t len = limit < HL_PD_ARENA_MAX ? limit : HL_PD_ARENA_MAX;
    if (len < huge || !arena_harmless()) {
        return;
    }
    len &= ~(huge - 1);
    void *p =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return;
    }
#if defined(MADV_HUGEPAGE)
    (void)madvise(p, len, MADV_HUGEPAGE);
#endif
    L->arena = p;
    L->arena_len = len;
#else
    (void)L;
    (void)limit;
#endif
}

/* For the AVX-512 rotation scan: the points by column (scan.h), charged to the limit. Where
 * that scan is not used, cols stays NULL. */
static hl_status lists_cols(lists_ctx *cx) {
    const hl_kdtree *t = cx->t;
    cx->cols = NULL;
#if defined(HL_X86_64)
    if (!cx->avx512 || cx->mt->domain != HL_POISSON_ROTATIONS || t->dim != 4) {
        return HL_OK;
    }
    if (t->m > SIZE_MAX / (4 * sizeof(double)) || charge(cx, 4 * t->m * sizeof(double)) != HL_OK) {
        return HL_ENOMEM;
    }
    cx->cols = hl_alloc_array(4 * t->m, sizeof(double));
    if (cx->cols == NULL) {
        return HL_ENOMEM;
    }
    for (size_t j = 0; j < t->m; j++) {
        for (size_t k = 0; k < 4; k++) {
            cx->cols[k * t->m + j] = t->coords[4 * j + k];
        }
    }
#endif
    return HL_OK;
}

/* Points whose neighbours lists_fit counts. */
#define HL_PD_FIT_SAMPLES 512

/* Points a chunk of lists_count's loop (hl_parallel_for's grain). */
#define HL_PD_COUNT_GRAIN 64

/* The exact count (lists_count) for inputs whose sampled estimate is over this fraction of the
 * limit: only there can the sample's noise decide between refusing at once and building up to
 * the limit before failing. */
#define HL_PD_COUNT_FROM 0.5

typedef struct {
    const hl_kdtree *t;
    const hl_pd_metric *mt;
    double r2, reach, d_max;
    size_t max_entries;      /* the most entries (8 bytes each) whose lists fit the limit */
    hl_u32vec *cand, *codes; /* per worker */
    _Atomic size_t entries;  /* counted so far, by all workers */
    _Atomic size_t *own;     /* per region: its points' own entries (point_entries) */
    atomic_int stop;         /* set by hl_parallel_for_stop (cancellation) */
} count_ctx;

static hl_status count_range(void *p, size_t begin, size_t end, unsigned worker) {
    count_ctx *cx = p;
    const hl_kdtree *t = cx->t;
    const hl_pd_metric *mt = cx->mt;
    const size_t dim = mt->dim;
    const int periodic = mt->domain == HL_POISSON_PERIODIC;
    hl_u32vec *cand = &cx->cand[worker], *codes = &cx->codes[worker];
    const size_t region = HL_PD_REGION * HL_PD_CHUNK;
    for (size_t i = begin; i < end; i++) {
        if (atomic_load_explicit(&cx->stop, memory_order_relaxed)) {
            return HL_ECANCELLED; /* (a point can have 10^5 candidates: 0.1 ms or more) */
        }
        cand->len = 0;
        codes->len = 0;
        const double *xi = t->coords + i * dim;
        hl_status st = hl_pd_query(t, mt, xi, cx->r2, cx->reach, cand, codes);
        if (st != HL_OK) {
            return st;
        }
        size_t found = 0, own = 0;
        for (size_t h = 0; h < cand->len; h++) {
            const uint32_t j = cand->data[h];
            int32_t code = 0;
            const double d = hl_pd_dist(mt, xi, t->coords + (size_t)j * dim, &code);
            /* the build's entries: every other point within d_max, through its minimal image */
            const size_t hit = (size_t)(j != i && d < cx->d_max &&
                                        (!periodic || (uint32_t)code == codes->data[h]));
            found += hit;
            /* i's own entries: the pairs it finds itself (those with earlier points of its
             * region are found by them) */
            own += hit & (size_t)(j > i || j / region != i / region);
        }
        atomic_fetch_add_explicit(&cx->own[i / region], own, memory_order_relaxed);
        size_t now = atomic_fetch_add_explicit(&cx->entries, found, memory_order_relaxed) + found;
        if (now > cx->max_entries) {
            return HL_ENOMEM;
        }
    }
    return HL_OK;
}

/* Whether the build cannot fit `limit`, counted exactly on `n_threads`: HL_ENOMEM, before
 * any list is allocated, when the lists (8 bytes an entry: each point's neighbours within d_max)
 * exceed it (the count stops there), or the lists and the own entries of the largest region
 * (which a worker holds beside them, 8 bytes an entry, until the build ends) do. Both are less
 * than the build charges (its buffers grow by doubling), so an input that fits is never
 * refused. Costs a search and a distance a candidate, and allocates two candidate vectors a
 * worker and a counter a region. */
static hl_status lists_count(const hl_kdtree *t, const hl_pd_metric *mt, double r2, double reach,
                             double d_max, size_t limit, unsigned n_threads, hl_monitor *mon) {
    const unsigned workers = hl_parallel_threads(t->m, HL_PD_COUNT_GRAIN, n_threads);
    count_ctx cx = {
        .t = t, .mt = mt, .r2 = r2, .reach = reach, .d_max = d_max, .max_entries = limit / 8};
    const size_t region = HL_PD_REGION * HL_PD_CHUNK, n_regions = (t->m + region - 1) / region;
    cx.cand = hl_calloc_array(workers, sizeof(hl_u32vec));
    cx.codes = hl_calloc_array(workers, sizeof(hl_u32vec));
    void *own_block = hl_alloc_array(n_regions, sizeof(*cx.own)); /* (freed as itself) */
    cx.own = own_block;
    atomic_init(&cx.entries, 0);
    atomic_init(&cx.stop, 0);
    hl_status st = HL_ENOMEM;
    if (cx.cand != NULL && cx.codes != NULL && cx.own != NULL) {
        for (size_t r = 0; r < n_regions; r++) {
            atomic_init(&cx.own[r], 0);
        }
        st = hl_parallel_for_stop(t->m, HL_PD_COUNT_GRAIN, n_threads, count_range, &cx, mon,
                                  &cx.stop);
    }
    if (st == HL_OK) {
        size_t own = 0;
        for (size_t r = 0; r < n_regions; r++) {
            size_t k = atomic_load_explicit(&cx.own[r], memory_order_relaxed);
            own = k > own ? k : own;
        }
        size_t lists = atomic_load_explicit(&cx.entries, memory_order_relaxed);
        st = own > cx.max_entries - lists ? HL_ENOMEM : HL_OK; /* (lists <= max_entries) */
    }
    for (unsigned k = 0; k < workers && cx.cand != NULL && cx.codes != NULL; k++) {
        hl_u32vec_free(&cx.cand[k]);
        hl_u32vec_free(&cx.codes[k]);
    }
    free(cx.cand);
    free(cx.codes);
    free(own_block);
    return st;
}

/*
 * Whether the lists can fit `limit`, judged before any of them is allocated: the neighbours of
 * HL_PD_FIT_SAMPLES points spread evenly over the kd order (so over space, weighted by where the
 * points are) estimate the lists' 8 bytes an entry. HL_ENOMEM when the estimate is over twice
 * the limit. Duplicated or clustered points can have thousands of times the neighbours of
 * uniform ones, which the caller's up-front estimate (uniform points) cannot see; without this,
 * the build allocated up to the limit (3/4 of the machine by default) before failing. The
 * margin of 2 keeps sampling noise from refusing an input that fits (a refusal needs a
 * cluster the sample over-represents, which takes over 30 million points). Estimates between
 * HL_PD_COUNT_FROM and 2 times the limit are settled by the exact count (lists_count): a
 * cluster whose lists were 1.3-1.7 times the limit (70000 points in 1% of a periodic box)
 * used to build 17 GB of them over 55 s before failing. Polls `mon` between the queries (the
 * calling thread).
 */
static hl_status lists_fit(const hl_kdtree *t, const hl_pd_metric *mt, double r2, double reach,
                           double d_max, size_t limit, unsigned n_threads, hl_monitor *mon) {
    const size_t m = t->m, samples = m < HL_PD_FIT_SAMPLES ? m : HL_PD_FIT_SAMPLES;
    hl_u32vec cand = {0}, codes = {0};
    hl_status st = HL_OK;
    double found = 0.0;
    const double refuse = 2.0 * (double)limit;
    for (size_t s = 0; s < samples && st == HL_OK; s++) {
        const size_t r = (size_t)((double)s * (double)m / (double)samples);
        cand.len = 0;
        codes.len = 0;
        st = hl_pd_query(t, mt, t->coords + r * mt->dim, r2, reach, &cand, &codes);
        found += (double)cand.len;
        /* found / samples of the points so far: a lower bound of the final estimate */
        if (st == HL_OK && (double)m * (found / (double)samples) * 8.0 > refuse) {
            st = HL_ENOMEM;
        }
        if (st == HL_OK) {
            st = hl_monitor_poll(mon);
        }
    }
    hl_u32vec_free(&cand);
    hl_u32vec_free(&codes);
    if (st == HL_OK &&
        (double)m * (found / (double)samples) * 8.0 > HL_PD_COUNT_FROM * (double)limit) {
        st = lists_count(t, mt, r2, reach, d_max, limit, n_threads, mon);
    }
    return st;
}

hl_status hl_pd_lists_build(hl_pd_lists *L, const hl_kdtree *t, const hl_pd_metric *mt,
                            const hl_pd_weight *wt, unsigned n_threads, size_t limit,
                            hl_monitor *mon) {
    return hl_pd_lists_build_level(L, t, mt, wt, n_threads, limit, mon, HL_SIMD_AUTO);
}

hl_status hl_pd_lists_build_level(hl_pd_lists *L, const hl_kdtree *t, const hl_pd_metric *mt,
                                  const hl_pd_weight *wt, unsigned n_threads, size_t limit,
                                  hl_monitor *mon, hl_simd_level level) {
    memset(L, 0, sizeof *L);
    {
        const double r = hl_pd_tree_radius(mt, wt->d_max);
        const hl_status fit = lists_fit(t, mt, r * r, r, wt->d_max, limit, n_threads, mon);
        if (fit != HL_OK) {
            return fit;
        }
    }
    const size_t m = t->m;
    L->m = m;
    L->n_chunks = m / HL_PD_CHUNK + (m % HL_PD_CHUNK != 0);
    L->chunk = hl_calloc_array(L->n_chunks, sizeof(hl_u32vec));
    L->end = hl_alloc_array(m, sizeof(uint32_t));
    L->w = hl_alloc_array(m, sizeof(int64_t));
    const size_t region = HL_PD_REGION * HL_PD_CHUNK, n_regions = (m + region - 1) / region;
    const size_t region_pts = m < region ? m : region;
    unsigned workers = hl_parallel_threads(n_regions, 1, n_threads);
    lists_ctx cx = {.t = t, .mt = mt, .wt = wt, .L = L, .limit = limit, .mon = mon};
    cx.work = hl_calloc_array(workers, sizeof(lists_work));
    hl_status st = HL_ENOMEM;
    int ready = L->chunk && L->end && L->w && cx.work;
    for (unsigned k = 0; ready && k < workers; k++) {
        lists_work *wk = &cx.work[k];
        wk->own_end = hl_alloc_array(region_pts, sizeof(size_t));
        wk->n_mirror = hl_alloc_array(region_pts, sizeof(uint32_t));
        wk->next = hl_alloc_array(region_pts, sizeof(uint32_t *));
        ready = wk->own_end != NULL && wk->n_mirror != NULL && wk->next != NULL;
        if (ready && mt->domain == HL_POISSON_ROTATIONS) {
            wk->stamp = hl_calloc_array(t->n_nodes, sizeof(uint32_t));
            ready = wk->stamp != NULL;
        }
    }
    if (ready) {
        double r = hl_pd_tree_radius(mt, wt->d_max);
        cx.r2 = r * r;
        cx.reach = r;
        cx.avx512 = hl_cpu_resolve_level(level) == HL_SIMD_AVX512;
        atomic_init(&cx.bytes, 0);
        atomic_init(&cx.arena_used, 0);
        atomic_init(&cx.stop, 0);
        lists_arena(L, limit);
        st = lists_cols(&cx);
    }
    if (st == HL_OK) {
        /* (Levels of up to 256 points never get here: eliminate.c's dense path.) */
        /* _stop: a cancellation the calling thread sees while it waits for the other workers
         * reaches their regions through cx.stop (lists_poll). */
        st = hl_parallel_for_stop(n_regions, 1, n_threads, lists_range, &cx, mon, &cx.stop);
    }
    for (unsigned k = 0; cx.work != NULL && k < workers; k++) {
        work_free(&cx.work[k]);
    }
    free(cx.work);
    free(cx.cols);
    if (st != HL_OK) {
        hl_pd_lists_free(L);
        return st;
    }
    size_t prev = 0;
    for (size_t i = 0; i < m; i++) {
        size_t begin = (i % HL_PD_CHUNK) == 0 ? 0 : prev;
        size_t len = (L->end[i] - begin) / 2;
        L->max_len = len > L->max_len ? len : L->max_len;
        prev = L->end[i];
    }
    return HL_OK;
}
