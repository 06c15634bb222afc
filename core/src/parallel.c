/* Fork-join parallel_for on pthreads. See hotloop/parallel.h. */
#include "hotloop/parallel.h"

#include "monotonic_wait.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

/* How long the calling thread sleeps between monitor polls while it waits for the other
 * workers to finish their chunks. Short enough for a 0.1 s Ctrl-C answer. */
#define HL_JOIN_POLL_NS 5000000L

typedef struct loop {
    size_t n, grain, n_chunks;
    hl_range_fn fn;
    void *ctx;
    atomic_size_t next_chunk;
    atomic_int stop;
    atomic_int status;     /* first non-OK status, else HL_OK */
    atomic_int *user_stop; /* the bodies' view of `stop` (hl_parallel_for_stop), or NULL */
    pthread_mutex_t lock;
    pthread_cond_t all_done;
    unsigned running; /* helper threads not yet finished (under lock) */
} loop;

typedef struct worker_arg {
    loop *lp;
    unsigned worker;
} worker_arg;

unsigned hl_cpu_count(void) {
    long n = -1;
#ifdef __linux__
    /* The affinity mask (taskset, cgroup cpusets, job schedulers): the CPUs this process may
     * run on, which can be far fewer than the machine's. The mask is grown until the kernel's
     * fits (EINVAL means too small). */
    for (int ncpu = 1024; n < 0 && ncpu <= (1 << 22); ncpu *= 8) {
        cpu_set_t *set = CPU_ALLOC((size_t)ncpu);
        if (set == NULL) {
            break;
        }
        size_t size = CPU_ALLOC_SIZE((size_t)ncpu);
        int failed = sched_getaffinity(0, size, set) != 0;
        int too_small = failed && errno == EINVAL;
        if (!failed) {
            n = CPU_COUNT_S(size, set);
        }
        CPU_FREE(set);
        if (failed && !too_small) {
            break;
        }
    }
#endif
    if (n < 1) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
    }
    if (n < 1) {
        return 1;
    }
    return n > HL_MAX_THREADS ? HL_MAX_THREADS : (unsigned)n;
}

unsigned hl_parallel_threads(size_t n, size_t grain, unsigned n_threads) {
    if (grain == 0) {
        grain = 1;
    }
    size_t chunks = n / grain + (n % grain != 0);
    size_t t = n_threads == 0 ? hl_cpu_count() : n_threads;
    if (t > chunks) {
        t = chunks;
    }
    if (t > HL_MAX_THREADS) {
        t = HL_MAX_THREADS;
    }
    return t == 0 ? 1u : (unsigned)t;
}

static void record_status(loop *lp, hl_status st) {
    int expected = HL_OK;
    atomic_compare_exchange_strong(&lp->status, &expected, (int)st);
    atomic_store(&lp->stop, 1);
    if (lp->user_stop != NULL) {
        atomic_store(lp->user_stop, 1);
    }
}

/* Runs chunks until none are left or the loop is stopped. Worker 0 (the calling thread)
 * polls the monitor between chunks. */
static void run_chunks(loop *lp, unsigned worker, hl_monitor *mon) {
    while (!atomic_load_explicit(&lp->stop, memory_order_relaxed)) {
        if (worker == 0) {
            hl_status st = hl_monitor_poll(mon);
            if (st != HL_OK) {
                record_status(lp, st);
                return;
            }
        }
        size_t c = atomic_fetch_add_explicit(&lp->next_chunk, 1, memory_order_relaxed);
        if (c >= lp->n_chunks) {
            return;
        }
        size_t begin = c * lp->grain;
        size_t end = begin + lp->grain;
        if (end > lp->n || end < begin) {
            end = lp->n;
        }
        hl_status st = lp->fn(lp->ctx, begin, end, worker);
        if (st != HL_OK) {
            record_status(lp, st);
            return;
        }
    }
}

static void *worker_main(void *p) {
    worker_arg *arg = p;
    loop *lp = arg->lp;
    run_chunks(lp, arg->worker, NULL);
    pthread_mutex_lock(&lp->lock);
    lp->running--;
    pthread_cond_signal(&lp->all_done);
    pthread_mutex_unlock(&lp->lock);
    return NULL;
}

hl_status hl_parallel_for(size_t n, size_t grain, unsigned n_threads, hl_range_fn fn, void *ctx,
                          hl_monitor *mon) {
    return hl_parallel_for_stop(n, grain, n_threads, fn, ctx, mon, NULL);
}

hl_status hl_parallel_for_stop(size_t n, size_t grain, unsigned n_threads, hl_range_fn fn,
                               void *ctx, hl_monitor *mon, atomic_int *stop) {
    if (fn == NULL) {
        return HL_EINVAL;
    }
    if (n == 0) {
        return HL_OK;
    }
    if (grain == 0) {
        grain = 1;
    }
    loop lp = {
        .n = n,
        .grain = grain,
        .n_chunks = n / grain + (n % grain != 0),
        .fn = fn,
        .ctx = ctx,
        .user_stop = stop,
    };
    atomic_init(&lp.next_chunk, 0);
    atomic_init(&lp.stop, 0);
    atomic_init(&lp.status, HL_OK);
    const unsigned want = hl_parallel_threads(n, grain, n_threads);

    if (want == 1) {
        run_chunks(&lp, 0, mon);
        return (hl_status)atomic_load(&lp.status);
    }

    pthread_t threads[HL_MAX_THREADS];
    worker_arg args[HL_MAX_THREADS];
    pthread_mutex_init(&lp.lock, NULL);
    /* Timed waits use CLOCK_MONOTONIC so a clock change cannot stall the join. */
    (void)hl_cond_init_monotonic(&lp.all_done);

    unsigned started = 0;
    pthread_mutex_lock(&lp.lock);
    for (unsigned w = 1; w < want; w++) {
        args[w].lp = &lp;
        args[w].worker = w;
        lp.running++;
        if (pthread_create(&threads[w], NULL, worker_main, &args[w]) != 0) {
            /* Fewer threads than asked: the chunks are shared dynamically, so the
             * threads that did start (and the caller) still cover all the work. */
            lp.running--;
            break;
        }
        started = w;
    }
    pthread_mutex_unlock(&lp.lock);

    run_chunks(&lp, 0, mon);

    pthread_mutex_lock(&lp.lock);
    while (lp.running > 0) {
        const struct timespec ts = hl_monotonic_after_ns(HL_JOIN_POLL_NS);
        int rc = pthread_cond_timedwait(&lp.all_done, &lp.lock, &ts);
        if (rc == ETIMEDOUT && lp.running > 0) {
            pthread_mutex_unlock(&lp.lock);
            hl_status st = hl_monitor_poll(mon);
            if (st != HL_OK) {
                record_status(&lp, st);
            }
            pthread_mutex_lock(&lp.lock);
        }
    }
    pthread_mutex_unlock(&lp.lock);
    for (unsigned w = 1; w <= started; w++) {
        pthread_join(threads[w], NULL);
    }
    pthread_cond_destroy(&lp.all_done);
    pthread_mutex_destroy(&lp.lock);
    return (hl_status)atomic_load(&lp.status);
}

/* hl_populate_for_write hands out 2 MB blocks (a transparent huge page on x86-64 Linux), so
 * that each huge page is faulted, and zeroed, by one worker. */
#define HL_POPULATE_BLOCK ((uintptr_t)2 << 20)
#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels answer EINVAL, and nothing happens */
#endif

typedef struct populate_ctx {
    uintptr_t lo, hi; /* the range, rounded inwards to whole pages */
    uintptr_t first;  /* lo rounded down to a block */
} populate_ctx;

static hl_status populate_body(void *p, size_t begin, size_t end, unsigned worker) {
    (void)worker;
    const populate_ctx *pc = p;
    uintptr_t a = pc->first + begin * HL_POPULATE_BLOCK;
    uintptr_t b = pc->first + end * HL_POPULATE_BLOCK;
    a = a < pc->lo ? pc->lo : a;
    b = b > pc->hi ? pc->hi : b;
#ifdef __linux__
    if (a < b) {
        /* a hint: failure (old kernel, unmapped range) leaves the pages to be faulted as
         * they are written */
        (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
    }
#endif
    return HL_OK;
}

void hl_populate_for_write(void *p, size_t bytes, unsigned n_threads, hl_monitor *mon) {
    const long page_size = sysconf(_SC_PAGESIZE);
    const uintptr_t page = page_size > 0 ? (uintptr_t)page_size : (uintptr_t)4096;
    const uintptr_t start = (uintptr_t)p;
    if (p == NULL || bytes > UINTPTR_MAX - start) {
        return;
    }
    populate_ctx pc = {
        .lo = (start + page - 1) / page * page,
        .hi = (start + bytes) / page * page,
        .first = start / HL_POPULATE_BLOCK * HL_POPULATE_BLOCK,
    };
    if (pc.hi <= pc.lo) {
        return;
    }
    const size_t n_blocks = (size_t)((pc.hi - pc.first - 1) / HL_POPULATE_BLOCK + 1);
    (void)hl_parallel_for(n_blocks, 1, n_threads, populate_body, &pc, mon);
}
