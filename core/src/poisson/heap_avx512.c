/*
 * heap_avx512.c: the AVX-512 variant of the blocked heap's block scan (hl_heap_scan, heap.h),
 * compiled with the AVX-512 flags alone and chosen at run time by hl_heap_build. The scalar
 * scan's running maximum mispredicts a branch a few times per block; here a block is a few
 * vector maxima and one compare, and the ties are read only where several ids share the
 * maximum, as in the scalar scan.
 */
#include <immintrin.h>

#include "heap.h"

hl_heap_entry hl_heap_scan_avx512(const hl_heap *h, uint32_t b, uint32_t *best_id) {
    const size_t begin = (size_t)b << HL_HEAP_BLOCK_SHIFT;
    const size_t len = begin + HL_HEAP_BLOCK < h->n_ids ? HL_HEAP_BLOCK : h->n_ids - begin;
    const int64_t *w = h->w + begin;
    const __m512i gone = _mm512_set1_epi64(-1); /* ids past the end read as removed */
    __m512i v[HL_HEAP_BLOCK / 8], top = gone;
    for (size_t k = 0; k < HL_HEAP_BLOCK / 8; k++) {
        size_t left = len > 8 * k ? len - 8 * k : 0;
        unsigned bits = left >= 8 ? 0xFFu : (1u << left) - 1u;
        v[k] = _mm512_mask_loadu_epi64(gone, (__mmask8)bits, w + 8 * k);
        top = _mm512_max_epi64(top, v[k]);
    }
    int64_t bw = _mm512_reduce_max_epi64(top);
    size_t arg = begin;
    if (bw >= 0) {
        /* Every live id with the maximum weight; the smallest tie among them wins. */
        const __m512i want = _mm512_set1_epi64(bw);
        uint64_t eq = 0;
        for (size_t k = 0; k < HL_HEAP_BLOCK / 8; k++) {
            eq |= (uint64_t)_mm512_cmpeq_epi64_mask(v[k], want) << (8 * k);
        }
        arg = begin + (size_t)__builtin_ctzll(eq);
        for (eq &= eq - 1; eq != 0; eq &= eq - 1) {
            size_t i = begin + (size_t)__builtin_ctzll(eq);
            arg = h->tie[i] < h->tie[arg] ? i : arg;
        }
    } else {
        bw = -1; /* every id removed */
    }
    hl_heap_entry e = {.w = bw, .arg = (uint32_t)arg, .id = b};
    *best_id = (uint32_t)arg;
    return e;
}
