/* CPU feature probe (cpuid + xgetbv), cached once per process, with the
 * HOTLOOP_DISABLE_CPU_FEATURES mask. See hotloop/cpu.h. */
#include "hotloop/cpu.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(HL_X86_64)
#include <cpuid.h>
#endif

static const struct {
    unsigned bit;
    const char *name;
} feature_names[] = {
    {HL_CPU_AVX2, "avx2"},         {HL_CPU_FMA, "fma"},           {HL_CPU_AVX512F, "avx512f"},
    {HL_CPU_AVX512DQ, "avx512dq"}, {HL_CPU_AVX512BW, "avx512bw"}, {HL_CPU_AVX512VL, "avx512vl"},
};

#define HL_AVX512_ALL (HL_CPU_AVX512F | HL_CPU_AVX512DQ | HL_CPU_AVX512BW | HL_CPU_AVX512VL)

const char *hl_cpu_feature_name(unsigned bit) {
    for (size_t i = 0; i < sizeof feature_names / sizeof feature_names[0]; i++) {
        if (feature_names[i].bit == bit) {
            return feature_names[i].name;
        }
    }
    return NULL;
}

const char *hl_simd_level_name(hl_simd_level level) {
    switch (level) {
    case HL_SIMD_SCALAR:
        return "scalar";
    case HL_SIMD_AVX2:
        return "avx2";
    case HL_SIMD_AVX512:
        return "avx512";
    case HL_SIMD_AUTO:
        return "auto";
    }
    return NULL;
}

unsigned hl_simd_level_features(hl_simd_level level) {
    switch (level) {
    case HL_SIMD_AVX512:
        return HL_CPU_AVX2 | HL_CPU_FMA | HL_AVX512_ALL;
    case HL_SIMD_AVX2:
        return HL_CPU_AVX2 | HL_CPU_FMA;
    case HL_SIMD_SCALAR:
    case HL_SIMD_AUTO:
        break;
    }
    return 0;
}

/* Matches one token (case-insensitive, surrounding blanks ignored) to the features it
 * disables. Returns false for an unknown token. */
static bool token_mask(const char *tok, size_t len, unsigned *mask) {
    while (len > 0 && isspace((unsigned char)tok[0])) {
        tok++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)tok[len - 1])) {
        len--;
    }
    if (len == 0) {
        return true;
    }
    char buf[16];
    if (len >= sizeof buf) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        buf[i] = (char)tolower((unsigned char)tok[i]);
    }
    buf[len] = '\0';
    if (strcmp(buf, "avx512") == 0) {
        *mask |= HL_AVX512_ALL;
        return true;
    }
    for (size_t i = 0; i < sizeof feature_names / sizeof feature_names[0]; i++) {
        if (strcmp(buf, feature_names[i].name) == 0) {
            *mask |= feature_names[i].bit;
            return true;
        }
    }
    return false;
}

hl_status hl_cpu_parse_disable(const char *spec, unsigned *mask) {
    *mask = 0;
    if (spec == NULL) {
        return HL_OK;
    }
    hl_status st = HL_OK;
    const char *p = spec;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!token_mask(p, len, mask)) {
            st = HL_EINVAL;
        }
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    return st;
}

static unsigned probe_hardware(void) {
    unsigned features = 0;
#if defined(HL_X86_64)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) {
        return 0;
    }
    const bool osxsave = (c >> 27) & 1u;
    const bool avx = (c >> 28) & 1u;
    const bool fma = (c >> 12) & 1u;
    if (!osxsave || !avx) {
        return 0;
    }
    /* XCR0: the OS must save the SSE and AVX state (bits 1, 2), and for AVX-512 the opmask
     * and upper ZMM state too (bits 5, 6, 7); otherwise the registers are not usable. */
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    (void)xcr0_hi;
    const bool os_avx = (xcr0_lo & 0x6u) == 0x6u;
    const bool os_avx512 = (xcr0_lo & 0xE6u) == 0xE6u;
    if (!os_avx) {
        return 0;
    }
    if (fma) {
        features |= HL_CPU_FMA;
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if ((b >> 5) & 1u) {
            features |= HL_CPU_AVX2;
        }
        if (os_avx512) {
            if ((b >> 16) & 1u) {
                features |= HL_CPU_AVX512F;
            }
            if ((b >> 17) & 1u) {
                features |= HL_CPU_AVX512DQ;
            }
            if ((b >> 30) & 1u) {
                features |= HL_CPU_AVX512BW;
            }
            if ((b >> 31) & 1u) {
                features |= HL_CPU_AVX512VL;
            }
        }
    }
#endif
    return features;
}

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static unsigned cached_detected;
static unsigned cached_active;

static void probe(void) {
    unsigned disabled = 0;
    (void)hl_cpu_parse_disable(getenv("HOTLOOP_DISABLE_CPU_FEATURES"), &disabled);
    cached_detected = probe_hardware();
    cached_active = cached_detected & ~disabled;
}

unsigned hl_cpu_detected(void) {
    pthread_once(&probe_once, probe);
    return cached_detected;
}

unsigned hl_cpu_active(void) {
    pthread_once(&probe_once, probe);
    return cached_active;
}

hl_simd_level hl_cpu_best_level(void) {
    const unsigned active = hl_cpu_active();
    if ((active & hl_simd_level_features(HL_SIMD_AVX512)) ==
        hl_simd_level_features(HL_SIMD_AVX512)) {
        return HL_SIMD_AVX512;
    }
    if ((active & hl_simd_level_features(HL_SIMD_AVX2)) == hl_simd_level_features(HL_SIMD_AVX2)) {
        return HL_SIMD_AVX2;
    }
    return HL_SIMD_SCALAR;
}

hl_simd_level hl_cpu_resolve_level(hl_simd_level requested) {
    const hl_simd_level best = hl_cpu_best_level();
    if (requested == HL_SIMD_AUTO || requested > best) {
        return best;
    }
    if (requested < HL_SIMD_SCALAR) {
        return HL_SIMD_SCALAR;
    }
    return requested;
}
