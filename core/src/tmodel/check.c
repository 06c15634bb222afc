/* The data check of the tmodel kernel: is the posterior proper? See hl_tmodel_check_data in
 * hotloop/tmodel.h for the condition and where it comes from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hotloop/tmodel.h"

#include "check.h"
#include "sort.h"

/* Checks that x[0..n) (n >= 1) is finite, sorts a copy into `sorted` (tmp: the sort's
 * scratch) and puts the largest number of equal values in *k. HL_EINVAL for a non-finite
 * value, HL_ECANCELLED when `mon` stops the check (polled every HL_TM_POLL_ELEMENTS) or the
 * sort (every HL_TM_SORT_POLL_ELEMENTS), so 40 million points answer Ctrl-C as quickly as 4
 * million; `sorted` and `tmp` then hold unspecified bits. */
static hl_status sorted_ties(const double *x, size_t n, double *sorted, double *tmp,
                             hl_monitor *mon, size_t *k) {
    for (size_t i0 = 0; i0 < n; i0 += HL_TM_POLL_ELEMENTS) {
        const size_t i1 = n - i0 < HL_TM_POLL_ELEMENTS ? n : i0 + HL_TM_POLL_ELEMENTS;
        for (size_t i = i0; i < i1; i++) {
            if (!isfinite(x[i])) {
                return HL_EINVAL;
            }
        }
        memcpy(sorted + i0, x + i0, (i1 - i0) * sizeof *sorted);
        if (hl_monitor_poll(mon) != HL_OK) {
            return HL_ECANCELLED;
        }
    }
    const hl_status st = hl_tm_sort(sorted, n, tmp, mon);
    if (st != HL_OK) {
        return st;
    }
    size_t best = 1, run = 1;
    for (size_t i = 1; i < n; i++) {
        run = sorted[i] == sorted[i - 1] ? run + 1 : 1;
        if (run > best) {
            best = run;
        }
    }
    *k = best;
    return HL_OK;
}

hl_status hl_tm_check_sorted(const double *x, size_t n, double nu, hl_tmodel_prior prior,
                             double *sorted, double *tmp, hl_monitor *mon) {
    if (x == NULL || !(nu > 0.0 && nu <= HL_TMODEL_MAX_NU)) {
        return HL_EINVAL;
    }
    if (prior != HL_TMODEL_PRIOR_LOG_SIGMA && prior != HL_TMODEL_PRIOR_FLAT) {
        return HL_EINVAL;
    }
    const size_t min_n = prior == HL_TMODEL_PRIOR_FLAT ? 4 : 2;
    if (n < min_n) {
        return HL_EINVAL;
    }
    size_t k;
    const hl_status st = sorted_ties(x, n, sorted, tmp, mon, &k);
    if (st != HL_OK) {
        return st;
    }
    /* Near sigma = 0 with mu at the k tied values the posterior behaves like
     * sigma^(p - 1) d sigma with p = nu (n - k) - k + 1 + e: k factors of 1/sigma, sigma^nu from
     * each other point, a mu window of width sigma, the prior's 1/sigma (e = 0) or sigma (e = 2).
     * It is proper iff p > 0; we ask for p >= 1 so that the draws stay well inside the doubles
     * (see the header). */
    const double e = prior == HL_TMODEL_PRIOR_FLAT ? 2.0 : 0.0;
    const double power = nu * (double)(n - k) - (double)k + 1.0 + e;
    if (!(power >= HL_TMODEL_MIN_POWER)) {
        return HL_EINVAL;
    }
    /* p >= 1 implies k < n: the range is > 0. */
    double lo, hi;
    hl_tmodel_range_bounds(n, power, prior, &lo, &hi);
    const double range = sorted[n - 1] - sorted[0];
    return range >= lo && range <= hi ? HL_OK : HL_EINVAL;
}

void hl_tmodel_range_bounds(size_t n, double power, hl_tmodel_prior prior, double *lo, double *hi) {
    const double a = (double)n - (prior == HL_TMODEL_PRIOR_FLAT ? 3.0 : 1.0);
    *hi = fmin(HL_TMODEL_MAX_RANGE, HL_TMODEL_SIGMA_MAX * pow(10.0, -HL_TMODEL_TAIL_DIGITS / a));
    *lo = fmax(HL_TMODEL_MIN_RANGE, HL_TMODEL_SIGMA_MIN * pow(10.0, HL_TMODEL_TAIL_DIGITS / power));
}

hl_status hl_tmodel_check_data(const double *x, size_t n, double nu, hl_tmodel_prior prior) {
    if (x == NULL || n < 2) {
        return HL_EINVAL; /* before allocating: hl_tm_check_sorted says so too */
    }
    double *sorted = hl_alloc_large_array(n, sizeof *sorted);
    double *tmp = hl_alloc_large_array(n, sizeof *tmp);
    hl_status st = sorted != NULL && tmp != NULL ? HL_OK : HL_ENOMEM;
    if (st == HL_OK) {
        st = hl_tm_check_sorted(x, n, nu, prior, sorted, tmp, NULL);
    }
    free(sorted);
    free(tmp);
    return st;
}

hl_status hl_tmodel_ties(const double *x, size_t n, size_t *k, hl_monitor *mon) {
    if ((x == NULL && n > 0) || k == NULL) {
        return HL_EINVAL;
    }
    *k = 0;
    if (n == 0) {
        return HL_OK;
    }
    double *sorted = hl_alloc_large_array(n, sizeof *sorted);
    double *tmp = hl_alloc_large_array(n, sizeof *tmp);
    hl_status st = sorted != NULL && tmp != NULL ? HL_OK : HL_ENOMEM;
    if (st == HL_OK) {
        st = sorted_ties(x, n, sorted, tmp, mon, k);
    }
    free(sorted);
    free(tmp);
    return st;
}
