/* Measures the core's AVX-512 double-precision FMA throughput for the benchmark's "fraction of
 * peak" figure (the loop is peak_template.h's). */
#include <immintrin.h>

#define PEAK_FN jl_fma_peak_avx512
#define PEAK_VEC __m512d
#define PEAK_LANES 8
#define PEAK_SET1 _mm512_set1_pd
#define PEAK_FMADD _mm512_fmadd_pd
#define PEAK_ADD _mm512_add_pd
#define PEAK_STOREU _mm512_storeu_pd
#include "peak_template.h"
