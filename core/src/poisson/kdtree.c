/* kdtree.c: build, ball query and validation of the static kd-tree (see kdtree.h). */
#include "kdtree.h"

#include "hotloop/parallel.h"

#include <stdlib.h>
#include <string.h>

hl_status hl_u32vec_push(hl_u32vec *v, uint32_t x) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        uint32_t *p = realloc(v->data, cap * sizeof *p);
        if (p == NULL) {
            return HL_ENOMEM;
        }
        v->data = p;
        v->cap = cap;
    }
    v->data[v->len++] = x;
    return HL_OK;
}

void hl_u32vec_free(hl_u32vec *v) {
    free(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}

void hl_kdtree_free(hl_kdtree *t) {
    free(t->coords);
    free(t->perm);
    free(t->nodes);
    free(t->bbox);
    free(t->leaves);
    memset(t, 0, sizeof *t);
}

/* Swaps rows a and b of the working copy (and their perm entries). */
static inline void swap_rows(double *x, uint32_t *perm, size_t dim, size_t a, size_t b) {
    double *ra = x + a * dim, *rb = x + b * dim;
    for (size_t k = 0; k < dim; k++) {
        double tmp = ra[k];
        ra[k] = rb[k];
        rb[k] = tmp;
    }
    uint32_t tp = perm[a];
    perm[a] = perm[b];
    perm[b] = tp;
}

/* Rows classified per block in partition_rows (offsets fit an unsigned char). */
#define HL_KD_BLOCK 64

/*
 * Hoare's partition of rows [lo, hi) (at least 2) around p, the `axis` value of row lo:
 * returns s with rows [lo, s] <= p <= rows [s + 1, hi) and lo <= s < hi - 1. Values equal to p
 * are swapped from both sides, so duplicates split evenly. The bulk runs as BlockQuicksort
 * (Edelkamp and Weiss, ESA 2016): a block of rows from each end is classified first into
 * offset buffers without a branch, then the rows that must change sides are swapped in pairs,
 * so the unpredictable comparisons cost no mispredictions; the rest is a plain bounded Hoare
 * loop.
 */
static ptrdiff_t partition_rows(double *x, uint32_t *perm, size_t dim, size_t axis, ptrdiff_t lo,
                                ptrdiff_t hi) {
    const double p = x[(size_t)lo * dim + axis];
    ptrdiff_t l = lo + 1, r = hi - 1; /* rows [lo, l) <= p <= rows (r, hi); [l, r] unknown */
    unsigned char off_l[HL_KD_BLOCK], off_r[HL_KD_BLOCK];
    size_t n_l = 0, n_r = 0, s_l = 0, s_r = 0;
    while (r - l + 1 >= 2 * HL_KD_BLOCK) {
        if (n_l == 0) {
            s_l = 0;
            const double *v = x + (size_t)l * dim + axis;
            for (size_t b = 0; b < HL_KD_BLOCK; b++) {
                off_l[n_l] = (unsigned char)b;
                n_l += (size_t) !(v[b * dim] < p); /* >= p: must go right */
            }
        }
        if (n_r == 0) {
            s_r = 0;
            const double *v = x + (size_t)r * dim + axis;
            for (size_t b = 0; b < HL_KD_BLOCK; b++) {
                off_r[n_r] = (unsigned char)b;
                n_r += (size_t) !(p < *(v - b * dim)); /* <= p: must go left */
            }
        }
        size_t n = n_l < n_r ? n_l : n_r;
        for (size_t e = 0; e < n; e++) {
            swap_rows(x, perm, dim, (size_t)l + off_l[s_l + e], (size_t)r - off_r[s_r + e]);
        }
        n_l -= n;
        n_r -= n;
        s_l += n;
        s_r += n;
        /* A block is done once all its misplaced rows moved; a block still holding some stays
         * in [l, r] (the loop's bound keeps the two blocks apart, the rest is re-read below). */
        if (n_l == 0) {
            l += HL_KD_BLOCK;
        }
        if (n_r == 0) {
            r -= HL_KD_BLOCK;
        }
    }
    ptrdiff_t i = l, j = r;
    for (;;) {
        while (i <= j && x[(size_t)i * dim + axis] < p) {
            i++;
        }
        while (i <= j && x[(size_t)j * dim + axis] > p) {
            j--;
        }
        if (i >= j) {
            break;
        }
        swap_rows(x, perm, dim, (size_t)i, (size_t)j);
        i++;
        j--;
    }
    /* i == j + 1: rows [lo, j] <= p <= rows [i, hi); i == j: both scans stopped at row i,
     * which therefore equals p. */
    ptrdiff_t s = i == j ? i : j;
    if (s == hi - 1) {
        /* Every row is <= p, the pivot is a maximum: it closes the range. */
        swap_rows(x, perm, dim, (size_t)lo, (size_t)(hi - 1));
        s = hi - 2;
    }
    return s;
}

/*
 * Rearranges rows [lo, hi) so that row k holds the value of rank k - lo along `axis`, smaller
 * or equal values before it, larger or equal after (Hoare's FIND, CACM 1961). The pivot is the
 * median of the rows at the quartiles and the middle; after a split that leaves more than 15/16
 * of the range, the next pivot is a row at a pseudo-random position (a hash of the range), so
 * inputs whose order defeats the median of three (a maximum left at the front of a sorted run,
 * as a partition can leave it) still take expected linear time. Deterministic. Rows are moved
 * as wholes, so the partitioning streams through memory instead of chasing indices.
 */
static void select_rows(double *x, uint32_t *perm, size_t dim, size_t axis, ptrdiff_t lo,
                        ptrdiff_t hi, ptrdiff_t k) {
    int lopsided = 0;
    while (hi - lo > 1) {
        const ptrdiff_t n = hi - lo;
        ptrdiff_t med;
        if (lopsided) {
            uint64_t h =
                ((uint64_t)lo * 0x9E3779B97F4A7C15u) ^ ((uint64_t)hi + 0x632BE59BD9B4E019u);
            h ^= h >> 31;
            h *= 0xBF58476D1CE4E5B9u;
            h ^= h >> 29;
            med = lo + (ptrdiff_t)(h % (uint64_t)n);
        } else {
            ptrdiff_t i1 = lo + n / 4, i2 = lo + n / 2, i3 = hi - 1 - n / 4;
            double a = x[(size_t)i1 * dim + axis], b = x[(size_t)i2 * dim + axis],
                   c = x[(size_t)i3 * dim + axis];
            if (a < b) {
                med = b < c ? i2 : (a < c ? i3 : i1);
            } else {
                med = a < c ? i1 : (b < c ? i3 : i2);
            }
        }
        swap_rows(x, perm, dim, (size_t)lo, (size_t)med);
        ptrdiff_t s = partition_rows(x, perm, dim, axis, lo, hi);
        /* rows [lo, s] <= p <= rows [s + 1, hi), lo <= s < hi - 1 */
        lopsided = n >= 64 && (s - lo + 1 < n / 16 || hi - s - 1 < n / 16);
        if (k <= s) {
            hi = s + 1;
        } else {
            lo = s + 1;
        }
    }
}

/* Bounding box of rows [begin, end) into box (dim lows, dim highs); returns the widest axis. */
static size_t node_box(const double *x, size_t dim, size_t begin, size_t end, double *box) {
    double *lo = box, *hi = box + dim;
    for (size_t k = 0; k < dim; k++) {
        lo[k] = hi[k] = x[begin * dim + k];
    }
    for (size_t r = begin + 1; r < end; r++) {
        const double *p = x + r * dim;
        for (size_t k = 0; k < dim; k++) {
            lo[k] = p[k] < lo[k] ? p[k] : lo[k];
            hi[k] = p[k] > hi[k] ? p[k] : hi[k];
        }
    }
    size_t axis = 0;
    double widest = -1.0;
    for (size_t k = 0; k < dim; k++) {
        double w = hi[k] - lo[k];
        if (w > widest) {
            widest = w;
            axis = k;
        }
    }
    return axis;
}

/* Widest extent of a cell (dim lows, dim highs). */
static size_t widest_axis(const double *cell, size_t dim) {
    size_t axis = 0;
    double widest = -1.0;
    for (size_t a = 0; a < dim; a++) {
        double w = cell[dim + a] - cell[a];
        if (w > widest) {
            widest = w;
            axis = a;
        }
    }
    return axis;
}

/* Node storage being filled by one builder: the whole tree, or one subtree built in parallel
 * (local ids; local node 0 is the subtree's root). */
typedef struct node_store {
    hl_kdnode *nodes;
    double *cells; /* per node: its cell while building */
    uint32_t *leaves;
    size_t n_nodes, n_leaves, cap;
} node_store;

/*
 * Splits node `root` of `ns` (its cell already set) depth-first until every node has at most
 * HL_KD_LEAF points, or at most `defer` points: those are recorded in `deferred` (when not
 * NULL) instead of being split, for the parallel phase. Children get ids after their parent;
 * leaves are recorded left to right. Polls `mon` when given (calling thread only).
 */
static hl_status split_nodes(double *x, uint32_t *perm, size_t dim, node_store *ns, uint32_t root,
                             size_t defer, uint32_t *deferred, size_t *n_deferred,
                             hl_monitor *mon) {
    uint32_t stack[128];
    size_t top = 0;
    stack[top++] = root;
    size_t since_poll = 0;
    while (top > 0) {
        uint32_t id = stack[--top];
        size_t begin = ns->nodes[id].begin, end = ns->nodes[id].end;
        since_poll += end - begin;
        if (mon != NULL && since_poll >= (1u << 18)) {
            since_poll = 0;
            if (hl_monitor_poll(mon) != HL_OK) {
                return HL_ECANCELLED;
            }
        }
        if (end - begin <= HL_KD_LEAF) {
            ns->leaves[ns->n_leaves++] = id;
            continue;
        }
        if (deferred != NULL && end - begin <= defer) {
            deferred[(*n_deferred)++] = id;
            continue;
        }
        const double *cell = ns->cells + (size_t)id * 2 * dim;
        size_t axis = widest_axis(cell, dim);
        size_t mid = begin + (end - begin) / 2;
        select_rows(x, perm, dim, axis, (ptrdiff_t)begin, (ptrdiff_t)end, (ptrdiff_t)mid);
        if (ns->n_nodes + 2 > ns->cap || top + 2 > sizeof stack / sizeof stack[0]) {
            return HL_EINTERNAL; /* cannot happen: the bounds are proven */
        }
        uint32_t l = (uint32_t)ns->n_nodes, r = l + 1;
        ns->n_nodes += 2;
        ns->nodes[l] = (hl_kdnode){.begin = (uint32_t)begin, .end = (uint32_t)mid};
        ns->nodes[r] = (hl_kdnode){.begin = (uint32_t)mid, .end = (uint32_t)end};
        ns->nodes[id].left = l;
        ns->nodes[id].right = r;
        double split = x[mid * dim + axis];
        double *lc = ns->cells + (size_t)l * 2 * dim, *rc = ns->cells + (size_t)r * 2 * dim;
        memcpy(lc, cell, 2 * dim * sizeof(double));
        memcpy(rc, cell, 2 * dim * sizeof(double));
        lc[dim + axis] = split;
        rc[axis] = split;
        stack[top++] = r;
        stack[top++] = l;
    }
    return HL_OK;
}

/* Nodes a subtree of `count` points can need: splits halve by count, so leaves hold at least
 * HL_KD_LEAF / 2 points. */
static size_t node_bound(size_t count) {
    return 2 * (count / (HL_KD_LEAF / 2) + 1) + 1;
}

typedef struct sub_ctx {
    hl_kdtree *t;
    const uint32_t *deferred;
    node_store *subs;
} sub_ctx;

static hl_status build_subtrees(void *p, size_t begin, size_t end, unsigned worker) {
    (void)worker;
    sub_ctx *cx = p;
    hl_kdtree *t = cx->t;
    const size_t dim = t->dim;
    for (size_t s = begin; s < end; s++) {
        const hl_kdnode *g = &t->nodes[cx->deferred[s]];
        node_store *ns = &cx->subs[s];
        ns->cap = node_bound(g->end - g->begin);
        ns->nodes = hl_alloc_array(ns->cap, sizeof(hl_kdnode));
        ns->cells = hl_alloc_array(ns->cap, 2 * dim * sizeof(double));
        ns->leaves = hl_alloc_array(ns->cap, sizeof(uint32_t));
        if (!ns->nodes || !ns->cells || !ns->leaves) {
            return HL_ENOMEM;
        }
        ns->nodes[0] = (hl_kdnode){.begin = g->begin, .end = g->end};
        memcpy(ns->cells, t->bbox + (size_t)cx->deferred[s] * 2 * dim, 2 * dim * sizeof(double));
        ns->n_nodes = 1;
        hl_status st = split_nodes(t->coords, t->perm, dim, ns, 0, 0, NULL, NULL, NULL);
        if (st != HL_OK) {
            return st;
        }
    }
    return HL_OK;
}

/* Below this many points a subtree is built by one thread (about a millisecond of work). */
#define HL_KD_PARALLEL_MIN 16384
/* At most this many points a subtree built in parallel: a subtree is one chunk, and only
 * between chunks does anything see a cancellation (the calling thread polls; the subtrees
 * themselves do not), so a chunk must stay short: 2^18 points take about 30 ms. (The tree
 * does not depend on where the top part stops: every node is split the same way.) */
#define HL_KD_PARALLEL_MAX ((size_t)1 << 18)

hl_status hl_kdtree_build(hl_kdtree *t, const double *points, size_t m, size_t dim,
                          const uint32_t *rows, unsigned n_threads, hl_monitor *mon) {
    memset(t, 0, sizeof *t);
    if (m == 0 || dim == 0 || m >= UINT32_MAX) {
        return HL_EINVAL;
    }
    size_t max_nodes = node_bound(m);
    t->dim = dim;
    t->m = m;
    t->coords = hl_alloc_array(m, dim * sizeof(double));
    t->perm = hl_alloc_array(m, sizeof(uint32_t));
    t->nodes = hl_alloc_array(max_nodes, sizeof(hl_kdnode));
    t->bbox = hl_alloc_array(max_nodes, 2 * dim * sizeof(double));
    t->leaves = hl_alloc_array(max_nodes, sizeof(uint32_t));
    if (!t->coords || !t->perm || !t->nodes || !t->bbox || !t->leaves) {
        hl_kdtree_free(t);
        return HL_ENOMEM;
    }
    for (size_t s = 0; s < m; s++) {
        size_t row = rows ? rows[s] : s;
        memcpy(t->coords + s * dim, points + row * dim, dim * sizeof(double));
        t->perm[s] = (uint32_t)s;
    }
    /*
     * Depth-first; while building, bbox holds each node's cell (the root's tight box cut by the
     * splits above it), which picks the split axis in O(1); the tight boxes the queries prune
     * with are computed bottom up at the end, so every point is scanned once, not once per
     * level. The top of the tree is split on the calling thread until the subtrees are small
     * enough to share out; those are built in parallel into their own node arrays and then
     * appended in kd order. The tree is the same for every thread count.
     */
    node_store top = {.nodes = t->nodes, .cells = t->bbox, .leaves = t->leaves, .cap = max_nodes};
    t->nodes[0] = (hl_kdnode){.begin = 0, .end = (uint32_t)m};
    (void)node_box(t->coords, dim, 0, m, t->bbox);
    top.n_nodes = 1;
    unsigned threads = hl_parallel_threads(m, HL_KD_PARALLEL_MIN, n_threads);
    size_t defer = threads > 1 ? m / (4 * (size_t)threads) : 0;
    defer = defer < HL_KD_PARALLEL_MIN ? HL_KD_PARALLEL_MIN : defer;
    defer = defer > HL_KD_PARALLEL_MAX ? HL_KD_PARALLEL_MAX : defer;
    uint32_t *deferred = NULL;
    size_t n_deferred = 0;
    hl_status st = HL_OK;
    if (threads > 1) {
        deferred = hl_alloc_array(m / (defer / 2) + 2, sizeof(uint32_t));
        if (deferred == NULL) {
            hl_kdtree_free(t);
            return HL_ENOMEM;
        }
    }
    st = split_nodes(t->coords, t->perm, dim, &top, 0, defer, deferred, &n_deferred, mon);
    if (st == HL_OK && n_deferred > 0) {
        node_store *subs = hl_calloc_array(n_deferred, sizeof(node_store));
        if (subs == NULL) {
            st = HL_ENOMEM;
        } else {
            sub_ctx cx = {.t = t, .deferred = deferred, .subs = subs};
            st = hl_parallel_for(n_deferred, 1, n_threads, build_subtrees, &cx, mon);
            /* Append each subtree: local node 0 is the deferred node itself, local l >= 1
             * becomes base + l - 1. Deferred nodes come left to right, so leaves stay in kd
             * order. */
            for (size_t s = 0; s < n_deferred && st == HL_OK; s++) {
                node_store *ns = &subs[s];
                uint32_t g = deferred[s];
                size_t base = top.n_nodes;
                if (base + ns->n_nodes > max_nodes) {
                    st = HL_EINTERNAL;
                    break;
                }
                for (size_t l = 0; l < ns->n_nodes; l++) {
                    hl_kdnode nd = ns->nodes[l];
                    if (nd.left != 0) {
                        nd.left = (uint32_t)(base + nd.left - 1);
                        nd.right = (uint32_t)(base + nd.right - 1);
                    }
                    size_t id = l == 0 ? g : base + l - 1;
                    t->nodes[id] = nd;
                    memcpy(t->bbox + id * 2 * dim, ns->cells + l * 2 * dim,
                           2 * dim * sizeof(double));
                }
                for (size_t f = 0; f < ns->n_leaves; f++) {
                    uint32_t l = ns->leaves[f];
                    t->leaves[top.n_leaves++] = l == 0 ? g : (uint32_t)(base + l - 1);
                }
                top.n_nodes = base + ns->n_nodes - 1;
            }
            for (size_t s = 0; s < n_deferred; s++) {
                free(subs[s].nodes);
                free(subs[s].cells);
                free(subs[s].leaves);
            }
            free(subs);
        }
    }
    free(deferred);
    if (st != HL_OK) {
        hl_kdtree_free(t);
        return st;
    }
    t->n_nodes = top.n_nodes;
    t->n_leaves = top.n_leaves;
    /* Tight boxes, children before parents (children have larger ids). */
    for (size_t id = t->n_nodes; id-- > 0;) {
        hl_kdnode *nd = &t->nodes[id];
        double *box = t->bbox + id * 2 * dim;
        if (nd->left == 0) {
            (void)node_box(t->coords, dim, nd->begin, nd->end, box);
            continue;
        }
        const double *a = t->bbox + (size_t)nd->left * 2 * dim;
        const double *b = t->bbox + (size_t)nd->right * 2 * dim;
        for (size_t k = 0; k < dim; k++) {
            box[k] = a[k] < b[k] ? a[k] : b[k];
            box[dim + k] = a[dim + k] > b[dim + k] ? a[dim + k] : b[dim + k];
        }
    }
    return HL_OK;
}

/* Squared gap between the query box [qlo, qhi] and the node box [lo, hi] (0 where they
 * overlap along an axis). A point query passes qlo == qhi == q. The gap is a lower bound of
 * every hl_kd_sqdist to a point in the node (rounding is monotone), so pruning at >= r2 never
 * loses a point. */
static inline double box_gap2(const double *qlo, const double *qhi, const double *lo,
                              const double *hi, size_t dim) {
    double s = 0.0;
    for (size_t k = 0; k < dim; k++) {
        double d = 0.0;
        if (qhi[k] < lo[k]) {
            d = lo[k] - qhi[k];
        } else if (qlo[k] > hi[k]) {
            d = qlo[k] - hi[k];
        }
        s += d * d;
    }
    return s;
}

hl_status hl_kdtree_ball(const hl_kdtree *t, const double *q, double r2, hl_u32vec *out) {
    const size_t dim = t->dim;
    uint32_t stack[128];
    size_t top = 0;
    stack[top++] = 0;
    while (top > 0) {
        uint32_t id = stack[--top];
        const double *lo = t->bbox + (size_t)id * 2 * dim, *hi = lo + dim;
        if (box_gap2(q, q, lo, hi, dim) >= r2) {
            continue;
        }
        const hl_kdnode *nd = &t->nodes[id];
        if (nd->left == 0) {
            for (uint32_t r = nd->begin; r < nd->end; r++) {
                if (hl_kd_sqdist(q, t->coords + (size_t)r * dim, dim) < r2) {
                    if (hl_u32vec_push(out, r) != HL_OK) {
                        return HL_ENOMEM;
                    }
                }
            }
        } else {
            stack[top++] = nd->right;
            stack[top++] = nd->left;
        }
    }
    return HL_OK;
}

hl_status hl_kdtree_leaves_near(const hl_kdtree *t, const double *blo, const double *bhi, double r2,
                                hl_u32vec *out) {
    const size_t dim = t->dim;
    uint32_t stack[128];
    size_t top = 0;
    stack[top++] = 0;
    while (top > 0) {
        uint32_t id = stack[--top];
        const double *lo = t->bbox + (size_t)id * 2 * dim, *hi = lo + dim;
        if (box_gap2(blo, bhi, lo, hi, dim) >= r2) {
            continue;
        }
        const hl_kdnode *nd = &t->nodes[id];
        if (nd->left == 0) {
            if (hl_u32vec_push(out, id) != HL_OK) {
                return HL_ENOMEM;
            }
        } else {
            stack[top++] = nd->right;
            stack[top++] = nd->left;
        }
    }
    return HL_OK;
}

hl_status hl_kdtree_validate(const hl_kdtree *t, const double *points, const uint32_t *rows) {
    const size_t dim = t->dim, m = t->m;
    if (m == 0 || t->n_nodes == 0 || !t->coords || !t->perm) {
        return HL_EINTERNAL;
    }
    unsigned char *seen = calloc(m, 1);
    if (seen == NULL) {
        return HL_ENOMEM;
    }
    hl_status st = HL_OK;
    for (size_t r = 0; r < m && st == HL_OK; r++) {
        uint32_t s = t->perm[r];
        if (s >= m || seen[s]) {
            st = HL_EINTERNAL;
            break;
        }
        seen[s] = 1;
        size_t row = rows ? rows[s] : s;
        if (memcmp(t->coords + r * dim, points + row * dim, dim * sizeof(double)) != 0) {
            st = HL_EINTERNAL;
        }
    }
    free(seen);
    if (st != HL_OK) {
        return st;
    }
    uint32_t next = 0; /* leaves tile [0, m) in order */
    for (size_t l = 0; l < t->n_leaves; l++) {
        const hl_kdnode *lf = &t->nodes[t->leaves[l]];
        if (t->leaves[l] >= t->n_nodes || lf->left != 0 || lf->begin != next) {
            return HL_EINTERNAL;
        }
        next = lf->end;
    }
    if (next != m) {
        return HL_EINTERNAL;
    }
    const hl_kdnode *root = &t->nodes[0];
    if (root->begin != 0 || root->end != m) {
        return HL_EINTERNAL;
    }
    for (size_t id = 0; id < t->n_nodes; id++) {
        const hl_kdnode *nd = &t->nodes[id];
        if (nd->begin >= nd->end || nd->end > m) {
            return HL_EINTERNAL;
        }
        const double *lo = t->bbox + id * 2 * dim, *hi = lo + dim;
        for (uint32_t r = nd->begin; r < nd->end; r++) {
            for (size_t k = 0; k < dim; k++) {
                double v = t->coords[(size_t)r * dim + k];
                if (!(v >= lo[k] && v <= hi[k])) {
                    return HL_EINTERNAL;
                }
            }
        }
        if (nd->left == 0) {
            if (nd->right != 0 || nd->end - nd->begin > HL_KD_LEAF) {
                return HL_EINTERNAL;
            }
            continue;
        }
        if (nd->left <= id || nd->right <= id || nd->left >= t->n_nodes ||
            nd->right >= t->n_nodes) {
            return HL_EINTERNAL;
        }
        const hl_kdnode *l = &t->nodes[nd->left], *r = &t->nodes[nd->right];
        if (l->begin != nd->begin || l->end != r->begin || r->end != nd->end) {
            return HL_EINTERNAL;
        }
        /* The split separates the children along some axis: left <= right there. */
        const double *llo = t->bbox + (size_t)nd->left * 2 * dim, *lhi = llo + dim;
        const double *rlo = t->bbox + (size_t)nd->right * 2 * dim;
        int separated = 0;
        for (size_t k = 0; k < dim && !separated; k++) {
            separated = lhi[k] <= rlo[k];
        }
        (void)llo;
        if (!separated) {
            return HL_EINTERNAL;
        }
    }
    return HL_OK;
}
