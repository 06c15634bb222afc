/* hl_dhash_int on eight int64 lanes (AVX-512 F/DQ: vpmullq); the same operations in the same
 * order as the scalar code, so the same bits. See hash_simd.h. */
#include <immintrin.h>

#include "hash_simd.h"

void hl_dhash_i64_avx512(const unsigned char *data, size_t n, uint64_t key, uint64_t *out) {
    const __m512i k1 = _mm512_set1_epi64((long long)(key ^ HL_DTAG_INT));
    const __m512i k2 = _mm512_set1_epi64((long long)((key * HL_DK2) | 1u));
    const __m512i c1 = _mm512_set1_epi64((long long)HL_DK1);
    const __m512i c3 = _mm512_set1_epi64((long long)HL_DK3);
    const __m512i c0 = _mm512_set1_epi64((long long)HL_DK0);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512i x = _mm512_loadu_si512((const void *)(data + 8 * i));
        x = _mm512_mullo_epi64(_mm512_xor_si512(x, k1), k2);
        x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 32));
        x = _mm512_mullo_epi64(x, c1);
        x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 29));
        x = _mm512_mullo_epi64(x, c3);
        x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 32));
        x = _mm512_mullo_epi64(x, c0);
        x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 29));
        _mm512_storeu_si512((void *)(out + i), x);
    }
    for (; i < n; i++) {
        int64_t v;
        memcpy(&v, data + 8 * i, 8);
        out[i] = hl_dhash_int(v, key);
    }
}
