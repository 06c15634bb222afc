/*
 * hotloop/parallel.h: a small fork-join parallel_for on pthreads.
 *
 * Threads are created per call (no pool, no global state; Python may fork at any time, and a
 * pool would hang a forked child the way libgomp does). The calling thread takes part as
 * worker 0 and is the only one that polls the monitor, so a check callback that needs the
 * calling thread (the binding's Ctrl-C check takes the GIL) is safe.
 */
#ifndef HOTLOOP_PARALLEL_H
#define HOTLOOP_PARALLEL_H

#include "hotloop/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Upper bound on the threads one call uses (more are clamped to it). */
#define HL_MAX_THREADS 256

/* The body of a parallel loop: processes items [begin, end) as `worker` (0 <= worker <
 * the number of threads actually used, so per-worker scratch can be indexed by it).
 * Returns HL_OK, or a status that stops the whole loop (the first non-OK status wins).
 * May call hl_monitor_add from any worker. Worker 0 always runs on the calling thread, so a body
 * whose chunks take longer than about a millisecond may poll the monitor when worker == 0 (and
 * return HL_ECANCELLED); other workers must never call the check. */
typedef hl_status (*hl_range_fn)(void *ctx, size_t begin, size_t end, unsigned worker);

/* The CPUs this process may run on: its affinity mask on Linux, else the online CPUs;
 * 1 .. HL_MAX_THREADS. */
HL_API unsigned hl_cpu_count(void);

/* Threads a loop over `n` items with chunks of `grain` items uses when asked for
 * `n_threads` (0 = all CPUs): min(n_threads, ceil(n / grain), HL_MAX_THREADS), at least 1.
 * Callers size their per-worker scratch with it. */
HL_API unsigned hl_parallel_threads(size_t n, size_t grain, unsigned n_threads);

/*
 * Runs fn over [0, n) in chunks of `grain` items (grain 0 is taken as 1), handed out
 * dynamically to hl_parallel_threads(n, grain, n_threads) workers. Which worker gets which
 * chunk varies from run to run, so a body whose result must not depend on the thread count
 * writes per-item (or per-chunk) results, never per-worker accumulations.
 *
 * Between chunks the calling thread polls `mon` (may be NULL); once the check asks to stop,
 * or a body returns non-OK, no new chunk starts, the running ones finish, and the call
 * returns HL_ECANCELLED or the body's status. Returns HL_ENOMEM if threads cannot be created
 * (the work is then done on the calling thread alone: never a partial result with HL_OK).
 * n == 0 returns HL_OK without calling fn. Thread-safe; reentrant.
 */
HL_API hl_status hl_parallel_for(size_t n, size_t grain, unsigned n_threads, hl_range_fn fn,
                                 void *ctx, hl_monitor *mon);

/*
 * hl_parallel_for that also tells its bodies when the loop stops: *stop (when not NULL) is set
 * to 1 as soon as the monitor's check asks to stop, at any of the calling thread's polls, those
 * it makes while it waits for the other workers included, or a body returns non-OK. It is
 * never cleared (the caller initialises it). A body whose chunks can run long, with other
 * workers than worker 0 or while worker 0 waits, reads *stop inside its chunk and returns
 * HL_ECANCELLED: only worker 0 may poll the monitor itself, and once it has no chunk left it
 * cannot, so without the flag a cancellation would wait for the longest running chunk.
 */
HL_API hl_status hl_parallel_for_stop(size_t n, size_t grain, unsigned n_threads, hl_range_fn fn,
                                      void *ctx, hl_monitor *mon, atomic_int *stop);

/* Makes the whole pages inside [p, p + bytes) resident and writable, as a write to each
 * would, without changing a byte (MADV_POPULATE_WRITE, Linux 5.14 and later; elsewhere, and
 * where the kernel refuses, nothing happens). The range's 2 MB blocks go to up to n_threads
 * workers (hl_parallel_for; `mon` is polled between blocks). Call it before threads write
 * neighbouring chunks of a fresh buffer: two threads that fault the same fresh huge page at
 * once may each zero a page of their own, one of which is thrown away (on this project's
 * machine, touching a fresh 128 MB array from two threads in interleaved chunks took longer
 * than from one thread; see docs/julia.md). */
HL_API void hl_populate_for_write(void *p, size_t bytes, unsigned n_threads, hl_monitor *mon);

#ifdef __cplusplus
}
#endif
#endif /* HOTLOOP_PARALLEL_H */
