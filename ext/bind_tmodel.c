/* hotloop._core: the tmodel kernel's functions (see core/include/hotloop/tmodel.h). Only
 * translation: argument parsing, buffer checks, the GIL-free run, status -> exception. */
#include "binding.h"

#include "hotloop/tmodel.h"

typedef struct run_args {
    const double *x;
    size_t n;
    hl_tmodel_options opt;
    double *mu, *sigma2;
} run_args;

static hl_status run_call(void *p, hl_monitor *mon) {
    run_args *a = p;
    return hl_tmodel_run(a->x, a->n, &a->opt, a->mu, a->sigma2, mon);
}

/* Gets an optional 1-D float64 buffer of `want` items; Py_None leaves view->buf NULL. */
static int optional_vector(PyObject *obj, Py_buffer *view, const char *name, Py_ssize_t want) {
    view->buf = NULL;
    view->obj = NULL;
    if (obj == Py_None) {
        return 0;
    }
    if (hl_get_buffer(obj, view, name, 'd', 1, false) != 0) {
        return -1;
    }
    if (view->shape[0] != want) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd values (one per chain), got %zd", name,
                     want, view->shape[0]);
        PyBuffer_Release(view);
        view->buf = NULL;
        view->obj = NULL;
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(
    tmodel_run_doc,
    "_tmodel_run(x, nu, prior, variant, burn_in, thin, seed, threads, init_mu, init_sigma2, "
    "mu_out, sigma2_out, progress=None)\n--\n\n"
    "Run the scaled Student-t Gibbs sampler (hl_tmodel_run) with the GIL released. x: 1-D\n"
    "float64 data; mu_out, sigma2_out: writable C-contiguous float64 arrays of shape (chains,\n"
    "sample_size); init_mu, init_sigma2: None or float64 arrays of one value per chain.\n"
    "prior: 0 log-sigma, 1 flat; variant: 0 exact (others are test-only negative controls).");

static PyObject *tmodel_run(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"x",      "nu",         "prior",    "variant", "burn_in",
                             "thin",   "seed",       "threads",  "init_mu", "init_sigma2",
                             "mu_out", "sigma2_out", "progress", NULL};
    PyObject *x_obj, *threads_obj, *init_mu_obj, *init_s2_obj, *mu_obj, *s2_obj;
    PyObject *progress = Py_None;
    double nu;
    int prior, variant;
    Py_ssize_t burn_in, thin;
    unsigned long long seed;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OdiinnKOOOOO|O", kwlist, &x_obj, &nu, &prior,
                                     &variant, &burn_in, &thin, &seed, &threads_obj, &init_mu_obj,
                                     &init_s2_obj, &mu_obj, &s2_obj, &progress)) {
        return NULL;
    }
    if (burn_in < 0) {
        return PyErr_Format(PyExc_ValueError, "burn_in: expected >= 0, got %zd", burn_in);
    }
    if (thin <= 0) {
        return PyErr_Format(PyExc_ValueError, "thin: expected >= 1, got %zd", thin);
    }
    run_args a;
    hl_tmodel_options_init(&a.opt);
    a.opt.nu = nu;
    a.opt.prior = (hl_tmodel_prior)prior;
    a.opt.variant = (hl_tmodel_variant)variant;
    a.opt.burn_in = (size_t)burn_in;
    a.opt.thin = (size_t)thin;
    a.opt.seed = seed;
    if (hl_parse_threads(threads_obj, &a.opt.n_threads) != 0) {
        return NULL;
    }
    PyObject *result = NULL;
    Py_buffer x = {0}, mu = {0}, s2 = {0}, init_mu = {0}, init_s2 = {0};
    if (hl_get_buffer(x_obj, &x, "x", 'd', 1, false) != 0) {
        return NULL;
    }
    if (hl_get_buffer(mu_obj, &mu, "mu_out", 'd', 2, true) != 0) {
        goto done;
    }
    if (hl_get_buffer(s2_obj, &s2, "sigma2_out", 'd', 2, true) != 0) {
        goto done;
    }
    if (mu.shape[0] != s2.shape[0] || mu.shape[1] != s2.shape[1]) {
        PyErr_SetString(PyExc_ValueError, "sigma2_out: expected the shape of mu_out");
        goto done;
    }
    if (optional_vector(init_mu_obj, &init_mu, "init_mu", mu.shape[0]) != 0 ||
        optional_vector(init_s2_obj, &init_s2, "init_sigma2", mu.shape[0]) != 0) {
        goto done;
    }
    a.x = x.buf;
    a.n = (size_t)x.shape[0];
    a.opt.chains = (size_t)mu.shape[0];
    a.opt.sample_size = (size_t)mu.shape[1];
    a.opt.init_mu = init_mu.buf;
    a.opt.init_sigma2 = init_s2.buf;
    a.mu = mu.buf;
    a.sigma2 = s2.buf;
    hl_status st = hl_run_nogil(run_call, &a, progress);
    if (st == HL_ENUMERIC) {
        PyErr_SetString(PyExc_OverflowError,
                        "tmodel.run: a draw left the range of doubles (for this data the "
                        "posterior reaches beyond it: an extreme scale, or values far closer "
                        "together than the data's range; or a start given in init far from "
                        "the data); rescale the data or start closer to it");
        goto done;
    }
    if (st != HL_OK) {
        hl_raise_status(module, st, "tmodel.run");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    if (init_s2.obj != NULL) {
        PyBuffer_Release(&init_s2);
    }
    if (init_mu.obj != NULL) {
        PyBuffer_Release(&init_mu);
    }
    if (s2.obj != NULL) {
        PyBuffer_Release(&s2);
    }
    if (mu.obj != NULL) {
        PyBuffer_Release(&mu);
    }
    PyBuffer_Release(&x);
    return result;
}

typedef struct cond_args {
    int which, variant, prior;
    const double *x, *u;
    size_t n, reps;
    double nu, mu, tau2, alpha2;
    uint64_t seed;
    double *out;
} cond_args;

static hl_status cond_call(void *p, hl_monitor *mon) {
    (void)mon;
    cond_args *a = p;
    return hl_tmodel_draw_conditional(
        (hl_tmodel_conditional)a->which, (hl_tmodel_variant)a->variant, a->x, a->n, a->nu,
        (hl_tmodel_prior)a->prior, a->mu, a->tau2, a->alpha2, a->u, a->seed, a->reps, a->out);
}

PyDoc_STRVAR(tmodel_conditional_doc,
             "_tmodel_conditional(which, variant, x, nu, prior, mu, tau2, alpha2, u, seed, out)"
             "\n--\n\n"
             "Test only: draw one full conditional (0 U, 1 alpha2, 2 mu, 3 tau2) with the other\n"
             "variables fixed, through the sampler's code (hl_tmodel_draw_conditional). out: a\n"
             "writable float64 array, (reps, n) for U (u may be None), (reps,) otherwise.");

static PyObject *tmodel_conditional(PyObject *module, PyObject *args) {
    cond_args a;
    unsigned long long seed;
    PyObject *x_obj, *u_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "iiOdidddOKO", &a.which, &a.variant, &x_obj, &a.nu, &a.prior, &a.mu,
                          &a.tau2, &a.alpha2, &u_obj, &seed, &out_obj)) {
        return NULL;
    }
    a.seed = seed;
    PyObject *result = NULL;
    Py_buffer x = {0}, u = {0}, out = {0};
    if (hl_get_buffer(x_obj, &x, "x", 'd', 1, false) != 0) {
        return NULL;
    }
    a.x = x.buf;
    a.n = (size_t)x.shape[0];
    if (optional_vector(u_obj, &u, "u", x.shape[0]) != 0) {
        goto done;
    }
    a.u = u.buf;
    const int want_ndim = a.which == HL_TMODEL_COND_U ? 2 : 1;
    if (hl_get_buffer(out_obj, &out, "out", 'd', want_ndim, true) != 0) {
        goto done;
    }
    if (want_ndim == 2 && out.shape[1] != x.shape[0]) {
        PyErr_SetString(PyExc_ValueError, "out: expected shape (reps, len(x))");
        goto done;
    }
    a.reps = (size_t)out.shape[0];
    a.out = out.buf;
    hl_status st = hl_run_nogil(cond_call, &a, NULL);
    if (st != HL_OK) {
        hl_raise_status(module, st, "tmodel._conditional");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    if (out.obj != NULL) {
        PyBuffer_Release(&out);
    }
    if (u.obj != NULL) {
        PyBuffer_Release(&u);
    }
    PyBuffer_Release(&x);
    return result;
}

typedef struct ties_args {
    const double *x;
    size_t n, k;
} ties_args;

static hl_status ties_call(void *p, hl_monitor *mon) {
    ties_args *a = p;
    return hl_tmodel_ties(a->x, a->n, &a->k, mon);
}

PyDoc_STRVAR(tmodel_ties_doc,
             "_tmodel_ties(x)\n--\n\n"
             "The largest number of equal values in x (1-D float64, finite), sorted with the GIL\n"
             "released (hl_tmodel_ties).");

static PyObject *tmodel_ties(PyObject *module, PyObject *arg) {
    Py_buffer x;
    if (hl_get_buffer(arg, &x, "data", 'd', 1, false) != 0) {
        return NULL;
    }
    ties_args a = {.x = x.buf, .n = (size_t)x.shape[0], .k = 0};
    PyObject *result = NULL;
    const hl_status st = hl_run_nogil(ties_call, &a, NULL);
    if (st != HL_OK) {
        hl_raise_status(module, st, "tmodel.check_data");
    } else {
        result = PyLong_FromSize_t(a.k);
    }
    PyBuffer_Release(&x);
    return result;
}

PyDoc_STRVAR(tmodel_range_bounds_doc,
             "_tmodel_range_bounds(n, power, prior)\n--\n\n"
             "(lo, hi): the range max - min of n data points that the sampler accepts, power\n"
             "being p = nu (n - k) - k + 1 + e (hl_tmodel_range_bounds); prior 0 log-sigma, 1 "
             "flat.");

static PyObject *tmodel_range_bounds(PyObject *module, PyObject *args) {
    (void)module;
    Py_ssize_t n;
    double power;
    int prior;
    if (!PyArg_ParseTuple(args, "ndi", &n, &power, &prior)) {
        return NULL;
    }
    if (n < 2 || !(power > 0.0) || (prior != 0 && prior != 1)) {
        return PyErr_Format(PyExc_ValueError, "_tmodel_range_bounds: bad arguments");
    }
    double lo, hi;
    hl_tmodel_range_bounds((size_t)n, power, (hl_tmodel_prior)prior, &lo, &hi);
    return Py_BuildValue("(dd)", lo, hi);
}

static PyMethodDef tmodel_methods[] = {
    {"_tmodel_run", (PyCFunction)(void (*)(void))tmodel_run, METH_VARARGS | METH_KEYWORDS,
     tmodel_run_doc},
    {"_tmodel_conditional", tmodel_conditional, METH_VARARGS, tmodel_conditional_doc},
    {"_tmodel_ties", tmodel_ties, METH_O, tmodel_ties_doc},
    {"_tmodel_range_bounds", tmodel_range_bounds, METH_VARARGS, tmodel_range_bounds_doc},
    {NULL, NULL, 0, NULL},
};

int hl_exec_tmodel(PyObject *module) {
    return PyModule_AddFunctions(module, tmodel_methods);
}
