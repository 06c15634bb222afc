/* hotloop._core: the julia kernel's functions (see core/include/hotloop/julia.h). Argument
 * parsing, buffer checks and GIL release only; the Python layer (hotloop.julia) validates the
 * user's values first and allocates the outputs. */
#include "binding.h"

#include <math.h>

#include "hotloop/julia.h"

/* Parses a SIMD level: -1 auto, 0 scalar, 1 avx2, 2 avx512. */
static int parse_level(int v, hl_simd_level *out) {
    if (v < -1 || v > 2) {
        PyErr_Format(PyExc_ValueError, "simd: expected -1 (auto), 0, 1 or 2, got %d", v);
        return -1;
    }
    *out = (hl_simd_level)v;
    return 0;
}

static int parse_u32(PyObject *obj, const char *name, uint32_t *out) {
    unsigned long long v = PyLong_AsUnsignedLongLong(obj);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s: expected an integer in 0..4294967295", name);
        return -1;
    }
    if (v > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "%s: expected an integer in 0..4294967295", name);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

typedef struct render_args {
    hl_julia_params params;
    hl_julia_grid grid;
    hl_julia_output kind;
    void *out;
    hl_julia_options opts;
} render_args;

static hl_status render_call(void *p, hl_monitor *mon) {
    render_args *a = p;
    return hl_julia_render(&a->params, &a->grid, a->kind, a->out, &a->opts, mon);
}

PyDoc_STRVAR(render_doc,
             "_julia_render(kind, c_re, c_im, threshold, itermin, itermax, mandelbrot, xleft, "
             "xright, yleft, yright, out, simd, threads, progress=None)\n--\n\n"
             "Render the grid linspace(xleft, xright, nx) x linspace(yleft, yright, ny) into\n"
             "`out` (C-contiguous (nx, ny): uint32 for kind 0 (counts), float64 for 1\n"
             "(normalised) and 2 (smooth), float32 for 3 and 4; uint8 (ny, nx) pictures,\n"
             "row 0 at the top, for 5 and 6). Releases the GIL.");

static PyObject *julia_render(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"kind",       "c_re",    "c_im",     "threshold", "itermin", "itermax",
                             "mandelbrot", "xleft",   "xright",   "yleft",     "yright",  "out",
                             "simd",       "threads", "progress", NULL};
    int kind, mandel, simd;
    double c_re, c_im, thr, x0, x1, y0, y1;
    PyObject *itermin_obj, *itermax_obj, *out_obj, *threads_obj, *progress = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "idddOOpddddOiO|O", kwlist, &kind, &c_re, &c_im,
                                     &thr, &itermin_obj, &itermax_obj, &mandel, &x0, &x1, &y0, &y1,
                                     &out_obj, &simd, &threads_obj, &progress)) {
        return NULL;
    }
    render_args a = {
        .params = {.c_re = c_re, .c_im = c_im, .threshold = thr, .mandelbrot = mandel != 0},
        .grid = {.x_start = x0, .x_stop = x1, .y_start = y0, .y_stop = y1}};
    if (kind < 0 || kind > (int)HL_JULIA_PICTURE_SMOOTH) {
        PyErr_Format(PyExc_ValueError, "kind: expected 0..6, got %d", kind);
        return NULL;
    }
    a.kind = (hl_julia_output)kind;
    if (parse_u32(itermin_obj, "itermin", &a.params.itermin) != 0 ||
        parse_u32(itermax_obj, "itermax", &a.params.itermax) != 0 ||
        parse_level(simd, &a.opts.level) != 0 ||
        hl_parse_threads(threads_obj, &a.opts.n_threads) != 0) {
        return NULL;
    }
    char fmt = 'd';
    if (a.kind == HL_JULIA_COUNTS) {
        fmt = 'I';
    } else if (a.kind == HL_JULIA_F32 || a.kind == HL_JULIA_F32_SMOOTH) {
        fmt = 'f';
    } else if (a.kind == HL_JULIA_PICTURE || a.kind == HL_JULIA_PICTURE_SMOOTH) {
        fmt = 'B';
    }
    Py_buffer out;
    if (hl_get_buffer(out_obj, &out, "out", fmt, 2, true) != 0) {
        return NULL;
    }
    const bool picture = a.kind == HL_JULIA_PICTURE || a.kind == HL_JULIA_PICTURE_SMOOTH;
    a.grid.nx = (size_t)out.shape[picture ? 1 : 0];
    a.grid.ny = (size_t)out.shape[picture ? 0 : 1];
    a.out = out.buf;
    hl_status st = hl_run_nogil(render_call, &a, progress);
    PyBuffer_Release(&out);
    if (st != HL_OK) {
        return hl_raise_status(module, st, "julia.render");
    }
    Py_RETURN_NONE;
}

typedef struct points_args {
    hl_julia_params params;
    const double *z;
    size_t n;
    uint32_t *out;
    hl_julia_options opts;
} points_args;

static hl_status points_call(void *p, hl_monitor *mon) {
    points_args *a = p;
    return hl_julia_points(&a->params, a->z, a->n, a->out, &a->opts, mon);
}

PyDoc_STRVAR(points_doc,
             "_julia_points(c_re, c_im, threshold, itermax, mandelbrot, z, out, simd, threads, "
             "progress=None)\n--\n\n"
             "Escape counts of the points z (float64, 1-D, interleaved re, im) into `out`\n"
             "(uint32, 1-D, half z's length). Releases the GIL.");

static PyObject *julia_points(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"c_re", "c_im", "threshold", "itermax",  "mandelbrot", "z",
                             "out",  "simd", "threads",   "progress", NULL};
    int mandel, simd;
    double c_re, c_im, thr;
    PyObject *itermax_obj, *z_obj, *out_obj, *threads_obj, *progress = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "dddOpOOiO|O", kwlist, &c_re, &c_im, &thr,
                                     &itermax_obj, &mandel, &z_obj, &out_obj, &simd, &threads_obj,
                                     &progress)) {
        return NULL;
    }
    points_args a = {
        .params = {.c_re = c_re, .c_im = c_im, .threshold = thr, .mandelbrot = mandel != 0}};
    if (parse_u32(itermax_obj, "itermax", &a.params.itermax) != 0 ||
        parse_level(simd, &a.opts.level) != 0 ||
        hl_parse_threads(threads_obj, &a.opts.n_threads) != 0) {
        return NULL;
    }
    Py_buffer z, out;
    if (hl_get_buffer(z_obj, &z, "z", 'd', 1, false) != 0) {
        return NULL;
    }
    if (hl_get_buffer(out_obj, &out, "out", 'I', 1, true) != 0) {
        PyBuffer_Release(&z);
        return NULL;
    }
    PyObject *result = NULL;
    if (z.shape[0] != 2 * out.shape[0]) {
        PyErr_Format(PyExc_ValueError, "z: expected %zd values (2 per output), got %zd",
                     2 * out.shape[0], z.shape[0]);
        goto done;
    }
    a.z = z.buf;
    a.n = (size_t)out.shape[0];
    a.out = out.buf;
    hl_status st = hl_run_nogil(points_call, &a, progress);
    if (st != HL_OK) {
        hl_raise_status(module, st, "julia.divergence");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&z);
    PyBuffer_Release(&out);
    return result;
}

PyDoc_STRVAR(picture_doc,
             "_julia_picture(values, out)\n--\n\n"
             "Write the 8-bit picture of the (nx, ny) float64/float32 image `values` into the\n"
             "uint8 (ny, nx) array `out`, row 0 at the top: uint8(value * 255).");

static PyObject *julia_picture(PyObject *module, PyObject *args) {
    PyObject *values_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "OO", &values_obj, &out_obj)) {
        return NULL;
    }
    Py_buffer values, out;
    bool f32 = false;
    if (hl_get_buffer(values_obj, &values, "values", 'd', 2, false) != 0) {
        PyErr_Clear();
        if (hl_get_buffer(values_obj, &values, "values", 'f', 2, false) != 0) {
            return NULL;
        }
        f32 = true;
    }
    if (hl_get_buffer(out_obj, &out, "out", 'B', 2, true) != 0) {
        PyBuffer_Release(&values);
        return NULL;
    }
    PyObject *result = NULL;
    if (out.shape[0] != values.shape[1] || out.shape[1] != values.shape[0]) {
        PyErr_SetString(PyExc_ValueError, "out: expected the transposed shape of values");
        goto done;
    }
    hl_status st;
    Py_BEGIN_ALLOW_THREADS st = hl_julia_picture(values.buf, f32, (size_t)values.shape[0],
                                                 (size_t)values.shape[1], out.buf);
    Py_END_ALLOW_THREADS if (st != HL_OK) {
        hl_raise_status(module, st, "julia.picture");
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&values);
    PyBuffer_Release(&out);
    return result;
}

PyDoc_STRVAR(peak_doc, "_julia_fma_peak(simd, seconds)\n--\n\n"
                       "Measured float64 multiply/FMA lane-operations per second of one core.");

static PyObject *julia_fma_peak(PyObject *module, PyObject *args) {
    int simd;
    double seconds, ops = 0.0;
    hl_simd_level level;
    if (!PyArg_ParseTuple(args, "id", &simd, &seconds) || parse_level(simd, &level) != 0) {
        return NULL;
    }
    hl_status st;
    Py_BEGIN_ALLOW_THREADS st = hl_julia_fma_peak(level, seconds, &ops);
    Py_END_ALLOW_THREADS if (st != HL_OK) {
        return hl_raise_status(module, st, "julia.fma_peak");
    }
    return PyFloat_FromDouble(ops);
}

static PyMethodDef julia_methods[] = {
    {"_julia_render", (PyCFunction)(void (*)(void))julia_render, METH_VARARGS | METH_KEYWORDS,
     render_doc},
    {"_julia_points", (PyCFunction)(void (*)(void))julia_points, METH_VARARGS | METH_KEYWORDS,
     points_doc},
    {"_julia_fma_peak", julia_fma_peak, METH_VARARGS, peak_doc},
    {"_julia_picture", julia_picture, METH_VARARGS, picture_doc},
    {NULL, NULL, 0, NULL},
};

int hl_exec_julia(PyObject *module) {
    return PyModule_AddFunctions(module, julia_methods);
}
