/* Tests of common.h: status names, overflow-checked sizes and allocation, the monitor. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

HL_TEST(common_strerror_names_every_status) {
    for (int s = HL_OK; s <= HL_EINTERNAL; s++) {
        const char *name = hl_strerror((hl_status)s);
        CHECK(name != NULL);
        CHECK(strcmp(name, "unknown status") != 0);
    }
    CHECK(strcmp(hl_strerror((hl_status)999), "unknown status") == 0);
    CHECK(hl_version() == HL_VERSION);
}

HL_TEST(common_size_arithmetic_detects_overflow) {
    size_t out = 0;
    CHECK(hl_size_mul(3, 7, &out) && out == 21);
    CHECK(!hl_size_mul(SIZE_MAX / 2 + 1, 2, &out));
    CHECK(hl_size_mul(0, SIZE_MAX, &out) && out == 0);
    CHECK(hl_size_add(SIZE_MAX - 1, 1, &out) && out == SIZE_MAX);
    CHECK(!hl_size_add(SIZE_MAX, 1, &out));
}

HL_TEST(common_alloc_refuses_overflowing_sizes) {
    CHECK(hl_alloc_array(SIZE_MAX / 4, 8) == NULL);
    CHECK(hl_calloc_array(SIZE_MAX / 4, 8) == NULL);
    CHECK(hl_aligned_alloc(64, SIZE_MAX / 4, 8) == NULL);
    CHECK(hl_aligned_alloc(3, 1, 8) == NULL); /* not a power of two */
    double *p = hl_alloc_array(100, sizeof *p);
    CHECK(p != NULL);
    free(p);
    int *z = hl_calloc_array(1000, sizeof *z);
    CHECK(z != NULL);
    int nonzero = 0;
    for (int i = 0; i < 1000; i++) {
        nonzero |= z[i];
    }
    CHECK(nonzero == 0);
    free(z);
    void *a = hl_aligned_alloc(64, 3, 10);
    CHECK(a != NULL && ((uintptr_t)a % 64) == 0);
    hl_aligned_free(a);
    hl_aligned_free(NULL);
    void *empty = hl_alloc_array(0, 8);
    free(empty);
}

HL_TEST(common_large_arrays_are_plain_arrays_with_advice) {
    /* hl_alloc_large_array: the overflow check of hl_alloc_array, and a buffer that holds what
     * is written to it at any size, below HL_HUGE_PAGES_MIN (no advice), at a size that is not
     * a whole number of pages, and well above it; hl_advise_huge takes any range, NULL and
     * sizes below its minimum included (advice only, nothing to check but that it returns). */
    CHECK(hl_alloc_large_array(SIZE_MAX / 4, 8) == NULL);
    const size_t sizes[] = {1, 4096, HL_HUGE_PAGES_MIN / 8 + 3, 3 * HL_HUGE_PAGES_MIN / 8 + 1};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const size_t n = sizes[s];
        double *a = hl_alloc_large_array(n, sizeof *a);
        CHECK(a != NULL);
        if (a != NULL) {
            for (size_t i = 0; i < n; i++) {
                a[i] = (double)i;
            }
            int same = 1;
            for (size_t i = 0; i < n; i++) {
                same &= a[i] == (double)i;
            }
            CHECK(same);
            hl_advise_huge(a + 1, (n - 1) * sizeof *a, 0); /* an unaligned start */
            CHECK(a[n - 1] == (double)(n - 1));
            free(a);
        }
    }
    hl_advise_huge(NULL, HL_HUGE_PAGES_MIN, 0);
    char small[64];
    hl_advise_huge(small, sizeof small, 0); /* less than a page: nothing advised */
}

static int stop_after(void *ctx) {
    int *calls = ctx;
    return ++*calls >= 3;
}

HL_TEST(common_monitor_polls_and_counts) {
    CHECK_OK(hl_monitor_poll(NULL));
    hl_monitor_add(NULL, 5);
    int calls = 0;
    hl_monitor mon;
    hl_monitor_init(&mon, stop_after, &calls);
    hl_monitor_begin(&mon, 10);
    CHECK_OK(hl_monitor_poll(&mon));
    CHECK_OK(hl_monitor_poll(&mon));
    CHECK_STATUS(hl_monitor_poll(&mon), HL_ECANCELLED);
    hl_monitor_add(&mon, 4);
    CHECK_EQ_U64(atomic_load(&mon.done), 4);
    CHECK_EQ_U64(mon.total, 10);
}
