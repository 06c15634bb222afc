/* hotloop._core: module definition (multi-phase init, module state), the version handshake
 * and the CPU-feature queries. Each kernel's functions are added by its bind_<kernel>.c. */
#include "binding.h"

#include <stdlib.h>
#include <string.h>

#include "hotloop/cpu.h"
#include "hotloop/parallel.h"

hl_module_state *hl_get_state(PyObject *module) {
    return (hl_module_state *)PyModule_GetState(module);
}

hl_module_state *hl_get_state_by_type(PyTypeObject *type) {
    return (hl_module_state *)PyType_GetModuleState(type);
}

/* A list of the names of the feature bits set in `mask`. */
static PyObject *feature_list(unsigned mask) {
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    for (unsigned bit = 1; bit & HL_CPU_ALL; bit <<= 1) {
        if ((mask & bit) == 0) {
            continue;
        }
        PyObject *name = PyUnicode_FromString(hl_cpu_feature_name(bit));
        if (name == NULL || PyList_Append(list, name) != 0) {
            Py_XDECREF(name);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(name);
    }
    return list;
}

PyDoc_STRVAR(cpu_info_doc, "cpu_info()\n--\n\n"
                           "Return a dict: 'detected' (features the CPU and OS support), 'active'\n"
                           "(detected minus HOTLOOP_DISABLE_CPU_FEATURES), 'simd_level' (the best\n"
                           "active kernel level: 'scalar', 'avx2' or 'avx512') and 'cpu_count'.");

static PyObject *cpu_info(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    (void)module;
    PyObject *detected = feature_list(hl_cpu_detected());
    PyObject *active = feature_list(hl_cpu_active());
    PyObject *result = NULL;
    if (detected != NULL && active != NULL) {
        result =
            Py_BuildValue("{s:O,s:O,s:s,s:I}", "detected", detected, "active", active, "simd_level",
                          hl_simd_level_name(hl_cpu_best_level()), "cpu_count", hl_cpu_count());
    }
    Py_XDECREF(detected);
    Py_XDECREF(active);
    return result;
}

PyDoc_STRVAR(available_cores_doc,
             "_available_cores()\n--\n\n"
             "The CPUs this process may run on (its affinity mask), 1 .. MAX_THREADS.");

static PyObject *available_cores(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    (void)module;
    return PyLong_FromUnsignedLong(hl_cpu_count());
}

/* Whether c is one of the ASCII white-space characters str.strip() removes. */
static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Raises ValueError "HOTLOOP_NUM_THREADS='text': <what>" for text[0 .. len), decoded as
 * os.environ decodes it, and returns -1. */
static int bad_env_threads(const char *text, size_t len, const char *what) {
    PyObject *value = PyUnicode_DecodeFSDefaultAndSize(text, (Py_ssize_t)len);
    if (value != NULL) {
        PyErr_Format(PyExc_ValueError, "HOTLOOP_NUM_THREADS=%R: %s", value, what);
        Py_DECREF(value);
    }
    return -1;
}

int hl_default_thread_count(unsigned *out) {
    static const char not_a_count[] = "expected a non-negative integer (0 = all cores)";
    const char *env = getenv("HOTLOOP_NUM_THREADS"); /* os.environ's changes reach it (putenv) */
    if (env != NULL) {
        size_t begin = 0, end = strlen(env);
        while (begin < end && is_space(env[begin])) {
            begin++;
        }
        while (end > begin && is_space(env[end - 1])) {
            end--;
        }
        const char *text = env + begin;
        size_t len = end - begin;
        if (len > 0) {
            size_t k = 0;
            int negative = text[0] == '-';
            if (text[0] == '-' || text[0] == '+') {
                k = 1;
            }
            if (k == len) {
                return bad_env_threads(text, len, not_a_count);
            }
            unsigned long value = 0;
            for (; k < len; k++) {
                if (text[k] < '0' || text[k] > '9') {
                    return bad_env_threads(text, len, not_a_count);
                }
                value = value * 10 + (unsigned long)(text[k] - '0');
                if (value > HL_MAX_THREADS) {
                    value = HL_MAX_THREADS + 1; /* saturated: more than the cap either way */
                }
            }
            if (negative && value > 0) {
                return bad_env_threads(text, len, "expected a non-negative integer");
            }
            if (value > 0) {
                *out = value > HL_MAX_THREADS ? HL_MAX_THREADS : (unsigned)value;
                return 0;
            }
        }
    }
    *out = 0; /* all cores: counted by whoever needs the number (a system call) */
    return 0;
}

PyDoc_STRVAR(default_threads_doc,
             "_default_threads()\n--\n\n"
             "The thread count of threads=None: $HOTLOOP_NUM_THREADS when it is set to a\n"
             "positive integer (capped at MAX_THREADS), else _available_cores() (unset, empty\n"
             "or 0). ValueError for anything else. Read here rather than through os.environ:\n"
             "on cold caches that lookup and os.sched_getaffinity took about 70 us.");

static PyObject *default_threads(PyObject *module, PyObject *Py_UNUSED(ignored)) {
    (void)module;
    unsigned n;
    if (hl_default_thread_count(&n) != 0) {
        return NULL;
    }
    return PyLong_FromUnsignedLong(n == 0 ? hl_cpu_count() : n);
}

static PyMethodDef module_methods[] = {
    {"cpu_info", cpu_info, METH_NOARGS, cpu_info_doc},
    {"_available_cores", available_cores, METH_NOARGS, available_cores_doc},
    {"_default_threads", default_threads, METH_NOARGS, default_threads_doc},
    {NULL, NULL, 0, NULL},
};

static int module_exec(PyObject *module) {
    if (hl_version() != HL_VERSION) {
        PyErr_Format(PyExc_ImportError,
                     "hotloop._core: the C core is version %d but the binding was built against "
                     "%d; rebuild hotloop (pip install --force-reinstall .)",
                     hl_version(), HL_VERSION);
        return -1;
    }
    hl_module_state *state = hl_get_state(module);
    state->error = PyErr_NewExceptionWithDoc(
        "hotloop.HotloopError",
        "A failure inside hotloop's C core that is not a bad argument (those raise ValueError or "
        "TypeError): a numerical failure, an object in the wrong state, or a bug.",
        PyExc_RuntimeError, NULL);
    if (state->error == NULL || PyModule_AddObjectRef(module, "HotloopError", state->error) != 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(module, "CORE_VERSION", hl_version()) != 0 ||
        PyModule_AddIntConstant(module, "MAX_THREADS", HL_MAX_THREADS) != 0) {
        return -1;
    }
    if (hl_exec_testing(module) != 0 || hl_exec_julia(module) != 0 ||
        hl_exec_poisson(module) != 0 || hl_exec_distinct(module) != 0 ||
        hl_exec_tmodel(module) != 0) {
        return -1;
    }
    return 0;
}

static int module_traverse(PyObject *module, visitproc visit, void *arg) {
    hl_module_state *state = hl_get_state(module);
    Py_VISIT(state->error);
    Py_VISIT(state->sketch_type);
    return 0;
}

static int module_clear(PyObject *module) {
    hl_module_state *state = hl_get_state(module);
    Py_CLEAR(state->error);
    Py_CLEAR(state->sketch_type);
    return 0;
}

static void module_free(void *module) {
    (void)module_clear((PyObject *)module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "hotloop._core",
    .m_doc = "hotloop's C core: the binding between Python and the hot loops.",
    .m_size = sizeof(hl_module_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__core(void);

PyMODINIT_FUNC PyInit__core(void) {
    return PyModuleDef_Init(&module_def);
}
