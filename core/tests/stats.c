/* Statistics helpers of the C tests: the KS statistic and p-value and the incomplete gamma
 * function (for gamma and chi-square CDFs). Written from the textbook definitions:
 * Kolmogorov's limit distribution with Stephens' small-sample correction (Stephens 1970), and
 * P(a, x) by its power series for x < a + 1 and Lentz's continued fraction otherwise. */
#include <stdlib.h>

#include "harness.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double hl_test_ks_statistic(double *x, size_t n, double (*cdf)(double x, const void *p),
                            const void *p) {
    qsort(x, n, sizeof *x, cmp_double);
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double f = cdf(x[i], p);
        const double lo = f - (double)i / (double)n;
        const double hi = (double)(i + 1) / (double)n - f;
        if (lo > d) {
            d = lo;
        }
        if (hi > d) {
            d = hi;
        }
    }
    return d;
}

double hl_test_ks_pvalue(double d, size_t n) {
    const double sn = sqrt((double)n);
    const double lambda = (sn + 0.12 + 0.11 / sn) * d;
    if (lambda < 0.2) {
        return 1.0;
    }
    /* Q_KS(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2) */
    double sum = 0.0, sign = 1.0;
    for (int k = 1; k <= 100; k++) {
        const double term = sign * exp(-2.0 * k * k * lambda * lambda);
        sum += term;
        if (fabs(term) < 1e-12 * fabs(sum)) {
            break;
        }
        sign = -sign;
    }
    const double q = 2.0 * sum;
    return q < 0.0 ? 0.0 : (q > 1.0 ? 1.0 : q);
}

double hl_test_gamma_p(double a, double x) {
    if (x <= 0.0) {
        return 0.0;
    }
    const double log_prefactor = a * log(x) - x - lgamma(a);
    if (x < a + 1.0) {
        double term = 1.0 / a, sum = term;
        for (int k = 1; k < 10000; k++) {
            term *= x / (a + k);
            sum += term;
            if (term < sum * 1e-16) {
                break;
            }
        }
        return sum * exp(log_prefactor);
    }
    /* Q(a, x) by the continued fraction (modified Lentz). */
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        const double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny) {
            d = tiny;
        }
        c = b + an / c;
        if (fabs(c) < tiny) {
            c = tiny;
        }
        d = 1.0 / d;
        const double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < 1e-16) {
            break;
        }
    }
    return 1.0 - exp(log_prefactor) * h;
}
