/*
 * sort.h (private to the tmodel kernel): the data checks and the standardisation need the data
 * sorted (the largest number of equal values, the median); this is an LSD radix sort of finite
 * doubles, about ten times faster than qsort on millions of points, that can stop on Ctrl-C.
 */
#ifndef HOTLOOP_TMODEL_SORT_H
#define HOTLOOP_TMODEL_SORT_H

#include "hotloop/common.h"

/* Elements a pass over the data handles between two polls of the monitor: a few milliseconds
 * of the data check's finite test and copy, or of the standardisation (the sort polls more
 * often: HL_TM_SORT_POLL_ELEMENTS). */
#define HL_TM_POLL_ELEMENTS ((size_t)1 << 22)

/* Elements the sort's histogram and scatter passes handle between two polls. Smaller than
 * HL_TM_POLL_ELEMENTS: a scatter over tens of millions of points misses the cache on most
 * stores, and 4 million of them took up to about 40 ms. */
#define HL_TM_SORT_POLL_ELEMENTS ((size_t)1 << 20)

/*
 * Sorts a[0..n) (finite doubles, -0.0 before +0.0) into ascending order, using tmp (n doubles)
 * as scratch. Polls `mon` (may be NULL; call from the thread that entered the core) every
 * HL_TM_SORT_POLL_ELEMENTS. Returns HL_OK, or HL_ECANCELLED with a[] and tmp[] holding
 * unspecified bits: the caller sorts a copy and drops it. (Converting the keys back to the
 * doubles took about 0.1 s for 40 million points, longer than a Ctrl-C may wait.)
 */
hl_status hl_tm_sort(double *a, size_t n, double *tmp, hl_monitor *mon);

/* hl_tm_sort polling every `poll_every` (> 0) elements read or moved (tests); n >= `small`
 * uses the radix passes, below it qsort. */
hl_status hl_tm_sort_with(double *a, size_t n, double *tmp, hl_monitor *mon, size_t poll_every,
                          size_t small);

#endif
