/* Tests of the CPU probe and the HOTLOOP_DISABLE_CPU_FEATURES mask. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hotloop/cpu.h"

HL_TEST(cpu_parse_disable_spec) {
    unsigned m = 99;
    CHECK_OK(hl_cpu_parse_disable(NULL, &m));
    CHECK(m == 0);
    CHECK_OK(hl_cpu_parse_disable("", &m));
    CHECK(m == 0);
    CHECK_OK(hl_cpu_parse_disable("avx512", &m));
    CHECK(m == (HL_CPU_AVX512F | HL_CPU_AVX512DQ | HL_CPU_AVX512BW | HL_CPU_AVX512VL));
    CHECK_OK(hl_cpu_parse_disable(" AVX512 , avx2 ", &m));
    CHECK((m & HL_CPU_AVX2) && (m & HL_CPU_AVX512F) && !(m & HL_CPU_FMA));
    CHECK_OK(hl_cpu_parse_disable("fma,,", &m));
    CHECK(m == HL_CPU_FMA);
    CHECK_STATUS(hl_cpu_parse_disable("avx2,sse9", &m), HL_EINVAL);
    CHECK(m == HL_CPU_AVX2);
}

HL_TEST(cpu_active_is_detected_minus_env_mask) {
    unsigned masked = 0;
    (void)hl_cpu_parse_disable(getenv("HOTLOOP_DISABLE_CPU_FEATURES"), &masked);
    CHECK(hl_cpu_active() == (hl_cpu_detected() & ~masked));
    CHECK((hl_cpu_detected() & ~(unsigned)HL_CPU_ALL) == 0);
}

HL_TEST(cpu_levels_are_consistent) {
    const hl_simd_level best = hl_cpu_best_level();
    const unsigned need = hl_simd_level_features(best);
    CHECK((hl_cpu_active() & need) == need);
    CHECK(hl_cpu_resolve_level(HL_SIMD_AUTO) == best);
    CHECK(hl_cpu_resolve_level(HL_SIMD_SCALAR) == HL_SIMD_SCALAR);
    CHECK(hl_cpu_resolve_level(HL_SIMD_AVX512) <= best);
    CHECK(strcmp(hl_simd_level_name(HL_SIMD_SCALAR), "scalar") == 0);
    CHECK(hl_cpu_feature_name(HL_CPU_AVX2) != NULL);
    CHECK(hl_cpu_feature_name(1u << 20) == NULL);
    /* The masks the tests run under must really lower the level. */
    const char *env = getenv("HOTLOOP_DISABLE_CPU_FEATURES");
    if (env != NULL && strstr(env, "avx2") != NULL) {
        CHECK(best == HL_SIMD_SCALAR);
    } else if (env != NULL && strstr(env, "avx512") != NULL) {
        CHECK(best <= HL_SIMD_AVX2);
    }
}
