/*
 * hotloop/cpu.h: which SIMD instruction sets the CPU has and which the core may use.
 *
 * The probe (cpuid + xgetbv, so a feature counts only when the OS saves its registers) runs
 * once per process and is cached. The environment variable HOTLOOP_DISABLE_CPU_FEATURES,
 * read at that moment, masks features so the tests can run every code path on one machine:
 * a comma-separated list of avx512, avx2, fma (case-insensitive; spaces allowed). Masking a
 * feature masks every SIMD level that needs it (avx2 masks the AVX-512 level too).
 *
 * Kernels dispatch on hl_simd_level: the scalar code is always built and is the reference;
 * every level gives the same results unless the kernel's header documents otherwise.
 */
#ifndef HOTLOOP_CPU_H
#define HOTLOOP_CPU_H

#include "hotloop/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Feature bits. */
enum {
    HL_CPU_AVX2 = 1u << 0,
    HL_CPU_FMA = 1u << 1,
    HL_CPU_AVX512F = 1u << 2,
    HL_CPU_AVX512DQ = 1u << 3,
    HL_CPU_AVX512BW = 1u << 4,
    HL_CPU_AVX512VL = 1u << 5,
    HL_CPU_ALL = (1u << 6) - 1u,
};

/* Instruction-set levels a kernel may have a variant for, in increasing order.
 * HL_SIMD_AUTO asks for the best active level. */
typedef enum hl_simd_level {
    HL_SIMD_AUTO = -1,
    HL_SIMD_SCALAR = 0,
    HL_SIMD_AVX2 = 1,   /* AVX2 + FMA */
    HL_SIMD_AVX512 = 2, /* AVX-512 F, DQ, BW, VL (+ AVX2, FMA) */
} hl_simd_level;

/* Features the CPU and OS support (unmasked). Cached; thread-safe. 0 off x86-64. */
HL_API unsigned hl_cpu_detected(void);

/* Detected features minus those masked by HOTLOOP_DISABLE_CPU_FEATURES (read once, at the
 * first call of any hl_cpu_* function). Cached; thread-safe. */
HL_API unsigned hl_cpu_active(void);

/* The best level all of whose features are active. Cached; thread-safe. */
HL_API hl_simd_level hl_cpu_best_level(void);

/* Resolves a requested level: HL_SIMD_AUTO gives hl_cpu_best_level(); an explicit level is
 * lowered to the best active level (asking for AVX-512 on an AVX2 machine gives AVX2), so a
 * test may request any level safely. */
HL_API hl_simd_level hl_cpu_resolve_level(hl_simd_level requested);

/* Name of a single feature bit ("avx2", "avx512f", ...), or NULL for anything else. */
HL_API const char *hl_cpu_feature_name(unsigned bit);

/* Name of a level ("scalar", "avx2", "avx512"), or NULL. */
HL_API const char *hl_simd_level_name(hl_simd_level level);

/* Parses a HOTLOOP_DISABLE_CPU_FEATURES value into the mask of features it disables.
 * NULL or "" gives 0. Returns HL_EINVAL on an unknown name (*mask then holds the known
 * part); the cached probe ignores unknown names, the Python layer warns about them. Pure. */
HL_API hl_status hl_cpu_parse_disable(const char *spec, unsigned *mask);

/* The features required by a level. Pure. */
HL_API unsigned hl_simd_level_features(hl_simd_level level);

#ifdef __cplusplus
}
#endif
#endif /* HOTLOOP_CPU_H */
