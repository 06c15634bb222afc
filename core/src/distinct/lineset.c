/*
 * hl_lineset: the exact set of distinct lines (see distinct.h, "lines of a file").
 *
 * Lines do not stay in memory after they are read, so the set keeps its own copy of each
 * distinct line. A slot holds the line's hash, length and first 8 bytes: lines of at most 8
 * bytes (most lines of numbers, codes, short words) are compared in the slot itself, longer
 * ones against the copy in an arena only when hash, length and prefix all match. Lines are
 * added in batches whose slots are prefetched first, so the cache misses of a batch overlap.
 */
#include <stdlib.h>

#include "hotloop/distinct.h"

typedef struct lslot {
    uint64_t hash;
    uint64_t prefix; /* the first min(len, 8) bytes, zero-padded */
    uint64_t off;    /* arena offset of lines longer than 8 bytes */
    uint32_t len;
    uint32_t used;
} lslot;

struct hl_lineset {
    lslot *t;
    size_t mask;
    uint64_t count;
    unsigned char *arena;
    size_t arena_len, arena_cap;
};

static inline size_t ls_home(uint64_t h, size_t mask) {
    return (size_t)(h ^ (h >> 31)) & mask;
}

hl_status hl_lineset_create(hl_lineset **out) {
    if (out == NULL) {
        return HL_EINVAL;
    }
    *out = NULL;
    hl_lineset *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return HL_ENOMEM;
    }
    s->t = hl_calloc_array(1024, sizeof(lslot));
    if (s->t == NULL) {
        free(s);
        return HL_ENOMEM;
    }
    s->mask = 1023;
    *out = s;
    return HL_OK;
}

void hl_lineset_free(hl_lineset *s) {
    if (s != NULL) {
        free(s->t);
        free(s->arena);
        free(s);
    }
}

uint64_t hl_lineset_count(const hl_lineset *s) {
    return s->count;
}

static hl_status ls_grow(hl_lineset *s) {
    size_t cap = s->mask + 1, ncap;
    if (!hl_size_mul(cap, 2, &ncap)) {
        return HL_ENOMEM;
    }
    lslot *nt = hl_calloc_array(ncap, sizeof(lslot));
    if (nt == NULL) {
        return HL_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++) {
        if (s->t[i].used) {
            size_t j = ls_home(s->t[i].hash, ncap - 1);
            while (nt[j].used) {
                j = (j + 1) & (ncap - 1);
            }
            nt[j] = s->t[i];
        }
    }
    free(s->t);
    s->t = nt;
    s->mask = ncap - 1;
    return HL_OK;
}

static hl_status ls_add(hl_lineset *s, const unsigned char *line, size_t len, uint64_t h) {
    if (len > UINT32_MAX) {
        return HL_EOVERFLOW;
    }
    if ((s->count + 1) * 2 > s->mask + 1) {
        hl_status st = ls_grow(s);
        if (st != HL_OK) {
            return st;
        }
    }
    uint64_t prefix = 0;
    memcpy(&prefix, line, len < 8 ? len : 8);
    size_t i = ls_home(h, s->mask);
    for (; s->t[i].used; i = (i + 1) & s->mask) {
        const lslot *e = &s->t[i];
        if (e->hash == h && e->len == len && e->prefix == prefix &&
            (len <= 8 || memcmp(s->arena + e->off + 8, line + 8, len - 8) == 0)) {
            return HL_OK; /* already there */
        }
    }
    uint64_t off = 0;
    if (len > 8) {
        if (s->arena_len + len > s->arena_cap) {
            size_t ncap = s->arena_cap ? s->arena_cap : 65536;
            while (ncap < s->arena_len + len) {
                if (!hl_size_mul(ncap, 2, &ncap)) {
                    return HL_ENOMEM;
                }
            }
            unsigned char *na = realloc(s->arena, ncap);
            if (na == NULL) {
                return HL_ENOMEM;
            }
            s->arena = na;
            s->arena_cap = ncap;
        }
        off = s->arena_len;
        memcpy(s->arena + off, line, len);
        s->arena_len += len;
    }
    s->t[i] = (lslot){h, prefix, off, (uint32_t)len, 1};
    s->count++;
    return HL_OK;
}

hl_status hl_lineset_add(hl_lineset *s, const void *line, size_t len) {
    return ls_add(s, line, len, hl_dhash_utf8(line, len, 0));
}

hl_status hl_lineset_add_batch(hl_lineset *s, const unsigned char *const *lines, const size_t *lens,
                               size_t n) {
    uint64_t h[256];
    for (size_t k = 0; k < n; k += 256) {
        size_t m = n - k < 256 ? n - k : 256;
        for (size_t j = 0; j < m; j++) {
            h[j] = hl_dhash_utf8(lines[k + j], lens[k + j], 0);
            __builtin_prefetch(&s->t[ls_home(h[j], s->mask)]);
        }
        for (size_t j = 0; j < m; j++) {
            hl_status st = ls_add(s, lines[k + j], lens[k + j], h[j]);
            if (st != HL_OK) {
                return st;
            }
        }
    }
    return HL_OK;
}
