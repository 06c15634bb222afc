/*
 * hotloop/distinct.h: distinct counting.
 *
 * Four parts, all working on 64-bit item hashes:
 *
 * 1. Canonical hashing. Every item has a canonical encoding (a type tag plus a payload) that
 *    makes values which Python considers equal hash the same: 1, 1.0 and True are the int 1;
 *    -0.0 is 0; an integral float beyond the int64 range is the big integer it equals; a str
 *    is the UTF-8 of its code points whatever its storage (ASCII, UCS-1/2/4, NumPy 'U', Arrow
 *    utf8); bytes are their bytes; None is one constant; a tuple combines its items' hashes.
 *    Every NaN is one item (Python's set keeps distinct NaN objects apart: see count_exact).
 *    The hash is a keyed 64-bit multiply-fold construction (the 128-bit product of two words
 *    folded by xor, the "mum" step of wyhash by Wang Yi, 2019, and of Vladimir Makarov's MUM
 *    hash), written here in its own layout; integers in the int64 range go through a bijective
 *    mixer (xor-shift and odd-multiply steps, as in Steele, Lea & Flood's splitmix64 finaliser),
 *    so two int64 values hash equal only when they are equal. The hashes are the same on every
 *    run, process and machine (little-endian reads are made explicit).
 *
 * 2. hl_hll: a HyperLogLog sketch (Flajolet, Fusy, Gandouet & Meunier, "HyperLogLog: the
 *    analysis of a near-optimal cardinality estimation algorithm", AofA 2007) with 2^p one-byte
 *    registers, a sparse exact mode for small cardinalities (the set of distinct 64-bit hashes,
 *    as in Heule, Nunkesser & Hall, "HyperLogLog in Practice", EDBT 2013, but kept exact), and
 *    Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
 *    sketches", arXiv 1702.01284, 2017, section 3: no bias tables, no range switch).
 *    The state is a function of the SET of hashes added: order and duplicates never matter,
 *    and merging equals adding the union.
 *
 * 3. hl_cvm: the CVM estimator of Chakraborty, Vinodchandran & Meel ("Distinct Elements in
 *    Streams: An Algorithm for the (Text) Book", arXiv 2301.10191, ESA 2022), as Algorithm 1
 *    of the paper and as Algorithm D of Knuth's note "The CVM Algorithm for Estimating Distinct
 *    Elements in Streams" (2023). It keeps item hashes (64 bits) in its buffer.
 *
 * 4. hl_exset: an exact set of items given as (hash, id) pairs; hash collisions between
 *    unequal items are resolved by an equality callback on the ids, so the count is exact.
 *
 * Plus hl_lines_*: distinct lines of a file descriptor read with large buffered reads.
 */
#ifndef HOTLOOP_DISTINCT_H
#define HOTLOOP_DISTINCT_H

#include <string.h>

#include "hotloop/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 1. canonical hashing =============================================================== */

/* Type tags, mixed into the key so that items of different kinds never share a hash by
 * construction (only by a 2^-64 accident). */
#define HL_DTAG_INT UINT64_C(0x1d8e4e27c47d124f)
#define HL_DTAG_BIGINT UINT64_C(0x3c6ef372fe94f82b)
#define HL_DTAG_FLOAT UINT64_C(0xa54ff53a5f1d36f1)
#define HL_DTAG_NAN UINT64_C(0x510e527fade682d1)
#define HL_DTAG_STR UINT64_C(0x9b05688c2b3e6c1f)
#define HL_DTAG_BYTES UINT64_C(0x1f83d9abfb41bd6b)
#define HL_DTAG_NONE UINT64_C(0x5be0cd19137e2179)
#define HL_DTAG_TUPLE UINT64_C(0xcbbb9d5dc1059ed8)
#define HL_DTAG_OBJECT UINT64_C(0x629a292a367cd507)

/* Odd constants of the mixers (fractional digits of irrational numbers; any odd constants
 * with balanced bits would do). */
#define HL_DK0 UINT64_C(0x9e3779b97f4a7c15)
#define HL_DK1 UINT64_C(0xd6e8feb86659fd93)
#define HL_DK2 UINT64_C(0xa0761d6478bd642f)
#define HL_DK3 UINT64_C(0xe7037ed1a0b428db)

/* The 128-bit product of a and b folded to 64 bits by xor of its halves. */
__extension__ typedef unsigned __int128 hl_u128;
static inline uint64_t hl_dmum(uint64_t a, uint64_t b) {
    hl_u128 r = (hl_u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Canonical hash of the integer v (|v| < 2^63, or v == INT64_MIN) under `key`. A bijection of
 * v for a fixed key: equal hashes mean equal integers. */
static inline uint64_t hl_dhash_int(int64_t v, uint64_t key) {
    /* xor and multiplication by an odd number are bijections; the key picks both constants
     * so that different keys give unrelated functions. */
    uint64_t x = ((uint64_t)v ^ key ^ HL_DTAG_INT) * ((key * HL_DK2) | 1u);
    x ^= x >> 32;
    x *= HL_DK1;
    x ^= x >> 29;
    x *= HL_DK3;
    x ^= x >> 32;
    x *= HL_DK0;
    x ^= x >> 29;
    return x;
}

/* Keyed 64-bit hash of n bytes at p, in the domain `tag` (one of HL_DTAG_*). Thread-safe.
 * p may be NULL when n == 0. */
HL_API uint64_t hl_dhash_bytes(const void *p, size_t n, uint64_t key, uint64_t tag);

/* Little-endian load of n <= 8 bytes at any alignment (the byte hash's reads; n is a
 * constant at every call, so this compiles to one load). */
static inline uint64_t hl_drd(const unsigned char *p, size_t n) {
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = n; i-- > 0;) {
        v = (v << 8) | p[i];
    }
#else
    memcpy(&v, p, n);
#endif
    return v;
}

/* The starting state of hl_dhash_bytes under (key, tag). It depends on neither the bytes nor
 * their length, so a loop over many items of one domain computes it once. */
static inline uint64_t hl_dhash_bytes_seed(uint64_t key, uint64_t tag) {
    return hl_dmum(key ^ tag ^ HL_DK0, HL_DK1 ^ tag);
}

/* The last step of hl_dhash_bytes: folds the final two words a, b into state s, then mixes in
 * the length n and the tag. */
static inline uint64_t hl_dhash_tail(uint64_t a, uint64_t b, uint64_t s, size_t n, uint64_t tag) {
    uint64_t r = hl_dmum(a ^ HL_DK1, b ^ s);
    return hl_dmum(r ^ HL_DK3, (uint64_t)n ^ HL_DK0 ^ tag);
}

/* hl_dhash_bytes(p, n, key, tag) for n <= 16, given seed = hl_dhash_bytes_seed(key, tag): the
 * same value, as an inline function for the loops over short items (words, keys). Two
 * possibly overlapping loads cover the input; the length is mixed in at the end, so inputs of
 * different lengths differ. */
static inline uint64_t hl_dhash_short(const void *data, size_t n, uint64_t seed, uint64_t tag) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = hl_drd(p, 8);
        b = hl_drd(p + n - 8, 8);
    } else if (n >= 4) {
        a = hl_drd(p, 4);
        b = hl_drd(p + n - 4, 4);
    } else if (n > 0) {
        a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n >> 1] << 8) | (uint64_t)p[n - 1];
    }
    return hl_dhash_tail(a, b, seed, n, tag);
}

/* Canonical hash of a str given as UTF-8 (ASCII included). */
static inline uint64_t hl_dhash_utf8(const void *p, size_t n, uint64_t key) {
    return hl_dhash_bytes(p, n, key, HL_DTAG_STR);
}

/* Canonical hash of a str given as `len` code points of `kind` bytes each (1, 2 or 4: the
 * storage of CPython's str and of NumPy 'U' arrays). It hashes the UTF-8 encoding (lone
 * surrogates are encoded as three bytes, like Python's "surrogatepass"), so the result does not
 * depend on the storage. `scratch` must hold at least 6 * len bytes. */
HL_API uint64_t hl_dhash_ucs(const void *data, int kind, size_t len, uint64_t key,
                             unsigned char *scratch);

/* Canonical hash of an integer of any size given by sign (negative != 0) and magnitude bytes
 * (little-endian, n bytes; leading zero bytes are ignored). Values in the int64 range get
 * hl_dhash_int's value. */
HL_API uint64_t hl_dhash_bigint(int negative, const unsigned char *mag, size_t n, uint64_t key);

/* Canonical hash of an unsigned 64-bit integer (values >= 2^63 are big integers). */
HL_API uint64_t hl_dhash_u64(uint64_t v, uint64_t key);

/* Canonical hash of a double: integral values hash as the integer they equal (-0.0 as 0),
 * every NaN as one NaN item, other values by their bits. */
HL_API uint64_t hl_dhash_double(double d, uint64_t key);

/* Canonical hash of bytes. */
static inline uint64_t hl_dhash_bytestr(const void *p, size_t n, uint64_t key) {
    return hl_dhash_bytes(p, n, key, HL_DTAG_BYTES);
}

/* Canonical hash of None. */
static inline uint64_t hl_dhash_none(uint64_t key) {
    return hl_dmum(key ^ HL_DTAG_NONE, HL_DK1);
}

/* Tuples: h = hl_dhash_tuple_begin(key); for each item: h = hl_dhash_tuple_step(h, item_hash);
 * hash = hl_dhash_tuple_end(h, n_items). Order-sensitive, like tuple equality. */
static inline uint64_t hl_dhash_tuple_begin(uint64_t key) {
    return key ^ HL_DTAG_TUPLE;
}
static inline uint64_t hl_dhash_tuple_step(uint64_t h, uint64_t item) {
    return hl_dmum(h ^ item, HL_DK2) + item;
}
static inline uint64_t hl_dhash_tuple_end(uint64_t h, size_t n) {
    return hl_dmum(h ^ HL_DK3, (uint64_t)n ^ HL_DK0);
}

/* Hash of an object that has no canonical encoding, from its process-local hash (Python's
 * hash()): only meaningful inside one process. */
static inline uint64_t hl_dhash_object(int64_t local_hash, uint64_t key) {
    return hl_dmum((uint64_t)local_hash ^ key ^ HL_DTAG_OBJECT, HL_DK2);
}

/* ---- array sources ---------------------------------------------------------------------- */

/* Layout of an array of items. */
typedef enum hl_dkind {
    HL_DK_I8,
    HL_DK_I16,
    HL_DK_I32,
    HL_DK_I64,
    HL_DK_U8,
    HL_DK_U16,
    HL_DK_U32,
    HL_DK_U64,
    HL_DK_F32,
    HL_DK_F64,
    HL_DK_BITS,      /* booleans packed 8 per byte, LSB first, from bit `bit_offset` (Arrow) */
    HL_DK_BYTES_FIX, /* `width` bytes per item, trailing NUL bytes stripped (NumPy 'S') */
    HL_DK_UCS4_FIX,  /* `width` / 4 code points per item, trailing NULs stripped (NumPy 'U') */
    HL_DK_UTF8_O32,  /* Arrow string: int32 offsets[n + 1] into data */
    HL_DK_UTF8_O64,  /* Arrow large_string: int64 offsets */
    HL_DK_BIN_O32,   /* Arrow binary */
    HL_DK_BIN_O64,   /* Arrow large_binary */
    HL_DK_COUNT
} hl_dkind;

/*
 * An array of n items (borrowed memory; nothing is copied). `data`: the values (for the
 * offset kinds, the character data). `offsets`: for the offset kinds, n + 1 offsets already
 * advanced to the first item. `width`: item bytes of the fixed-width kinds. `validity`: NULL,
 * or an Arrow validity bitmap (bit i + bit_offset set = item i present; an absent item is
 * None). `bit_offset` also applies to HL_DK_BITS data.
 */
typedef struct hl_dsource {
    hl_dkind kind;
    const void *data;
    const void *offsets;
    const uint8_t *validity;
    size_t n;
    size_t width;
    size_t bit_offset;
} hl_dsource;

/* Checks a source's fields (kind, widths, monotone in-range offsets need `data_len`: the
 * byte length of `data`, checked for the offset kinds only). Returns HL_EINVAL when
 * inconsistent. O(n) for the offset kinds. */
HL_API hl_status hl_dsource_check(const hl_dsource *src, size_t data_len);

/* Hashes items [begin, end) of `src` into out[0 .. end - begin) with the canonical hash under
 * `key`. Requires a checked source and begin <= end <= n. Thread-safe. Errors: HL_ENOMEM
 * (scratch for NumPy 'U' items wider than 256 code points). */
HL_API hl_status hl_dsource_hash(const hl_dsource *src, size_t begin, size_t end, uint64_t key,
                                 uint64_t *out);

/* Returns 1 when item i of `a` equals item j of `b` under the canonical equality (Python
 * equality, except that every NaN equals every NaN), else 0. */
HL_API int hl_dsource_equal(const hl_dsource *a, size_t i, const hl_dsource *b, size_t j);

/* ==== 2. HyperLogLog sketch ============================================================== */

#define HL_HLL_MIN_P 4
#define HL_HLL_MAX_P 18
#define HL_HLL_FORMAT_VERSION 1

typedef struct hl_hll hl_hll;

/* Creates an empty sketch with 2^p registers (HL_HLL_MIN_P <= p <= HL_HLL_MAX_P) for hashes
 * made with `key`. It is exact (sparse) until it holds more than hl_hll_sparse_limit(p)
 * distinct hashes, then dense. Memory: fixed by p (hl_hll_memory_bytes). Errors: HL_EINVAL,
 * HL_ENOMEM. Free with hl_hll_free. A sketch is not thread-safe: one caller at a time. */
HL_API hl_status hl_hll_create(int p, uint64_t key, hl_hll **out);

/* Frees a sketch; NULL is a no-op. */
HL_API void hl_hll_free(hl_hll *s);

/* Distinct hashes kept exactly before the sketch turns dense: 2^p / 4. */
HL_API size_t hl_hll_sparse_limit(int p);

/* Bytes the sketch owns (registers + sparse table), fixed by p. */
HL_API size_t hl_hll_memory_bytes(const hl_hll *s);

/* The sketch's p, its hash key, and whether it is still in the exact sparse mode. */
HL_API int hl_hll_precision(const hl_hll *s);
HL_API uint64_t hl_hll_key(const hl_hll *s);
HL_API bool hl_hll_is_sparse(const hl_hll *s);

/* Adds n hashes. Never fails (the memory is allocated up front). */
HL_API void hl_hll_add(hl_hll *s, const uint64_t *hashes, size_t n);

/* Adds every item of `src` (hashed with the sketch's key) using up to n_threads threads
 * (0 = all CPUs); the resulting state does not depend on the thread count. Polls `mon`
 * (NULL allowed). Errors: HL_ENOMEM (per-thread sketches), HL_ECANCELLED (the sketch then
 * holds a subset of the items). */
HL_API hl_status hl_hll_add_source(hl_hll *s, const hl_dsource *src, unsigned n_threads,
                                   hl_monitor *mon);

/* dst = dst union src. Both must have the same p and key (else HL_EINVAL, dst unchanged). */
HL_API hl_status hl_hll_merge(hl_hll *dst, const hl_hll *src);

/* Copies src into a new sketch. */
HL_API hl_status hl_hll_copy(const hl_hll *src, hl_hll **out);

/* Resets to empty. */
HL_API void hl_hll_clear(hl_hll *s);

/* The estimate: exact count of distinct hashes while sparse; Ertl's improved estimator when
 * dense. *exact is set to true when the result is exact (sparse). */
HL_API double hl_hll_estimate(const hl_hll *s, bool *exact);

/* The relative standard error of a dense estimate, 1.04 / sqrt(2^p) (Flajolet et al. 2007,
 * Theorem 1: sqrt(3 ln 2 - 1) = 1.0390...). */
HL_API double hl_hll_rse(int p);

/* True when s and other have the same state (p, key, mode, contents). */
HL_API bool hl_hll_equal(const hl_hll *s, const hl_hll *other);

/*
 * Serialised form (little-endian, version HL_HLL_FORMAT_VERSION):
 *   "HLLS" | u8 version | u8 p | u8 mode (0 sparse, 1 dense) | u8 0 | u64 key |
 *   sparse: u32 count, then count u64 hashes strictly increasing;
 *   dense: 2^p register bytes (each <= 65 - p) |
 *   u64 checksum (hl_dhash_bytes of everything before it, key 0, tag HL_DTAG_BYTES).
 * The bytes depend only on the set of hashes added.
 */
HL_API size_t hl_hll_serialized_size(const hl_hll *s);

/* Writes the serialised form into out (cap bytes, at least hl_hll_serialized_size). */
HL_API hl_status hl_hll_serialize(const hl_hll *s, unsigned char *out, size_t cap);

/* Parses a serialised sketch. Errors: HL_EFORMAT for anything truncated, corrupt (checksum),
 * of an unknown version or inconsistent (register out of range, unsorted or excess sparse
 * hashes); HL_ENOMEM. Never reads outside [buf, buf + n). */
HL_API hl_status hl_hll_deserialize(const unsigned char *buf, size_t n, hl_hll **out);

/* Test helper: checks the invariants (sparse table consistent with its count, registers in
 * range). Returns HL_OK or HL_EINTERNAL. */
HL_API hl_status hl_hll_validate(const hl_hll *s);

/* ==== 3. CVM ============================================================================ */

typedef enum hl_cvm_method {
    HL_CVM_PAPER = 0, /* Algorithm 1 of the paper: may fail (HL_ENUMERIC) with prob <= delta */
    HL_CVM_KNUTH = 1, /* Knuth's Algorithm D: never fails, unbiased */
} hl_cvm_method;

/* The paper's buffer size thresh = ceil(12 / eps^2 * log2(8 m / delta)) for a stream of m
 * items (m >= 1; m == 0 is taken as 1). Returns 0 when eps or delta is outside (0, 1) or the
 * value does not fit size_t. */
HL_API size_t hl_cvm_threshold(double eps, double delta, double m);

typedef struct hl_cvm hl_cvm;

/* Creates an estimator with buffer size `thresh` (>= 1) and its random stream seeded by
 * `seed`. Errors: HL_EINVAL, HL_ENOMEM. */
HL_API hl_status hl_cvm_create(hl_cvm_method method, size_t thresh, uint64_t seed, hl_cvm **out);

/* Frees an estimator; NULL is a no-op. */
HL_API void hl_cvm_free(hl_cvm *c);

/* Feeds n item hashes in stream order. Returns HL_ENUMERIC when the paper's algorithm hits
 * its failure event (the buffer is still full after halving); the estimator is then spent
 * (further calls return HL_ENUMERIC). */
HL_API hl_status hl_cvm_add(hl_cvm *c, const uint64_t *hashes, size_t n);

/* Feeds every item of src (hashed with `key`) in order, polling mon. */
HL_API hl_status hl_cvm_add_source(hl_cvm *c, const hl_dsource *src, uint64_t key, hl_monitor *mon);

/* The estimate |buffer| / p (rounded to the nearest integer). */
HL_API uint64_t hl_cvm_estimate(const hl_cvm *c);

/* Buffer occupancy and the current p (for tests). */
HL_API size_t hl_cvm_size(const hl_cvm *c);
HL_API double hl_cvm_p(const hl_cvm *c);

/* Test helper: heap order and table consistency. */
HL_API hl_status hl_cvm_validate(const hl_cvm *c);

/* ==== 4. exact set ======================================================================= */

/* Equality of the items behind two ids: 1 equal, 0 unequal, -1 error (stop). */
typedef int (*hl_eq_fn)(void *ctx, uint64_t id_a, uint64_t id_b);

typedef struct hl_exset hl_exset;

/* Creates an empty exact set (it grows as needed; memory 32 bytes per distinct item at most).
 * Errors: HL_EINVAL (out NULL), HL_ENOMEM. Not thread-safe. */
HL_API hl_status hl_exset_create(hl_exset **out);

/* Frees a set; NULL is a no-op. */
HL_API void hl_exset_free(hl_exset *s);

/*
 * Adds items with hashes[k] and ids first_id + k. An item whose hash is already present is
 * compared (eq) with each stored item of that hash; it is new only when unequal to all.
 * eq == NULL declares that equal hashes mean equal items (an injective hash). Returns HL_OK,
 * HL_ENOMEM, or HL_ECANCELLED when eq returned -1.
 */
HL_API hl_status hl_exset_add(hl_exset *s, const uint64_t *hashes, size_t n, uint64_t first_id,
                              hl_eq_fn eq, void *ctx);

/* Adds one item with hash h and id `id` (any value but UINT64_MAX); *added is set to true
 * when it was new. Same errors as hl_exset_add. */
HL_API hl_status hl_exset_add_one(hl_exset *s, uint64_t h, uint64_t id, hl_eq_fn eq, void *ctx,
                                  bool *added);

/* Hints that an item of hash h will be added soon (prefetches its slot). */
HL_API void hl_exset_prefetch(const hl_exset *s, uint64_t h);

/* Adds the items of sources srcs[0..n_src) (ids encode the source and index), comparing with
 * hl_dsource_equal. Polls mon. */
HL_API hl_status hl_exset_add_sources(hl_exset *s, const hl_dsource *srcs, size_t n_src,
                                      hl_monitor *mon);

/* Number of distinct items added. */
HL_API uint64_t hl_exset_count(const hl_exset *s);

/* ==== lines of a file ==================================================================== */

typedef struct hl_lineset hl_lineset;

/* An empty exact set of lines (keeps one copy of each distinct line; errors HL_EINVAL,
 * HL_ENOMEM), its destructor (NULL is a no-op) and its count of distinct lines. Lines are
 * compared byte for byte, so the count is exact. Not thread-safe. */
HL_API hl_status hl_lineset_create(hl_lineset **out);
HL_API void hl_lineset_free(hl_lineset *s);
HL_API uint64_t hl_lineset_count(const hl_lineset *s);

/* Adds one line (its bytes are copied when new). Errors: HL_ENOMEM, HL_EOVERFLOW (a line of
 * 4 GiB or more). */
HL_API hl_status hl_lineset_add(hl_lineset *s, const void *line, size_t len);

/* Adds n lines (lines[k], lens[k] bytes), prefetching their slots first. Same errors. */
HL_API hl_status hl_lineset_add_batch(hl_lineset *s, const unsigned char *const *lines,
                                      const size_t *lens, size_t n);

/*
 * Reads the file descriptor fd to its end with large reads and adds each line (bytes up to
 * '\n', newline excluded, a '\r' before it removed too; a last line without newline counts;
 * an empty file has no line) as a str item (UTF-8 hash, key of the sketch) to `sketch`, or, when
 * `exact` is non-NULL instead, to the exact line set. Exactly one of sketch and exact is
 * non-NULL (else HL_EINVAL). *bytes_read and *lines receive the totals (may be NULL). Errors:
 * HL_EIO (errno kept), HL_ENOMEM, HL_ECANCELLED (mon asked to stop; what was read stays
 * added). Does not close fd.
 */
HL_API hl_status hl_lines_read_fd(int fd, hl_hll *sketch, hl_lineset *exact, uint64_t *bytes_read,
                                  uint64_t *lines, hl_monitor *mon);

#ifdef __cplusplus
}
#endif
#endif /* HOTLOOP_DISTINCT_H */
