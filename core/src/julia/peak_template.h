/* peak_template.h: the FMA throughput measurement of peak_avx2.c and peak_avx512.c, written
 * once for both vector widths (each file is compiled with its own instruction set flags).
 * The including file defines PEAK_FN (the function's name), PEAK_VEC (the vector type),
 * PEAK_LANES, and PEAK_SET1, PEAK_FMADD, PEAK_ADD, PEAK_STOREU (its intrinsics).
 *
 * 12 independent FMA chains (more than latency x pipes on current x86 cores), repeated for
 * about the requested CPU time; returns lane-operations per second. */
#include "julia_internal.h"

double PEAK_FN(double seconds) {
    PEAK_VEC acc[12];
    for (int i = 0; i < 12; i++) {
        acc[i] = PEAK_SET1(1.0 + 1e-3 * i);
    }
    const PEAK_VEC a = PEAK_SET1(0.999999), b = PEAK_SET1(1e-7);
    const double t0 = jl_cpu_seconds();
    double t1 = t0;
    unsigned long long rounds = 0;
    const unsigned inner = 1u << 14;
    do {
        for (unsigned r = 0; r < inner; r++) {
#pragma GCC unroll 12
            for (int i = 0; i < 12; i++) {
                acc[i] = PEAK_FMADD(acc[i], a, b);
            }
        }
        rounds += inner;
        t1 = jl_cpu_seconds();
    } while (t1 - t0 < seconds);
    double sink[PEAK_LANES];
    PEAK_VEC s = acc[0];
    for (int i = 1; i < 12; i++) {
        s = PEAK_ADD(s, acc[i]);
    }
    PEAK_STOREU(sink, s);
    /* The sum keeps the chains alive; it is finite and positive, so never 0 here. */
    const double ops = (double)rounds * 12.0 * PEAK_LANES;
    return sink[0] > 0.0 ? ops / (t1 - t0) : 0.0;
}
