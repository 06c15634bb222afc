/* The gamma ziggurat's tables, their cache, and its tail sampler (see gamma_zig.h). */
#include "gamma_zig.h"

#include <float.h>
#include <stdatomic.h>

double hl_tm_zig_tail(hl_rng *r, const hl_tm_zig *z, int left) {
    /* Propose x = start -+ e / rate with e ~ Exp(1): the tangent exponential of log f at the
     * tail's start, which lies above log f (log-concavity); accept with probability
     * f(x) / envelope(x) = exp(t(x) - (t_start - e)). */
    for (;;) {
        const double e = -log(hl_rng_uniform_pos(r));
        const double lv = log(hl_rng_uniform_pos(r));
        if (left) {
            const double x = z->left_x - e / z->left_rate;
            if (x > 0.0 && lv <= hl_tm_zig_logf(z, x) - z->left_t + e) {
                return x;
            }
        } else {
            const double x = z->right_x + e / z->right_rate;
            if (lv <= hl_tm_zig_logf(z, x) - z->right_t + e) {
                return x;
            }
        }
    }
}

/* ---- the build ------------------------------------------------------------------------------ */

/* h(l) = l - expm1(l), so that t(M e^l) = (a - 1) h(l), given em1 = expm1(l); by its series
 * near 0, where the difference would cancel (truncation below 1e-19 relative for |l| < 1/64). */
static double zig_h(double l, double em1) {
    if (fabs(l) < 0.015625) {
        double p = 1.0 / 3628800.0;
        p = p * l + 1.0 / 362880.0;
        p = p * l + 1.0 / 40320.0;
        p = p * l + 1.0 / 5040.0;
        p = p * l + 1.0 / 720.0;
        p = p * l + 1.0 / 120.0;
        p = p * l + 1.0 / 24.0;
        p = p * l + 1.0 / 6.0;
        p = p * l + 1.0 / 2.0;
        return -(l * l) * p;
    }
    return l - em1;
}

/*
 * The root l of h(l) = c (c < 0) on the side of `sign` (+1: l > 0, -1: l < 0), by Newton's
 * method from `start`, which must lie beyond the root (further from 0): h is concave and
 * monotone on each side, so the iterates then approach the root monotonically, and the loop
 * stops when they stop moving towards it.
 */
static double zig_root(double c, double start, int sign) {
    double l = start;
    for (int it = 0; it < 200; it++) {
        const double em1 = expm1(l);
        const double slope = -em1; /* h'(l) */
        if (slope == 0.0) {
            break;
        }
        const double next = l - (zig_h(l, em1) - c) / slope;
        if (sign > 0 ? !(next < l) : !(next > l)) {
            break;
        }
        /* a step below 1e-9 of l leaves an error near its square: done (saves the step that
         * would only confirm it) */
        const int done = fabs(next - l) < 1e-9 * fabs(next);
        l = next;
        if (done) {
            break;
        }
    }
    return l;
}

/* The box edges at height y (0 < y < 1): f(L) = f(R) = y, L = 0 where f(0) >= y. The previous
 * (lower) height's edges, when given, start Newton's method (they lie beyond the new roots). */
typedef struct zig_edges {
    double l_left, l_right; /* log(x / M) of the roots (a > 1) */
    double left, right;
} zig_edges;

static void zig_edges_at(const hl_tm_zig *z, double y, const zig_edges *below, zig_edges *e) {
    const double ly = log(y);
    if (z->am1 == 0.0) {
        e->left = 0.0;
        e->right = -ly;
        e->l_left = e->l_right = 0.0;
        return;
    }
    const double c = ly / z->am1;
    /* Starts beyond the roots: h(l) < l + 1 left of 0, so c - 1 is beyond the left root; right
     * of 0, h(l) <= -l^2 / 2 and h(l) = l + 1 - e^l, so both sqrt(-2c) and log(2 (1 - c))
     * (where h = l - 1 + 2c <= c) are beyond the right one: the nearer of the two. */
    const double sl = below != NULL ? below->l_left : c - 1.0;
    const double sr = below != NULL ? below->l_right : fmin(sqrt(-2.0 * c), log(2.0 * (1.0 - c)));
    e->l_left = zig_root(c, sl, -1);
    e->l_right = zig_root(c, sr, +1);
    e->left = z->mode * exp(e->l_left);
    e->right = z->mode * exp(e->l_right);
}

/* f at distance s beyond a tail's start, in units of the tail's exponential: g(s) =
 * f(start -+ s / rate), the integrand of the tail mass (times 1 / rate). */
static double zig_tail_f(const hl_tm_zig *z, int left, double start, double rate, double s) {
    const double x = left ? start - s / rate : start + s / rate;
    if (left && !(x > 0.0)) {
        return 0.0;
    }
    return exp(hl_tm_zig_logf(z, x));
}

/*
 * The integral of g over s in [0, upto] by tanh-sinh quadrature (Takahasi & Mori 1974): nodes
 * s(k h) with s(tau) = upto / (1 + exp(-pi sinh(tau))), step h = 1/32, |tau| <= 4. It keeps
 * full accuracy with an endpoint singularity (the left tail's x^(a - 1) at x = 0), and g <=
 * g(0) e^-s makes the cut at upto <= 50 negligible (e^-50).
 */
static double zig_tail_mass(const hl_tm_zig *z, int left, double start, double rate) {
    double upto = 50.0;
    if (left && rate * start < upto) {
        upto = rate * start; /* x reaches 0 */
    }
    const double h = 1.0 / 32.0, half_pi = 1.5707963267948966;
    double sum = 0.0;
    for (int k = -128; k <= 128; k++) {
        const double tau = k * h;
        const double q = half_pi * sinh(tau);
        const double ch = cosh(q);
        /* s = upto / (1 + e^{-2q}) near 0 and upto - upto / (1 + e^{2q}) near upto, each
         * without cancellation */
        const double s =
            q < 0.0 ? upto / (1.0 + exp(-2.0 * q)) : upto - upto / (1.0 + exp(2.0 * q));
        const double w = 0.5 * upto * half_pi * cosh(tau) / (ch * ch);
        if (w > 0.0) {
            sum += w * zig_tail_f(z, left, start, rate, s);
        }
    }
    return h * sum / rate;
}

/*
 * The layers for base height y1: fills the boxes and heights and returns the height the top
 * box would reach (1 when y1 is right). A stack that reaches height 1 before its last box
 * returns 1 + (boxes left) + its height, so the result grows with y1 throughout.
 */
static double zig_stack(hl_tm_zig *z, double y1) {
    zig_edges e;
    zig_edges_at(z, y1, NULL, &e);
    /* a left tail starting at a subnormal (a just above 1) has no mass a double can hold */
    const int has_left = z->am1 > 0.0 && e.left >= DBL_MIN;
    z->left_x = e.left;
    z->right_x = e.right;
    z->left_t = z->right_t = log(y1);
    z->left_rate = has_left ? z->am1 / e.left - 1.0 : 1.0;
    z->right_rate = (e.right - z->am1) / e.right; /* 1 - (a - 1) / R without the cancellation */
    z->mass_left = has_left ? zig_tail_mass(z, 1, e.left, z->left_rate) : 0.0;
    z->mass_right = zig_tail_mass(z, 0, e.right, z->right_rate);
    const double area = y1 * (e.right - e.left) + z->mass_left + z->mass_right;
    z->area = area;
    z->y[0] = 0.0;
    z->y[1] = y1;
    z->box[0] = (hl_tm_zig_box){e.left - z->mass_left / y1, area / y1, e.left, e.right};
    for (int i = 1; i < HL_TM_ZIG_BOXES; i++) {
        const double width = e.right - e.left;
        const double next = z->y[i] + area / width;
        if (i == HL_TM_ZIG_BOXES - 1) {
            z->box[i] = (hl_tm_zig_box){e.left, width, z->mode, z->mode};
            return next;
        }
        if (!(next < 1.0)) {
            return 1.0 + (double)(HL_TM_ZIG_BOXES - 1 - i) + next;
        }
        zig_edges up;
        zig_edges_at(z, next, &e, &up);
        z->box[i] = (hl_tm_zig_box){e.left, width, up.left, up.right};
        z->y[i + 1] = next;
        e = up;
    }
    return 0.0; /* not reached */
}

/*
 * The base heights y1 that the solver below finds for the shapes of nu = 1, 2, ..., 30 (its
 * last stack's y1, printed with 17 digits): a build for those shapes checks the stored y1 with
 * one stack instead of solving with about 25, and gives the same tables bit for bit (a test
 * compares). A value the code no longer accepts (after a change of the boxes or the solver)
 * only costs the solve.
 */
static const double zig_hint_y1[30] = {
    4.4372215190647841e-05, 8.0584632106325439e-05, 9.5721444541469052e-05, 0.000104805945748719,
    0.00011083702497234479, 0.00011509440142698359, 0.00011823850005437934, 0.00012064441592253044,
    0.00012253911113875292, 0.0001240668425633896,  0.00012532312000778238, 0.00012637341095324059,
    0.00012726394848776261, 0.00012802823663450285, 0.00012869110800608474, 0.00012927133552906189,
    0.00012978336099255235, 0.00013023846783295813, 0.00013064559471971437, 0.00013101191133714547,
    0.00013134323327599739, 0.00013164432590929756, 0.00013191913028375363, 0.00013217093332838255,
    0.00013240249770572364, 0.00013261616200891654, 0.00013281391889217905, 0.00013299747658799882,
    0.00013316830778074598, 0.00013332768876077653,
};

/* The stored y1 for `shape`, or 0 when there is none. */
static double zig_hint(double shape) {
    const double nu = 2.0 * shape - 1.0;
    if (!(nu >= 1.0 && nu <= 30.0) || nu != floor(nu)) {
        return 0.0;
    }
    return zig_hint_y1[(int)nu - 1];
}

/* The solver's last check on a stack: its top just below the mode's height. */
static int zig_top_ok(double top) {
    return top < 1.0 && top > 1.0 - 1e-9;
}

static void zig_start(double shape, hl_tm_zig *z) {
    memset(z, 0, sizeof *z);
    z->shape = shape;
    z->am1 = shape - 1.0;
    z->mode = z->am1;
}

int hl_tm_zig_hint_valid(double shape) {
    static hl_tm_zig z;
    const double y1 = zig_hint(shape);
    if (!(y1 > 0.0)) {
        return 0;
    }
    zig_start(shape, &z);
    return zig_top_ok(zig_stack(&z, y1));
}

int hl_tm_zig_build(double shape, hl_tm_zig *z) {
    if (!(shape >= 1.0) || !(shape <= HL_TM_ZIG_MAX_SHAPE)) {
        return -1;
    }
    const double y1 = zig_hint(shape);
    if (y1 > 0.0) {
        zig_start(shape, z);
        if (zig_top_ok(zig_stack(z, y1))) {
            z->y[HL_TM_ZIG_BOXES] = 1.0;
            return 0;
        }
    }
    return hl_tm_zig_solve(shape, z);
}

int hl_tm_zig_solve(double shape, hl_tm_zig *z) {
    if (!(shape >= 1.0) || !(shape <= HL_TM_ZIG_MAX_SHAPE)) {
        return -1;
    }
    zig_start(shape, z);
    /* The top height grows with y1: find log y1 where it is 1 by regula falsi with the Illinois
     * modification (Dowell & Jarratt 1971), which keeps a bracket and converges superlinearly
     * where the top is smooth in y1 (near the root, where every stack has all its boxes); it
     * bisects while the upper end's stack overshoots, and every eighth step. With 2048 boxes
     * the exponential's y1 is 4.4e-5 and large shapes' (near the normal's) 1.4e-4; about 25
     * stacks of 2047 boxes make a build take about 10 ms. */
    double lo = log(3e-5), hi = log(2e-4);
    double flo = zig_stack(z, exp(lo)) - 1.0, fhi = zig_stack(z, exp(hi)) - 1.0;
    if (!(flo < 0.0) || !(fhi > 0.0)) { /* not seen: the shapes all lie in between */
        lo = log(1e-12);
        hi = log(0.5);
        flo = zig_stack(z, exp(lo)) - 1.0;
        fhi = zig_stack(z, exp(hi)) - 1.0;
        if (!(flo < 0.0) || !(fhi > 0.0)) {
            return -1;
        }
    }
    /* flo, fhi: the ends' true values (the stop test reads them); wlo, whi: the weights of
     * the regula falsi step, which the Illinois rule halves at the end that stays. */
    double wlo = flo, whi = fhi;
    int side = 0;
    /* Done when the stack below 1 reaches within 1e-13 of it (the top box, about 3e-4 high,
     * then has its area right to ~1e-9, a change of the distribution below 1e-12; closer, the
     * stacks' own rounding makes the steps wander) or the bracket is a few ulps wide (which
     * comes first above a ~ 1e12: there the top box's area is right to ~1e-7). */
    for (int it = 0; it < 400 && hi - lo > 4e-16 * fabs(lo) && flo < -1e-13; it++) {
        double mid = (lo * whi - hi * wlo) / (whi - wlo);
        /* bisect while the upper end's stack overshoots (the top is not smooth in y1 there) */
        if (!(fhi < 1.0) || !(mid > lo && mid < hi) || it % 8 == 7) {
            mid = 0.5 * (lo + hi);
        }
        if (!(mid > lo && mid < hi)) {
            break;
        }
        const double fm = zig_stack(z, exp(mid)) - 1.0;
        if (fm < 0.0) {
            lo = mid;
            flo = wlo = fm;
            if (side < 0) {
                whi *= 0.5;
            }
            side = -1;
        } else {
            hi = mid;
            fhi = whi = fm;
            if (side > 0) {
                wlo *= 0.5;
            }
            side = +1;
        }
    }
    /* The last stack just below 1: its top box is stretched to end at the mode's height
     * exactly (by 1 - top, the accuracy stated above). */
    if (!zig_top_ok(zig_stack(z, exp(lo)))) {
        return -1;
    }
    z->y[HL_TM_ZIG_BOXES] = 1.0;
    return 0;
}

/* ---- the cache ------------------------------------------------------------------------------ */

#define ZIG_CACHE 4

static hl_tm_zig zig_cache[ZIG_CACHE];
static int zig_cache_used[ZIG_CACHE];
static unsigned zig_cache_next;
static atomic_flag zig_cache_lock = ATOMIC_FLAG_INIT;

static void zig_lock(void) {
    while (atomic_flag_test_and_set_explicit(&zig_cache_lock, memory_order_acquire)) {
    }
}

static void zig_unlock(void) {
    atomic_flag_clear_explicit(&zig_cache_lock, memory_order_release);
}

int hl_tm_zig_get(double shape, hl_tm_zig *z) {
    if (!(shape >= 1.0) || !(shape <= HL_TM_ZIG_MAX_SHAPE)) {
        return -1;
    }
    zig_lock();
    for (int k = 0; k < ZIG_CACHE; k++) {
        if (zig_cache_used[k] && zig_cache[k].shape == shape) {
            memcpy(z, &zig_cache[k], sizeof *z);
            zig_unlock();
            return 0;
        }
    }
    zig_unlock();
    if (hl_tm_zig_build(shape, z) != 0) {
        return -1;
    }
    zig_lock();
    const unsigned k = zig_cache_next++ % ZIG_CACHE;
    memcpy(&zig_cache[k], z, sizeof *z);
    zig_cache_used[k] = 1;
    zig_unlock();
    return 0;
}
