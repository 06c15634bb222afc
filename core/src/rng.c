/* xoshiro256** streams and the normal, exponential, gamma and chi-square draws.
 * See hotloop/rng.h for the references. */
#include "hotloop/rng.h"

#include <math.h>

#include "ziggurat_tables.h"

void hl_rng_seed(hl_rng *r, uint64_t seed) {
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++) {
        r->s[i] = hl_splitmix64(&sm);
    }
}

void hl_rng_jump(hl_rng *r) {
    /* The jump polynomial of xoshiro256 for 2^128 steps (Blackman & Vigna). */
    static const uint64_t jump[4] = {UINT64_C(0x180ec6d33cfd0aba), UINT64_C(0xd5a61266f0c9392c),
                                     UINT64_C(0xa9582618e03fc9aa), UINT64_C(0x39abdc4529b1661c)};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < 4; i++) {
        for (int b = 0; b < 64; b++) {
            if (jump[i] & (UINT64_C(1) << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            (void)hl_rng_next(r);
        }
    }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
}

void hl_rng_streams(uint64_t seed, size_t n, hl_rng *out) {
    if (n == 0) {
        return;
    }
    hl_rng_seed(&out[0], seed);
    for (size_t k = 1; k < n; k++) {
        out[k] = out[k - 1];
        hl_rng_jump(&out[k]);
    }
}

void hl_rng_stream(hl_rng *r, uint64_t seed, uint64_t k) {
    hl_rng_seed(r, seed);
    for (uint64_t i = 0; i < k; i++) {
        hl_rng_jump(r);
    }
}

uint64_t hl_rng_below(hl_rng *r, uint64_t bound) {
    /* Lemire, "Fast random integer generation in an interval", ACM TOMS 2019: multiply
     * and reject the few low products that would bias the result. */
    __extension__ typedef unsigned __int128 u128;
    u128 m = (u128)hl_rng_next(r) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        const uint64_t threshold = (0 - bound) % bound;
        while (low < threshold) {
            m = (u128)hl_rng_next(r) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double hl_rng_exponential(hl_rng *r) {
    return -log(hl_rng_uniform_pos(r));
}

double hl_rng_normal_outside(hl_rng *r, unsigned layer, int negative, double x) {
    if (layer == 0) {
        /* Tail beyond r: Marsaglia (1964), exact. */
        double a, b;
        do {
            a = -log(hl_rng_uniform_pos(r)) / hl_zig_r;
            b = -log(hl_rng_uniform_pos(r));
        } while (b + b < a * a);
        const double t = hl_zig_r + a;
        return negative ? -t : t;
    }
    /* The wedge between the curve and the rectangle: accept under the density. */
    const double y = hl_zig_f[layer] + hl_rng_uniform(r) * (hl_zig_f[layer + 1] - hl_zig_f[layer]);
    if (y < exp(-0.5 * x * x)) {
        return negative ? -x : x;
    }
    return NAN;
}

double hl_rng_normal(hl_rng *r) {
    for (;;) {
        const uint64_t bits = hl_rng_next(r);
        const unsigned layer = (unsigned)(bits & 0xFFu);
        const int negative = (int)((bits >> 8) & 1u);
        /* bits 11..63: a uniform in [0, 1) independent of the layer and sign bits */
        const double u = (double)(bits >> 11) * 0x1.0p-53;
        const double x = u * hl_zig_x[layer];
        if (x < hl_zig_x[layer + 1]) {
            /* Inside the rectangle wholly under the curve: the common case (~99%). */
            return negative ? -x : x;
        }
        const double v = hl_rng_normal_outside(r, layer, negative, x);
        if (!isnan(v)) {
            return v;
        }
    }
}

double hl_rng_gamma(hl_rng *r, double shape) {
    if (!(shape > 0.0) || !isfinite(shape)) {
        return NAN;
    }
    if (shape < 1.0) {
        /* Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia & Tsang 2000, section 6). Done in log
         * space so tiny shapes do not underflow U^(1/a) to 0 before the product. */
        const double g = hl_rng_gamma(r, shape + 1.0);
        return exp(log(g) + log(hl_rng_uniform_pos(r)) / shape);
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = hl_rng_normal(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = hl_rng_uniform_pos(r);
        const double x2 = x * x;
        /* Squeeze, then the exact log test. */
        if (u < 1.0 - 0.0331 * x2 * x2) {
            return d * v;
        }
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) {
            return d * v;
        }
    }
}

double hl_rng_chisq(hl_rng *r, double k) {
    return 2.0 * hl_rng_gamma(r, 0.5 * k);
}
