/* The C test runner: runs every registered test (or those whose name contains argv[1]) and
 * prints "N passed, N failed" last. Exit status 0 only when nothing failed. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hotloop/cpu.h"

#define MAX_TESTS 1024

static struct {
    const char *name;
    hl_test_fn fn;
} tests[MAX_TESTS];
static size_t n_tests;

void hl_test_register(const char *name, hl_test_fn fn) {
    if (n_tests == MAX_TESTS) {
        fprintf(stderr, "harness: too many tests (raise MAX_TESTS)\n");
        exit(2);
    }
    tests[n_tests].name = name;
    tests[n_tests].fn = fn;
    n_tests++;
}

void hl_test_fail(hl_test_ctx *t, const char *file, int line, const char *fmt, ...) {
    t->failures++;
    if (t->failures > 10) {
        return; /* enough detail */
    }
    fprintf(stdout, "  %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

static int by_name(const void *a, const void *b) {
    const char *x = *(const char *const *)a;
    const char *y = *(const char *const *)b;
    return strcmp(x, y);
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    /* Run in name order so the output is stable whatever the link order. */
    qsort(tests, n_tests, sizeof tests[0], by_name);
    printf("hotloop C tests, SIMD level %s\n", hl_simd_level_name(hl_cpu_best_level()));
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n_tests; i++) {
        if (filter != NULL && strstr(tests[i].name, filter) == NULL) {
            continue;
        }
        hl_test_ctx t = {.name = tests[i].name, .failures = 0};
        tests[i].fn(&t);
        if (t.failures == 0) {
            passed++;
            printf("PASS %s\n", tests[i].name);
        } else {
            failed++;
            printf("FAIL %s (%d failed checks)\n", tests[i].name, t.failures);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
