/* hotloop._core: the poisson kernel's functions (see core/include/hotloop/poisson.h).
 * The Python layer (hotloop.poisson) validates values with precise messages and derives d_max,
 * d_min and the progressive factor; these functions check buffer shapes and run the core
 * without the GIL. _poisson_scan does the layer's per-point checks in one pass (NumPy needs
 * several passes and temporaries, which dominate small calls); the layer words the errors.
 * _poisson_eliminate_small is the whole of eliminate() for small calls with the default
 * options (the same checks, by the same scans, and the same derivations, by the core's
 * radii.c): it takes only calls that pass every check for certain and hands the rest back. */
#include "binding.h"
#include "hotloop/parallel.h"
#include "hotloop/poisson.h"

#include <math.h>

/* Optional 1-D float64 bounds of length dim: None gives NULL. */
/* The optional lo and hi bound vectors of a call: each None or dim float64 values. */
typedef struct bounds_views {
    Py_buffer lo, hi;
    int have_lo, have_hi; /* 1 when the view is held */
} bounds_views;

static int get_bound(PyObject *obj, Py_buffer *view, const char *name, Py_ssize_t dim,
                     const double **out) {
    *out = NULL;
    if (obj == Py_None) {
        return 0;
    }
    if (hl_get_buffer(obj, view, name, 'd', 1, false) != 0) {
        return -1;
    }
    if (view->shape[0] != dim) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd values, got %zd", name, dim,
                     view->shape[0]);
        PyBuffer_Release(view);
        return -1;
    }
    *out = view->buf;
    return 1;
}

/* Reads lo and hi (None, or dim values each) into *lo / *hi (NULL for None); -1 with an
 * exception set on bad input. Release with release_bounds() whatever the result. */
static int get_bounds(bounds_views *b, PyObject *lo_obj, PyObject *hi_obj, Py_ssize_t dim,
                      const double **lo, const double **hi) {
    b->have_lo = b->have_hi = 0;
    if ((b->have_lo = get_bound(lo_obj, &b->lo, "lo", dim, lo)) < 0 ||
        (b->have_hi = get_bound(hi_obj, &b->hi, "hi", dim, hi)) < 0) {
        return -1;
    }
    return 0;
}

static void release_bounds(bounds_views *b) {
    if (b->have_lo > 0) {
        PyBuffer_Release(&b->lo);
    }
    if (b->have_hi > 0) {
        PyBuffer_Release(&b->hi);
    }
}

typedef struct elim_args {
    const double *points;
    size_t m, dim, n;
    hl_poisson_options opt;
    int64_t *out;
} elim_args;

static hl_status elim_call(void *p, hl_monitor *mon) {
    elim_args *a = p;
    return hl_poisson_eliminate(a->points, a->m, a->dim, a->n, &a->opt, a->out, mon);
}

/* 0 for HL_OK; else -1 with the exception of the elimination's status `st` set. */
static int eliminate_status(PyObject *module, hl_status st) {
    if (st == HL_ENOMEM) {
        /* memory_limit 0: the core's default, 3/4 of physical memory (none for a dense level) */
        PyErr_SetString(PyExc_MemoryError,
                        "poisson.eliminate: out of memory: the neighbour lists need more than "
                        "the memory limit or the machine has (duplicated or clustered points "
                        "have far more neighbours each than evenly spread ones)");
        return -1;
    }
    if (st != HL_OK) {
        hl_raise_status(module, st, "poisson.eliminate");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(eliminate_doc,
             "_poisson_eliminate(points, n, out, domain, lo, hi, d_max, d_min, alpha, "
             "progressive, factor, threads, memory_limit=0, progress=None)\n--\n\n"
             "Weighted sample elimination: write n kept row indices of the C-contiguous float64\n"
             "(m, dim) array `points` into the int64 array `out` (see hl_poisson_eliminate).");

static PyObject *py_eliminate(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {(char *)"points",       (char *)"n",        (char *)"out",
                             (char *)"domain",       (char *)"lo",       (char *)"hi",
                             (char *)"d_max",        (char *)"d_min",    (char *)"alpha",
                             (char *)"progressive",  (char *)"factor",   (char *)"threads",
                             (char *)"memory_limit", (char *)"progress", NULL};
    PyObject *points_obj, *out_obj, *lo_obj, *hi_obj, *threads_obj, *progress = Py_None;
    Py_ssize_t n, memory_limit = 0;
    int domain, progressive;
    double d_max, d_min, alpha, factor;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OnOiOOdddpdO|nO", kwlist, &points_obj, &n,
                                     &out_obj, &domain, &lo_obj, &hi_obj, &d_max, &d_min, &alpha,
                                     &progressive, &factor, &threads_obj, &memory_limit,
                                     &progress)) {
        return NULL;
    }
    Py_buffer pts, out;
    bounds_views bv = {0};
    PyObject *result = NULL;
    if (hl_get_buffer(points_obj, &pts, "points", 'd', 2, false) != 0) {
        return NULL;
    }
    if (hl_get_buffer(out_obj, &out, "out", 'q', 1, true) != 0) {
        PyBuffer_Release(&pts);
        return NULL;
    }
    elim_args a = {
        .points = pts.buf, .m = (size_t)pts.shape[0], .dim = (size_t)pts.shape[1], .out = out.buf};
    hl_poisson_options_init(&a.opt);
    if (get_bounds(&bv, lo_obj, hi_obj, pts.shape[1], &a.opt.lo, &a.opt.hi) != 0) {
        goto exit;
    }
    if (n <= 0 || n >= pts.shape[0]) {
        PyErr_Format(PyExc_ValueError, "n: expected 1 <= n < %zd (the number of points), got %zd",
                     pts.shape[0], n);
        goto exit;
    }
    if (out.shape[0] != n) {
        PyErr_Format(PyExc_ValueError, "out: expected %zd items, got %zd", n, out.shape[0]);
        goto exit;
    }
    if (domain < 0 || domain > HL_POISSON_ROTATIONS) {
        PyErr_Format(PyExc_ValueError, "domain: unknown code %d", domain);
        goto exit;
    }
    if (memory_limit < 0) {
        PyErr_SetString(PyExc_ValueError, "memory_limit: expected >= 0");
        goto exit;
    }
    if (hl_parse_threads(threads_obj, &a.opt.n_threads) != 0) {
        goto exit;
    }
    a.n = (size_t)n;
    a.opt.domain = (hl_poisson_domain)domain;
    a.opt.d_max = d_max;
    a.opt.d_min = d_min;
    a.opt.alpha = alpha;
    a.opt.progressive = progressive;
    a.opt.progressive_factor = factor;
    a.opt.memory_limit = (size_t)memory_limit;
    if (eliminate_status(module, hl_run_nogil(elim_call, &a, progress)) == 0) {
        result = Py_NewRef(Py_None);
    }
exit:
    release_bounds(&bv);
    PyBuffer_Release(&out);
    PyBuffer_Release(&pts);
    return result;
}

typedef struct nn_args {
    const double *points;
    size_t m, dim;
    hl_poisson_options opt;
    double r_guess;
    double *out;
} nn_args;

static hl_status nn_call(void *p, hl_monitor *mon) {
    nn_args *a = p;
    return hl_poisson_nn_distances(a->points, a->m, a->dim, &a->opt, a->r_guess, a->out, mon);
}

PyDoc_STRVAR(nn_doc, "_poisson_nn_distances(points, out, domain, lo, hi, r_guess, threads)\n--\n\n"
                     "Nearest-neighbour distance of each row of `points` in the domain, into the\n"
                     "float64 array `out` (see hl_poisson_nn_distances).");

static PyObject *py_nn(PyObject *module, PyObject *args) {
    PyObject *points_obj, *out_obj, *lo_obj, *hi_obj, *threads_obj;
    int domain;
    double r_guess;
    if (!PyArg_ParseTuple(args, "OOiOOdO", &points_obj, &out_obj, &domain, &lo_obj, &hi_obj,
                          &r_guess, &threads_obj)) {
        return NULL;
    }
    Py_buffer pts, out;
    bounds_views bv = {0};
    PyObject *result = NULL;
    if (hl_get_buffer(points_obj, &pts, "points", 'd', 2, false) != 0) {
        return NULL;
    }
    if (hl_get_buffer(out_obj, &out, "out", 'd', 1, true) != 0) {
        PyBuffer_Release(&pts);
        return NULL;
    }
    nn_args a = {.points = pts.buf,
                 .m = (size_t)pts.shape[0],
                 .dim = (size_t)pts.shape[1],
                 .r_guess = r_guess,
                 .out = out.buf};
    hl_poisson_options_init(&a.opt);
    if (get_bounds(&bv, lo_obj, hi_obj, pts.shape[1], &a.opt.lo, &a.opt.hi) != 0) {
        goto exit;
    }
    if (out.shape[0] != pts.shape[0] || pts.shape[0] < 2) {
        PyErr_SetString(PyExc_ValueError, "points: expected at least 2 rows, out one per row");
        goto exit;
    }
    if (domain < 0 || domain > HL_POISSON_ROTATIONS) {
        PyErr_Format(PyExc_ValueError, "domain: unknown code %d", domain);
        goto exit;
    }
    if (hl_parse_threads(threads_obj, &a.opt.n_threads) != 0) {
        goto exit;
    }
    a.opt.domain = (hl_poisson_domain)domain;
    hl_status st = hl_run_nogil(nn_call, &a, NULL);
    if (st != HL_OK) {
        hl_raise_status(module, st, "poisson.radius_stats");
        goto exit;
    }
    result = Py_NewRef(Py_None);
exit:
    release_bounds(&bv);
    PyBuffer_Release(&out);
    PyBuffer_Release(&pts);
    return result;
}

typedef struct cand_args {
    uint64_t seed;
    size_t m, dim;
    hl_poisson_domain domain;
    const double *lo, *hi;
    unsigned threads;
    double *out;
} cand_args;

static hl_status cand_call(void *p, hl_monitor *mon) {
    cand_args *a = p;
    return hl_poisson_candidates(a->seed, a->m, a->dim, a->domain, a->lo, a->hi, a->threads, a->out,
                                 mon);
}

PyDoc_STRVAR(cand_doc, "_poisson_candidates(seed, out, domain, lo, hi, threads)\n--\n\n"
                       "Fill the float64 (m, dim) array `out` with seeded uniform candidates of\n"
                       "the domain (see hl_poisson_candidates).");

static PyObject *py_candidates(PyObject *module, PyObject *args) {
    unsigned long long seed;
    PyObject *out_obj, *lo_obj, *hi_obj, *threads_obj;
    int domain;
    if (!PyArg_ParseTuple(args, "KOiOOO", &seed, &out_obj, &domain, &lo_obj, &hi_obj,
                          &threads_obj)) {
        return NULL;
    }
    Py_buffer out;
    bounds_views bv = {0};
    PyObject *result = NULL;
    if (hl_get_buffer(out_obj, &out, "out", 'd', 2, true) != 0) {
        return NULL;
    }
    cand_args a = {
        .seed = seed, .m = (size_t)out.shape[0], .dim = (size_t)out.shape[1], .out = out.buf};
    if (get_bounds(&bv, lo_obj, hi_obj, out.shape[1], &a.lo, &a.hi) != 0) {
        goto exit;
    }
    if (domain < 0 || domain > HL_POISSON_ROTATIONS) {
        PyErr_Format(PyExc_ValueError, "domain: unknown code %d", domain);
        goto exit;
    }
    if (hl_parse_threads(threads_obj, &a.threads) != 0) {
        goto exit;
    }
    a.domain = (hl_poisson_domain)domain;
    hl_status st = hl_run_nogil(cand_call, &a, NULL);
    if (st != HL_OK) {
        hl_raise_status(module, st, "poisson.sample");
        goto exit;
    }
    result = Py_NewRef(Py_None);
exit:
    release_bounds(&bv);
    PyBuffer_Release(&out);
    return result;
}

/* What _poisson_scan checks (hotloop.poisson's _SCAN_* constants). */
enum { SCAN_FINITE = 0, SCAN_UNIT = 1, SCAN_BOX = 2, SCAN_INSIDE = 3 };

/* Unit norms closer to 1 than this are certainly within hotloop.poisson's UNIT_TOLERANCE
 * (1e-6) whatever the order NumPy sums the squares in (a few ulps); rows between this and the
 * tolerance are left to the Python layer's own test, so its verdict stays the only one. */
#define SCAN_UNIT_SURE 0.999e-6

/* The first row of the (m, dim) points that fails the check `mode`, or -1. FINITE: a NaN or
 * infinite coordinate (exact). UNIT (finite rows): a norm not certainly within the tolerance
 * (a candidate for the Python layer to judge, not a verdict). BOX (finite rows): writes the
 * coordinates' minima to lohi[0..dim) and maxima to lohi[dim..2 dim) (exact) and returns -1,
 * or 0 when some dimension has no extent. INSIDE: a row with a coordinate outside [lohi[k],
 * lohi[dim + k]] (exact). */
static Py_ssize_t scan_points(const double *x, size_t m, size_t dim, int mode, double *lohi) {
    switch (mode) {
    case SCAN_FINITE:
        for (size_t i = 0; i < m; i++) {
            for (size_t k = 0; k < dim; k++) {
                if (!isfinite(x[i * dim + k])) {
                    return (Py_ssize_t)i;
                }
            }
        }
        return -1;
    case SCAN_UNIT:
        for (size_t i = 0; i < m; i++) {
            double s = 0.0;
            for (size_t k = 0; k < dim; k++) {
                s += x[i * dim + k] * x[i * dim + k];
            }
            if (!(fabs(sqrt(s) - 1.0) <= SCAN_UNIT_SURE)) {
                return (Py_ssize_t)i;
            }
        }
        return -1;
    case SCAN_BOX:
        for (size_t k = 0; k < dim; k++) {
            lohi[k] = lohi[dim + k] = x[k];
        }
        for (size_t i = 1; i < m; i++) {
            for (size_t k = 0; k < dim; k++) {
                double v = x[i * dim + k];
                lohi[k] = v < lohi[k] ? v : lohi[k];
                lohi[dim + k] = v > lohi[dim + k] ? v : lohi[dim + k];
            }
        }
        for (size_t k = 0; k < dim; k++) {
            if (!(lohi[k] < lohi[dim + k])) {
                return 0;
            }
        }
        return -1;
    default: /* SCAN_INSIDE */
        for (size_t i = 0; i < m; i++) {
            for (size_t k = 0; k < dim; k++) {
                double v = x[i * dim + k];
                if (v < lohi[k] || v > lohi[dim + k]) {
                    return (Py_ssize_t)i;
                }
            }
        }
        return -1;
    }
}

PyDoc_STRVAR(scan_doc, "_poisson_scan(points, mode, lohi=None)\n--\n\n"
                       "One pass of argument checks over the C-contiguous float64 (m, dim) array\n"
                       "`points` (m >= 1): mode 0 finite, 1 unit norm, 2 bounding box into the\n"
                       "float64 (2, dim) array `lohi`, 3 inside `lohi`. Returns the first row to\n"
                       "look at, or -1 (see scan_points).");

static PyObject *py_scan(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *points_obj, *lohi_obj = Py_None;
    int mode;
    if (!PyArg_ParseTuple(args, "Oi|O", &points_obj, &mode, &lohi_obj)) {
        return NULL;
    }
    if (mode < SCAN_FINITE || mode > SCAN_INSIDE) {
        PyErr_Format(PyExc_ValueError, "mode: unknown code %d", mode);
        return NULL;
    }
    Py_buffer pts, lohi = {0};
    if (hl_get_buffer(points_obj, &pts, "points", 'd', 2, false) != 0) {
        return NULL;
    }
    PyObject *result = NULL;
    const int need_lohi = mode == SCAN_BOX || mode == SCAN_INSIDE;
    if (pts.shape[0] < 1 || pts.shape[1] < 1) {
        PyErr_SetString(PyExc_ValueError, "points: expected at least one row and column");
        goto exit;
    }
    if (need_lohi) {
        if (hl_get_buffer(lohi_obj, &lohi, "lohi", 'd', 2, mode == SCAN_BOX) != 0) {
            goto exit;
        }
        if (lohi.shape[0] != 2 || lohi.shape[1] != pts.shape[1]) {
            PyErr_Format(PyExc_ValueError, "lohi: expected shape (2, %zd)", pts.shape[1]);
            goto exit;
        }
    }
    Py_ssize_t row = scan_points(pts.buf, (size_t)pts.shape[0], (size_t)pts.shape[1], mode,
                                 need_lohi ? lohi.buf : NULL);
    result = PyLong_FromSsize_t(row);
exit:
    if (lohi.obj != NULL) {
        PyBuffer_Release(&lohi);
    }
    PyBuffer_Release(&pts);
    return result;
}

/* The small calls' path: hotloop.poisson.eliminate with the default options and at most this
 * many points (the core's dense levels, one thread, at most a 256 KB matrix). Such a call takes
 * about 50 us in the core, and the Python layer's checks and derivations took as long again on
 * cold caches (docs/poisson.md, "Small calls"). */
#define SMALL_MAX_POINTS 256
/* The dimensions the Python API takes (hotloop.poisson.MAX_DIM). */
#define API_MAX_DIM 8
/* The sides a box may have (hotloop.poisson.SIDE_RANGE): beyond them the squares of
 * distances leave the doubles, and the Python layer refuses the call. */
#define SMALL_MIN_SIDE 1e-100
#define SMALL_MAX_SIDE 1e100

/* Whether obj is a float equal to v (the Python signature's default weight parameters). */
static int is_float_value(PyObject *obj, double v) {
    return PyFloat_CheckExact(obj) && PyFloat_AS_DOUBLE(obj) == v;
}

/* The domain named by `name` among those the small path takes (not PERIODIC, which needs
 * bounds); -1 for anything else. */
static int small_domain(PyObject *name) {
    if (!PyUnicode_CheckExact(name)) { /* a subclass may compare otherwise: the general path */
        return -1;
    }
    if (PyUnicode_CompareWithASCIIString(name, "box") == 0) {
        return HL_POISSON_BOX;
    }
    if (PyUnicode_CompareWithASCIIString(name, "rotations") == 0) {
        return HL_POISSON_ROTATIONS;
    }
    if (PyUnicode_CompareWithASCIIString(name, "sphere") == 0) {
        return HL_POISSON_SPHERE;
    }
    return -1;
}

/* The thread count of `threads` for the core (0: all CPUs), as resolve_threads would resolve
 * it (None: the default, which may raise for a malformed $HOTLOOP_NUM_THREADS), in *out: 1;
 * 0 with none taken (not an exact int, negative, or beyond a long: left to the Python layer);
 * -1 with an exception set. */
static int small_threads(PyObject *threads, unsigned *out) {
    if (threads == Py_None) {
        return hl_default_thread_count(out) == 0 ? 1 : -1;
    }
    if (!PyLong_CheckExact(threads)) {
        return 0;
    }
    long v = PyLong_AsLong(threads);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (v < 0) {
        return 0;
    }
    *out = v > HL_MAX_THREADS ? HL_MAX_THREADS : (unsigned)v;
    return 1;
}

/* The intrinsic dimension and the measure of the points' domain as hotloop.poisson's _Geometry
 * derives them without bounds (BOX: the points' bounding box, its sides multiplied in order),
 * when the points pass its checks for certain (finite; unit norms for SPHERE and ROTATIONS, by
 * the scan's sure margin); 0 otherwise. */
static int small_geometry(const double *x, size_t m, size_t dim, int domain, int *k,
                          double *measure) {
    if (domain == HL_POISSON_BOX) {
        double lohi[2 * API_MAX_DIM];
        if (dim > API_MAX_DIM || scan_points(x, m, dim, SCAN_FINITE, NULL) >= 0 ||
            scan_points(x, m, dim, SCAN_BOX, lohi) >= 0) {
            return 0;
        }
        double v = 1.0;
        for (size_t j = 0; j < dim; j++) {
            const double side = lohi[dim + j] - lohi[j];
            if (!(side >= SMALL_MIN_SIDE && side <= SMALL_MAX_SIDE)) {
                return 0;
            }
            v *= side;
        }
        *k = (int)dim;
        *measure = v;
    } else {
        if ((domain == HL_POISSON_ROTATIONS ? dim != 4 : dim < 2 || dim > API_MAX_DIM) ||
            scan_points(x, m, dim, SCAN_UNIT, NULL) >= 0) {
            return 0;
        }
        *k = domain == HL_POISSON_ROTATIONS ? 3 : (int)dim - 1;
        *measure = hl_poisson_measure((hl_poisson_domain)domain, dim);
    }
    return isfinite(*measure) && *measure > 0.0;
}

PyDoc_STRVAR(
    small_doc,
    "_poisson_eliminate_small(points, n, out, domain, threads, alpha, beta, gamma)\n--\n\n"
    "eliminate(points, n, domain=domain, threads=threads) with the default options, in one\n"
    "call: the checks, the radii (hl_poisson_level_radii) and the elimination, the kept\n"
    "indices written to the int64 array `out` of n items, which is returned. None, with\n"
    "nothing done, for a call it does not take: more than 256 points, bounds needed, any\n"
    "argument that is not plainly valid (the Python layer then makes the call and words\n"
    "the error). Raises as the general path would for a malformed $HOTLOOP_NUM_THREADS.\n"
    "Runs with the GIL held (at most about 0.1 ms) and no memory limit (the matrix needs\n"
    "at most 256 KB).");

static PyObject *py_eliminate_small(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "_poisson_eliminate_small: expected 8 arguments");
        return NULL;
    }
    PyObject *points_obj = args[0], *n_obj = args[1], *out_obj = args[2];
    const int domain = small_domain(args[3]);
    if (domain < 0 || !PyLong_CheckExact(n_obj) || !is_float_value(args[5], 8.0) ||
        !is_float_value(args[6], 0.65) || !is_float_value(args[7], 1.5)) {
        Py_RETURN_NONE;
    }
    Py_ssize_t n = PyLong_AsSsize_t(n_obj);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    Py_buffer pts, out;
    if (!hl_try_buffer(points_obj, &pts, 'd', 2)) {
        Py_RETURN_NONE;
    }
    PyObject *result = NULL;
    const size_t m = (size_t)pts.shape[0], dim = (size_t)pts.shape[1];
    int k;
    double measure, r;
    if (m > SMALL_MAX_POINTS || n < 1 || (size_t)n >= m || dim < 1 ||
        !small_geometry(pts.buf, m, dim, domain, &k, &measure) ||
        !((r = hl_poisson_max_radius(k, measure, (size_t)n)) > 0.0 && isfinite(r))) {
        PyBuffer_Release(&pts);
        Py_RETURN_NONE;
    }
    elim_args a = {.points = pts.buf, .m = m, .dim = dim, .n = (size_t)n};
    hl_poisson_options_init(&a.opt);
    int threads = small_threads(args[4], &a.opt.n_threads);
    if (threads <= 0) {
        PyBuffer_Release(&pts);
        if (threads == 0) {
            Py_RETURN_NONE;
        }
        return NULL;
    }
    if (hl_get_buffer(out_obj, &out, "out", 'q', 1, true) != 0) {
        PyBuffer_Release(&pts);
        return NULL;
    }
    if (out.shape[0] != n) {
        PyErr_Format(PyExc_ValueError, "out: expected %zd items, got %zd", n, out.shape[0]);
        goto exit;
    }
    a.out = out.buf;
    a.opt.domain = (hl_poisson_domain)domain;
    hl_poisson_level_radii(a.opt.domain, r, m, (size_t)n, 0.65, 1.5, 1, &a.opt.d_max, &a.opt.d_min);
    a.opt.alpha = 8.0;
    a.opt.progressive_factor = pow(2.0, 1.0 / (double)k);
    /* With the GIL held and no monitor: at most 256 points take at most about 0.1 ms, less
     * than releasing and taking back the GIL costs on cold caches (6 us of 44 for 3 points). */
    if (eliminate_status(module, elim_call(&a, NULL)) == 0) {
        result = Py_NewRef(out_obj);
    }
exit:
    PyBuffer_Release(&out);
    PyBuffer_Release(&pts);
    return result;
}

PyDoc_STRVAR(measure_doc, "_poisson_measure(domain, dim)\n--\n\n"
                          "The measure of the sphere (domain 2) or rotation (3) domain in dim\n"
                          "coordinates, NaN for others (see hl_poisson_measure).");

static PyObject *py_measure(PyObject *module, PyObject *args) {
    (void)module;
    int domain;
    Py_ssize_t dim;
    if (!PyArg_ParseTuple(args, "in", &domain, &dim)) {
        return NULL;
    }
    return PyFloat_FromDouble(dim < 0 ? (double)NAN
                                      : hl_poisson_measure((hl_poisson_domain)domain, (size_t)dim));
}

PyDoc_STRVAR(level_radii_doc,
             "_poisson_level_radii(domain, r_max, m, n, beta, gamma, weight_limiting)\n--\n\n"
             "(d_max, d_min) of a level as the core takes them (see hl_poisson_level_radii).");

static PyObject *py_level_radii(PyObject *module, PyObject *args) {
    (void)module;
    int domain, weight_limiting;
    double r_max, beta, gamma, d_max, d_min;
    Py_ssize_t m, n;
    if (!PyArg_ParseTuple(args, "idnnddp", &domain, &r_max, &m, &n, &beta, &gamma,
                          &weight_limiting)) {
        return NULL;
    }
    if (m < 2 || n < 1 || n >= m) {
        PyErr_SetString(PyExc_ValueError, "expected 1 <= n < m");
        return NULL;
    }
    hl_poisson_level_radii((hl_poisson_domain)domain, r_max, (size_t)m, (size_t)n, beta, gamma,
                           weight_limiting, &d_max, &d_min);
    return Py_BuildValue("(dd)", d_max, d_min);
}

PyDoc_STRVAR(radius_doc, "_poisson_max_radius(k, measure, n)\n--\n\n"
                         "The maximal Poisson disc radius of n points in a domain of intrinsic\n"
                         "dimension k and the given measure (NaN when undefined).");

static PyObject *py_max_radius(PyObject *module, PyObject *args) {
    (void)module;
    int k;
    double measure;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "idn", &k, &measure, &n)) {
        return NULL;
    }
    if (n < 0) {
        n = 0;
    }
    return PyFloat_FromDouble(hl_poisson_max_radius(k, measure, (size_t)n));
}

static PyMethodDef poisson_methods[] = {
    {"_poisson_eliminate", (PyCFunction)(void (*)(void))py_eliminate, METH_VARARGS | METH_KEYWORDS,
     eliminate_doc},
    {"_poisson_nn_distances", py_nn, METH_VARARGS, nn_doc},
    {"_poisson_candidates", py_candidates, METH_VARARGS, cand_doc},
    {"_poisson_max_radius", py_max_radius, METH_VARARGS, radius_doc},
    {"_poisson_scan", py_scan, METH_VARARGS, scan_doc},
    {"_poisson_eliminate_small", (PyCFunction)(void (*)(void))py_eliminate_small, METH_FASTCALL,
     small_doc},
    {"_poisson_measure", py_measure, METH_VARARGS, measure_doc},
    {"_poisson_level_radii", py_level_radii, METH_VARARGS, level_radii_doc},
    {NULL, NULL, 0, NULL},
};

int hl_exec_poisson(PyObject *module) {
    if (PyModule_AddIntConstant(module, "_POISSON_SMALL_MAX_POINTS", SMALL_MAX_POINTS) != 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, poisson_methods);
}
