/*
 * The CVM distinct-elements estimator (see distinct.h, part 3), on 64-bit item hashes.
 *
 * Paper (Chakraborty, Vinodchandran & Meel 2022, Algorithm 1): p = 1, X empty; for each item
 * a: remove a from X; with probability p add it; when |X| reaches thresh, keep each element
 * with probability 1/2 and halve p; if |X| is still thresh, fail. Output |X| / p. Since p is
 * always 2^-k, the coin "probability p" is "the top k bits of a random word are all zero".
 * The buffer is a linear-probing set with backward-shift deletion (Knuth, TAOCP 6.4,
 * Algorithm R), so no tombstones build up.
 *
 * Knuth's Algorithm D ("The CVM Algorithm for Estimating Distinct Elements in Streams", 2023):
 * each occurrence of a gets a fresh uniform volatility u; the buffer B keeps the (at most s)
 * items with the smallest volatilities seen since their last occurrence, and p is the
 * smallest volatility ever evicted or rejected. D3: delete a from B; D4: draw u, skip if
 * u >= p, else insert if B is not full; D5 (full): with (a', u') of largest volatility, if
 * u > u' set p = u, else replace (a', u') by (a, u) and set p = u'. Output |B| / p, an unbiased
 * estimate that never fails. B is a hash table (key -> volatility; linear probing with
 * backward-shift deletion, as the paper's set) plus a binary max-heap of (volatility, key) with
 * lazy deletion, and a bit filter that answers most D3 lookups (absent items) without the
 * table.
 */
#include <math.h>
#include <stdlib.h>

#include "hotloop/distinct.h"
#include "hotloop/rng.h"

/* Knuth's table keeps its keys in their own array so a lookup (done for every item) touches
 * 8 bytes per probe: 0 marks an empty slot. The hashes 0 and 1 are stored as 2 and 3 (merging
 * those items with probability 2^-63, far below the estimator's error; 1 was a deletion marker
 * once, and stays mapped so that every estimate is the same as before). */
enum { KEY_EMPTY = 0 };

typedef struct hentry {
    double u;
    uint64_t key;
} hentry;

static inline uint64_t kkey(uint64_t h) {
    return h < 2 ? h + 2 : h;
}

struct hl_cvm {
    hl_cvm_method method;
    bool failed;
    size_t thresh;
    hl_rng rng;
    size_t size;
    size_t mask; /* table capacity - 1 */
    /* paper */
    uint64_t *keys; /* 0 = empty; the hash 0 is kept in has_zero */
    bool has_zero;
    unsigned k; /* p = 2^-k */
    uint64_t *tmp;
    /* knuth */
    uint64_t *kkeys; /* per slot: the key or KEY_EMPTY */
    double *vol;     /* per slot: the volatility */
    hentry *heap;    /* max-heap by volatility, with stale entries (see heap_push) */
    size_t heap_n;
    uint64_t p53; /* ceil(p 2^53): the integer form of p for D4 */
    double p;
    /* Bit (key >> fshift) is set for every key in the table, and stays set for keys deleted
     * since the last heap compaction (which rebuilds it): a clear bit proves an item absent
     * without touching the table (see knuth_add). */
    uint64_t *filter;
    unsigned fshift; /* 64 - log2(number of filter bits) */
};

size_t hl_cvm_threshold(double eps, double delta, double m) {
    if (!(eps > 0.0 && eps < 1.0) || !(delta > 0.0 && delta < 1.0) || !(m >= 0.0)) {
        return 0;
    }
    if (m < 1.0) {
        m = 1.0;
    }
    double t = ceil(12.0 / (eps * eps) * log2(8.0 * m / delta));
    if (!(t >= 1.0) || t > 4.0e9) {
        return 0;
    }
    return (size_t)t;
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) {
        c <<= 1;
    }
    return c;
}

hl_status hl_cvm_create(hl_cvm_method method, size_t thresh, uint64_t seed, hl_cvm **out) {
    if (out == NULL) {
        return HL_EINVAL;
    }
    *out = NULL;
    if (thresh < 1 || thresh > ((size_t)1 << 31) ||
        (method != HL_CVM_PAPER && method != HL_CVM_KNUTH)) {
        return HL_EINVAL;
    }
    hl_cvm *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return HL_ENOMEM;
    }
    c->method = method;
    c->thresh = thresh;
    c->p = 1.0;
    c->p53 = UINT64_C(1) << 53;
    hl_rng_seed(&c->rng, seed);
    /* The table is probed for every item and mostly misses: a load factor near 1/16 (while
     * that stays within 64K slots) makes nearly every miss a single, predictable probe. */
    size_t cap = pow2_at_least(4 * thresh);
    if (16 * thresh <= ((size_t)1 << 16)) {
        cap = pow2_at_least(16 * thresh);
    }
    c->mask = cap - 1;
    if (method == HL_CVM_PAPER) {
        c->keys = hl_calloc_array(cap, sizeof(uint64_t));
        c->tmp = hl_alloc_array(thresh, sizeof(uint64_t));
        if (c->keys == NULL || c->tmp == NULL) {
            hl_cvm_free(c);
            return HL_ENOMEM;
        }
    } else {
        c->kkeys = hl_calloc_array(cap, sizeof(uint64_t));
        c->vol = hl_calloc_array(cap, sizeof(double));
        c->heap = hl_alloc_array(2 * thresh + 2, sizeof(hentry));
        /* The filter holds at most 2 thresh set bits (live keys plus those deleted since
         * the last compaction): 128 bits per buffered item keep its false positives near
         * 1.5%, within 32 KiB (2^18 bits; beyond that it stays this size and only its false
         * positives grow). */
        unsigned fbits = 6;
        while (fbits < 18 && ((size_t)1 << fbits) < 128 * thresh) {
            fbits++;
        }
        c->fshift = 64 - fbits;
        c->filter = hl_calloc_array(((size_t)1 << fbits) / 64, sizeof(uint64_t));
        if (c->kkeys == NULL || c->vol == NULL || c->heap == NULL || c->filter == NULL) {
            hl_cvm_free(c);
            return HL_ENOMEM;
        }
    }
    *out = c;
    return HL_OK;
}

void hl_cvm_free(hl_cvm *c) {
    if (c != NULL) {
        free(c->keys);
        free(c->tmp);
        free(c->kkeys);
        free(c->filter);
        free(c->vol);
        free(c->heap);
        free(c);
    }
}

static inline size_t home(uint64_t h, size_t mask) {
    /* Item hashes are uniform 64-bit values: their top bits serve as the slot. */
    return (size_t)(h ^ (h >> 29)) & mask;
}

/* Empties slot `hole` of a linear-probing table (keys, 0 = empty; vals, when not NULL, moves
 * with its key) by backward-shift deletion (Knuth, TAOCP 6.4, Algorithm R): later members of
 * the cluster move into the hole when their home slot does not lie cyclically in (hole, j].
 * No tombstones are left, so lookups stay as short as the live load allows. */
static void shift_delete(uint64_t *keys, double *vals, size_t mask, size_t hole) {
    size_t j = hole;
    for (;;) {
        j = (j + 1) & mask;
        if (keys[j] == 0) {
            break;
        }
        size_t hj = home(keys[j], mask);
        bool in_between = hole <= j ? (hole < hj && hj <= j) : (hole < hj || hj <= j);
        if (!in_between) {
            keys[hole] = keys[j];
            if (vals != NULL) {
                vals[hole] = vals[j];
            }
            hole = j;
        }
    }
    keys[hole] = 0;
}

/* ---- paper: a set of hashes ------------------------------------------------------------ */

static bool pset_remove(hl_cvm *c, uint64_t h) {
    if (h == 0) {
        bool had = c->has_zero;
        c->has_zero = false;
        c->size -= had;
        return had;
    }
    uint64_t *t = c->keys;
    const size_t mask = c->mask;
    size_t i = home(h, mask);
    while (t[i] != h) {
        if (t[i] == 0) {
            return false;
        }
        i = (i + 1) & mask;
    }
    shift_delete(t, NULL, mask, i);
    c->size--;
    return true;
}

static void pset_insert(hl_cvm *c, uint64_t h) {
    if (h == 0) {
        c->has_zero = true;
        c->size++;
        return;
    }
    size_t i = home(h, c->mask);
    while (c->keys[i] != 0) {
        i = (i + 1) & c->mask;
    }
    c->keys[i] = h;
    c->size++;
}

/* True with probability 2^-k. */
static inline bool coin_pow2(hl_rng *r, unsigned k) {
    while (k >= 64) {
        if (hl_rng_next(r) != 0) {
            return false;
        }
        k -= 64;
    }
    if (k == 0) {
        return true;
    }
    return (hl_rng_next(r) >> (64 - k)) == 0;
}

/* Keeps each element with probability 1/2 (one random bit each, in slot order). */
static void paper_thin(hl_cvm *c) {
    size_t kept = 0;
    uint64_t bits = 0;
    int nbits = 0;
    const size_t cap = c->mask + 1;
    bool zero = c->has_zero;
    if (zero) {
        bits = hl_rng_next(&c->rng);
        nbits = 64;
    }
    for (size_t i = 0; i < cap; i++) {
        if (c->keys[i] != 0) {
            if (nbits == 0) {
                bits = hl_rng_next(&c->rng);
                nbits = 64;
            }
            if (bits & 1u) {
                c->tmp[kept++] = c->keys[i];
            }
            bits >>= 1;
            nbits--;
            c->keys[i] = 0;
        }
    }
    c->size = 0;
    c->has_zero = false;
    if (zero) {
        /* The zero hash is drawn last (after the table), from the first word's spare bits. */
        if (nbits == 0) {
            bits = hl_rng_next(&c->rng);
        }
        if (bits & 1u) {
            pset_insert(c, 0);
        }
    }
    for (size_t i = 0; i < kept; i++) {
        pset_insert(c, c->tmp[i]);
    }
}

static hl_status paper_add(hl_cvm *c, const uint64_t *hashes, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i + 32 < n) {
            __builtin_prefetch(&c->keys[home(hashes[i + 32], c->mask)]);
        }
        uint64_t h = hashes[i];
        pset_remove(c, h);
        if (coin_pow2(&c->rng, c->k)) {
            pset_insert(c, h);
            if (c->size == c->thresh) {
                paper_thin(c);
                c->k++;
                if (c->size == c->thresh) {
                    c->failed = true;
                    return HL_ENUMERIC;
                }
            }
        }
    }
    return HL_OK;
}

/* ---- knuth: table of (hash, volatility) + max-heap ------------------------------------- */

/* The heap holds (volatility, key) entries with lazy deletion: D3 only deletes the table
 * slot, and an entry whose key is no longer in the table with that volatility is stale and
 * dropped when it reaches the top. The heap is compacted when stale entries make it twice the
 * buffer size, so it never exceeds 2 thresh + 1 entries. */
static void heap_push(hl_cvm *c, double u, uint64_t key) {
    size_t pos = c->heap_n++;
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (c->heap[parent].u >= u) {
            break;
        }
        c->heap[pos] = c->heap[parent];
        pos = parent;
    }
    c->heap[pos].u = u;
    c->heap[pos].key = key;
}

/* Places e at pos and sifts it down among the first n entries. */
static void heap_sift_down(hentry *heap, size_t n, size_t pos, hentry e) {
    for (;;) {
        size_t l = 2 * pos + 1;
        if (l >= n) {
            break;
        }
        size_t r = l + 1;
        size_t big = (r < n && heap[r].u > heap[l].u) ? r : l;
        if (heap[big].u <= e.u) {
            break;
        }
        heap[pos] = heap[big];
        pos = big;
    }
    heap[pos] = e;
}

static void heap_pop(hl_cvm *c) {
    const size_t n = --c->heap_n;
    if (n > 0) {
        heap_sift_down(c->heap, n, 0, c->heap[n]);
    }
}

static inline long kfind(const hl_cvm *c, uint64_t key) {
    size_t i = home(key, c->mask);
    for (;;) {
        uint64_t k = c->kkeys[i];
        if (k == key) {
            return (long)i;
        }
        if (k == KEY_EMPTY) {
            return -1;
        }
        i = (i + 1) & c->mask;
    }
}

/* True when heap entry e is live (its key is in the table with that volatility). */
static bool entry_live(const hl_cvm *c, const hentry *e) {
    long slot = kfind(c, e->key);
    return slot >= 0 && c->vol[slot] == e->u;
}

static inline size_t filter_bit(const hl_cvm *c, uint64_t key) {
    return (size_t)(key >> c->fshift);
}

static inline bool filter_has(const uint64_t *filter, size_t bit) {
    return (filter[bit >> 6] >> (bit & 63)) & 1u;
}

static inline void filter_add(hl_cvm *c, uint64_t key) {
    const size_t bit = filter_bit(c, key);
    c->filter[bit >> 6] |= UINT64_C(1) << (bit & 63);
}

/* Drops the heap's stale entries and restores the heap order (Floyd's bottom-up
 * construction, O(heap size)); rebuilds the filter from the live keys. */
static void heap_compact(hl_cvm *c) {
    size_t k = 0;
    for (size_t j = 0; j < c->heap_n; j++) {
        if (entry_live(c, &c->heap[j])) {
            c->heap[k++] = c->heap[j];
        }
    }
    c->heap_n = k;
    for (size_t pos = k / 2; pos-- > 0;) {
        heap_sift_down(c->heap, k, pos, c->heap[pos]);
    }
    memset(c->filter, 0, ((size_t)1 << (64 - c->fshift)) / 64 * sizeof(uint64_t));
    for (size_t j = 0; j < k; j++) {
        filter_add(c, c->heap[j].key);
    }
}

static void kinsert(hl_cvm *c, uint64_t key, double u) {
    /* D3 leaves the deleted item's heap entry behind (stale): compact when the heap would
     * pass twice the buffer size. The buffer holds at most thresh live entries, so this
     * happens at most once per thresh + 1 insertions. */
    if (c->heap_n + 1 > 2 * c->thresh + 1) {
        heap_compact(c);
    }
    size_t i = home(key, c->mask);
    while (c->kkeys[i] != KEY_EMPTY) {
        i = (i + 1) & c->mask;
    }
    c->kkeys[i] = key;
    c->vol[i] = u;
    c->size++;
    filter_add(c, key);
    heap_push(c, u, key);
}

static void kdelete_slot(hl_cvm *c, size_t slot) {
    shift_delete(c->kkeys, c->vol, c->mask, slot);
    c->size--;
}

static inline void set_p(hl_cvm *c, double p) {
    c->p = p;
    c->p53 = (uint64_t)ceil(p * 0x1.0p53); /* exact: p <= 1 has 53 significant bits */
}

/* Steps D3 to D5 for an item that may be in the buffer (absent false: its filter bit is set)
 * or whose draw r (D4's, as an integer, see knuth_add) is below p: the rare case, kept out of
 * line so the common path's loop keeps its values in registers. */
static __attribute__((noinline)) void knuth_item(hl_cvm *c, uint64_t key, uint64_t r, bool absent) {
    if (!absent) { /* D3 */
        long slot = kfind(c, key);
        if (slot >= 0) {
            kdelete_slot(c, (size_t)slot);
        }
    }
    if (r >= c->p53) { /* D4 */
        return;
    }
    const double u = (double)r * 0x1.0p-53;
    if (c->size < c->thresh) {
        kinsert(c, key, u);
        return;
    }
    while (!entry_live(c, &c->heap[0])) { /* D5: the live entry of largest volatility */
        heap_pop(c);
    }
    hentry top = c->heap[0];
    if (u > top.u) {
        set_p(c, u);
    } else {
        set_p(c, top.u);
        heap_pop(c);
        kdelete_slot(c, (size_t)kfind(c, top.key));
        kinsert(c, key, u);
    }
}

static void knuth_add(hl_cvm *c, const uint64_t *hashes, size_t n) {
    /* The per-item path works on locals: the generator's state, the filter and p's integer
     * form. Left in *c, they would be stored and reloaded around every item (the compiler
     * cannot tell the table's stores from the state's). The draws are the same. */
    hl_rng rng = c->rng;
    const uint64_t *const filter = c->filter;
    const unsigned fshift = c->fshift;
    uint64_t p53 = c->p53;
    for (size_t i = 0; i < n; i++) {
        const uint64_t key = kkey(hashes[i]);
        /* D4's draw, taken first (D3 draws nothing): u = (r >> 11) 2^-53 as in
         * hl_rng_uniform; u < p exactly when the integer r >> 11 is below ceil(p 2^53). */
        const uint64_t r = hl_rng_next(&rng) >> 11;
        /* The common case in one test: the filter proves the item absent (D3 has nothing to
         * delete; most items, with no access to the table) and the draw rejects it. */
        const bool absent = !filter_has(filter, (size_t)(key >> fshift));
        if (!(absent & (r >= p53))) {
            knuth_item(c, key, r, absent);
            p53 = c->p53;
        }
    }
    c->rng = rng;
}

hl_status hl_cvm_add(hl_cvm *c, const uint64_t *hashes, size_t n) {
    if (c->failed) {
        return HL_ENUMERIC;
    }
    if (c->method == HL_CVM_PAPER) {
        return paper_add(c, hashes, n);
    }
    knuth_add(c, hashes, n);
    return HL_OK;
}

#define CVM_BATCH 4096

hl_status hl_cvm_add_source(hl_cvm *c, const hl_dsource *src, uint64_t key, hl_monitor *mon) {
    uint64_t buf[CVM_BATCH];
    const size_t n = src->n;
    hl_monitor_begin(mon, n);
    for (size_t i = 0; i < n; i += CVM_BATCH) {
        size_t e = n - i < CVM_BATCH ? n : i + CVM_BATCH;
        hl_status st = hl_dsource_hash(src, i, e, key, buf);
        if (st == HL_OK) {
            st = hl_cvm_add(c, buf, e - i);
        }
        if (st != HL_OK) {
            return st;
        }
        hl_monitor_add(mon, e - i);
        if ((i / CVM_BATCH) % 8 == 7 && hl_monitor_poll(mon) != HL_OK) {
            return HL_ECANCELLED;
        }
    }
    return HL_OK;
}

uint64_t hl_cvm_estimate(const hl_cvm *c) {
    if (c->method == HL_CVM_PAPER) {
        return (uint64_t)ldexp((double)c->size, (int)c->k);
    }
    return (uint64_t)llround((double)c->size / c->p);
}

size_t hl_cvm_size(const hl_cvm *c) {
    return c->size;
}

double hl_cvm_p(const hl_cvm *c) {
    return c->method == HL_CVM_PAPER ? ldexp(1.0, -(int)c->k) : c->p;
}

hl_status hl_cvm_validate(const hl_cvm *c) {
    const size_t cap = c->mask + 1;
    size_t n = 0;
    if (c->method == HL_CVM_PAPER) {
        n = c->has_zero ? 1 : 0;
        for (size_t i = 0; i < cap; i++) {
            if (c->keys[i] == 0) {
                continue;
            }
            n++;
            for (size_t j = home(c->keys[i], c->mask); j != i; j = (j + 1) & c->mask) {
                if (c->keys[j] == 0) {
                    return HL_EINTERNAL;
                }
            }
        }
        return (n == c->size && n < c->thresh) ? HL_OK : HL_EINTERNAL;
    }
    for (size_t i = 0; i < cap; i++) {
        if (c->kkeys[i] != KEY_EMPTY) {
            n++;
            if (!(c->vol[i] < c->p)) {
                return HL_EINTERNAL;
            }
            for (size_t j = home(c->kkeys[i], c->mask); j != i; j = (j + 1) & c->mask) {
                if (c->kkeys[j] == KEY_EMPTY) {
                    return HL_EINTERNAL;
                }
            }
            if (!filter_has(c->filter, filter_bit(c, c->kkeys[i]))) {
                return HL_EINTERNAL;
            }
        }
    }
    if (n != c->size || n > c->thresh || c->heap_n > 2 * c->thresh + 1) {
        return HL_EINTERNAL;
    }
    size_t live = 0;
    for (size_t pos = 0; pos < c->heap_n; pos++) {
        if (pos > 0 && c->heap[pos].u > c->heap[(pos - 1) / 2].u) {
            return HL_EINTERNAL;
        }
        live += entry_live(c, &c->heap[pos]);
    }
    if (live != n) { /* every buffered item has its live heap entry */
        return HL_EINTERNAL;
    }
    return HL_OK;
}
