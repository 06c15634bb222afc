/*
 * radii.c: the radii of an elimination level (Yuksel 2015, sections 4 and 5) and the measures
 * of the domains that need no bounds. hotloop.poisson derives every call's d_max and d_min
 * from these: through hl_poisson_max_radius and hl_poisson_measure on its general path, and
 * through hl_poisson_level_radii as well on the binding's path for small calls. Both must give
 * the same doubles, so each formula is written once, here, with the order of operations the
 * Python layer uses (tests/test_poisson_small.py compares them bit for bit).
 */
#include <math.h>

#include "hotloop/poisson.h"

double hl_poisson_max_radius(int k, double measure, size_t n) {
    if (k < 1 || n == 0 || !(measure > 0.0) || !isfinite(measure)) {
        return NAN;
    }
    double per = measure / (double)n;
    if (k == 2) {
        return sqrt(per / (2.0 * sqrt(3.0))); /* hexagonal packing */
    }
    if (k == 3) {
        return cbrt(per / (4.0 * sqrt(2.0))); /* FCC / HCP packing */
    }
    /* Unit k-ball volume by the recurrence V_k = V_(k-2) * 2 pi / k, V_1 = 2, V_2 = pi. */
    double v = (k & 1) ? 2.0 : 3.141592653589793;
    for (int d = (k & 1) ? 3 : 4; d <= k; d += 2) {
        v *= 2.0 * 3.141592653589793 / (double)d;
    }
    return pow(per / v, 1.0 / (double)k);
}

/* The surface of the unit sphere S^(dim-1) in R^dim, 2 pi^(dim/2) / Gamma(dim/2), for dim =
 * 2 .. 16, correctly rounded (computed to 60 digits from pi and the closed forms of Gamma at
 * integers and half-integers). Literals rather than pow() and tgamma(): libm's results differ
 * by an ulp from these at dim 6 and 8 (and CPython's math.gamma at 5), and an ulp of d_max
 * can change which of two equal weights goes first, so the result would depend on the
 * platform. */
static const double sphere_measure[HL_POISSON_MAX_DIM + 1] = {
    [2] = 6.283185307179586,   [3] = 12.566370614359172,  [4] = 19.739208802178716,
    [5] = 26.318945069571622,  [6] = 31.00627668029982,   [7] = 33.07336179231981,
    [8] = 32.46969701133415,   [9] = 29.686580124648362,  [10] = 25.501640398773453,
    [11] = 20.725142673288904, [12] = 16.023153226255072, [13] = 11.838173812182681,
    [14] = 8.389703410491089,  [15] = 5.7216492123495675, [16] = 3.7652900857422913,
};

double hl_poisson_measure(hl_poisson_domain domain, size_t dim) {
    if (domain == HL_POISSON_ROTATIONS && dim == 4) {
        /* SO(3) with the rotation-angle metric: its Haar measure is 8 pi^2 (correctly rounded) */
        return 78.95683520871486;
    }
    if (domain == HL_POISSON_SPHERE && dim >= 2 && dim <= HL_POISSON_MAX_DIM) {
        return sphere_measure[dim];
    }
    return NAN;
}

/* The quaternion chord 2 sin(theta / 4) of a rotation angle theta, saturating at 2 (theta =
 * 2 pi, the largest angle between rotations). */
static double rotation_chord(double angle) {
    const double two_pi = 2.0 * 3.141592653589793;
    return 2.0 * sin((angle > two_pi ? two_pi : angle) / 4.0);
}

void hl_poisson_level_radii(hl_poisson_domain domain, double r_max, size_t m, size_t n, double beta,
                            double gamma, int weight_limiting, double *d_max, double *d_min) {
    double hi = 2.0 * r_max;
    /* Yuksel 2015, eq. 7, evaluated as cyCodeBase does: d_min = d_max beta (1 - (N/M)^gamma). */
    double lo = weight_limiting ? hi * ((1.0 - pow((double)n / (double)m, gamma)) * beta) : 0.0;
    if (domain == HL_POISSON_ROTATIONS) {
        double c_hi = rotation_chord(hi), c_lo = rotation_chord(lo);
        hi = c_hi;
        lo = c_lo < c_hi ? c_lo : 0.0; /* both saturated: every pair is a neighbour anyway */
    }
    *d_max = hi;
    *d_min = lo;
}
