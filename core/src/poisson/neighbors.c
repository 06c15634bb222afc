/* neighbors.c: the domain-aware neighbour search and the cached lists (see neighbors.h). */
#include "neighbors.h"

#include <stdlib.h>
#include <string.h>

#include "hotloop/parallel.h"

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
    /* Periodic: every combination of per-coordinate shifts in {0, +1, -1} that x needs. */
    int opts[HL_POISSON_MAX_DIM][3];
    int n_opts[HL_POISSON_MAX_DIM];
    for (size_t k = 0; k < dim; k++) {
        n_opts[k] = 0;
        opts[k][n_opts[k]++] = 0;
        if (x[k] - mt->lo[k] < reach) {
            opts[k][n_opts[k]++] = 1;
        }
        if (mt->hi[k] - x[k] < reach) {
            opts[k][n_opts[k]++] = -1;
        }
    }
    int idx[HL_POISSON_MAX_DIM] = {0};
    double q[HL_POISSON_MAX_DIM];
    for (;;) {
        uint32_t code = 0, p3 = 1;
        for (size_t k = 0; k < dim; k++) {
            int s = opts[k][idx[k]];
            q[k] = s == 0 ? x[k] : x[k] + (double)s * mt->len[k];
            code += (uint32_t)(s + 1) * p3;
            p3 *= 3;
        }
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
        size_t k = 0;
        while (k < dim && ++idx[k] == n_opts[k]) {
            idx[k] = 0;
            k++;
        }
        if (k == dim) {
            break;
        }
    }
    return HL_OK;
}

typedef struct lists_ctx {
    const hl_kdtree *t;
    const hl_pd_metric *mt;
    const hl_pd_weight *wt;
    hl_pd_lists *L;
    double r2, reach;
    hl_u32vec *near, *groups; /* per worker: candidate leaves, and (start, code) per group */
    hl_u32vec *pend;          /* per worker: pending (next, id, q) entries, see point_list */
    uint32_t *pend_head;      /* per worker: HL_PD_CHUNK list heads into pend */
    atomic_size_t bytes;
    size_t limit;
    hl_monitor *mon;
} lists_ctx;

/* Grows a chunk's list for at least one more item, charging the growth to the shared memory
 * budget. */
static hl_status grow_charged(lists_ctx *cx, hl_u32vec *v) {
    size_t cap = v->cap ? v->cap * 2 : 256;
    size_t add = (cap - v->cap) * sizeof(uint32_t);
    size_t now = atomic_fetch_add_explicit(&cx->bytes, add, memory_order_relaxed) + add;
    if (now > cx->limit) {
        atomic_fetch_sub_explicit(&cx->bytes, add, memory_order_relaxed);
        return HL_ENOMEM;
    }
    uint32_t *p = realloc(v->data, cap * sizeof *p);
    if (p == NULL) {
        atomic_fetch_sub_explicit(&cx->bytes, add, memory_order_relaxed);
        return HL_ENOMEM;
    }
    v->data = p;
    v->cap = cap;
    return HL_OK;
}

/* Appends the entry (id, q) to a chunk's list. */
static inline hl_status push_entry(lists_ctx *cx, hl_u32vec *v, uint32_t id, uint32_t q) {
    if (v->len + 2 > v->cap && grow_charged(cx, v) != HL_OK) {
        return HL_ENOMEM;
    }
    v->data[v->len] = id;
    v->data[v->len + 1] = q;
    v->len += 2;
    return HL_OK;
}

#define HL_PEND_NONE UINT32_MAX /* end of a pending list (see point_list) */

/* Files (id, q) in the pending list of the chunk's point `local`. */
static inline hl_status file_pending(hl_u32vec *pend, uint32_t *head, size_t local, uint32_t id,
                                     uint32_t q) {
    if (pend->len + 3 > pend->cap) {
        size_t cap = pend->cap ? 2 * pend->cap : 768;
        uint32_t *p = realloc(pend->data, cap * sizeof *p);
        if (p == NULL) {
            return HL_ENOMEM;
        }
        pend->data = p;
        pend->cap = cap;
    }
    uint32_t e = (uint32_t)(pend->len / 3);
    if (e == HL_PEND_NONE) {
        return HL_ENOMEM;
    }
    pend->data[pend->len] = head[local];
    pend->data[pend->len + 1] = id;
    pend->data[pend->len + 2] = q;
    pend->len += 3;
    head[local] = e;
    return HL_OK;
}

/* Decodes a periodic image code into per-coordinate shifts -1, 0, +1. */
static void decode_shift(uint32_t code, size_t dim, int *shift) {
    for (size_t k = 0; k < dim; k++) {
        shift[k] = (int)(code % 3) - 1;
        code /= 3;
    }
}

/*
 * The candidate leaves of every point of a leaf, grouped by query image: one group for BOX and
 * SPHERE; x and -x for ROTATIONS (codes 0 and 1); for PERIODIC every combination of shifts
 * the leaf's box needs (code as hl_pd_dist). groups holds (start in near, code) pairs and a
 * final start.
 */
static hl_status leaf_groups(lists_ctx *cx, uint32_t leaf, hl_u32vec *near, hl_u32vec *groups) {
    const hl_kdtree *t = cx->t;
    const hl_pd_metric *mt = cx->mt;
    const size_t dim = t->dim;
    const double *blo = hl_kdtree_box(t, leaf), *bhi = blo + dim;
    near->len = groups->len = 0;
    hl_status st = HL_OK;
    if (mt->domain == HL_POISSON_PERIODIC) {
        int opts[HL_POISSON_MAX_DIM][3], n_opts[HL_POISSON_MAX_DIM], idx[HL_POISSON_MAX_DIM];
        for (size_t k = 0; k < dim; k++) {
            n_opts[k] = 0;
            idx[k] = 0;
            opts[k][n_opts[k]++] = 0;
            if (blo[k] - mt->lo[k] < cx->reach) {
                opts[k][n_opts[k]++] = 1;
            }
            if (mt->hi[k] - bhi[k] < cx->reach) {
                opts[k][n_opts[k]++] = -1;
            }
        }
        double qlo[HL_POISSON_MAX_DIM], qhi[HL_POISSON_MAX_DIM];
        for (;;) {
            uint32_t code = 0, p3 = 1;
            for (size_t k = 0; k < dim; k++) {
                int s = opts[k][idx[k]];
                qlo[k] = s == 0 ? blo[k] : blo[k] + (double)s * mt->len[k];
                qhi[k] = s == 0 ? bhi[k] : bhi[k] + (double)s * mt->len[k];
                code += (uint32_t)(s + 1) * p3;
                p3 *= 3;
            }
            if (hl_u32vec_push(groups, (uint32_t)near->len) != HL_OK ||
                hl_u32vec_push(groups, code) != HL_OK) {
                return HL_ENOMEM;
            }
            if ((st = hl_kdtree_leaves_near(t, qlo, qhi, cx->r2, near)) != HL_OK) {
                return st;
            }
            size_t k = 0;
            while (k < dim && ++idx[k] == n_opts[k]) {
                idx[k] = 0;
                k++;
            }
            if (k == dim) {
                break;
            }
        }
    } else {
        if (hl_u32vec_push(groups, 0) != HL_OK || hl_u32vec_push(groups, 0) != HL_OK) {
            return HL_ENOMEM;
        }
        if ((st = hl_kdtree_leaves_near(t, blo, bhi, cx->r2, near)) != HL_OK) {
            return st;
        }
        if (mt->domain == HL_POISSON_ROTATIONS) {
            double nlo[HL_POISSON_MAX_DIM], nhi[HL_POISSON_MAX_DIM];
            for (size_t k = 0; k < dim; k++) {
                nlo[k] = -bhi[k];
                nhi[k] = -blo[k];
            }
            if (hl_u32vec_push(groups, (uint32_t)near->len) != HL_OK ||
                hl_u32vec_push(groups, 1) != HL_OK) {
                return HL_ENOMEM;
            }
            if ((st = hl_kdtree_leaves_near(t, nlo, nhi, cx->r2, near)) != HL_OK) {
                return st;
            }
        }
    }
    return hl_u32vec_push(groups, (uint32_t)near->len);
}

/* The list and weight of point i from its leaf's candidate groups. */
/*
 * Each pair is evaluated once when both points lie in the chunk being built: when point i
 * finds a later point j of its chunk, it also files (i, q) in j's pending list, and j, when
 * its turn comes, takes its pending entries and skips the earlier points of the chunk. The
 * neighbour relation and the contributions are symmetric bit for bit (metric.h), so the lists
 * hold exactly the same entries, only in another order, which the integer sums do not see.
 */
static hl_status point_list(lists_ctx *cx, size_t i, size_t i0, size_t i1, const hl_u32vec *near,
                            const hl_u32vec *groups, hl_u32vec *out, hl_u32vec *pend,
                            uint32_t *head) {
    const hl_kdtree *t = cx->t;
    const hl_pd_metric *mt = cx->mt;
    const size_t dim = t->dim;
    const double r2 = cx->r2, d_max = cx->wt->d_max;
    const double *xi = t->coords + i * dim;
    const size_t n_groups = (groups->len - 1) / 2;
    const int euclid = mt->domain == HL_POISSON_BOX || mt->domain == HL_POISSON_SPHERE;
    int64_t w = 0;
    for (uint32_t e = head[i - i0]; e != HL_PEND_NONE; e = pend->data[3 * (size_t)e]) {
        uint32_t id = pend->data[3 * (size_t)e + 1], c = pend->data[3 * (size_t)e + 2];
        if (push_entry(cx, out, id, c) != HL_OK) {
            return HL_ENOMEM;
        }
        w += c;
    }
    for (size_t g = 0; g < n_groups; g++) {
        uint32_t g_begin = groups->data[2 * g], code = groups->data[2 * g + 1];
        uint32_t g_end = groups->data[2 * g + 2];
        double q[HL_POISSON_MAX_DIM];
        int shift[HL_POISSON_MAX_DIM];
        if (mt->domain == HL_POISSON_PERIODIC) {
            decode_shift(code, dim, shift);
            for (size_t k = 0; k < dim; k++) {
                q[k] = shift[k] == 0 ? xi[k] : xi[k] + (double)shift[k] * mt->len[k];
            }
        } else {
            for (size_t k = 0; k < dim; k++) {
                q[k] = code == 1 ? -xi[k] : xi[k];
            }
        }
        for (uint32_t e = g_begin; e < g_end; e++) {
            /* The leaf is near the query's leaf; skip it if it is not near this point. */
            const double *blo = hl_kdtree_box(t, near->data[e]), *bhi = blo + dim;
            double gap = 0.0;
            for (size_t k = 0; k < dim; k++) {
                /* max(lo - q, q - hi, 0), branch-free: the same value as the if-chain */
                double below = blo[k] - q[k], above = q[k] - bhi[k];
                double s = below > above ? below : above;
                s = s > 0.0 ? s : 0.0;
                gap += s * s;
            }
            if (gap >= r2) {
                continue;
            }
            const hl_kdnode *lf = &t->nodes[near->data[e]];
            for (uint32_t j = lf->begin; j < lf->end; j++) {
                if (j >= i0 && j <= i) {
                    continue; /* itself, or an earlier point of the chunk: already pending */
                }
                const double *xj = t->coords + (size_t)j * dim;
                double s = hl_kd_sqdist(q, xj, dim);
                if (!(s < r2)) {
                    continue;
                }
                if (euclid) {
                    /* BOX and SPHERE: the query is x_i itself and sum (x_i - x_j)^2 is
                     * bitwise the metric's sum (x_j - x_i)^2, so reuse it. */
                    double d = sqrt(s);
                    if (d < d_max) {
                        uint32_t c = hl_pd_quant(cx->wt, d);
                        if (push_entry(cx, out, j, c) != HL_OK ||
                            (j >= i0 && j < i1 &&
                             file_pending(pend, head, j - i0, (uint32_t)i, c) != HL_OK)) {
                            return HL_ENOMEM;
                        }
                        w += c;
                    }
                    continue;
                }
                /* ROTATIONS: a hit of -x that x hits too is the same pair (radius >= pi). */
                if (code == 1 && mt->domain == HL_POISSON_ROTATIONS &&
                    hl_kd_sqdist(xi, xj, dim) < r2) {
                    continue;
                }
                int32_t pair_code = 0;
                double d = hl_pd_dist(mt, xi, xj, &pair_code);
                if (mt->domain == HL_POISSON_PERIODIC && (uint32_t)pair_code != code) {
                    continue; /* the pair belongs to another image */
                }
                if (d < d_max) {
                    uint32_t c = hl_pd_quant(cx->wt, d);
                    if (push_entry(cx, out, j, c) != HL_OK ||
                        (j >= i0 && j < i1 &&
                         file_pending(pend, head, j - i0, (uint32_t)i, c) != HL_OK)) {
                        return HL_ENOMEM;
                    }
                    w += c;
                }
            }
        }
    }
    if (out->len > UINT32_MAX) {
        return HL_EOVERFLOW;
    }
    cx->L->end[i] = (uint32_t)out->len;
    cx->L->w[i] = w;
    return HL_OK;
}

static void shrink(lists_ctx *cx, hl_u32vec *v) {
    if (v->cap > v->len && v->len > 0) {
        uint32_t *shrunk = realloc(v->data, v->len * sizeof(uint32_t));
        if (shrunk != NULL) {
            atomic_fetch_sub_explicit(&cx->bytes, (v->cap - v->len) * sizeof(uint32_t),
                                      memory_order_relaxed);
            v->data = shrunk;
            v->cap = v->len;
        }
    }
}

static hl_status lists_range(void *p, size_t cbegin, size_t cend, unsigned worker) {
    lists_ctx *cx = p;
    const hl_kdtree *t = cx->t;
    const size_t m = t->m;
    hl_u32vec *near = &cx->near[worker], *groups = &cx->groups[worker];
    hl_u32vec *pend = &cx->pend[worker];
    uint32_t *head = cx->pend_head + (size_t)worker * HL_PD_CHUNK;
    for (size_t c = cbegin; c < cend; c++) {
        hl_u32vec *out = &cx->L->chunk[c];
        size_t i0 = c * HL_PD_CHUNK, i1 = (c + 1) * HL_PD_CHUNK < m ? (c + 1) * HL_PD_CHUNK : m;
        pend->len = 0;
        for (size_t k = 0; k < HL_PD_CHUNK; k++) {
            head[k] = HL_PEND_NONE;
        }
        /* The first leaf that ends after i0 (leaves tile [0, m) in order). */
        size_t lo = 0, hi = t->n_leaves;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (t->nodes[t->leaves[mid]].end <= i0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (size_t l = lo; l < t->n_leaves && t->nodes[t->leaves[l]].begin < i1; l++) {
            const hl_kdnode *lf = &t->nodes[t->leaves[l]];
            hl_status st = leaf_groups(cx, t->leaves[l], near, groups);
            if (st != HL_OK) {
                return st;
            }
            size_t a = lf->begin > i0 ? lf->begin : i0, b = lf->end < i1 ? lf->end : i1;
            for (size_t i = a; i < b; i++) {
                if ((st = point_list(cx, i, i0, i1, near, groups, out, pend, head)) != HL_OK) {
                    return st;
                }
            }
        }
        /* Give back the doubling slack: the lists live through the whole elimination. */
        shrink(cx, out);
        hl_monitor_add(cx->mon, i1 - i0);
    }
    return HL_OK;
}

void hl_pd_lists_free(hl_pd_lists *L) {
    if (L->chunk != NULL) {
        for (size_t c = 0; c < L->n_chunks; c++) {
            hl_u32vec_free(&L->chunk[c]);
        }
    }
    free(L->chunk);
    free(L->end);
    free(L->w);
    memset(L, 0, sizeof *L);
}

hl_status hl_pd_lists_build(hl_pd_lists *L, const hl_kdtree *t, const hl_pd_metric *mt,
                            const hl_pd_weight *wt, unsigned n_threads, size_t limit,
                            hl_monitor *mon) {
    memset(L, 0, sizeof *L);
    const size_t m = t->m;
    L->m = m;
    L->n_chunks = m / HL_PD_CHUNK + (m % HL_PD_CHUNK != 0);
    L->chunk = hl_calloc_array(L->n_chunks, sizeof(hl_u32vec));
    L->end = hl_alloc_array(m, sizeof(uint32_t));
    L->w = hl_alloc_array(m, sizeof(int64_t));
    unsigned workers = hl_parallel_threads(L->n_chunks, 1, n_threads);
    lists_ctx cx = {.t = t, .mt = mt, .wt = wt, .L = L, .limit = limit, .mon = mon};
    cx.near = hl_calloc_array(workers, sizeof(hl_u32vec));
    cx.groups = hl_calloc_array(workers, sizeof(hl_u32vec));
    cx.pend = hl_calloc_array(workers, sizeof(hl_u32vec));
    cx.pend_head = hl_alloc_array(workers, HL_PD_CHUNK * sizeof(uint32_t));
    hl_status st = HL_ENOMEM;
    if (L->chunk && L->end && L->w && cx.near && cx.groups && cx.pend && cx.pend_head) {
        double r = hl_pd_tree_radius(mt, wt->d_max);
        cx.r2 = r * r;
        cx.reach = r;
        atomic_init(&cx.bytes, 0);
        /* (Levels of up to 256 points never get here: eliminate.c's dense path.) */
        st = hl_parallel_for(L->n_chunks, 1, n_threads, lists_range, &cx, mon);
    }
    for (unsigned k = 0; k < workers; k++) {
        if (cx.near != NULL) {
            hl_u32vec_free(&cx.near[k]);
        }
        if (cx.groups != NULL) {
            hl_u32vec_free(&cx.groups[k]);
        }
        if (cx.pend != NULL) {
            hl_u32vec_free(&cx.pend[k]);
        }
    }
    free(cx.near);
    free(cx.groups);
    free(cx.pend);
    free(cx.pend_head);
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
