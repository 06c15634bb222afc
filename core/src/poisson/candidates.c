/* candidates.c: seeded uniform candidate points in a box, on a sphere, or as rotations. */
#include <math.h>
#include <stdlib.h>

#include "hotloop/parallel.h"
#include "hotloop/poisson.h"
#include "hotloop/rng.h"

#define BLOCK 4096 /* points per random stream */

typedef struct cand_ctx {
    uint64_t seed;
    size_t m, dim;
    hl_poisson_domain domain;
    const double *lo, *hi;
    const hl_rng *streams;
    double *out;
} cand_ctx;

static hl_status cand_range(void *p, size_t begin, size_t end, unsigned worker) {
    (void)worker;
    cand_ctx *cx = p;
    const size_t dim = cx->dim;
    for (size_t b = begin; b < end; b++) {
        hl_rng rng = cx->streams[b];
        size_t i_end = (b + 1) * BLOCK < cx->m ? (b + 1) * BLOCK : cx->m;
        for (size_t i = b * BLOCK; i < i_end; i++) {
            double *x = cx->out + i * dim;
            if (cx->domain == HL_POISSON_BOX || cx->domain == HL_POISSON_PERIODIC) {
                for (size_t k = 0; k < dim; k++) {
                    x[k] = cx->lo[k] + (cx->hi[k] - cx->lo[k]) * hl_rng_uniform(&rng);
                }
                continue;
            }
            /* Muller 1959: a standard normal vector, normalised, is uniform on the sphere. */
            for (;;) {
                double s = 0.0;
                for (size_t k = 0; k < dim; k++) {
                    x[k] = hl_rng_normal(&rng);
                    s += x[k] * x[k];
                }
                if (s > 1e-300) {
                    double inv = 1.0 / sqrt(s);
                    for (size_t k = 0; k < dim; k++) {
                        x[k] *= inv;
                    }
                    break;
                }
            }
        }
    }
    return HL_OK;
}

hl_status hl_poisson_candidates(uint64_t seed, size_t m, size_t dim, hl_poisson_domain domain,
                                const double *lo, const double *hi, unsigned n_threads, double *out,
                                hl_monitor *mon) {
    if (out == NULL || dim < 1 || dim > HL_POISSON_MAX_DIM) {
        return HL_EINVAL;
    }
    switch (domain) {
    case HL_POISSON_BOX:
    case HL_POISSON_PERIODIC:
        if (lo == NULL || hi == NULL) {
            return HL_EINVAL;
        }
        for (size_t k = 0; k < dim; k++) {
            if (!isfinite(lo[k]) || !isfinite(hi[k]) || !(lo[k] < hi[k])) {
                return HL_EINVAL;
            }
        }
        break;
    case HL_POISSON_SPHERE:
        if (dim < 2) {
            return HL_EINVAL;
        }
        break;
    case HL_POISSON_ROTATIONS:
        if (dim != 4) {
            return HL_EINVAL;
        }
        break;
    default:
        return HL_EINVAL;
    }
    size_t total;
    if (!hl_size_mul(m, dim, &total)) {
        return HL_ENOMEM;
    }
    size_t blocks = m / BLOCK + (m % BLOCK != 0);
    hl_monitor_begin(mon, m);
    if (blocks == 0) {
        return HL_OK;
    }
    hl_rng *streams = hl_alloc_array(blocks, sizeof(hl_rng));
    if (streams == NULL) {
        return HL_ENOMEM;
    }
    hl_rng_streams(seed, blocks, streams);
    cand_ctx cx = {.seed = seed,
                   .m = m,
                   .dim = dim,
                   .domain = domain,
                   .lo = lo,
                   .hi = hi,
                   .streams = streams,
                   .out = out};
    hl_status st = hl_parallel_for(blocks, 1, n_threads, cand_range, &cx, mon);
    free(streams);
    return st;
}
