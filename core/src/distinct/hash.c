/*
 * Canonical item hashing (see hotloop/distinct.h, part 1) and hashing of array sources.
 *
 * The byte hash reads the input in 16-byte blocks, folding each block into the state with one
 * 64x64->128-bit multiply whose halves are xored (the multiply-fold step of wyhash and MUM
 * hash); inputs of at most 16 bytes are read with two possibly overlapping loads and the
 * length is mixed in at the end, so inputs of different lengths differ. It is a fast, well
 * mixed non-cryptographic hash: not a defence against adversarial collision attacks.
 */
#include <math.h>
#include <stdlib.h>

#include "hotloop/distinct.h"

#include "hash_simd.h"
#include "hotloop/cpu.h"

uint64_t hl_dhash_bytes(const void *data, size_t n, uint64_t key, uint64_t tag) {
    uint64_t s = hl_dhash_bytes_seed(key, tag);
    if (n <= 16) {
        return hl_dhash_short(data, n, s, tag);
    }
    const unsigned char *p = data;
    size_t left = n;
    const unsigned char *q = p;
    /* Two independent lanes for inputs of 48 bytes or more: shorter dependency chains. */
    if (left > 48) {
        uint64_t s1 = s ^ HL_DK3;
        while (left > 32) {
            s = hl_dmum(hl_drd(q, 8) ^ HL_DK1, hl_drd(q + 8, 8) ^ s);
            s1 = hl_dmum(hl_drd(q + 16, 8) ^ HL_DK2, hl_drd(q + 24, 8) ^ s1);
            q += 32;
            left -= 32;
        }
        s ^= s1;
    }
    while (left > 16) {
        s = hl_dmum(hl_drd(q, 8) ^ HL_DK1, hl_drd(q + 8, 8) ^ s);
        q += 16;
        left -= 16;
    }
    /* The last 16 bytes of the input (overlapping what was read when left < 16). */
    return hl_dhash_tail(hl_drd(p + n - 16, 8), hl_drd(p + n - 8, 8), s, n, tag);
}

/* Encodes `len` code points of `kind` bytes into UTF-8 at out; returns the byte count. Lone
 * surrogates take three bytes (as Python's "surrogatepass"). */
static size_t utf8_encode(const void *data, int kind, size_t len, unsigned char *out) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t c;
        if (kind == 1) {
            c = ((const uint8_t *)data)[i];
        } else if (kind == 2) {
            uint16_t v;
            memcpy(&v, (const unsigned char *)data + 2 * i, 2);
            c = v;
        } else {
            memcpy(&c, (const unsigned char *)data + 4 * i, 4);
        }
        if (c < 0x80) {
            out[o++] = (unsigned char)c;
        } else if (c < 0x800) {
            out[o++] = (unsigned char)(0xC0 | (c >> 6));
            out[o++] = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (unsigned char)(0xE0 | (c >> 12));
            out[o++] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            /* Code points above 0x10FFFF cannot occur in str; NumPy 'U' may hold any 32-bit
             * value: they get the 4-byte pattern of their low 21 bits plus a marker so they
             * stay distinct from valid code points. */
            if (c > 0x10FFFF) {
                out[o++] = 0xFF;
                out[o++] = (unsigned char)(c >> 24);
            }
            out[o++] = (unsigned char)(0xF0 | ((c >> 18) & 0x07));
            out[o++] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    return o;
}

uint64_t hl_dhash_ucs(const void *data, int kind, size_t len, uint64_t key,
                      unsigned char *scratch) {
    size_t n = utf8_encode(data, kind, len, scratch);
    return hl_dhash_bytes(scratch, n, key, HL_DTAG_STR);
}

uint64_t hl_dhash_bigint(int negative, const unsigned char *mag, size_t n, uint64_t key) {
    while (n > 0 && mag[n - 1] == 0) {
        n--;
    }
    if (n <= 8) {
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;) {
            v = (v << 8) | mag[i];
        }
        if (!negative && v <= (uint64_t)INT64_MAX) {
            return hl_dhash_int((int64_t)v, key);
        }
        if (negative && v <= (uint64_t)INT64_MAX + 1u) {
            /* -v in two's complement; v == 2^63 gives INT64_MIN. */
            return hl_dhash_int((int64_t)(0u - v), key);
        }
    }
    return hl_dhash_bytes(mag, n, key ^ (negative ? HL_DK3 : 0), HL_DTAG_BIGINT);
}

uint64_t hl_dhash_u64(uint64_t v, uint64_t key) {
    if (v <= (uint64_t)INT64_MAX) {
        return hl_dhash_int((int64_t)v, key);
    }
    unsigned char mag[8];
    for (int i = 0; i < 8; i++) {
        mag[i] = (unsigned char)(v >> (8 * i));
    }
    return hl_dhash_bigint(0, mag, 8, key);
}

uint64_t hl_dhash_double(double d, uint64_t key) {
    if (isnan(d)) {
        return hl_dmum(key ^ HL_DTAG_NAN, HL_DK1);
    }
    if (!isinf(d) && d == trunc(d)) {
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
            return hl_dhash_int((int64_t)d, key); /* -0.0 becomes 0 */
        }
        /* |d| >= 2^63: d = mant * 2^shift with a 53-bit mant and shift >= 11. */
        int e;
        double fr = frexp(fabs(d), &e);
        uint64_t mant = (uint64_t)ldexp(fr, 53);
        unsigned shift = (unsigned)(e - 53);
        unsigned char mag[136] = {0};
        size_t byte = shift / 8;
        uint64_t w = mant << (shift % 8); /* at most 60 bits */
        for (int i = 0; i < 8; i++) {
            mag[byte + (size_t)i] = (unsigned char)(w >> (8 * i));
        }
        return hl_dhash_bigint(d < 0, mag, byte + 8, key);
    }
    uint64_t bits;
    memcpy(&bits, &d, 8);
    return hl_dmum(hl_dmum(bits ^ key ^ HL_DTAG_FLOAT, HL_DK2) ^ HL_DK0, HL_DK1);
}

/* ---- sources ------------------------------------------------------------------------------ */

static size_t kind_itemsize(hl_dkind k) {
    switch (k) {
    case HL_DK_I8:
    case HL_DK_U8:
        return 1;
    case HL_DK_I16:
    case HL_DK_U16:
        return 2;
    case HL_DK_I32:
    case HL_DK_U32:
    case HL_DK_F32:
        return 4;
    case HL_DK_I64:
    case HL_DK_U64:
    case HL_DK_F64:
        return 8;
    default:
        return 0;
    }
}

static inline int64_t load_off(const hl_dsource *s, size_t i) {
    if (s->kind == HL_DK_UTF8_O32 || s->kind == HL_DK_BIN_O32) {
        int32_t v;
        memcpy(&v, (const unsigned char *)s->offsets + 4 * i, 4);
        return v;
    }
    int64_t v;
    memcpy(&v, (const unsigned char *)s->offsets + 8 * i, 8);
    return v;
}

static inline bool is_offset_kind(hl_dkind k) {
    return k == HL_DK_UTF8_O32 || k == HL_DK_UTF8_O64 || k == HL_DK_BIN_O32 || k == HL_DK_BIN_O64;
}

hl_status hl_dsource_check(const hl_dsource *src, size_t data_len) {
    if (src == NULL || (unsigned)src->kind >= HL_DK_COUNT) {
        return HL_EINVAL;
    }
    if (src->n > 0 && src->data == NULL && !is_offset_kind(src->kind)) {
        return HL_EINVAL;
    }
    if (src->kind == HL_DK_BYTES_FIX && src->width == 0) {
        return HL_EINVAL;
    }
    if (src->kind == HL_DK_UCS4_FIX && (src->width == 0 || src->width % 4 != 0)) {
        return HL_EINVAL;
    }
    if (is_offset_kind(src->kind)) {
        if (src->offsets == NULL) {
            return HL_EINVAL;
        }
        int64_t prev = load_off(src, 0);
        if (prev < 0) {
            return HL_EINVAL;
        }
        for (size_t i = 1; i <= src->n; i++) {
            int64_t o = load_off(src, i);
            if (o < prev) {
                return HL_EINVAL;
            }
            prev = o;
        }
        if ((uint64_t)prev > (uint64_t)data_len || (prev > 0 && src->data == NULL)) {
            return HL_EINVAL;
        }
    }
    return HL_OK;
}

static inline bool valid_at(const hl_dsource *s, size_t i) {
    if (s->validity == NULL) {
        return true;
    }
    size_t b = s->bit_offset + i;
    return (s->validity[b >> 3] >> (b & 7)) & 1u;
}

/* Hashes items [begin, end) of a numeric source: one tight loop per kind. */
#define HASH_LOOP(T, EXPR)                                                                         \
    do {                                                                                           \
        const unsigned char *d_ = (const unsigned char *)src->data;                                \
        for (size_t i = begin; i < end; i++) {                                                     \
            T v;                                                                                   \
            memcpy(&v, d_ + i * sizeof(T), sizeof(T));                                             \
            out[i - begin] = (EXPR);                                                               \
        }                                                                                          \
    } while (0)

static size_t ucs4_len(const unsigned char *p, size_t width) {
    size_t n = width / 4;
    while (n > 0) {
        uint32_t c;
        memcpy(&c, p + 4 * (n - 1), 4);
        if (c != 0) {
            break;
        }
        n--;
    }
    return n;
}

hl_status hl_dsource_hash(const hl_dsource *src, size_t begin, size_t end, uint64_t key,
                          uint64_t *out) {
    switch (src->kind) {
    case HL_DK_I8:
        HASH_LOOP(int8_t, hl_dhash_int(v, key));
        break;
    case HL_DK_I16:
        HASH_LOOP(int16_t, hl_dhash_int(v, key));
        break;
    case HL_DK_I32:
        HASH_LOOP(int32_t, hl_dhash_int(v, key));
        break;
    case HL_DK_I64:
#if defined(HL_X86_64)
        if (hl_cpu_resolve_level(HL_SIMD_AUTO) >= HL_SIMD_AVX512) {
            hl_dhash_i64_avx512((const unsigned char *)src->data + 8 * begin, end - begin, key,
                                out);
            break;
        }
#endif
        HASH_LOOP(int64_t, hl_dhash_int(v, key));
        break;
    case HL_DK_U8:
        HASH_LOOP(uint8_t, hl_dhash_int(v, key));
        break;
    case HL_DK_U16:
        HASH_LOOP(uint16_t, hl_dhash_int(v, key));
        break;
    case HL_DK_U32:
        HASH_LOOP(uint32_t, hl_dhash_int(v, key));
        break;
    case HL_DK_U64:
        HASH_LOOP(uint64_t,
                  v <= (uint64_t)INT64_MAX ? hl_dhash_int((int64_t)v, key) : hl_dhash_u64(v, key));
        break;
    case HL_DK_F32:
        HASH_LOOP(float, hl_dhash_double((double)v, key));
        break;
    case HL_DK_F64:
        HASH_LOOP(double, hl_dhash_double(v, key));
        break;
    case HL_DK_BITS: {
        const uint8_t *d = src->data;
        for (size_t i = begin; i < end; i++) {
            size_t b = src->bit_offset + i;
            out[i - begin] = hl_dhash_int((d[b >> 3] >> (b & 7)) & 1, key);
        }
        break;
    }
    case HL_DK_BYTES_FIX: {
        const unsigned char *d = src->data;
        const size_t w = src->width;
        for (size_t i = begin; i < end; i++) {
            const unsigned char *p = d + i * w;
            size_t n = w;
            while (n > 0 && p[n - 1] == 0) {
                n--;
            }
            out[i - begin] = hl_dhash_bytestr(p, n, key);
        }
        break;
    }
    case HL_DK_UCS4_FIX: {
        const unsigned char *d = src->data;
        const size_t w = src->width;
        unsigned char local[1536];
        unsigned char *scratch = local;
        /* UTF-8 of w / 4 code points takes at most w bytes, plus the 2-byte marker of
         * out-of-range values (at most 6 bytes per code point, 1.5 w in all). */
        size_t need = w + w / 2 + 8;
        if (need > sizeof local) {
            scratch = malloc(need);
            if (scratch == NULL) {
                return HL_ENOMEM;
            }
        }
        for (size_t i = begin; i < end; i++) {
            const unsigned char *p = d + i * w;
            out[i - begin] = hl_dhash_ucs(p, 4, ucs4_len(p, w), key, scratch);
        }
        if (scratch != local) {
            free(scratch);
        }
        break;
    }
    case HL_DK_UTF8_O32:
    case HL_DK_UTF8_O64:
    case HL_DK_BIN_O32:
    case HL_DK_BIN_O64: {
        const unsigned char *d = src->data;
        const uint64_t tag = (src->kind == HL_DK_UTF8_O32 || src->kind == HL_DK_UTF8_O64)
                                 ? HL_DTAG_STR
                                 : HL_DTAG_BYTES;
        int64_t lo = load_off(src, begin);
        for (size_t i = begin; i < end; i++) {
            int64_t hi = load_off(src, i + 1);
            out[i - begin] = hl_dhash_bytes(d + lo, (size_t)(hi - lo), key, tag);
            lo = hi;
        }
        break;
    }
    default:
        break;
    }
    if (src->validity != NULL) {
        const uint64_t none = hl_dhash_none(key);
        for (size_t i = begin; i < end; i++) {
            if (!valid_at(src, i)) {
                out[i - begin] = none;
            }
        }
    }
    return HL_OK;
}

/* The value of a numeric item as a wide integer or double, for equality. */
__extension__ typedef __int128 i128;
typedef struct numval {
    int is_float; /* 1: d holds a non-integral or non-finite value, 2: NaN */
    i128 i;
    double d;
} numval;

static numval num_at(const hl_dsource *s, size_t i) {
    numval r = {0, 0, 0.0};
    const unsigned char *d = s->data;
    size_t sz = kind_itemsize(s->kind);
    const unsigned char *p = d + i * sz;
    switch (s->kind) {
    case HL_DK_I8: {
        int8_t v;
        memcpy(&v, p, 1);
        r.i = v;
        break;
    }
    case HL_DK_I16: {
        int16_t v;
        memcpy(&v, p, 2);
        r.i = v;
        break;
    }
    case HL_DK_I32: {
        int32_t v;
        memcpy(&v, p, 4);
        r.i = v;
        break;
    }
    case HL_DK_I64: {
        int64_t v;
        memcpy(&v, p, 8);
        r.i = v;
        break;
    }
    case HL_DK_U8:
        r.i = *p;
        break;
    case HL_DK_U16: {
        uint16_t v;
        memcpy(&v, p, 2);
        r.i = v;
        break;
    }
    case HL_DK_U32: {
        uint32_t v;
        memcpy(&v, p, 4);
        r.i = v;
        break;
    }
    case HL_DK_U64: {
        uint64_t v;
        memcpy(&v, p, 8);
        r.i = (i128)v;
        break;
    }
    case HL_DK_F32:
    case HL_DK_F64: {
        double v;
        if (s->kind == HL_DK_F32) {
            float f;
            memcpy(&f, p, 4);
            v = f;
        } else {
            memcpy(&v, p, 8);
        }
        if (isnan(v)) {
            r.is_float = 2;
        } else if (!isinf(v) && v == trunc(v) && fabs(v) < 0x1p126) {
            r.i = (i128)v;
        } else {
            r.is_float = 1;
            r.d = v;
        }
        break;
    }
    case HL_DK_BITS: {
        size_t b = s->bit_offset + i;
        r.i = (d[b >> 3] >> (b & 7)) & 1u;
        break;
    }
    default:
        break;
    }
    return r;
}

static bool is_numeric_kind(hl_dkind k) {
    return k <= HL_DK_BITS;
}

/* Bytes of a string/bytes item (fixed kinds stripped of trailing NULs). */
static const unsigned char *bytes_at(const hl_dsource *s, size_t i, size_t *len) {
    const unsigned char *d = s->data;
    if (s->kind == HL_DK_BYTES_FIX) {
        const unsigned char *p = d + i * s->width;
        size_t n = s->width;
        while (n > 0 && p[n - 1] == 0) {
            n--;
        }
        *len = n;
        return p;
    }
    if (s->kind == HL_DK_UCS4_FIX) {
        const unsigned char *p = d + i * s->width;
        *len = 4 * ucs4_len(p, s->width);
        return p;
    }
    int64_t lo = load_off(s, i), hi = load_off(s, i + 1);
    *len = (size_t)(hi - lo);
    return d + lo;
}

int hl_dsource_equal(const hl_dsource *a, size_t i, const hl_dsource *b, size_t j) {
    bool va = valid_at(a, i), vb = valid_at(b, j);
    if (!va || !vb) {
        return va == vb;
    }
    if (is_numeric_kind(a->kind) != is_numeric_kind(b->kind)) {
        return 0;
    }
    if (is_numeric_kind(a->kind)) {
        numval x = num_at(a, i), y = num_at(b, j);
        if (x.is_float != y.is_float) {
            return 0;
        }
        if (x.is_float == 2) {
            return 1;
        }
        return x.is_float ? x.d == y.d : x.i == y.i;
    }
    /* Strings and bytes: the same kind family (callers compare items of one kind). */
    bool sa = a->kind == HL_DK_UCS4_FIX || a->kind == HL_DK_UTF8_O32 || a->kind == HL_DK_UTF8_O64;
    bool sb = b->kind == HL_DK_UCS4_FIX || b->kind == HL_DK_UTF8_O32 || b->kind == HL_DK_UTF8_O64;
    if (sa != sb || (a->kind == HL_DK_UCS4_FIX) != (b->kind == HL_DK_UCS4_FIX)) {
        return 0;
    }
    size_t la, lb;
    const unsigned char *pa = bytes_at(a, i, &la), *pb = bytes_at(b, j, &lb);
    return la == lb && (la == 0 || memcmp(pa, pb, la) == 0);
}
