/* Test-only core functions. See hotloop/testing.h. */
#include "hotloop/testing.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hotloop/parallel.h"

typedef struct busy_ctx {
    uint64_t unit_ns;
    unsigned char **scratch; /* one block per worker */
    uint64_t *unit_sums;     /* per unit, so the checksum does not depend on threads */
    hl_monitor *mon;
} busy_ctx;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static hl_status busy_range(void *p, size_t begin, size_t end, unsigned worker) {
    busy_ctx *c = p;
    for (size_t u = begin; u < end; u++) {
        unsigned char *tmp = malloc(256);
        if (tmp == NULL) {
            return HL_ENOMEM;
        }
        uint64_t state = u, acc = 0;
        const uint64_t t0 = now_ns();
        do {
            for (int i = 0; i < 64; i++) {
                acc += hl_splitmix64(&state);
            }
        } while (now_ns() - t0 < c->unit_ns);
        memset(tmp, (int)(acc & 0xFF), 256);
        c->scratch[worker][0] ^= tmp[0];
        free(tmp);
        uint64_t s = u;
        c->unit_sums[u] = hl_splitmix64(&s);
        hl_monitor_add(c->mon, 1);
    }
    return HL_OK;
}

hl_status hl_testing_busy(size_t units, uint64_t unit_ns, unsigned n_threads, size_t scratch_bytes,
                          hl_monitor *mon, uint64_t *checksum) {
    const size_t grain = 1;
    const unsigned workers = hl_parallel_threads(units, grain, n_threads);
    hl_status st = HL_ENOMEM;
    busy_ctx c = {.unit_ns = unit_ns, .mon = mon};
    c.scratch = hl_calloc_array(workers, sizeof *c.scratch);
    c.unit_sums = hl_alloc_array(units, sizeof *c.unit_sums);
    if (c.scratch == NULL || c.unit_sums == NULL) {
        goto done;
    }
    for (unsigned w = 0; w < workers; w++) {
        c.scratch[w] = calloc(scratch_bytes == 0 ? 1 : scratch_bytes, 1);
        if (c.scratch[w] == NULL) {
            goto done;
        }
    }
    hl_monitor_begin(mon, units);
    st = hl_parallel_for(units, grain, n_threads, busy_range, &c, mon);
    if (st == HL_OK) {
        uint64_t sum = 0;
        for (size_t u = 0; u < units; u++) {
            sum ^= c.unit_sums[u];
        }
        *checksum = sum;
    }
done:
    if (c.scratch != NULL) {
        for (unsigned w = 0; w < workers; w++) {
            free(c.scratch[w]);
        }
    }
    free(c.scratch);
    free(c.unit_sums);
    return st;
}

hl_status hl_testing_draw(hl_testing_dist dist, double param, uint64_t seed, uint64_t stream,
                          size_t n, double *out) {
    if ((dist == HL_DIST_GAMMA || dist == HL_DIST_CHISQ) && !(param > 0.0)) {
        return HL_EINVAL;
    }
    hl_rng r;
    hl_rng_stream(&r, seed, stream);
    for (size_t i = 0; i < n; i++) {
        switch (dist) {
        case HL_DIST_UNIFORM:
            out[i] = hl_rng_uniform(&r);
            break;
        case HL_DIST_NORMAL:
            out[i] = hl_rng_normal(&r);
            break;
        case HL_DIST_EXPONENTIAL:
            out[i] = hl_rng_exponential(&r);
            break;
        case HL_DIST_GAMMA:
            out[i] = hl_rng_gamma(&r, param);
            break;
        case HL_DIST_CHISQ:
            out[i] = hl_rng_chisq(&r, param);
            break;
        case HL_DIST_RAW: {
            uint64_t bits = hl_rng_next(&r);
            memcpy(&out[i], &bits, sizeof bits);
            break;
        }
        default:
            return HL_EINVAL;
        }
    }
    return HL_OK;
}
