/*
 * hotloop/common.h: what every part of the hotloop C core shares.
 *
 * - hl_status: every fallible core call returns one; results go through out-parameters.
 * - Overflow-checked size arithmetic and allocation helpers (sizes are size_t).
 * - hl_monitor: the cooperative cancellation and progress channel of long loops.
 * - The core's version, for the handshake with the Python binding.
 *
 * The core never includes Python.h, never prints, never exits on bad input and holds no
 * global mutable state (constant tables and the once-initialised CPU probe aside).
 */
#ifndef HOTLOOP_COMMON_H
#define HOTLOOP_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the headers. hl_version() returns the version the core was compiled with;
 * the binding refuses to load when they differ (a stale build mixing old and new parts). */
#define HL_VERSION_MAJOR 0
#define HL_VERSION_MINOR 1
#define HL_VERSION_PATCH 0
#define HL_VERSION (HL_VERSION_MAJOR * 10000 + HL_VERSION_MINOR * 100 + HL_VERSION_PATCH)

/* Symbols of the public API (the core is a static library; hidden visibility keeps it out
 * of the extension's dynamic symbol table). */
#define HL_API

typedef enum hl_status {
    HL_OK = 0,
    HL_EINVAL = 1,     /* an argument is out of its documented domain */
    HL_ENOMEM = 2,     /* an allocation failed, or a size computation overflowed */
    HL_ECANCELLED = 3, /* the monitor's check callback asked to stop */
    HL_EOVERFLOW = 4,  /* a count or index would not fit its type */
    HL_EIO = 5,        /* reading or writing a file failed (errno is preserved) */
    HL_ESTATE = 6,     /* the object is in the wrong state for this call (e.g. busy) */
    HL_EFORMAT = 7,    /* serialised bytes are corrupt, truncated or of another format */
    HL_ENUMERIC = 8,   /* a numerical failure (non-finite intermediate, failed event) */
    HL_EINTERNAL = 9,  /* an invariant of the core itself was broken: a bug */
} hl_status;

/* Returns a static, human-readable name for `status` ("invalid argument", ...).
 * Never NULL: unknown values give "unknown status". Thread-safe. */
HL_API const char *hl_strerror(hl_status status);

/* Returns HL_VERSION as compiled into the core library. Thread-safe. */
HL_API int hl_version(void);

/* ---- overflow-checked sizes --------------------------------------------------------- */

/* *out = a * b. Returns false (and leaves *out unspecified) when the product overflows. */
static inline bool hl_size_mul(size_t a, size_t b, size_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}

/* *out = a + b. Returns false when the sum overflows. */
static inline bool hl_size_add(size_t a, size_t b, size_t *out) {
    return !__builtin_add_overflow(a, b, out);
}

/* Allocates n * size bytes (uninitialised), checking the product for overflow first.
 * Returns NULL when it overflows or malloc fails; n == 0 returns a unique pointer or NULL
 * (both may be passed to free). Free with free(). */
HL_API void *hl_alloc_array(size_t n, size_t size);

/* Like hl_alloc_array but zero-filled. */
HL_API void *hl_calloc_array(size_t n, size_t size);

/* Buffers from this size on are worth transparent huge pages (NumPy asks for them from the
 * same size on). */
#define HL_HUGE_PAGES_MIN ((size_t)4 << 20)

/* Asks for transparent huge pages on the whole pages of p[0..bytes) when bytes >= min: faults
 * and, more to the point of a Ctrl-C's answer, the release get cheaper (freeing a gigabyte of
 * 4 KiB pages took 60-100 ms here, of huge pages 3 ms; 320 MB from malloc 23 ms against NumPy's
 * 0.9 ms). Advice only: where it is refused or unknown (not Linux), the buffer is the same. */
HL_API void hl_advise_huge(void *p, size_t bytes, size_t min);

/* hl_alloc_array, on huge pages from HL_HUGE_PAGES_MIN on (hl_advise_huge): for large arrays
 * that are filled whole and freed on the way out of a call, such as sort scratch. */
HL_API void *hl_alloc_large_array(size_t n, size_t size);

/* Allocates n * size bytes aligned to `alignment` (a power of two, >= sizeof(void *)),
 * with the overflow check; the size is rounded up to a multiple of the alignment.
 * Returns NULL on overflow or failure. Free with hl_aligned_free(). */
HL_API void *hl_aligned_alloc(size_t alignment, size_t n, size_t size);

/* Frees memory from hl_aligned_alloc. NULL is a no-op. */
HL_API void hl_aligned_free(void *p);

/* ---- cooperative cancellation and progress -------------------------------------------- */

/*
 * A monitor is handed to long core calls by their caller (the binding uses it for Ctrl-C
 * and progress bars; C callers may pass NULL for "never cancel, no progress").
 *
 * Contract for the core:
 * - `check` is called only from the thread that entered the core call (never from a worker
 *   thread), through hl_monitor_poll(), at intervals short enough that a cancellation is seen
 *   within about a millisecond of work. A non-zero answer stops the work: the call frees what
 *   it allocated and returns HL_ECANCELLED.
 * - `done` counts completed work units out of `total` (both set by the core; `total` is
 *   written before the work starts and `done` only grows). Any thread may add to `done`.
 *
 * Contract for the caller: `check` must be cheap (it is called often); it may read
 * `done`/`total` to report progress.
 */
typedef struct hl_monitor {
    int (*check)(void *ctx); /* NULL: never cancel */
    void *ctx;
    atomic_size_t done;
    size_t total;
} hl_monitor;

/* Initialises a monitor with the given callback (NULL allowed) and zero progress. */
HL_API void hl_monitor_init(hl_monitor *mon, int (*check)(void *ctx), void *ctx);

/* Asks the monitor's check callback (if any). Returns HL_ECANCELLED when it asks to stop,
 * else HL_OK. `mon` may be NULL. Call only from the thread that entered the core call. */
static inline hl_status hl_monitor_poll(hl_monitor *mon) {
    if (mon != NULL && mon->check != NULL && mon->check(mon->ctx) != 0) {
        return HL_ECANCELLED;
    }
    return HL_OK;
}

/* Sets the expected total of work units. `mon` may be NULL. */
static inline void hl_monitor_begin(hl_monitor *mon, size_t total) {
    if (mon != NULL) {
        mon->total = total;
        atomic_store_explicit(&mon->done, 0, memory_order_relaxed);
    }
}

/* Adds `units` completed work units. `mon` may be NULL. Thread-safe. */
static inline void hl_monitor_add(hl_monitor *mon, size_t units) {
    if (mon != NULL) {
        atomic_fetch_add_explicit(&mon->done, units, memory_order_relaxed);
    }
}

#ifdef __cplusplus
}
#endif
#endif /* HOTLOOP_COMMON_H */
