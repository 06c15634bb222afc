/*
 * hotloop/testing.h: core functions that exist only for the test suite.
 *
 * They exercise the shared mechanisms (parallel_for, the monitor, allocation and freeing on
 * cancellation) through the real binding path, so the Ctrl-C, GIL and leak tests do not
 * depend on any one kernel.
 */
#ifndef HOTLOOP_TESTING_H
#define HOTLOOP_TESTING_H

#include "hotloop/common.h"
#include "hotloop/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Busy work: `units` work units of about `unit_ns` nanoseconds of arithmetic each, spread
 * over `n_threads` threads (0 = all CPUs) with hl_parallel_for. Each worker allocates a
 * scratch block of `scratch_bytes` for the whole call and each unit allocates and frees a
 * small block, so a cancelled call that leaked would show. *checksum receives a value that
 * depends on `units` only (not on threads or timing). Returns HL_ECANCELLED when the monitor
 * asks to stop, HL_ENOMEM when scratch cannot be allocated (nothing leaks in either case).
 */
HL_API hl_status hl_testing_busy(size_t units, uint64_t unit_ns, unsigned n_threads,
                                 size_t scratch_bytes, hl_monitor *mon, uint64_t *checksum);

/* Which distribution hl_testing_draw samples. */
typedef enum hl_testing_dist {
    HL_DIST_UNIFORM = 0,     /* [0, 1) */
    HL_DIST_NORMAL = 1,      /* N(0, 1) */
    HL_DIST_EXPONENTIAL = 2, /* rate 1 */
    HL_DIST_GAMMA = 3,       /* shape = param, scale 1 */
    HL_DIST_CHISQ = 4,       /* k = param */
    HL_DIST_RAW = 5,         /* raw 64-bit outputs, stored as their bits in out[] */
} hl_testing_dist;

/* Fills out[0..n) with draws from stream `stream` of `seed`. HL_EINVAL for an unknown
 * distribution or a parameter outside its domain. */
HL_API hl_status hl_testing_draw(hl_testing_dist dist, double param, uint64_t seed, uint64_t stream,
                                 size_t n, double *out);

#ifdef __cplusplus
}
#endif
#endif /* HOTLOOP_TESTING_H */
