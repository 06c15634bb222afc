/*
 * heap.h (internal to the poisson kernel): the elimination's priority queue, a blocked
 * max-heap of int64 weights.
 *
 * The elimination pops the heaviest point and lowers the weights of its neighbours, which in
 * kd order sit close to it. An indexed heap over all points pays cache misses for every
 * decrease (position lookups, sift-downs through a heap far larger than the cache). Here the
 * ids are cut into blocks of HL_HEAP_BLOCK consecutive ids; each block's maximum is found by a
 * scan of its few contiguous weights (eight AVX-512 maxima for a block of 64 where the CPU has
 * them: heap_avx512.c), and a 4-ary indexed max-heap orders only the blocks (64 times fewer
 * entries, so it stays in cache). A pop lowers the weights of a handful of nearby
 * blocks, and only a block whose maximum itself was lowered (or removed) needs a rescan and a
 * sift-down: lowering any other weight leaves the block's maximum as it was. The order is exactly
 * that of a heap over all ids: larger weight first; among equal weights, smaller `tie` (the
 * caller's input index), so the order is total and the result deterministic. An entry holds
 * its block's weight and the id of its maximum, and tie[] is read only on equal weights. In the
 * 4-ary heap the four children of a slot share one 64-byte cache line (16-byte entries, array
 * offset by three slots).
 *
 * The true weights live in the caller's array `w` (w[id] < 0 marks a removed id; weights of
 * live ids are >= 0). The caller either tells the queue which blocks changed (hl_heap_update,
 * then hl_heap_top) or tells it nothing and asks hl_heap_top_lazy, which needs only that
 * weights never increase (the elimination's case).
 */
#ifndef HOTLOOP_POISSON_HEAP_H
#define HOTLOOP_POISSON_HEAP_H

#include "hotloop/common.h"
#include "hotloop/cpu.h"

/* Blocks of 64: with vector scans, shallower heaps pay off (blocks of 32 took as long with the
 * scalar scan, and about 40% longer with the vector one, for the 2D 100k -> 20k elimination). */
#ifndef HL_HEAP_BLOCK_SHIFT
#define HL_HEAP_BLOCK_SHIFT 6
#endif
#define HL_HEAP_BLOCK (1u << HL_HEAP_BLOCK_SHIFT)

typedef struct hl_heap_entry {
    int64_t w;    /* the block's maximum weight (-1: every id removed) */
    uint32_t arg; /* the id of that maximum (the block's first id for an empty block) */
    uint32_t id;  /* the block */
} hl_heap_entry;

typedef struct hl_heap {
    void *mem;           /* the entries' allocation (64-byte aligned) */
    hl_heap_entry *a;    /* slots 0..n_blocks-1; children of s are 4s+1 .. 4s+4 */
    uint32_t *pos;       /* pos[block]: its slot */
    uint32_t *best;      /* best[block]: the id of its maximum */
    const int64_t *w;    /* true weights (the caller's) */
    const uint32_t *tie; /* ties (the caller's) */
    size_t n_ids, n_blocks;
    int simd; /* scans by hl_heap_scan_avx512 (chosen by hl_heap_build) */
} hl_heap;

hl_heap_entry hl_heap_scan_avx512(const hl_heap *h, uint32_t b, uint32_t *best_id);

/* Whether x belongs above y. The ties are read only on equal weights (rare), so the heap's
 * own 16-byte entries decide almost every comparison without touching tie[]. Empty blocks
 * (weight -1) are ordered by their first id's tie: any consistent order would do. */
static inline int hl_heap_above(const hl_heap *h, const hl_heap_entry *x, const hl_heap_entry *y) {
    return x->w > y->w || (x->w == y->w && h->tie[x->arg] < h->tie[y->arg]);
}

/* Moves the entry at slot s down to its place, keeping pos[] current. */
static inline void hl_heap_sift_down(hl_heap *h, size_t s) {
    hl_heap_entry *a = h->a;
    const size_t size = h->n_blocks;
    hl_heap_entry e = a[s];
    for (;;) {
        size_t c = 4 * s + 1;
        if (c >= size) {
            break;
        }
        size_t best = c;
        size_t end = c + 4 < size ? c + 4 : size;
        for (size_t k = c + 1; k < end; k++) {
            if (hl_heap_above(h, &a[k], &a[best])) {
                best = k;
            }
        }
        if (!hl_heap_above(h, &a[best], &e)) {
            break;
        }
        a[s] = a[best];
        h->pos[a[s].id] = (uint32_t)s;
        s = best;
    }
    a[s] = e;
    h->pos[e.id] = (uint32_t)s;
}

/* The maximum of block b by a scan of its weights (removed ids skipped); ties are read only
 * between equal live weights, so a scan touches one array. */
static inline hl_heap_entry hl_heap_scan(const hl_heap *h, uint32_t b, uint32_t *best_id) {
#if defined(HL_X86_64)
    if (h->simd) {
        return hl_heap_scan_avx512(h, b, best_id);
    }
#endif
    size_t begin = (size_t)b << HL_HEAP_BLOCK_SHIFT;
    size_t end = begin + HL_HEAP_BLOCK < h->n_ids ? begin + HL_HEAP_BLOCK : h->n_ids;
    int64_t bw = -1;
    size_t arg = begin;
    for (size_t i = begin; i < end; i++) {
        int64_t w = h->w[i];
        if (w > bw) {
            bw = w;
            arg = i;
        } else if (w == bw && w >= 0 && h->tie[i] < h->tie[arg]) {
            arg = i;
        }
    }
    hl_heap_entry e = {.w = bw, .arg = (uint32_t)arg, .id = b};
    *best_id = (uint32_t)arg;
    return e;
}

/* The id of the current maximum (some id must be live). */
static inline uint32_t hl_heap_top(const hl_heap *h) {
    return h->a[0].arg;
}

/*
 * The id of the current maximum when the heap is kept lazily (some id must be live): weights
 * in w may have been lowered, and ids removed (w = -1), since their blocks' entries were made,
 * without hl_heap_update. Exact, by these invariants: weights only decrease, so every entry is
 * still an upper bound of its block's current maximum in the heap's order (a lowered maximum
 * can only be overtaken by an id that was below it: smaller weight, or equal weight and a
 * larger tie), and the heap orders the entries. If the root's entry is current (w[arg] is
 * still the weight it was made with; a removed id's -1 never is, live ones being >= 0), its
 * id is its block's maximum (nothing in the block has risen past it) and is above every other
 * block's entry, hence above every other block's maximum: the global maximum, with the same
 * ties as an eager heap. Otherwise the root's block is rescanned (a lower entry) and sifted
 * down, and the root is looked at again. So the elimination lowers weights with no heap work
 * at all, and a block is rescanned only when its stale entry reaches the root, however many
 * of its weights were lowered meanwhile.
 */
static inline uint32_t hl_heap_top_lazy(hl_heap *h) {
    for (;;) {
        const hl_heap_entry *e = &h->a[0];
        if (h->w[e->arg] == e->w) {
            return e->arg;
        }
        uint32_t b = e->id;
        h->a[0] = hl_heap_scan(h, b, &h->best[b]);
        hl_heap_sift_down(h, 0);
    }
}

/* Re-reads block b after weights in it decreased (or ids in it were removed). */
static inline void hl_heap_update(hl_heap *h, uint32_t b) {
    size_t s = h->pos[b];
    h->a[s] = hl_heap_scan(h, b, &h->best[b]);
    hl_heap_sift_down(h, s);
}

/* Builds the queue over ids 0..n-1 with true weights w and ties tie (both kept by pointer;
 * Floyd's O(n) heapify, CACM 1964, over the blocks). HL_ENOMEM on allocation failure (then *h
 * is zeroed), HL_EINVAL if n == 0 or n >= 2^32-1. */
hl_status hl_heap_build(hl_heap *h, size_t n, const int64_t *w, const uint32_t *tie);

/* Frees the queue (a zeroed one is fine) and zeroes it. */
void hl_heap_free(hl_heap *h);

/* Checks: heap order of the blocks, pos[] and the slots agree, and every block's entry is its
 * current maximum. HL_OK or HL_EINTERNAL. For the tests. */
hl_status hl_heap_validate(const hl_heap *h);

#endif /* HOTLOOP_POISSON_HEAP_H */
