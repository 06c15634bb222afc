/* Status names, version and the overflow-checked allocation helpers of common.h. */
#include "hotloop/common.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

const char *hl_strerror(hl_status status) {
    switch (status) {
    case HL_OK:
        return "success";
    case HL_EINVAL:
        return "invalid argument";
    case HL_ENOMEM:
        return "out of memory";
    case HL_ECANCELLED:
        return "cancelled";
    case HL_EOVERFLOW:
        return "value too large for its type";
    case HL_EIO:
        return "input/output error";
    case HL_ESTATE:
        return "object in the wrong state for this call";
    case HL_EFORMAT:
        return "corrupt or foreign serialised data";
    case HL_ENUMERIC:
        return "numerical failure";
    case HL_EINTERNAL:
        return "internal error (a bug in hotloop)";
    }
    return "unknown status";
}

int hl_version(void) {
    return HL_VERSION;
}

void *hl_alloc_array(size_t n, size_t size) {
    size_t bytes;
    if (!hl_size_mul(n, size, &bytes)) {
        return NULL;
    }
    return malloc(bytes == 0 ? 1 : bytes);
}

void *hl_calloc_array(size_t n, size_t size) {
    size_t bytes;
    if (!hl_size_mul(n, size, &bytes)) {
        return NULL;
    }
    return calloc(bytes == 0 ? 1 : bytes, 1);
}

void hl_advise_huge(void *p, size_t bytes, size_t min) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const long page_size = sysconf(_SC_PAGESIZE);
    if (p != NULL && bytes >= min && page_size > 0) {
        /* the whole pages inside the buffer (rounded inwards, as NumPy does): a block that
         * malloc carved from its heap shares its first and last pages with other blocks, and
         * only whole 2 MB-aligned ranges inside can become huge pages anyway */
        const uintptr_t page = (uintptr_t)page_size;
        const uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1);
        const uintptr_t b = ((uintptr_t)p + bytes) & ~(page - 1);
        if (b > a) {
            (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
        }
    }
#else
    (void)p;
    (void)bytes;
    (void)min;
#endif
}

void *hl_alloc_large_array(size_t n, size_t size) {
    void *p = hl_alloc_array(n, size);
    if (p != NULL) {
        hl_advise_huge(p, n * size, HL_HUGE_PAGES_MIN); /* n * size fits: checked above */
    }
    return p;
}

void *hl_aligned_alloc(size_t alignment, size_t n, size_t size) {
    size_t bytes;
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) {
        return NULL;
    }
    if (!hl_size_mul(n, size, &bytes) || !hl_size_add(bytes, alignment - 1, &bytes)) {
        return NULL;
    }
    bytes &= ~(alignment - 1);
    if (bytes == 0) {
        bytes = alignment;
    }
    return aligned_alloc(alignment, bytes);
}

void hl_aligned_free(void *p) {
    free(p);
}

void hl_monitor_init(hl_monitor *mon, int (*check)(void *ctx), void *ctx) {
    mon->check = check;
    mon->ctx = ctx;
    atomic_init(&mon->done, 0);
    mon->total = 0;
}
