/*
 * Distinct lines of a file descriptor (the `hotloop count` command): large read() calls into
 * one buffer, lines split with memchr, each line hashed as a str (UTF-8 bytes) and added to a
 * sketch or an exact line set. A line longer than the buffer grows the buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "hotloop/distinct.h"

#define READ_CHUNK ((size_t)4 << 20)

/* Finds the first '\n' in [p, stop): eight bytes per step with the "has zero byte" bit trick
 * (x - 0x01..) & ~x & 0x80.. on the word xored with "\n\n\n\n\n\n\n\n" (Mycroft, 1987; as in
 * Hacker's Delight, section 6-1), which beats a memchr() call per line for short lines. */
static const unsigned char *find_newline(const unsigned char *p, const unsigned char *stop) {
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    const uint64_t nl = ones * '\n';
    while (stop - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        uint64_t x = w ^ nl;
        uint64_t t = (x - ones) & ~x & highs;
        if (t != 0) {
            /* The lowest flagged byte is a true match (borrows only run upwards). */
            return p + (__builtin_ctzll(t) >> 3);
        }
        p += 8;
    }
    return memchr(p, '\n', (size_t)(stop - p));
}
#define LINE_BATCH 1024

typedef struct line_sink {
    hl_hll *sketch;
    hl_lineset *exact;
    uint64_t key;
    uint64_t batch[LINE_BATCH];
    const unsigned char *ptrs[LINE_BATCH]; /* exact: lines not yet added (in the buffer) */
    size_t lens[LINE_BATCH];
    size_t n;
    uint64_t lines;
} line_sink;

/* Adds the batched lines; must run before the buffer they point into changes. */
static hl_status sink_flush(line_sink *k) {
    hl_status st = HL_OK;
    if (k->n > 0) {
        if (k->exact != NULL) {
            st = hl_lineset_add_batch(k->exact, k->ptrs, k->lens, k->n);
        } else {
            hl_hll_add(k->sketch, k->batch, k->n);
        }
    }
    k->n = 0;
    return st;
}

static hl_status sink_line(line_sink *k, const unsigned char *p, size_t len) {
    if (len > 0 && p[len - 1] == '\r') {
        len--; /* CRLF */
    }
    k->lines++;
    if (k->exact != NULL) {
        k->ptrs[k->n] = p;
        k->lens[k->n] = len;
    } else {
        k->batch[k->n] = hl_dhash_utf8(p, len, k->key);
    }
    return ++k->n == LINE_BATCH ? sink_flush(k) : HL_OK;
}

hl_status hl_lines_read_fd(int fd, hl_hll *sketch, hl_lineset *exact, uint64_t *bytes_read,
                           uint64_t *lines, hl_monitor *mon) {
    if ((sketch == NULL) == (exact == NULL) || fd < 0) {
        return HL_EINVAL;
    }
    line_sink *k = malloc(sizeof *k);
    size_t cap = READ_CHUNK;
    unsigned char *buf = malloc(cap);
    if (k == NULL || buf == NULL) {
        free(k);
        free(buf);
        return HL_ENOMEM;
    }
    k->sketch = sketch;
    k->exact = exact;
    k->key = sketch != NULL ? hl_hll_key(sketch) : 0;
    k->n = 0;
    k->lines = 0;
    uint64_t total = 0;
    size_t have = 0; /* bytes of an unfinished line at the start of buf */
    hl_status st = HL_OK;
    hl_monitor_begin(mon, 0);
    for (;;) {
        if (have == cap) { /* one line fills the buffer: grow it */
            size_t ncap;
            unsigned char *nb = NULL;
            if (hl_size_mul(cap, 2, &ncap)) {
                nb = realloc(buf, ncap);
            }
            if (nb == NULL) {
                st = HL_ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + have, cap - have);
        if (r < 0) {
            if (errno == EINTR) {
                if (hl_monitor_poll(mon) != HL_OK) {
                    st = HL_ECANCELLED;
                    break;
                }
                continue;
            }
            st = HL_EIO;
            break;
        }
        if (r == 0) {
            if (have > 0) { /* a last line without newline */
                st = sink_line(k, buf, have);
            }
            if (st == HL_OK) {
                st = sink_flush(k);
            }
            break;
        }
        total += (uint64_t)r;
        hl_monitor_add(mon, (size_t)r);
        size_t end = have + (size_t)r;
        const unsigned char *p = buf, *stop = buf + end;
        for (;;) {
            const unsigned char *nl = find_newline(p, stop);
            if (nl == NULL) {
                break;
            }
            st = sink_line(k, p, (size_t)(nl - p));
            if (st != HL_OK) {
                break;
            }
            p = nl + 1;
        }
        if (st == HL_OK) {
            st = sink_flush(k); /* the batch points into buf */
        }
        if (st != HL_OK) {
            break;
        }
        have = (size_t)(stop - p);
        memmove(buf, p, have);
        if (hl_monitor_poll(mon) != HL_OK) {
            st = HL_ECANCELLED;
            break;
        }
    }
    if (bytes_read != NULL) {
        *bytes_read = total;
    }
    if (lines != NULL) {
        *lines = k->lines;
    }
    int saved = errno;
    free(buf);
    free(k);
    errno = saved;
    return st;
}
