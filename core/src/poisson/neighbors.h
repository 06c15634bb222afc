/*
 * neighbors.h (internal to the poisson kernel): the domain-aware neighbour search and the
 * cached neighbour lists of one elimination level.
 *
 * Every point's list of neighbours within d_max (and its summed, quantised weight) is computed
 * once, in parallel over fixed regions of points (a pair inside a region evaluated once for
 * both points); the elimination then walks these lists and never queries the tree again. Lists
 * are stored per chunk of HL_PD_CHUNK consecutive points (kd order, so a chunk is a compact
 * region of space): each chunk's lists are one exact array (carved from one address range
 * with huge pages where the system allows) written by the worker that owns the chunk's region,
 * and end[i] marks where point i's list ends in its chunk. Each entry is a
 * neighbour id and its quantised contribution (4 + 4 bytes), so the elimination reads two
 * contiguous arrays and never touches coordinates or evaluates a distance.
 */
#ifndef HOTLOOP_POISSON_NEIGHBORS_H
#define HOTLOOP_POISSON_NEIGHBORS_H

#include <stdatomic.h>

#include "hotloop/cpu.h"
#include "kdtree.h"
#include "metric.h"

#define HL_PD_CHUNK 1024

/* The lists are built per region of this many chunks (one worker each): a pair of points of
 * one region is evaluated once for both, a pair across regions once by each side. Fixed, so the
 * lists do not depend on the thread count; 8 (8192 points) makes the document's 8000 rotations
 * one region and leaves larger inputs enough regions to share among threads. */
#ifndef HL_PD_REGION
#define HL_PD_REGION 8
#endif

/*
 * Appends to `cand` the kd positions of every point that may lie within domain distance
 * `radius` of the point x (coordinates in the tree's space), through the search radius^2 r2
 * (radius plus slack, see tree_radius). PERIODIC: queries the images of x across the faces it
 * is within `reach` of and appends each hit's image code to `codes` (see hl_pd_dist);
 * ROTATIONS: queries x and -x, dropping hits of -x already hit by x. Duplicates never appear
 * except in PERIODIC (one per image; the caller keeps the hit whose code matches the pair's
 * minimal image). HL_ENOMEM if a vector cannot grow.
 */
hl_status hl_pd_query(const hl_kdtree *t, const hl_pd_metric *mt, const double *x, double r2,
                      double reach, hl_u32vec *cand, hl_u32vec *codes);

/* The Euclidean search radius in the tree's space that covers domain distance `radius` with a
 * safety margin for rounding (the exact test is always hl_pd_dist). */
double hl_pd_tree_radius(const hl_pd_metric *mt, double radius);

typedef struct hl_pd_lists {
    size_t m, n_chunks;
    hl_u32vec *chunk; /* n_chunks arrays of (neighbour id, quantised contribution) pairs */
    uint32_t *end;    /* end[i]: end of i's list in chunk i / HL_PD_CHUNK */
    int64_t *w;       /* w[i]: sum of i's quantised contributions */
    size_t max_len;   /* the longest list */
    void *arena;      /* the chunks' storage where the system gives it (see neighbors.c) */
    size_t arena_len;
} hl_pd_lists;

/* Point i's neighbour list: *len entries, entry e is (id, contribution) at [2e], [2e + 1]
 * (interleaved, so the elimination streams one array). */
static inline const uint32_t *hl_pd_list(const hl_pd_lists *L, size_t i, size_t *len) {
    size_t c = i / HL_PD_CHUNK;
    size_t begin = (i % HL_PD_CHUNK) == 0 ? 0 : L->end[i - 1];
    *len = (L->end[i] - begin) / 2;
    return L->chunk[c].data + begin;
}

/*
 * Builds the lists of the tree's points: j is a neighbour of i when i != j and
 * hl_pd_dist(x_i, x_j) < wt->d_max; w[i] sums hl_pd_quant over them. Parallel over chunks with
 * n_threads (0: all), polling `mon` inside the regions too (every few thousand entries found
 * or laid out, whatever the density: a region of duplicates holds hundreds of millions), so a
 * cancellation is seen within milliseconds; `limit` bounds the bytes of all lists together
 * (HL_ENOMEM past it, and before anything is allocated when the neighbours of a sample of the
 * points put the lists above twice the limit). On error *L is freed. Deterministic and
 * thread-count independent.
 */
hl_status hl_pd_lists_build(hl_pd_lists *L, const hl_kdtree *t, const hl_pd_metric *mt,
                            const hl_pd_weight *wt, unsigned n_threads, size_t limit,
                            hl_monitor *mon);

/* hl_pd_lists_build with the scans on instruction set `level` at most (hl_cpu_resolve_level):
 * the same lists, entry for entry, on every level (the tests compare them). */
hl_status hl_pd_lists_build_level(hl_pd_lists *L, const hl_kdtree *t, const hl_pd_metric *mt,
                                  const hl_pd_weight *wt, unsigned n_threads, size_t limit,
                                  hl_monitor *mon, hl_simd_level level);

void hl_pd_lists_free(hl_pd_lists *L);

#endif /* HOTLOOP_POISSON_NEIGHBORS_H */
