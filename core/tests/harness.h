/*
 * harness.h: the C test harness. Each test_<concern>.c defines tests with HL_TEST; they
 * register themselves before main() runs, and the runner (main.c) runs them all (or those whose
 * name contains argv[1]) and ends with the line "N passed, N failed".
 *
 *   HL_TEST(parallel_sums_every_item) {
 *       CHECK(x == 3);
 *       CHECK_OK(hl_something(...));
 *       CHECK_NEAR(y, 0.5, 1e-12);
 *   }
 */
#ifndef HOTLOOP_TEST_HARNESS_H
#define HOTLOOP_TEST_HARNESS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "hotloop/common.h"

typedef struct hl_test_ctx {
    const char *name;
    int failures;
} hl_test_ctx;

typedef void (*hl_test_fn)(hl_test_ctx *t_);

void hl_test_register(const char *name, hl_test_fn fn);
void hl_test_fail(hl_test_ctx *t, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define HL_TEST(fn)                                                                                \
    static void fn(hl_test_ctx *t_);                                                               \
    __attribute__((constructor)) static void fn##_register(void) {                                 \
        hl_test_register(#fn, fn);                                                                 \
    }                                                                                              \
    static void fn(hl_test_ctx *t_)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            hl_test_fail(t_, __FILE__, __LINE__, "CHECK(%s)", #cond);                              \
        }                                                                                          \
    } while (0)

#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        hl_status st_ = (expr);                                                                    \
        if (st_ != HL_OK) {                                                                        \
            hl_test_fail(t_, __FILE__, __LINE__, "%s returned %s", #expr, hl_strerror(st_));       \
        }                                                                                          \
    } while (0)

#define CHECK_STATUS(expr, want)                                                                   \
    do {                                                                                           \
        hl_status st_ = (expr);                                                                    \
        if (st_ != (want)) {                                                                       \
            hl_test_fail(t_, __FILE__, __LINE__, "%s returned %s, expected %s", #expr,             \
                         hl_strerror(st_), hl_strerror(want));                                     \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                           \
        if (a_ != b_) {                                                                            \
            hl_test_fail(t_, __FILE__, __LINE__, "%s == %llu, expected %s == %llu", #a,            \
                         (unsigned long long)a_, #b, (unsigned long long)b_);                      \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol))) {                                                           \
            hl_test_fail(t_, __FILE__, __LINE__, "%s = %.17g, expected %.17g +- %g", #a, a_, b_,   \
                         (double)(tol));                                                           \
        }                                                                                          \
    } while (0)

/* ---- statistics helpers for distribution tests (stats.c) ---- */

/* Kolmogorov-Smirnov: sorts x[0..n) in place and returns sup |F_n - cdf|. */
double hl_test_ks_statistic(double *x, size_t n, double (*cdf)(double x, const void *p),
                            const void *p);
/* P(D_n >= d) under H0, asymptotic Kolmogorov distribution with Stephens' correction. */
double hl_test_ks_pvalue(double d, size_t n);
/* Regularised lower incomplete gamma P(a, x). */
double hl_test_gamma_p(double a, double x);

#endif
