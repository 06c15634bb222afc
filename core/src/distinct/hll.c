/*
 * HyperLogLog with an exact sparse mode and Ertl's improved estimator (see distinct.h, part 2).
 *
 * Why HyperLogLog (and not bottom-k / KMV): for a relative standard error e, HLL needs
 * about (1.04 / e)^2 registers of 6 bits (we store bytes for speed), while KMV needs about
 * 1 / e^2 hashes of 64 bits: at e = 1% that is 16 KiB against 80 KiB, i.e. about five times
 * the accuracy per byte; its update is one multiply-fold hash, a shift, a count of leading
 * zeros and a byte max, with no data-dependent branch; and its merge is a register-wise max.
 * KMV's advantage (set operations other than union) is not needed here.
 *
 * Memory is allocated once at creation and is fixed by p: 2^p register bytes plus a sparse
 * table of 2^p / 4 slots of 8 bytes (2^(p+1) bytes), i.e. 3 * 2^p bytes (48 KiB at p = 14).
 */
#include <math.h>
#include <stdlib.h>

#include "hotloop/cpu.h"
#include "hotloop/distinct.h"
#include "hotloop/parallel.h"

struct hl_hll {
    int p;
    bool dense;
    bool has_zero; /* the hash value 0 is in the sparse set (0 marks an empty slot) */
    uint64_t key;
    uint8_t *regs;    /* 2^p registers, all zero while sparse */
    uint64_t *table;  /* sparse set: open addressing, linear probing, 0 = empty */
    size_t table_cap; /* 2^p / 4 slots, a power of two */
    size_t count;     /* distinct hashes in the sparse set (has_zero included) */
};

size_t hl_hll_sparse_limit(int p) {
    /* Half the table, so the load factor stays <= 1/2. */
    return ((size_t)1 << p) / 8;
}

hl_status hl_hll_create(int p, uint64_t key, hl_hll **out) {
    if (out == NULL) {
        return HL_EINVAL;
    }
    *out = NULL;
    if (p < HL_HLL_MIN_P || p > HL_HLL_MAX_P) {
        return HL_EINVAL;
    }
    hl_hll *s = calloc(1, sizeof *s);
    if (s == NULL) {
        return HL_ENOMEM;
    }
    s->p = p;
    s->key = key;
    s->table_cap = ((size_t)1 << p) / 4;
    s->regs = calloc((size_t)1 << p, 1);
    s->table = calloc(s->table_cap, sizeof(uint64_t));
    if (s->regs == NULL || s->table == NULL) {
        hl_hll_free(s);
        return HL_ENOMEM;
    }
    *out = s;
    return HL_OK;
}

void hl_hll_free(hl_hll *s) {
    if (s != NULL) {
        free(s->regs);
        free(s->table);
        free(s);
    }
}

size_t hl_hll_memory_bytes(const hl_hll *s) {
    return sizeof *s + ((size_t)1 << s->p) + s->table_cap * sizeof(uint64_t);
}

int hl_hll_precision(const hl_hll *s) {
    return s->p;
}

uint64_t hl_hll_key(const hl_hll *s) {
    return s->key;
}

bool hl_hll_is_sparse(const hl_hll *s) {
    return !s->dense;
}

double hl_hll_rse(int p) {
    return 1.04 / sqrt((double)((size_t)1 << p));
}

/* Register update for one hash: index from the top p bits, rank = 1 + leading zeros of the
 * remaining 64 - p bits (at most 65 - p: the sentinel bit stops the count). */
static inline void reg_update(uint8_t *regs, int p, uint64_t h) {
    size_t idx = (size_t)(h >> (64 - p));
    uint64_t w = (h << p) | ((uint64_t)1 << (p - 1));
    uint8_t r = (uint8_t)(__builtin_clzll(w) + 1);
    if (r > regs[idx]) {
        regs[idx] = r;
    }
}

static inline size_t slot_of(uint64_t h, size_t mask) {
    /* The top bits pick the register; the table uses the low bits (independent of them). */
    return (size_t)h & mask;
}

/* Moves the sparse set into the registers. */
static void densify(hl_hll *s) {
    for (size_t i = 0; i < s->table_cap; i++) {
        if (s->table[i] != 0) {
            reg_update(s->regs, s->p, s->table[i]);
            s->table[i] = 0;
        }
    }
    if (s->has_zero) {
        reg_update(s->regs, s->p, 0);
    }
    s->has_zero = false;
    s->count = 0;
    s->dense = true;
}

/* Inserts into the sparse set; densifies when it would exceed the limit. */
static void sparse_insert(hl_hll *s, uint64_t h) {
    if (h == 0) {
        if (!s->has_zero) {
            s->has_zero = true;
            s->count++;
        }
    } else {
        const size_t mask = s->table_cap - 1;
        size_t i = slot_of(h, mask);
        while (s->table[i] != 0) {
            if (s->table[i] == h) {
                return;
            }
            i = (i + 1) & mask;
        }
        s->table[i] = h;
        s->count++;
    }
    if (s->count > hl_hll_sparse_limit(s->p)) {
        densify(s);
    }
}

void hl_hll_add(hl_hll *s, const uint64_t *hashes, size_t n) {
    size_t i = 0;
    while (i < n && !s->dense) {
        sparse_insert(s, hashes[i]);
        i++;
    }
    uint8_t *regs = s->regs;
    const int p = s->p;
    for (; i < n; i++) {
        reg_update(regs, p, hashes[i]);
    }
}

typedef struct add_ctx {
    const hl_dsource *src;
    hl_hll **subs;
} add_ctx;

#define HLL_BATCH 2048

/* Dense sketch, 32/64-bit integers without nulls: hash and update in one pass (the common
 * case of large arrays; no round trip through a hash buffer). */
#define FUSED_LOOP(T)                                                                              \
    do {                                                                                           \
        const unsigned char *d_ = (const unsigned char *)src->data;                                \
        for (size_t i = begin; i < end; i++) {                                                     \
            T v;                                                                                   \
            memcpy(&v, d_ + i * sizeof(T), sizeof(T));                                             \
            reg_update(regs, p, hl_dhash_int((int64_t)v, key));                                    \
        }                                                                                          \
    } while (0)

static bool add_fused(hl_hll *s, const hl_dsource *src, size_t begin, size_t end) {
    if (!s->dense || src->validity != NULL) {
        return false;
    }
    uint8_t *regs = s->regs;
    const int p = s->p;
    const uint64_t key = s->key;
    switch (src->kind) {
    case HL_DK_I64:
#if defined(HL_X86_64)
        if (hl_cpu_resolve_level(HL_SIMD_AUTO) >= HL_SIMD_AVX512) {
            return false; /* hashing eight at a time beats the fused scalar loop */
        }
#endif
        FUSED_LOOP(int64_t);
        return true;
    case HL_DK_I32:
        FUSED_LOOP(int32_t);
        return true;
    case HL_DK_U32:
        FUSED_LOOP(uint32_t);
        return true;
    default:
        return false;
    }
}

/* Adds items [begin, end) of src to s. */
static hl_status add_items(hl_hll *s, const hl_dsource *src, size_t begin, size_t end) {
    uint64_t buf[HLL_BATCH];
    for (size_t i = begin; i < end; i += HLL_BATCH) {
        size_t e = end - i < HLL_BATCH ? end : i + HLL_BATCH;
        if (add_fused(s, src, i, end)) {
            return HL_OK;
        }
        hl_status st = hl_dsource_hash(src, i, e, s->key, buf);
        if (st != HL_OK) {
            return st;
        }
        hl_hll_add(s, buf, e - i);
    }
    return HL_OK;
}

static hl_status add_range(void *p, size_t begin, size_t end, unsigned worker) {
    add_ctx *c = p;
    return add_items(c->subs[worker], c->src, begin, end);
}

/* Items per chunk of the parallel loop (about 0.1-0.3 ms of work) and the input size below
 * which one thread does it all. */
#define HLL_GRAIN ((size_t)1 << 17)
#define HLL_PAR_MIN ((size_t)1 << 19)

hl_status hl_hll_add_source(hl_hll *s, const hl_dsource *src, unsigned n_threads, hl_monitor *mon) {
    if (s == NULL || src == NULL) {
        return HL_EINVAL;
    }
    const size_t n = src->n;
    hl_monitor_begin(mon, n);
    unsigned t = n < HLL_PAR_MIN ? 1 : hl_parallel_threads(n, HLL_GRAIN, n_threads);
    if (t <= 1) {
        /* Blocks of HLL_GRAIN items between polls of the monitor (~0.1 ms each). */
        for (size_t i = 0; i < n; i += HLL_GRAIN) {
            size_t e = n - i < HLL_GRAIN ? n : i + HLL_GRAIN;
            hl_status st = add_items(s, src, i, e);
            if (st != HL_OK) {
                return st;
            }
            hl_monitor_add(mon, e - i);
            if (hl_monitor_poll(mon) != HL_OK) {
                return HL_ECANCELLED;
            }
        }
        return HL_OK;
    }
    /* One private sketch per worker, merged at the end: the union does not depend on which
     * worker saw which chunk, so the result is the same for every thread count. */
    hl_hll **subs = calloc(t, sizeof *subs);
    if (subs == NULL) {
        return HL_ENOMEM;
    }
    hl_status st = HL_OK;
    for (unsigned w = 0; w < t && st == HL_OK; w++) {
        st = hl_hll_create(s->p, s->key, &subs[w]);
    }
    if (st == HL_OK) {
        add_ctx c = {src, subs};
        st = hl_parallel_for(n, HLL_GRAIN, t, add_range, &c, mon);
    }
    for (unsigned w = 0; w < t && st == HL_OK; w++) {
        st = hl_hll_merge(s, subs[w]);
    }
    for (unsigned w = 0; w < t; w++) {
        hl_hll_free(subs[w]);
    }
    free(subs);
    if (st == HL_OK) {
        hl_monitor_add(mon, n);
    }
    return st;
}

hl_status hl_hll_merge(hl_hll *dst, const hl_hll *src) {
    if (dst == NULL || src == NULL || dst->p != src->p || dst->key != src->key) {
        return HL_EINVAL;
    }
    if (dst == src) {
        return HL_OK;
    }
    if (!src->dense) {
        if (src->has_zero) {
            uint64_t z = 0;
            hl_hll_add(dst, &z, 1);
        }
        for (size_t i = 0; i < src->table_cap; i++) {
            if (src->table[i] != 0) {
                hl_hll_add(dst, &src->table[i], 1);
            }
        }
        return HL_OK;
    }
    if (!dst->dense) {
        densify(dst);
    }
    const size_t m = (size_t)1 << dst->p;
    for (size_t i = 0; i < m; i++) {
        if (src->regs[i] > dst->regs[i]) {
            dst->regs[i] = src->regs[i];
        }
    }
    return HL_OK;
}

hl_status hl_hll_copy(const hl_hll *src, hl_hll **out) {
    hl_status st = hl_hll_create(src->p, src->key, out);
    if (st != HL_OK) {
        return st;
    }
    hl_hll *d = *out;
    d->dense = src->dense;
    d->has_zero = src->has_zero;
    d->count = src->count;
    memcpy(d->regs, src->regs, (size_t)1 << src->p);
    memcpy(d->table, src->table, src->table_cap * sizeof(uint64_t));
    return HL_OK;
}

void hl_hll_clear(hl_hll *s) {
    memset(s->regs, 0, (size_t)1 << s->p);
    memset(s->table, 0, s->table_cap * sizeof(uint64_t));
    s->dense = false;
    s->has_zero = false;
    s->count = 0;
}

/* Ertl (2017), Algorithm 6: sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1). */
static double ertl_sigma(double x) {
    if (x == 1.0) {
        return INFINITY;
    }
    double y = 1.0, z = x, zp;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (z != zp);
    return z;
}

/* Ertl (2017), Algorithm 6: tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3. */
static double ertl_tau(double x) {
    if (x == 0.0 || x == 1.0) {
        return 0.0;
    }
    double y = 1.0, z = 1.0 - x, zp;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != zp);
    return z / 3.0;
}

double hl_hll_estimate(const hl_hll *s, bool *exact) {
    if (!s->dense) {
        if (exact != NULL) {
            *exact = true;
        }
        return (double)s->count;
    }
    if (exact != NULL) {
        *exact = false;
    }
    const int q = 64 - s->p;
    const size_t m = (size_t)1 << s->p;
    size_t c[66] = {0};
    for (size_t i = 0; i < m; i++) {
        c[s->regs[i]]++;
    }
    const double md = (double)m;
    double z = md * ertl_tau(1.0 - (double)c[q + 1] / md);
    for (int k = q; k >= 1; k--) {
        z = 0.5 * (z + (double)c[k]);
    }
    z += md * ertl_sigma((double)c[0] / md);
    /* alpha_inf = 1 / (2 ln 2) */
    return md * md / (2.0 * log(2.0) * z);
}

bool hl_hll_equal(const hl_hll *a, const hl_hll *b) {
    if (a->p != b->p || a->key != b->key || a->dense != b->dense) {
        return false;
    }
    if (a->dense) {
        return memcmp(a->regs, b->regs, (size_t)1 << a->p) == 0;
    }
    if (a->count != b->count || a->has_zero != b->has_zero) {
        return false;
    }
    const size_t mask = b->table_cap - 1;
    for (size_t i = 0; i < a->table_cap; i++) {
        uint64_t h = a->table[i];
        if (h == 0) {
            continue;
        }
        size_t j = slot_of(h, mask);
        while (b->table[j] != 0 && b->table[j] != h) {
            j = (j + 1) & mask;
        }
        if (b->table[j] != h) {
            return false;
        }
    }
    return true;
}

hl_status hl_hll_validate(const hl_hll *s) {
    const size_t m = (size_t)1 << s->p;
    size_t n = s->has_zero ? 1 : 0;
    const size_t mask = s->table_cap - 1;
    for (size_t i = 0; i < s->table_cap; i++) {
        uint64_t h = s->table[i];
        if (h == 0) {
            continue;
        }
        n++;
        /* Linear probing invariant: no empty slot between the home slot and i. */
        for (size_t j = slot_of(h, mask); j != i; j = (j + 1) & mask) {
            if (s->table[j] == 0) {
                return HL_EINTERNAL;
            }
        }
    }
    if (s->dense ? (n != 0 || s->count != 0) : (n != s->count)) {
        return HL_EINTERNAL;
    }
    if (!s->dense && s->count > hl_hll_sparse_limit(s->p)) {
        return HL_EINTERNAL;
    }
    for (size_t i = 0; i < m; i++) {
        if (s->regs[i] > 65 - s->p || (!s->dense && s->regs[i] != 0)) {
            return HL_EINTERNAL;
        }
    }
    return HL_OK;
}

/* ---- serialisation ----------------------------------------------------------------------- */

#define HEADER_BYTES 16

static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

size_t hl_hll_serialized_size(const hl_hll *s) {
    size_t body = s->dense ? ((size_t)1 << s->p) : 4 + 8 * s->count;
    return HEADER_BYTES + body + 8;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

hl_status hl_hll_serialize(const hl_hll *s, unsigned char *out, size_t cap) {
    size_t need = hl_hll_serialized_size(s);
    if (out == NULL || cap < need) {
        return HL_EINVAL;
    }
    memcpy(out, "HLLS", 4);
    out[4] = HL_HLL_FORMAT_VERSION;
    out[5] = (unsigned char)s->p;
    out[6] = s->dense ? 1 : 0;
    out[7] = 0;
    put64(out + 8, s->key);
    unsigned char *q = out + HEADER_BYTES;
    if (s->dense) {
        memcpy(q, s->regs, (size_t)1 << s->p);
        q += (size_t)1 << s->p;
    } else {
        /* Sorted, so the bytes depend on the set only (not on the table's history). */
        uint64_t *tmp = hl_alloc_array(s->count > 0 ? s->count : 1, sizeof(uint64_t));
        if (tmp == NULL) {
            return HL_ENOMEM;
        }
        size_t k = 0;
        if (s->has_zero) {
            tmp[k++] = 0;
        }
        for (size_t i = 0; i < s->table_cap; i++) {
            if (s->table[i] != 0) {
                tmp[k++] = s->table[i];
            }
        }
        qsort(tmp, k, sizeof(uint64_t), cmp_u64);
        q[0] = (unsigned char)k;
        q[1] = (unsigned char)(k >> 8);
        q[2] = (unsigned char)(k >> 16);
        q[3] = (unsigned char)(k >> 24);
        q += 4;
        for (size_t i = 0; i < k; i++) {
            put64(q, tmp[i]);
            q += 8;
        }
        free(tmp);
    }
    put64(q, hl_dhash_bytes(out, (size_t)(q - out), 0, HL_DTAG_BYTES));
    return HL_OK;
}

hl_status hl_hll_deserialize(const unsigned char *buf, size_t n, hl_hll **out) {
    if (out == NULL) {
        return HL_EINVAL;
    }
    *out = NULL;
    if (buf == NULL || n < HEADER_BYTES + 8 || memcmp(buf, "HLLS", 4) != 0) {
        return HL_EFORMAT;
    }
    if (buf[4] != HL_HLL_FORMAT_VERSION || buf[7] != 0 || buf[6] > 1) {
        return HL_EFORMAT;
    }
    int p = buf[5];
    if (p < HL_HLL_MIN_P || p > HL_HLL_MAX_P) {
        return HL_EFORMAT;
    }
    bool dense = buf[6] == 1;
    size_t body;
    size_t count = 0;
    if (dense) {
        body = (size_t)1 << p;
    } else {
        if (n < HEADER_BYTES + 4 + 8) {
            return HL_EFORMAT;
        }
        const unsigned char *c = buf + HEADER_BYTES;
        count = (size_t)c[0] | ((size_t)c[1] << 8) | ((size_t)c[2] << 16) | ((size_t)c[3] << 24);
        if (count > hl_hll_sparse_limit(p)) {
            return HL_EFORMAT;
        }
        body = 4 + 8 * count;
    }
    if (n != HEADER_BYTES + body + 8) {
        return HL_EFORMAT;
    }
    if (get64(buf + HEADER_BYTES + body) !=
        hl_dhash_bytes(buf, HEADER_BYTES + body, 0, HL_DTAG_BYTES)) {
        return HL_EFORMAT;
    }
    hl_hll *s;
    hl_status st = hl_hll_create(p, get64(buf + 8), &s);
    if (st != HL_OK) {
        return st;
    }
    const unsigned char *q = buf + HEADER_BYTES;
    if (dense) {
        for (size_t i = 0; i < body; i++) {
            if (q[i] > 65 - p) {
                hl_hll_free(s);
                return HL_EFORMAT;
            }
        }
        memcpy(s->regs, q, body);
        s->dense = true;
    } else {
        q += 4;
        uint64_t prev = 0;
        for (size_t i = 0; i < count; i++) {
            uint64_t h = get64(q + 8 * i);
            if (i > 0 && h <= prev) {
                hl_hll_free(s);
                return HL_EFORMAT;
            }
            prev = h;
            sparse_insert(s, h);
        }
        if (s->dense) { /* cannot happen: count <= limit */
            hl_hll_free(s);
            return HL_EFORMAT;
        }
    }
    *out = s;
    return HL_OK;
}
