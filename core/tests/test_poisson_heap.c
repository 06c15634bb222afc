/* Tests of the poisson kernel's blocked max-heap kept lazily (hl_heap_top_lazy): weights are
 * lowered and ids removed behind its back, as in the elimination, and every top must be the
 * brute-force maximum (largest weight, then smallest tie). */
#include <stdlib.h>

#include "../src/poisson/heap.h"
#include "harness.h"
#include "hotloop/rng.h"

HL_TEST(poisson_lazy_heap_top_is_the_true_maximum_under_unreported_decreases) {
    const size_t sizes[] = {1, 31, 33, 3000};
    for (size_t si = 0; si < 4; si++) {
        size_t n = sizes[si];
        int64_t *w = malloc(n * sizeof *w);
        uint32_t *tie = malloc(n * sizeof *tie);
        hl_rng r;
        hl_rng_seed(&r, 17 + si);
        for (size_t i = 0; i < n; i++) {
            w[i] = (int64_t)hl_rng_below(&r, 40) * 1000; /* many equal weights */
            tie[i] = (uint32_t)((i * 7919) % n);         /* ties in a scrambled order */
        }
        hl_heap h;
        CHECK_OK(hl_heap_build(&h, n, w, tie));
        for (size_t step = 0; step < n; step++) {
            size_t best = SIZE_MAX;
            for (size_t i = 0; i < n; i++) {
                if (w[i] >= 0 && (best == SIZE_MAX || w[i] > w[best] ||
                                  (w[i] == w[best] && tie[i] < tie[best]))) {
                    best = i;
                }
            }
            uint32_t id = hl_heap_top_lazy(&h);
            CHECK_EQ_U64(id, best);
            w[id] = -1;                   /* removed, unreported */
            for (int k = 0; k < 8; k++) { /* lower weights near it and anywhere, unreported */
                size_t j = k < 6 ? (id + hl_rng_below(&r, 100)) % n : hl_rng_below(&r, n);
                if (w[j] >= 0) {
                    int64_t dec = (int64_t)hl_rng_below(&r, 3) * 1000 + (int64_t)(k & 1);
                    w[j] = w[j] > dec ? w[j] - dec : 0;
                }
            }
        }
        hl_heap_free(&h);
        free(w);
        free(tie);
    }
}
