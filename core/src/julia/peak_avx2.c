/* Measures the core's avx2 double-precision FMA throughput for the benchmark's
 * "fraction of peak" figure: 12 independent FMA chains (more than latency x pipes on current
 * x86 cores), repeated for about the requested CPU time. */
#include <immintrin.h>

#include "julia_internal.h"

double jl_fma_peak_avx2(double seconds) {
    __m256d acc[12];
    for (int i = 0; i < 12; i++) {
        acc[i] = _mm256_set1_pd(1.0 + 1e-3 * i);
    }
    const __m256d a = _mm256_set1_pd(0.999999), b = _mm256_set1_pd(1e-7);
    const double t0 = jl_cpu_seconds();
    double t1 = t0;
    unsigned long long rounds = 0;
    const unsigned inner = 1u << 14;
    do {
        for (unsigned r = 0; r < inner; r++) {
#pragma GCC unroll 12
            for (int i = 0; i < 12; i++) {
                acc[i] = _mm256_fmadd_pd(acc[i], a, b);
            }
        }
        rounds += inner;
        t1 = jl_cpu_seconds();
    } while (t1 - t0 < seconds);
    double sink[4];
    __m256d s = acc[0];
    for (int i = 1; i < 12; i++) {
        s = _mm256_add_pd(s, acc[i]);
    }
    _mm256_storeu_pd(sink, s);
    /* The sum keeps the chains alive; it is finite and positive, so never 0 here. */
    const double ops = (double)rounds * 12.0 * 4.0;
    return sink[0] > 0.0 ? ops / (t1 - t0) : 0.0;
}
