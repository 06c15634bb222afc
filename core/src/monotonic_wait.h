/*
 * monotonic_wait.h: timed waits on condition variables against CLOCK_MONOTONIC, which a
 * change of the date cannot move (private to the core: parallel.c, tmodel/gibbs.c).
 */
#ifndef HOTLOOP_MONOTONIC_WAIT_H
#define HOTLOOP_MONOTONIC_WAIT_H

#include <pthread.h>
#include <time.h>

/* Initialises *cond with its timed waits measured on CLOCK_MONOTONIC; 0 or an error code as
 * pthread_cond_init returns it. */
static inline int hl_cond_init_monotonic(pthread_cond_t *cond) {
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc != 0) {
        return rc;
    }
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0) {
        rc = pthread_cond_init(cond, &attr);
    }
    pthread_condattr_destroy(&attr);
    return rc;
}

/* The CLOCK_MONOTONIC time `ns` nanoseconds from now (0 <= ns < 1 s), for
 * pthread_cond_timedwait on a condition from hl_cond_init_monotonic. */
static inline struct timespec hl_monotonic_after_ns(long ns) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_nsec += ns;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

#endif /* HOTLOOP_MONOTONIC_WAIT_H */
