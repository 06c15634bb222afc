/* Measures the core's AVX2 double-precision FMA throughput for the benchmark's "fraction of
 * peak" figure (the loop is peak_template.h's). */
#include <immintrin.h>

#define PEAK_FN jl_fma_peak_avx2
#define PEAK_VEC __m256d
#define PEAK_LANES 4
#define PEAK_SET1 _mm256_set1_pd
#define PEAK_FMADD _mm256_fmadd_pd
#define PEAK_ADD _mm256_add_pd
#define PEAK_STOREU _mm256_storeu_pd
#include "peak_template.h"
