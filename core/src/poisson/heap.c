/* heap.c: building, freeing and validating the blocked max-heap (see heap.h). */
#include "heap.h"

#include <stdlib.h>
#include <string.h>

hl_status hl_heap_build(hl_heap *h, size_t n, const int64_t *w, const uint32_t *tie) {
    memset(h, 0, sizeof *h);
    if (n == 0 || n >= UINT32_MAX) {
        return HL_EINVAL;
    }
    size_t nb = (n + HL_HEAP_BLOCK - 1) >> HL_HEAP_BLOCK_SHIFT;
    /* Three padding slots in front put every sibling group 4s+1..4s+4 on one cache line. */
    h->mem = hl_aligned_alloc(64, nb + 3, sizeof(hl_heap_entry));
    h->pos = hl_alloc_array(nb, sizeof(uint32_t));
    h->best = hl_alloc_array(nb, sizeof(uint32_t));
    if (h->mem == NULL || h->pos == NULL || h->best == NULL) {
        hl_heap_free(h);
        return HL_ENOMEM;
    }
    h->a = (hl_heap_entry *)h->mem + 3;
    h->w = w;
    h->tie = tie;
    h->n_ids = n;
    h->n_blocks = nb;
    h->simd = hl_cpu_resolve_level(HL_SIMD_AUTO) >= HL_SIMD_AVX512;
    for (size_t b = 0; b < nb; b++) {
        h->a[b] = hl_heap_scan(h, (uint32_t)b, &h->best[b]);
        h->pos[b] = (uint32_t)b;
    }
    for (size_t s = nb / 4 + 1; s-- > 0;) {
        if (s < nb) {
            hl_heap_sift_down(h, s);
        }
    }
    return HL_OK;
}

void hl_heap_free(hl_heap *h) {
    hl_aligned_free(h->mem);
    free(h->pos);
    free(h->best);
    memset(h, 0, sizeof *h);
}

hl_status hl_heap_validate(const hl_heap *h) {
    for (size_t s = 0; s < h->n_blocks; s++) {
        const hl_heap_entry *e = &h->a[s];
        if (e->id >= h->n_blocks || h->pos[e->id] != s) {
            return HL_EINTERNAL;
        }
        if (s > 0 && hl_heap_above(h, e, &h->a[(s - 1) / 4])) {
            return HL_EINTERNAL;
        }
        uint32_t arg;
        hl_heap_entry cur = hl_heap_scan(h, e->id, &arg);
        if (cur.w != e->w || cur.arg != e->arg || arg != h->best[e->id]) {
            return HL_EINTERNAL;
        }
    }
    return HL_OK;
}
