/* Test-only functions of hotloop._core (names start with an underscore): they drive the
 * shared machinery (GIL release, Ctrl-C, progress, RNG) without any kernel. */
#include "binding.h"

#include "hotloop/testing.h"

typedef struct busy_args {
    size_t units;
    uint64_t unit_ns;
    unsigned threads;
    size_t scratch_bytes;
    uint64_t checksum;
} busy_args;

static hl_status busy_call(void *p, hl_monitor *mon) {
    busy_args *a = p;
    return hl_testing_busy(a->units, a->unit_ns, a->threads, a->scratch_bytes, mon, &a->checksum);
}

PyDoc_STRVAR(busy_doc,
             "_busy(units, unit_ns, threads, scratch_bytes, progress=None)\n--\n\n"
             "Test only: run `units` units of ~unit_ns ns busy work on `threads` threads\n"
             "with the GIL released; return a checksum that depends on `units` only.");

static PyObject *busy(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"units", "unit_ns", "threads", "scratch_bytes", "progress", NULL};
    Py_ssize_t units, scratch;
    unsigned long long unit_ns;
    PyObject *threads_obj, *progress = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "nKOn|O", kwlist, &units, &unit_ns, &threads_obj,
                                     &scratch, &progress)) {
        return NULL;
    }
    busy_args a = {.units = (size_t)units, .unit_ns = unit_ns, .scratch_bytes = (size_t)scratch};
    if (units < 0 || scratch < 0) {
        PyErr_SetString(PyExc_ValueError, "units and scratch_bytes must be >= 0");
        return NULL;
    }
    if (hl_parse_threads(threads_obj, &a.threads) != 0) {
        return NULL;
    }
    hl_status st = hl_run_nogil(busy_call, &a, progress);
    if (st != HL_OK) {
        return hl_raise_status(module, st, "_busy");
    }
    return PyLong_FromUnsignedLongLong(a.checksum);
}

typedef struct draw_args {
    int dist;
    double param;
    uint64_t seed, stream;
    size_t n;
    double *out;
} draw_args;

static hl_status draw_call(void *p, hl_monitor *mon) {
    (void)mon;
    draw_args *a = p;
    return hl_testing_draw((hl_testing_dist)a->dist, a->param, a->seed, a->stream, a->n, a->out);
}

PyDoc_STRVAR(rng_draw_doc,
             "_rng_draw(dist, param, seed, stream, out)\n--\n\n"
             "Test only: fill the float64 array `out` with draws of distribution `dist`\n"
             "(0 uniform, 1 normal, 2 exponential, 3 gamma(param), 4 chisq(param), 5 raw bits)\n"
             "from stream `stream` of `seed`.");

static PyObject *rng_draw(PyObject *module, PyObject *args) {
    draw_args a;
    unsigned long long seed, stream;
    PyObject *out_obj;
    if (!PyArg_ParseTuple(args, "idKKO", &a.dist, &a.param, &seed, &stream, &out_obj)) {
        return NULL;
    }
    Py_buffer out;
    if (hl_get_buffer(out_obj, &out, "out", 'd', 1, true) != 0) {
        return NULL;
    }
    a.seed = seed;
    a.stream = stream;
    a.n = (size_t)out.shape[0];
    a.out = out.buf;
    hl_status st = hl_run_nogil(draw_call, &a, NULL);
    PyBuffer_Release(&out);
    if (st != HL_OK) {
        return hl_raise_status(module, st, "_rng_draw");
    }
    Py_RETURN_NONE;
}

static PyMethodDef testing_methods[] = {
    {"_busy", (PyCFunction)(void (*)(void))busy, METH_VARARGS | METH_KEYWORDS, busy_doc},
    {"_rng_draw", rng_draw, METH_VARARGS, rng_draw_doc},
    {NULL, NULL, 0, NULL},
};

int hl_exec_testing(PyObject *module) {
    return PyModule_AddFunctions(module, testing_methods);
}
