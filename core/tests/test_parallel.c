/* Tests of hl_parallel_for: coverage of every item exactly once, worker indices, early stop on
 * error and on cancellation, thread-count edge cases; and of hl_populate_for_write. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <errno.h>
#include <sys/mman.h>
#endif

#include "harness.h"
#include "hotloop/parallel.h"

typedef struct cover_ctx {
    atomic_int *hits;
    unsigned max_worker_seen;
    unsigned n_workers;
    atomic_int bad_worker;
} cover_ctx;

static hl_status cover(void *p, size_t begin, size_t end, unsigned worker) {
    cover_ctx *c = p;
    if (worker >= c->n_workers) {
        atomic_store(&c->bad_worker, 1);
    }
    for (size_t i = begin; i < end; i++) {
        atomic_fetch_add(&c->hits[i], 1);
    }
    return HL_OK;
}

HL_TEST(parallel_covers_every_item_once) {
    const size_t sizes[] = {1, 2, 7, 100, 1001, 65537};
    const size_t grains[] = {1, 3, 64, 100000};
    const unsigned threads[] = {0, 1, 2, 3, 8, 1000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (size_t gi = 0; gi < sizeof grains / sizeof grains[0]; gi++) {
            for (size_t ti = 0; ti < sizeof threads / sizeof threads[0]; ti++) {
                const size_t n = sizes[si];
                atomic_int *hits = calloc(n, sizeof *hits);
                cover_ctx c = {.hits = hits,
                               .n_workers = hl_parallel_threads(n, grains[gi], threads[ti])};
                atomic_init(&c.bad_worker, 0);
                CHECK_OK(hl_parallel_for(n, grains[gi], threads[ti], cover, &c, NULL));
                int ok = 1;
                for (size_t i = 0; i < n; i++) {
                    ok &= atomic_load(&hits[i]) == 1;
                }
                CHECK(ok);
                CHECK(atomic_load(&c.bad_worker) == 0);
                free(hits);
            }
        }
    }
}

static hl_status cover_none(void *p, size_t begin, size_t end, unsigned worker) {
    (void)p;
    (void)begin;
    (void)end;
    (void)worker;
    return HL_OK;
}

HL_TEST(parallel_thread_counts) {
    CHECK(hl_cpu_count() >= 1);
    CHECK(hl_parallel_threads(0, 1, 4) == 1);
    CHECK(hl_parallel_threads(10, 1, 4) == 4);
    CHECK(hl_parallel_threads(10, 5, 4) == 2);
    CHECK(hl_parallel_threads(10, 0, 4) == 4);
    CHECK(hl_parallel_threads(1000000, 1, 100000) == HL_MAX_THREADS);
    CHECK(hl_parallel_threads(1000, 1, 0) == (hl_cpu_count() < 1000 ? hl_cpu_count() : 1000));
    CHECK_OK(hl_parallel_for(0, 1, 4, cover, NULL, NULL));
    CHECK_STATUS(hl_parallel_for(10, 1, 4, NULL, NULL, NULL), HL_EINVAL);
}

typedef struct fail_ctx {
    size_t fail_at;
    atomic_size_t processed;
} fail_ctx;

static hl_status fail_at(void *p, size_t begin, size_t end, unsigned worker) {
    (void)worker;
    fail_ctx *c = p;
    for (size_t i = begin; i < end; i++) {
        if (i == c->fail_at) {
            return HL_ENUMERIC;
        }
        atomic_fetch_add(&c->processed, 1);
    }
    return HL_OK;
}

HL_TEST(parallel_body_error_stops_the_loop) {
    for (unsigned t = 1; t <= 4; t++) {
        fail_ctx c = {.fail_at = 10};
        atomic_init(&c.processed, 0);
        CHECK_STATUS(hl_parallel_for(1000000, 1, t, fail_at, &c, NULL), HL_ENUMERIC);
        /* It stopped early: far fewer than all items were processed. */
        CHECK(atomic_load(&c.processed) < 1000000);
    }
}

typedef struct slow_ctx {
    atomic_size_t processed;
} slow_ctx;

static hl_status slow_body(void *p, size_t begin, size_t end, unsigned worker) {
    (void)worker;
    slow_ctx *c = p;
    for (size_t i = begin; i < end; i++) {
        volatile double x = 0;
        for (int k = 0; k < 2000; k++) {
            x += k;
        }
        atomic_fetch_add(&c->processed, 1);
    }
    return HL_OK;
}

static int cancel_after_polls(void *ctx) {
    int *polls = ctx;
    return ++*polls > 5;
}

HL_TEST(parallel_cancellation_stops_early) {
    for (unsigned t = 1; t <= 3; t++) {
        slow_ctx c;
        atomic_init(&c.processed, 0);
        int polls = 0;
        hl_monitor mon;
        hl_monitor_init(&mon, cancel_after_polls, &polls);
        CHECK_STATUS(hl_parallel_for(10000000, 1, t, slow_body, &c, &mon), HL_ECANCELLED);
        CHECK(atomic_load(&c.processed) < 10000000);
        CHECK(polls >= 6);
    }
}

typedef struct flag_ctx {
    atomic_int stop, helper_started, helper_saw_stop;
} flag_ctx;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Worker 0 hands the other item to a helper and finishes; the helper's chunk runs until the
 * loop's flag says stop (or 5 s pass, the failure). */
static hl_status long_helper_chunk(void *p, size_t begin, size_t end, unsigned worker) {
    (void)begin;
    (void)end;
    flag_ctx *c = p;
    const double t0 = now_s();
    if (worker == 0) {
        while (!atomic_load(&c->helper_started) && now_s() - t0 < 5.0) {
        }
        return HL_OK;
    }
    atomic_store(&c->helper_started, 1);
    while (now_s() - t0 < 5.0) {
        if (atomic_load(&c->stop)) {
            atomic_store(&c->helper_saw_stop, 1);
            return HL_ECANCELLED;
        }
    }
    return HL_OK;
}

static int cancel_on_third_poll(void *ctx) {
    int *polls = ctx;
    return ++*polls >= 3;
}

/* A cancellation seen by the calling thread while it waits for the others (it has no chunk
 * left) reaches the bodies through the flag of hl_parallel_for_stop. */
HL_TEST(parallel_stop_flag_reaches_a_long_chunk_of_another_worker) {
    flag_ctx c;
    atomic_init(&c.stop, 0);
    atomic_init(&c.helper_started, 0);
    atomic_init(&c.helper_saw_stop, 0);
    int polls = 0;
    hl_monitor mon;
    hl_monitor_init(&mon, cancel_on_third_poll, &polls);
    const double t0 = now_s();
    CHECK_STATUS(hl_parallel_for_stop(2, 1, 2, long_helper_chunk, &c, &mon, &c.stop),
                 HL_ECANCELLED);
    CHECK(atomic_load(&c.stop) == 1);
    CHECK(atomic_load(&c.helper_saw_stop) == 1);
    CHECK(now_s() - t0 < 1.0);
    /* A body's failure sets the flag too; NULL is hl_parallel_for. */
    fail_ctx f = {.fail_at = 10};
    atomic_init(&f.processed, 0);
    atomic_int stop;
    atomic_init(&stop, 0);
    CHECK_STATUS(hl_parallel_for_stop(100, 1, 2, fail_at, &f, NULL, &stop), HL_ENUMERIC);
    CHECK(atomic_load(&stop) == 1);
    CHECK_OK(hl_parallel_for_stop(100, 1, 2, cover_none, NULL, NULL, NULL));
}

/* hl_populate_for_write never changes a byte, whatever the range's alignment and the thread
 * count, and ignores empty and sub-page ranges. */
HL_TEST(populate_keeps_every_byte) {
    const size_t size = ((size_t)9 << 20) + 12345;
    unsigned char *buf = malloc(size);
    CHECK(buf != NULL);
    if (buf == NULL) {
        return;
    }
    for (size_t i = 0; i < size; i++) {
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    }
    const size_t offsets[] = {0, 1, 4095, 4097, 70000};
    const unsigned threads[] = {0, 1, 2, 3, 8};
    for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
        hl_populate_for_write(buf + offsets[k], size - offsets[k] - 7, threads[k], NULL);
    }
    hl_populate_for_write(buf + 3, 100, 2, NULL);
    hl_populate_for_write(buf, 0, 2, NULL);
    hl_populate_for_write(NULL, 1000, 2, NULL);
    int same = 1;
    for (size_t i = 0; i < size; i++) {
        same &= buf[i] == (unsigned char)(i * 2654435761u >> 13);
    }
    CHECK(same);
    free(buf);
}

#ifdef __linux__
/* On a fresh anonymous mapping every whole page of the range is resident afterwards (where
 * the kernel has MADV_POPULATE_WRITE: Linux 5.14 and later), and the pages outside it are
 * not touched. */
HL_TEST(populate_makes_pages_resident) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t n_pages = ((size_t)10 << 20) / page;
    unsigned char *map =
        mmap(NULL, n_pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    if (map == MAP_FAILED) {
        return;
    }
    (void)madvise(map, n_pages * page, MADV_NOHUGEPAGE); /* a huge page would spill over */
    const int supported = madvise(map, page, 23 /* MADV_POPULATE_WRITE */) == 0 || errno != EINVAL;
    /* pages 2 .. n_pages - 3, given as a range that starts and ends inside pages 1 and
     * n_pages - 2 (only whole pages are populated) */
    hl_populate_for_write(map + page + page / 2, (n_pages - 3) * page, 2, NULL);
    unsigned char *vec = malloc(n_pages);
    CHECK(vec != NULL && mincore(map, n_pages * page, vec) == 0);
    if (vec != NULL && supported) {
        int inside = 1;
        for (size_t i = 2; i < n_pages - 2; i++) {
            inside &= vec[i] & 1;
        }
        CHECK(inside);
        CHECK((vec[1] & 1) == 0 && (vec[n_pages - 2] & 1) == 0 && (vec[n_pages - 1] & 1) == 0);
    }
    free(vec);
    munmap(map, n_pages * page);
}
#endif
