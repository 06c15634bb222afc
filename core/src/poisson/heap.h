/*
 * heap.h (internal to the poisson kernel): an indexed 4-ary max-heap of int64 weights.
 *
 * The elimination pops the heaviest point and lowers the weights of its neighbours, so the
 * operations are pop and decrease-key, both sift-downs. A 4-ary heap halves the depth of a
 * binary one, and its four children of a slot share one 64-byte cache line (16-byte entries,
 * the array offset so that every sibling group starts on a line): a sift-down costs about one
 * cache miss per level. Entries carry the key and the tie-break inline, so comparisons never
 * leave the line. Order: larger weight first; among equal weights, smaller `tie` first (the
 * caller's input index), so the order is total and the heap's output deterministic.
 */
#ifndef HOTLOOP_POISSON_HEAP_H
#define HOTLOOP_POISSON_HEAP_H

#include "hotloop/common.h"

#define HL_HEAP_GONE UINT32_MAX /* pos[] of an id no longer in the heap */

typedef struct hl_heap_entry {
    int64_t w;
    uint32_t tie;
    uint32_t id;
} hl_heap_entry;

typedef struct hl_heap {
    void *mem;        /* the allocation (64-byte aligned) */
    hl_heap_entry *a; /* slots 0..size-1; children of slot s are 4s+1 .. 4s+4 */
    uint32_t *pos;    /* pos[id]: the slot of id, or HL_HEAP_GONE */
    size_t size, n_ids;
} hl_heap;

/* Whether x belongs above y. */
static inline int hl_heap_above(const hl_heap_entry *x, const hl_heap_entry *y) {
    return x->w > y->w || (x->w == y->w && x->tie < y->tie);
}

/* Moves the entry at slot s down to its place. */
static inline void hl_heap_sift_down(hl_heap *h, size_t s) {
    hl_heap_entry *a = h->a;
    const size_t size = h->size;
    hl_heap_entry e = a[s];
    for (;;) {
        size_t c = 4 * s + 1;
        if (c >= size) {
            break;
        }
        size_t end = c + 4 < size ? c + 4 : size;
        size_t best = c;
        for (size_t k = c + 1; k < end; k++) {
            if (hl_heap_above(&a[k], &a[best])) {
                best = k;
            }
        }
        if (!hl_heap_above(&a[best], &e)) {
            break;
        }
        a[s] = a[best];
        h->pos[a[s].id] = (uint32_t)s;
        s = best;
    }
    a[s] = e;
    h->pos[e.id] = (uint32_t)s;
}

/* Lowers the weight of `id` (in the heap) by delta >= 0. */
static inline void hl_heap_decrease(hl_heap *h, uint32_t id, int64_t delta) {
    size_t s = h->pos[id];
    h->a[s].w -= delta;
    hl_heap_sift_down(h, s);
}

/* Removes the top entry (size must be > 0) and returns its id. */
static inline uint32_t hl_heap_pop(hl_heap *h) {
    uint32_t id = h->a[0].id;
    h->pos[id] = HL_HEAP_GONE;
    h->size--;
    if (h->size > 0) {
        h->a[0] = h->a[h->size];
        hl_heap_sift_down(h, 0);
    }
    return id;
}

/* Builds a heap of ids 0..n-1 with weights w[id] and ties tie[id] (Floyd's O(n) heapify,
 * CACM 1964). HL_ENOMEM on allocation failure (then *h is zeroed), HL_EINVAL if n >= 2^32-1. */
hl_status hl_heap_build(hl_heap *h, size_t n, const int64_t *w, const uint32_t *tie);

/* Frees the heap (a zeroed heap is fine) and zeroes it. */
void hl_heap_free(hl_heap *h);

/* Checks: every parent is above its children, pos[] and the slots agree, popped ids are
 * marked HL_HEAP_GONE. HL_OK or HL_EINTERNAL. For the tests. */
hl_status hl_heap_validate(const hl_heap *h);

#endif /* HOTLOOP_POISSON_HEAP_H */
