/* Shared binding machinery: status -> exception, GIL-free runner with Ctrl-C and progress,
 * buffer checks. See binding.h. */
#include "binding.h"

#include <errno.h>
#include <time.h>

/* Signal polls re-take the GIL this often (a Ctrl-C answer well under 0.1 s), progress
 * callbacks run at most this often. */
#define HL_SIGNAL_POLL_NS 20000000ULL
#define HL_PROGRESS_NS 100000000ULL

PyObject *hl_raise_status(PyObject *module, hl_status st, const char *context) {
    hl_module_state *state = hl_get_state(module);
    const char *what = hl_strerror(st);
    switch (st) {
    case HL_OK:
        PyErr_Format(state->error, "%s: internal error: failure reported with success status",
                     context);
        break;
    case HL_EINVAL:
    case HL_EFORMAT:
        PyErr_Format(PyExc_ValueError, "%s: %s", context, what);
        break;
    case HL_ENOMEM:
        PyErr_Format(PyExc_MemoryError, "%s: %s", context, what);
        break;
    case HL_EOVERFLOW:
        PyErr_Format(PyExc_OverflowError, "%s: %s", context, what);
        break;
    case HL_EIO:
        PyErr_SetFromErrno(PyExc_OSError);
        break;
    case HL_ECANCELLED:
        if (!PyErr_Occurred()) {
            PyErr_SetNone(PyExc_KeyboardInterrupt);
        }
        break;
    case HL_ESTATE:
    case HL_ENUMERIC:
    case HL_EINTERNAL:
    default:
        PyErr_Format(state->error, "%s: %s", context, what);
        break;
    }
    return NULL;
}

PyObject *hl_raise_status_type(PyTypeObject *type, hl_status st, const char *context) {
    PyObject *module = PyType_GetModule(type);
    if (module == NULL) {
        return NULL;
    }
    return hl_raise_status(module, st, context);
}

typedef struct nogil_ctx {
    PyThreadState *tstate;
    PyObject *progress; /* borrowed; NULL when none */
    hl_monitor *mon;
    unsigned long long last_poll_ns;
    unsigned long long last_progress_ns;
} nogil_ctx;

static unsigned long long monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

/* The monitor's check: called often by the core from the thread that entered it; takes the
 * GIL only every HL_SIGNAL_POLL_NS. Returns non-zero (stop) when a Python exception is set. */
static int nogil_check(void *p) {
    nogil_ctx *c = p;
    const unsigned long long now = monotonic_ns();
    if (now - c->last_poll_ns < HL_SIGNAL_POLL_NS) {
        return 0;
    }
    PyEval_RestoreThread(c->tstate);
    int stop = PyErr_CheckSignals() != 0;
    const int report = !stop && c->progress != NULL && now - c->last_progress_ns >= HL_PROGRESS_NS;
    if (report) {
        size_t done = atomic_load_explicit(&c->mon->done, memory_order_relaxed);
        PyObject *r =
            PyObject_CallFunction(c->progress, "nn", (Py_ssize_t)done, (Py_ssize_t)c->mon->total);
        if (r == NULL) {
            stop = 1;
        } else {
            Py_DECREF(r);
        }
    }
    c->tstate = PyEval_SaveThread();
    /* The intervals run from the end of this visit: stamped before it, a callback slower than
     * HL_PROGRESS_NS was called again at the very next poll, and a call of 0.04 s with a
     * 0.15 s callback took 6.8 s. */
    const unsigned long long after = report ? monotonic_ns() : now;
    c->last_poll_ns = after;
    if (report) {
        c->last_progress_ns = after;
    }
    return stop;
}

hl_status hl_run_nogil(hl_core_call call, void *args, PyObject *progress) {
    hl_monitor mon;
    nogil_ctx ctx = {
        .progress = (progress == NULL || progress == Py_None) ? NULL : progress,
        .mon = &mon,
        .last_poll_ns = monotonic_ns(),
        .last_progress_ns = 0,
    };
    hl_monitor_init(&mon, nogil_check, &ctx);
    ctx.tstate = PyEval_SaveThread();
    hl_status st = call(args, &mon);
    PyEval_RestoreThread(ctx.tstate);
    if (st == HL_OK && ctx.progress != NULL) {
        /* Let a progress bar reach 100%. */
        PyObject *r =
            PyObject_CallFunction(ctx.progress, "nn", (Py_ssize_t)mon.total, (Py_ssize_t)mon.total);
        if (r == NULL) {
            return HL_ECANCELLED;
        }
        Py_DECREF(r);
    }
    return st;
}

static bool format_matches(const char *format, char fmt) {
    if (format == NULL) {
        return fmt == 'B';
    }
    if (format[0] == '@' || format[0] == '=' || format[0] == '<') {
        format++;
    }
    if (format[0] == fmt && format[1] == '\0') {
        return true;
    }
    /* 'l'/'q' and 'L'/'Q' are the same 64-bit integers on LP64 platforms. */
    if (sizeof(long) == 8 && format[1] == '\0') {
        if ((fmt == 'q' && format[0] == 'l') || (fmt == 'Q' && format[0] == 'L')) {
            return true;
        }
    }
    return false;
}

int hl_get_buffer(PyObject *obj, Py_buffer *view, const char *argname, char fmt, int ndim,
                  bool writable) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;
    if (writable) {
        flags |= PyBUF_WRITABLE;
    }
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected an array (buffer), got %.100s", argname,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, flags) != 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s: expected a C-contiguous%s array", argname,
                     writable ? ", writable" : "");
        return -1;
    }
    if (!format_matches(view->format, fmt)) {
        PyErr_Format(PyExc_TypeError, "%s: expected items of format '%c', got '%s'", argname, fmt,
                     view->format ? view->format : "B");
        PyBuffer_Release(view);
        return -1;
    }
    if (ndim >= 0 && view->ndim != ndim) {
        PyErr_Format(PyExc_ValueError, "%s: expected %d dimension(s), got %d", argname, ndim,
                     view->ndim);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

bool hl_try_buffer(PyObject *obj, Py_buffer *view, char fmt, int ndim) {
    if (!PyObject_CheckBuffer(obj)) {
        return false;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) {
        PyErr_Clear();
        return false;
    }
    if (!format_matches(view->format, fmt) || view->ndim != ndim) {
        PyBuffer_Release(view);
        return false;
    }
    return true;
}

int hl_parse_threads(PyObject *obj, unsigned *out) {
    if (!PyLong_Check(obj) || PyBool_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "threads: expected an int, got %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (v < 0 || v > 65535) {
        PyErr_Format(PyExc_ValueError, "threads: expected 0 (all cores) .. 65535, got %ld", v);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}
