/*
 * Exact distinct counting (see distinct.h, part 4).
 *
 * hl_exset: an open-addressing table of (hash, id) pairs with linear probing, kept at most
 * half full (it doubles). The hash only narrows the search: an item is new unless the
 * caller's equality says it equals a stored item of the same hash, so the count is exact
 * whatever the hash (collisions cost time, never correctness).
 *
 * (hl_lineset, the exact set of lines of `hotloop count --exact`, is in lineset.c.)
 */
#include <stdlib.h>

#include "hotloop/distinct.h"

#define EMPTY_ID UINT64_MAX

typedef struct exentry {
    uint64_t hash;
    uint64_t id;
} exentry;

struct hl_exset {
    exentry *t;
    size_t mask;
    uint64_t count;
};

static inline size_t ex_home(uint64_t h, size_t mask) {
    /* Callers may pass weak hashes (Python's hash of small ints is the int): mix first. */
    return (size_t)hl_dmum(h ^ HL_DK3, HL_DK1) & mask;
}

/* A table of cap empty slots (NULL when out of memory, or *cancelled set when mon asked to
 * stop while the slots were being cleared: large tables take a while to touch). */
static exentry *ex_alloc_polled(size_t cap, hl_monitor *mon, bool *cancelled) {
    *cancelled = false;
    exentry *t = hl_alloc_array(cap, sizeof(exentry));
    if (t != NULL) {
        for (size_t i = 0; i < cap; i++) {
            if ((i & 0xFFFF) == 0xFFFF && hl_monitor_poll(mon) != HL_OK) {
                free(t);
                *cancelled = true;
                return NULL;
            }
            t[i].id = EMPTY_ID;
        }
    }
    return t;
}

static exentry *ex_alloc(size_t cap) {
    bool cancelled;
    return ex_alloc_polled(cap, NULL, &cancelled);
}

hl_status hl_exset_create(hl_exset **out) {
    if (out == NULL) {
        return HL_EINVAL;
    }
    hl_exset *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return HL_ENOMEM;
    }
    s->t = ex_alloc(1024);
    if (s->t == NULL) {
        free(s);
        return HL_ENOMEM;
    }
    s->mask = 1023;
    *out = s;
    return HL_OK;
}

void hl_exset_free(hl_exset *s) {
    if (s != NULL) {
        free(s->t);
        free(s);
    }
}

uint64_t hl_exset_count(const hl_exset *s) {
    return s->count;
}

/* Doubles the table. With a monitor, polls it every 64K slots (a table of tens of millions of
 * slots takes a noticeable time to rehash): on cancellation the old table stays. */
static hl_status ex_grow_polled(hl_exset *s, hl_monitor *mon) {
    size_t cap = s->mask + 1, ncap;
    if (!hl_size_mul(cap, 2, &ncap)) {
        return HL_ENOMEM;
    }
    bool cancelled;
    exentry *nt = ex_alloc_polled(ncap, mon, &cancelled);
    if (nt == NULL) {
        return cancelled ? HL_ECANCELLED : HL_ENOMEM;
    }
    const size_t nmask = ncap - 1;
    for (size_t i = 0; i < cap; i++) {
        if ((i & 0xFFFF) == 0xFFFF && hl_monitor_poll(mon) != HL_OK) {
            free(nt);
            return HL_ECANCELLED;
        }
        if (s->t[i].id != EMPTY_ID) {
            size_t j = ex_home(s->t[i].hash, nmask);
            while (nt[j].id != EMPTY_ID) {
                j = (j + 1) & nmask;
            }
            nt[j] = s->t[i];
        }
    }
    free(s->t);
    s->t = nt;
    s->mask = nmask;
    return HL_OK;
}

static hl_status ex_grow(hl_exset *s) {
    return ex_grow_polled(s, NULL);
}

void hl_exset_prefetch(const hl_exset *s, uint64_t h) {
    __builtin_prefetch(&s->t[ex_home(h, s->mask)]);
}

hl_status hl_exset_add_one(hl_exset *s, uint64_t h, uint64_t id, hl_eq_fn eq, void *ctx,
                           bool *added) {
    *added = false;
    if (id == EMPTY_ID) {
        return HL_EINVAL;
    }
    if ((s->count + 1) * 2 > s->mask + 1) {
        hl_status st = ex_grow(s);
        if (st != HL_OK) {
            return st;
        }
    }
    size_t i = ex_home(h, s->mask);
    while (s->t[i].id != EMPTY_ID) {
        if (s->t[i].hash == h) {
            int r = eq == NULL ? 1 : eq(ctx, s->t[i].id, id);
            if (r < 0) {
                return HL_ECANCELLED;
            }
            if (r > 0) {
                return HL_OK;
            }
        }
        i = (i + 1) & s->mask;
    }
    s->t[i].hash = h;
    s->t[i].id = id;
    s->count++;
    *added = true;
    return HL_OK;
}

hl_status hl_exset_add(hl_exset *s, const uint64_t *hashes, size_t n, uint64_t first_id,
                       hl_eq_fn eq, void *ctx) {
    for (size_t k = 0; k < n; k++) {
        if (k + 8 < n) {
            __builtin_prefetch(&s->t[ex_home(hashes[k + 8], s->mask)]);
        }
        bool added;
        hl_status st = hl_exset_add_one(s, hashes[k], first_id + k, eq, ctx, &added);
        if (st != HL_OK) {
            return st;
        }
    }
    return HL_OK;
}

/* Ids of source items: source index in the top 24 bits, item index in the low 40. */
#define ID_SHIFT 40
#define ID_MASK ((UINT64_C(1) << ID_SHIFT) - 1)

typedef struct src_ctx {
    const hl_dsource *srcs;
} src_ctx;

static int src_eq(void *p, uint64_t a, uint64_t b) {
    const src_ctx *c = p;
    return hl_dsource_equal(&c->srcs[a >> ID_SHIFT], (size_t)(a & ID_MASK), &c->srcs[b >> ID_SHIFT],
                            (size_t)(b & ID_MASK));
}

/* Equal hashes mean equal items for signed integers (hl_dhash_int is a bijection) and for
 * unsigned ones below 2^63 (u8..u32 always). */
static bool injective_kind(hl_dkind k) {
    return k == HL_DK_I8 || k == HL_DK_I16 || k == HL_DK_I32 || k == HL_DK_I64 || k == HL_DK_U8 ||
           k == HL_DK_U16 || k == HL_DK_U32;
}

#define EX_BATCH 4096

hl_status hl_exset_add_sources(hl_exset *s, const hl_dsource *srcs, size_t n_src, hl_monitor *mon) {
    if (n_src >= ((size_t)1 << 24)) {
        return HL_EINVAL;
    }
    size_t total = 0;
    bool injective = true;
    for (size_t j = 0; j < n_src; j++) {
        if (srcs[j].n > ID_MASK || srcs[j].kind != srcs[0].kind) {
            return HL_EINVAL;
        }
        total += srcs[j].n;
        injective = injective && injective_kind(srcs[j].kind) && srcs[j].validity == NULL;
    }
    hl_monitor_begin(mon, total);
    src_ctx c = {srcs};
    uint64_t buf[EX_BATCH];
    size_t batches = 0;
    for (size_t j = 0; j < n_src; j++) {
        const size_t n = srcs[j].n;
        for (size_t i = 0; i < n; i += EX_BATCH) {
            size_t e = n - i < EX_BATCH ? n : i + EX_BATCH;
            hl_status st = hl_dsource_hash(&srcs[j], i, e, 0, buf);
            /* Grow before the batch (interruptibly) so hl_exset_add never has to. */
            while (st == HL_OK && (s->count + (e - i) + 1) * 2 > s->mask + 1) {
                st = ex_grow_polled(s, mon);
            }
            if (st == HL_OK) {
                st = hl_exset_add(s, buf, e - i, ((uint64_t)j << ID_SHIFT) | i,
                                  injective ? NULL : src_eq, &c);
            }
            if (st != HL_OK) {
                return st;
            }
            hl_monitor_add(mon, e - i);
            if (++batches % 8 == 0 && hl_monitor_poll(mon) != HL_OK) {
                return HL_ECANCELLED;
            }
        }
    }
    return HL_OK;
}
