/* The data check of the tmodel kernel: is the posterior proper? See hl_tmodel_check_data in
 * hotloop/tmodel.h for the condition and where it comes from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hotloop/tmodel.h"

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

hl_status hl_tmodel_check_data(const double *x, size_t n, double nu, hl_tmodel_prior prior) {
    if (x == NULL || !(nu > 0.0) || !isfinite(nu)) {
        return HL_EINVAL;
    }
    if (prior != HL_TMODEL_PRIOR_LOG_SIGMA && prior != HL_TMODEL_PRIOR_FLAT) {
        return HL_EINVAL;
    }
    const size_t min_n = prior == HL_TMODEL_PRIOR_FLAT ? 4 : 2;
    if (n < min_n) {
        return HL_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            return HL_EINVAL;
        }
    }
    /* The largest number of equal values, from a sorted copy. */
    double *sorted = hl_alloc_array(n, sizeof *sorted);
    if (sorted == NULL) {
        return HL_ENOMEM;
    }
    memcpy(sorted, x, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    size_t k = 1, run = 1;
    for (size_t i = 1; i < n; i++) {
        run = sorted[i] == sorted[i - 1] ? run + 1 : 1;
        if (run > k) {
            k = run;
        }
    }
    const double range = sorted[n - 1] - sorted[0];
    free(sorted);
    /* sigma^2 is of the order of the squared range: keep it (and its posterior tails) well
     * inside the double range. */
    if (!(range <= HL_TMODEL_MAX_RANGE) || (range > 0.0 && range < HL_TMODEL_MIN_RANGE)) {
        return HL_EINVAL;
    }
    /* Near sigma = 0 with mu at the k tied values the posterior behaves like
     * sigma^(p - 1) d sigma with p = nu (n - k) - k + 1 + e: k factors of 1/sigma, sigma^nu from
     * each other point, a mu window of width sigma, the prior's 1/sigma (e = 0) or sigma (e = 2).
     * It is proper iff p > 0; we ask for p >= 1 so that the draws stay well inside the doubles
     * (see the header). */
    const double e = prior == HL_TMODEL_PRIOR_FLAT ? 2.0 : 0.0;
    if (!(nu * (double)(n - k) - (double)k + 1.0 + e >= HL_TMODEL_MIN_POWER)) {
        return HL_EINVAL;
    }
    return HL_OK;
}
