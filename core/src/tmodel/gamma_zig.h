/*
 * gamma_zig.h (private to the tmodel kernel): an exact ziggurat for Gamma(a), built once for
 * a fixed shape 1 <= a <= HL_TM_ZIG_MAX_SHAPE (the U pass's shape (nu + 1) / 2 is fixed for a
 * run), so a gamma draw takes one random word and two compares almost every time.
 *
 * The method is Marsaglia & Tsang's ziggurat (JSS 2000, "The ziggurat method for generating
 * random variables") on the unimodal density of Gamma(a), with two-sided layers. The density
 * is scaled so that its mode M = a - 1 has height 1:
 *     f(x) = exp(t(x)),  t(x) = (a - 1) log(x / M) - (x - M)   (t(x) = -x when a = 1),
 * log-concave for a >= 1. 2048 boxes of equal area A cover the region under f: box i >= 1 is
 * [L_i, R_i] x [y_i, y_{i+1}] with f(L_i) = f(R_i) = y_i (L_i = 0 where f(0) >= y_i, as for
 * a = 1), y_2048 = 1; box 0 is the base [L_1 - TL / y_1, R_1 + TR / y_1] x [0, y_1], where TL and
 * TR are the masses of the tails x < L_1 and x > R_1 (so every box has area A). One attempt:
 * - a 64-bit word gives the box i (bits 0-10) and a uniform u in [0, 1) (bits 12-63), and
 *   x = left_i + u width_i;
 * - x inside [L_{i+1}, R_{i+1}] lies under f at every height of box i: accepted (99.6-99.8% of
 *   attempts);
 * - box 0 outside that: a draw from the tail beyond x's side, by rejection from the tangent
 *   exponential of log f at L_1 or R_1 (exact for a log-concave density), always accepted;
 * - box i >= 1 outside it (the wedge): a second word gives y uniform in [y_i, y_{i+1}], and x
 *   is accepted if y < f(x), else the attempt gives nothing.
 * The accepted x are distributed as Gamma(a) exactly, up to the tables' precision: box areas
 * equal to ~1e-13 (the top box's to ~1e-9; for a above ~1e12, where the edges themselves are
 * known only to ulp(a), to ~1e-7), tail masses to ~1e-12, so the distribution is off by less
 * than 1e-12 (1e-10 for the largest shapes). The tests check these.
 *
 * The tables are built by solving the layer recursion for y_1 (regula falsi), each root of
 * f = y by Newton's method in log(x / M), and the tail masses by tanh-sinh quadrature; a
 * process-wide cache keeps the last few shapes (the build takes about 10 ms, under 1 ms for
 * nu = 1, ..., 30, whose base heights are stored).
 */
#ifndef HOTLOOP_TMODEL_GAMMA_ZIG_H
#define HOTLOOP_TMODEL_GAMMA_ZIG_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "hotloop/rng.h"

/* Boxes: the low HL_TM_ZIG_BITS bits of an attempt's word pick one. 2048 boxes (80 KiB of
 * tables, in L2) ran the document's workload 17% faster than 512 (20 KiB, in L1), which ran it
 * 12% faster than 256: fewer wedge tests, the branch that costs. */
#define HL_TM_ZIG_BITS 11
#define HL_TM_ZIG_BOXES (1 << HL_TM_ZIG_BITS)

/* The largest shape the ziggurat takes: beyond it (nu above 2e15, where a t model is a normal
 * one) the pass uses Marsaglia-Tsang. */
#define HL_TM_ZIG_MAX_SHAPE 1e15

/* One box: x = left + u width for u in [0, 1); x in [in_lo, in_hi] is under f at every height
 * of the box. 32 bytes, so one 256-bit load reads a box. */
typedef struct hl_tm_zig_box {
    double left, width, in_lo, in_hi;
} hl_tm_zig_box;

typedef struct hl_tm_zig {
    _Alignas(64) hl_tm_zig_box box[HL_TM_ZIG_BOXES];
    double y[HL_TM_ZIG_BOXES + 1]; /* box i spans heights [y[i], y[i + 1]]; y[0] = 0, y[2048] = 1 */
    double shape, am1, mode;       /* a, a - 1, M = a - 1 */
    /* the tails' starts, the slopes of their tangent exponentials, and t there */
    double left_x, left_rate, left_t;
    double right_x, right_rate, right_t;
    double area, mass_left, mass_right; /* A, TL, TR (in units of f(M) = 1) */
} hl_tm_zig;

/* A uniform in [0, 1) from the top 52 bits: the double 1.m (exponent of 1) minus 1. Exact. */
static inline double hl_tm_u52(uint64_t bits) {
    const uint64_t b = (bits >> 12) | UINT64_C(0x3FF0000000000000);
    double d;
    memcpy(&d, &b, sizeof d);
    return d - 1.0;
}

/*
 * t(x) = log f(x), the reference every variant's wedge test reproduces (x >= 0). Written so
 * that it keeps its relative accuracy near the mode at any shape: with d = (x - M) / M,
 * t = (a - 1)(log1p(d) - d), by its series when |d| < 1/64 (truncation below 1e-19 relative),
 * and (a - 1)(log(x / M) - d) far left of the mode (x < M / 2, where 1 + d would lose digits).
 */
static inline double hl_tm_zig_logf(const hl_tm_zig *z, double x) {
    if (z->am1 == 0.0) {
        return -x;
    }
    const double d = (x - z->mode) / z->mode;
    if (d < -0.5) {
        return z->am1 * (log(x / z->mode) - d);
    }
    if (fabs(d) < 0.015625) {
        /* log1p(d) - d = sum_{k >= 2} (-1)^(k + 1) d^k / k, to d^11 */
        double p = 1.0 / 11.0;
        p = p * d - 1.0 / 10.0;
        p = p * d + 1.0 / 9.0;
        p = p * d - 1.0 / 8.0;
        p = p * d + 1.0 / 7.0;
        p = p * d - 1.0 / 6.0;
        p = p * d + 1.0 / 5.0;
        p = p * d - 1.0 / 4.0;
        p = p * d + 1.0 / 3.0;
        p = p * d - 1.0 / 2.0;
        return z->am1 * ((d * d) * p);
    }
    return z->am1 * (log1p(d) - d);
}

/* A draw from the tail left of z->left_x (left != 0) or right of z->right_x, from r: exact. */
double hl_tm_zig_tail(hl_rng *r, const hl_tm_zig *z, int left);

/*
 * The rest of an attempt whose candidate x, in box i, fell outside the box's inner part: the
 * tail sampler in the base box (always a draw), else the wedge test on the stream's next word.
 * Returns 1 with the draw in *g, or 0 when the wedge test rejects.
 */
static inline int hl_tm_zig_outside(hl_rng *r, const hl_tm_zig *z, unsigned i, double x,
                                    double *g) {
    if (i == 0) {
        *g = hl_tm_zig_tail(r, z, x < z->box[0].in_lo);
        return 1;
    }
    const double y = z->y[i] + hl_rng_uniform(r) * (z->y[i + 1] - z->y[i]);
    if (y < exp(hl_tm_zig_logf(z, x))) {
        *g = x;
        return 1;
    }
    return 0;
}

/*
 * One ziggurat attempt from stream r (the definition every variant reproduces bit for bit):
 * returns 1 with the draw in *g, or 0 when the wedge test rejects (the attempt gives nothing).
 */
static inline int hl_tm_zig_attempt(hl_rng *r, const hl_tm_zig *z, double *g) {
    const uint64_t bits = hl_rng_next(r);
    const unsigned i = (unsigned)(bits & (HL_TM_ZIG_BOXES - 1u));
    const hl_tm_zig_box *b = &z->box[i];
    const double x = b->left + hl_tm_u52(bits) * b->width;
    if (x >= b->in_lo && x <= b->in_hi) {
        *g = x;
        return 1;
    }
    return hl_tm_zig_outside(r, z, i, x, g);
}

/*
 * Fills *z with the tables of `shape` (1 <= shape <= HL_TM_ZIG_MAX_SHAPE), from the process-wide
 * cache or built and cached (thread-safe; the same shape always gives the same bits). Returns 0
 * on success, -1 for a shape outside that range (or, never seen, a build that did not
 * converge): the caller then draws by Marsaglia-Tsang.
 */
int hl_tm_zig_get(double shape, hl_tm_zig *z);

/* Builds the tables without the cache (the tests compare both): from the stored base height
 * of nu = 1, ..., 30 where there is one, else by hl_tm_zig_solve. Same contract. */
int hl_tm_zig_build(double shape, hl_tm_zig *z);

/* Builds the tables by solving for the base height, ignoring the stored ones (about 10 ms).
 * Same contract; the same tables as hl_tm_zig_build. */
int hl_tm_zig_solve(double shape, hl_tm_zig *z);

/* Test only: whether `shape` has a stored base height that the build accepts (not thread-safe). */
int hl_tm_zig_hint_valid(double shape);

#endif
