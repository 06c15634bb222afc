/*
 * kdtree.h (internal to the poisson kernel): a static kd-tree over points in R^dim for
 * fixed-radius ball queries.
 *
 * The build (Bentley 1975; median splits on the widest extent of each node's bounding box)
 * reorders a copy of the points into kd order: the points of a node are a contiguous range, so
 * a query touches few cache lines and point ids in kd order are spatially sorted (the
 * elimination uses them as its local ids for locality). Nodes store their bounding boxes, so a
 * query prunes a node by the exact squared distance from the query to the box.
 */
#ifndef HOTLOOP_POISSON_KDTREE_H
#define HOTLOOP_POISSON_KDTREE_H

#include "hotloop/common.h"

/* Leaves hold at most this many points (or any number of identical points). 16 rather than 8:
 * half the nodes to build and traverse, for a few more distance tests per point (measured:
 * 5-25% less time for the whole elimination in 2D, 3D and 4D). */
#ifndef HL_KD_LEAF
#define HL_KD_LEAF 16
#endif

typedef struct hl_kdnode {
    uint32_t begin, end; /* the node's points: kd positions [begin, end) */
    uint32_t left;       /* child node ids; left == 0 marks a leaf (node 0 is the root) */
    uint32_t right;
} hl_kdnode;

typedef struct hl_kdtree {
    size_t dim, m;
    double *coords;   /* m x dim, kd order (owned) */
    uint32_t *perm;   /* perm[r]: the input row of kd position r (owned) */
    hl_kdnode *nodes; /* n_nodes nodes, root first (owned) */
    double *bbox;     /* per node: dim lows then dim highs (owned) */
    size_t n_nodes;
    uint32_t *leaves; /* the leaf node ids in kd order (increasing begin) (owned) */
    size_t n_leaves;
} hl_kdtree;

/* A growable array of uint32 (query results, neighbour lists). */
typedef struct hl_u32vec {
    uint32_t *data;
    size_t len, cap;
} hl_u32vec;

/* Appends x; HL_ENOMEM on failure (the vector is unchanged). */
hl_status hl_u32vec_push(hl_u32vec *v, uint32_t x);

/* Frees the storage; the vector becomes empty. */
void hl_u32vec_free(hl_u32vec *v);

/*
 * Builds *t over rows `rows[0..m)` of `points` (stride dim; rows == NULL: rows 0..m-1), m >= 1,
 * m < 2^32 - 1, subtrees built on n_threads threads (0: all; the tree does not depend on it).
 * perm then maps kd positions to entries of `rows` (not to rows themselves):
 * perm[r] = s means the point points[rows[s]]. On error (HL_ENOMEM, HL_ECANCELLED from `mon`,
 * polled on the calling thread) *t is left empty. Deterministic; `points` is not modified.
 */
hl_status hl_kdtree_build(hl_kdtree *t, const double *points, size_t m, size_t dim,
                          const uint32_t *rows, unsigned n_threads, hl_monitor *mon);

/* Frees what the tree owns (a zeroed or freed tree is fine) and zeroes it. */
void hl_kdtree_free(hl_kdtree *t);

/* Squared Euclidean distance, summed in increasing coordinate order (the order the ball query
 * uses: callers reproduce its test exactly with it). Dimensions 2 to 4 are spelled out so the
 * compiler drops the loop; the sums are the same: 0 + x == x exactly. */
static inline double hl_kd_sqdist(const double *a, const double *b, size_t dim) {
    double d0, d1, d2, d3;
    switch (dim) {
    case 2:
        d0 = a[0] - b[0];
        d1 = a[1] - b[1];
        return d0 * d0 + d1 * d1;
    case 3:
        d0 = a[0] - b[0];
        d1 = a[1] - b[1];
        d2 = a[2] - b[2];
        return d0 * d0 + d1 * d1 + d2 * d2;
    case 4:
        d0 = a[0] - b[0];
        d1 = a[1] - b[1];
        d2 = a[2] - b[2];
        d3 = a[3] - b[3];
        return d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
    default: {
        double s = 0.0;
        for (size_t k = 0; k < dim; k++) {
            double d = a[k] - b[k];
            s += d * d;
        }
        return s;
    }
    }
}

/*
 * Appends to `out` every kd position r with hl_kd_sqdist(q, point r) < r2, in traversal order.
 * Returns HL_ENOMEM if `out` cannot grow. Thread-safe (the tree is read-only).
 */
hl_status hl_kdtree_ball(const hl_kdtree *t, const double *q, double r2, hl_u32vec *out);

/*
 * Appends to `out` the id of every leaf whose box may hold a point within squared distance r2
 * of a point of the box [blo, bhi]: all leaves whose box-to-box squared gap is < r2. Every
 * point r with hl_kd_sqdist(q, point r) < r2 for some q in the box lies in one of them (the gap
 * is a lower bound, rounding being monotone). Lets the points of one leaf share one traversal.
 */
hl_status hl_kdtree_leaves_near(const hl_kdtree *t, const double *blo, const double *bhi, double r2,
                                hl_u32vec *out);

/* The box of node `id`: dim lows, then dim highs. */
static inline const double *hl_kdtree_box(const hl_kdtree *t, uint32_t id) {
    return t->bbox + (size_t)id * 2 * t->dim;
}

/*
 * Checks the tree's invariants: perm is a permutation of [0, m); coords match the input rows
 * in perm order; every node's range is non-empty and lies inside its parent's, the children
 * partition it; leaves are small (or identical points); every point lies in its node's box.
 * Returns HL_OK or HL_EINTERNAL. For the tests.
 */
hl_status hl_kdtree_validate(const hl_kdtree *t, const double *points, const uint32_t *rows);

#endif /* HOTLOOP_POISSON_KDTREE_H */
