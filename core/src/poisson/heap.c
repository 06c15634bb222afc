/* heap.c: building, freeing and validating the indexed 4-ary max-heap (see heap.h). */
#include "heap.h"

#include <stdlib.h>
#include <string.h>

hl_status hl_heap_build(hl_heap *h, size_t n, const int64_t *w, const uint32_t *tie) {
    memset(h, 0, sizeof *h);
    if (n >= UINT32_MAX) {
        return HL_EINVAL;
    }
    /* Three padding slots in front put every sibling group 4s+1..4s+4 on one cache line. */
    h->mem = hl_aligned_alloc(64, n + 3, sizeof(hl_heap_entry));
    h->pos = hl_alloc_array(n + 1, sizeof(uint32_t));
    if (h->mem == NULL || h->pos == NULL) {
        hl_heap_free(h);
        return HL_ENOMEM;
    }
    h->a = (hl_heap_entry *)h->mem + 3;
    h->size = h->n_ids = n;
    for (size_t i = 0; i < n; i++) {
        h->a[i] = (hl_heap_entry){.w = w[i], .tie = tie[i], .id = (uint32_t)i};
        h->pos[i] = (uint32_t)i;
    }
    for (size_t s = n / 4 + 1; s-- > 0;) {
        if (s < n) {
            hl_heap_sift_down(h, s);
        }
    }
    return HL_OK;
}

void hl_heap_free(hl_heap *h) {
    hl_aligned_free(h->mem);
    free(h->pos);
    memset(h, 0, sizeof *h);
}

hl_status hl_heap_validate(const hl_heap *h) {
    size_t in_heap = 0;
    for (size_t s = 0; s < h->size; s++) {
        const hl_heap_entry *e = &h->a[s];
        if (e->id >= h->n_ids || h->pos[e->id] != s) {
            return HL_EINTERNAL;
        }
        if (s > 0 && hl_heap_above(e, &h->a[(s - 1) / 4])) {
            return HL_EINTERNAL;
        }
    }
    for (size_t id = 0; id < h->n_ids; id++) {
        if (h->pos[id] != HL_HEAP_GONE) {
            if (h->pos[id] >= h->size) {
                return HL_EINTERNAL;
            }
            in_heap++;
        }
    }
    return in_heap == h->size ? HL_OK : HL_EINTERNAL;
}
