/*
 * binding.h: what the parts of the hotloop._core binding share.
 *
 * The binding only translates: it parses arguments, checks buffers, releases the GIL around
 * core calls and turns hl_status into exceptions. No algorithm lives here.
 */
#ifndef HOTLOOP_BINDING_H
#define HOTLOOP_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>

#include "hotloop/common.h"

/* Per-module state (multi-phase init: no C globals). */
typedef struct hl_module_state {
    PyObject *error;       /* hotloop.HotloopError */
    PyObject *sketch_type; /* hotloop._core.Sketch (bind_distinct.c), NULL until added */
} hl_module_state;

/* The state of `module` (the hotloop._core module object). */
hl_module_state *hl_get_state(PyObject *module);

/* The state of the module that defined heap type `type` (for methods of types). */
hl_module_state *hl_get_state_by_type(PyTypeObject *type);

/*
 * Sets the Python exception for a failed core call and returns NULL:
 * HL_EINVAL -> ValueError, HL_ENOMEM -> MemoryError, HL_ECANCELLED -> the pending exception
 * (KeyboardInterrupt from Ctrl-C, or what a progress callback raised; KeyboardInterrupt if none
 * is pending), HL_EFORMAT -> ValueError, HL_EOVERFLOW -> OverflowError, HL_EIO -> OSError from
 * errno, anything else -> hotloop.HotloopError. `context` names the call ("julia.render").
 */
PyObject *hl_raise_status(PyObject *module, hl_status st, const char *context);

/* Same, for use where the module is reached through a heap type. */
PyObject *hl_raise_status_type(PyTypeObject *type, hl_status st, const char *context);

/* A core call as the GIL-free runner sees it. */
typedef hl_status (*hl_core_call)(void *args, hl_monitor *mon);

/*
 * Runs call(args, mon) with the GIL released. The monitor's check re-takes the GIL at most
 * every 20 ms to run Python's signal handlers (so Ctrl-C raises KeyboardInterrupt within about
 * 0.1 s) and, when `progress` is a callable (not NULL or None), calls progress(done, total) at
 * most ten times a second; an exception from either cancels the call. Must be called with the
 * GIL held; `args` must hold no Python object that the call touches.
 * Returns the core call's status (HL_ECANCELLED with a Python exception set on cancellation).
 */
hl_status hl_run_nogil(hl_core_call call, void *args, PyObject *progress);

/*
 * Gets a buffer of `obj` for the argument `argname` and checks it: C-contiguous, item format
 * `fmt` (a struct character such as 'd', 'Q', 'B'; byte-order prefixes '@', '=', '<' are
 * accepted on this little-endian build), `ndim` dimensions (-1: any), writable if asked.
 * On failure raises TypeError/ValueError naming `argname` and returns -1 (no buffer held).
 */
int hl_get_buffer(PyObject *obj, Py_buffer *view, const char *argname, char fmt, int ndim,
                  bool writable);

/* hl_get_buffer's checks, silently: true with the buffer held when `obj` is a C-contiguous
 * buffer of `ndim` dimensions and items `fmt`; else false, no buffer held, no exception set
 * (for fast paths that hand anything unusual back to the Python layer). */
bool hl_try_buffer(PyObject *obj, Py_buffer *view, char fmt, int ndim);

/* The thread count of threads=None (hotloop._threads.resolve_threads) as the core takes it:
 * $HOTLOOP_NUM_THREADS when set to a positive integer (capped at HL_MAX_THREADS), else 0 (all
 * the CPUs this process may use, which hl_cpu_count counts with a system call). -1 with
 * ValueError for a malformed variable. */
int hl_default_thread_count(unsigned *out);

/* Converts a Python int >= 0 to unsigned thread count for argument "threads" (0 = all CPUs). */
int hl_parse_threads(PyObject *obj, unsigned *out);

/* Module exec functions of the binding's parts (each adds its functions and types). */
int hl_exec_testing(PyObject *module);
int hl_exec_julia(PyObject *module);
int hl_exec_poisson(PyObject *module);
int hl_exec_distinct(PyObject *module);
int hl_exec_tmodel(PyObject *module);

#endif /* HOTLOOP_BINDING_H */
