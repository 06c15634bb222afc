/* The tmodel kernel's sort (see sort.h). */
#include "sort.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Below this many values qsort is faster than clearing and walking eight histograms. */
#define HL_TM_SORT_SMALL 4096

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The order-preserving unsigned key of a double: flip every bit of a negative one, only the
 * sign bit of a positive one (so keys compare as the doubles do, -0.0 just below +0.0). */
static inline uint64_t to_key(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u ^ ((uint64_t)(-(int64_t)(u >> 63)) | UINT64_C(0x8000000000000000));
}

static inline double from_key(uint64_t k) {
    const uint64_t u = k ^ (((k >> 63) - 1) | UINT64_C(0x8000000000000000));
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Leaves the doubles of the keys in src (n of them) in a. */
static void keys_back(double *a, const uint64_t *src, size_t n) {
    if (src != (const uint64_t *)(const void *)a) {
        memcpy(a, src, n * sizeof *a);
    }
    uint64_t *k = (uint64_t *)(void *)a;
    for (size_t i = 0; i < n; i++) {
        a[i] = from_key(k[i]);
    }
}

hl_status hl_tm_sort(double *a, size_t n, double *tmp, hl_monitor *mon) {
    return hl_tm_sort_with(a, n, tmp, mon, HL_TM_SORT_POLL_ELEMENTS, HL_TM_SORT_SMALL);
}

hl_status hl_tm_sort_with(double *a, size_t n, double *tmp, hl_monitor *mon, size_t poll_every,
                          size_t small) {
    if (n < small || n < 2) {
        qsort(a, n, sizeof *a, cmp_double);
        return HL_OK;
    }
    /* The keys go in the arrays' own storage (same size), one 8-bit digit per pass, least
     * significant first; a pass whose digit is the same for every key is skipped. */
    uint64_t *src = (uint64_t *)(void *)a, *dst = (uint64_t *)(void *)tmp;
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i0 = 0; i0 < n; i0 += poll_every) {
        const size_t i1 = n - i0 < poll_every ? n : i0 + poll_every;
        for (size_t i = i0; i < i1; i++) {
            const uint64_t k = to_key(a[i]);
            src[i] = k;
            for (int d = 0; d < 8; d++) {
                count[d][(k >> (8 * d)) & 0xFF]++;
            }
        }
        if (hl_monitor_poll(mon) != HL_OK) {
            return HL_ECANCELLED; /* a[] is scratch to the caller: no conversion back */
        }
    }
    for (int d = 0; d < 8; d++) {
        if (count[d][(src[0] >> (8 * d)) & 0xFF] == n) {
            continue; /* one value of this digit: the order stands */
        }
        size_t at[256], sum = 0;
        for (int b = 0; b < 256; b++) {
            at[b] = sum;
            sum += count[d][b];
        }
        for (size_t i0 = 0; i0 < n; i0 += poll_every) {
            const size_t i1 = n - i0 < poll_every ? n : i0 + poll_every;
            for (size_t i = i0; i < i1; i++) {
                dst[at[(src[i] >> (8 * d)) & 0xFF]++] = src[i];
            }
            if (hl_monitor_poll(mon) != HL_OK) {
                return HL_ECANCELLED;
            }
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    keys_back(a, src, n);
    return HL_OK;
}
