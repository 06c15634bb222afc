/*
 * hotloop._core: the distinct kernel's functions and the Sketch type
 * (see core/include/hotloop/distinct.h).
 *
 * Translation only: Python objects become canonical hashes here (reading them needs the GIL,
 * so the walk over a list holds it and checks for Ctrl-C every 64K items); arrays become
 * hl_dsource descriptors handed to the core with the GIL released.
 */
#include "binding.h"

#include <sched.h>

#include "hotloop/distinct.h"

#define HASH_BATCH 2048
#define SIGNAL_EVERY 65536

/* ---- canonical hashes of Python objects ---------------------------------------------------- */

typedef struct walker {
    uint64_t key;
    int local;              /* set when an item had no canonical encoding (hash() used) */
    unsigned char *scratch; /* UTF-8 of non-ASCII str */
    size_t scratch_cap;
} walker;

static void walker_free(walker *w) {
    PyMem_Free(w->scratch);
    w->scratch = NULL;
}

static int ensure_scratch(walker *w, size_t need) {
    if (need <= w->scratch_cap) {
        return 0;
    }
    unsigned char *p = PyMem_Realloc(w->scratch, need);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    w->scratch = p;
    w->scratch_cap = need;
    return 0;
}

static int hash_str(PyObject *o, walker *w, uint64_t *out) {
    if (PyUnicode_IS_COMPACT_ASCII(o)) {
        *out = hl_dhash_utf8(PyUnicode_DATA(o), (size_t)PyUnicode_GET_LENGTH(o), w->key);
        return 0;
    }
    size_t len = (size_t)PyUnicode_GET_LENGTH(o);
    if (ensure_scratch(w, 6 * len + 8) != 0) {
        return -1;
    }
    *out = hl_dhash_ucs(PyUnicode_DATA(o), (int)PyUnicode_KIND(o), len, w->key, w->scratch);
    return 0;
}

/* An int that does not fit int64: sign and magnitude bytes (rare; Python calls are fine). */
static int hash_bigint(PyObject *o, walker *w, uint64_t *out) {
    PyObject *zero = PyLong_FromLong(0), *mag = NULL, *nbits = NULL, *bytes = NULL;
    int rc = -1;
    if (zero == NULL) {
        return -1;
    }
    int neg = PyObject_RichCompareBool(o, zero, Py_LT);
    if (neg < 0) {
        goto done;
    }
    mag = PyNumber_Absolute(o);
    if (mag == NULL) {
        goto done;
    }
    nbits = PyObject_CallMethod(mag, "bit_length", NULL);
    if (nbits == NULL) {
        goto done;
    }
    Py_ssize_t nb = PyLong_AsSsize_t(nbits);
    if (nb < 0) {
        goto done;
    }
    bytes = PyObject_CallMethod(mag, "to_bytes", "ns", (nb + 7) / 8, "little");
    if (bytes == NULL) {
        goto done;
    }
    *out = hl_dhash_bigint(neg, (const unsigned char *)PyBytes_AS_STRING(bytes),
                           (size_t)PyBytes_GET_SIZE(bytes), w->key);
    rc = 0;
done:
    Py_DECREF(zero);
    Py_XDECREF(mag);
    Py_XDECREF(nbits);
    Py_XDECREF(bytes);
    return rc;
}

static int hash_long(PyObject *o, walker *w, uint64_t *out) {
#if PY_VERSION_HEX >= 0x030C0000
    if (PyLong_CheckExact(o) && PyUnstable_Long_IsCompact((PyLongObject *)o)) {
        *out = hl_dhash_int((int64_t)PyUnstable_Long_CompactValue((PyLongObject *)o), w->key);
        return 0;
    }
#else
    if (PyLong_CheckExact(o)) {
        Py_ssize_t size = Py_SIZE(o);
        if (size >= -1 && size <= 1) {
            int64_t v = (int64_t)size * (int64_t)((PyLongObject *)o)->ob_digit[0];
            *out = hl_dhash_int(v, w->key);
            return 0;
        }
    }
#endif
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow == 0) {
        *out = hl_dhash_int((int64_t)v, w->key);
        return 0;
    }
    return hash_bigint(o, w, out);
}

static int hash_obj(PyObject *o, walker *w, uint64_t *out, Py_ssize_t index);

/* Called every SIGNAL_EVERY items of a walk that holds the GIL: lets other Python threads run
 * for a moment (a long walk must not starve them, nor a thread that would deliver an
 * interrupt) and runs the signal handlers. Returns -1 with an exception set to stop. */
static int walk_pause(void) {
    Py_BEGIN_ALLOW_THREADS;
    /* Give a thread woken by the release the moment it needs to take the GIL (a bare
     * release/re-take would usually win the race and starve it). */
    sched_yield();
    Py_END_ALLOW_THREADS;
    return PyErr_CheckSignals();
}

static int hash_tuple(PyObject *o, walker *w, uint64_t *out, Py_ssize_t index) {
    if (Py_EnterRecursiveCall(" while hashing a nested tuple") != 0) {
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(o);
    uint64_t h = hl_dhash_tuple_begin(w->key);
    int rc = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t e;
        if (hash_obj(PyTuple_GET_ITEM(o, i), w, &e, index) != 0) {
            rc = -1;
            break;
        }
        h = hl_dhash_tuple_step(h, e);
    }
    Py_LeaveRecursiveCall();
    *out = hl_dhash_tuple_end(h, (size_t)n);
    return rc;
}

static void unhashable(PyObject *o, Py_ssize_t index) {
    PyErr_Format(PyExc_TypeError, "items[%zd]: unhashable type: '%.100s'", index,
                 Py_TYPE(o)->tp_name);
}

/* The canonical hash of one item (see distinct.h); objects of other types use hash() and
 * mark the walk process-local. `index` names the item in errors. */
static int hash_obj(PyObject *o, walker *w, uint64_t *out, Py_ssize_t index) {
    PyTypeObject *t = Py_TYPE(o);
    if (t == &PyUnicode_Type) {
        return hash_str(o, w, out);
    }
    if (t == &PyLong_Type) {
        return hash_long(o, w, out);
    }
    if (t == &PyFloat_Type) {
        *out = hl_dhash_double(PyFloat_AS_DOUBLE(o), w->key);
        return 0;
    }
    if (t == &PyBool_Type) {
        *out = hl_dhash_int(o == Py_True, w->key);
        return 0;
    }
    if (o == Py_None) {
        *out = hl_dhash_none(w->key);
        return 0;
    }
    if (t == &PyBytes_Type) {
        *out = hl_dhash_bytestr(PyBytes_AS_STRING(o), (size_t)PyBytes_GET_SIZE(o), w->key);
        return 0;
    }
    if (t == &PyTuple_Type) {
        return hash_tuple(o, w, out, index);
    }
    /* Subclasses compare like their base type. */
    if (PyLong_Check(o)) {
        return hash_long(o, w, out);
    }
    if (PyFloat_Check(o)) {
        *out = hl_dhash_double(PyFloat_AS_DOUBLE(o), w->key);
        return 0;
    }
    if (PyUnicode_Check(o)) {
        return hash_str(o, w, out);
    }
    if (PyBytes_Check(o)) {
        *out = hl_dhash_bytestr(PyBytes_AS_STRING(o), (size_t)PyBytes_GET_SIZE(o), w->key);
        return 0;
    }
    if (PyTuple_Check(o)) {
        return hash_tuple(o, w, out, index);
    }
    /* Integer-like scalars (numpy.int64, ...) equal the int of their __index__. */
    if (PyIndex_Check(o) && t->tp_hash != PyObject_HashNotImplemented) {
        PyObject *i = PyNumber_Index(o);
        if (i != NULL) {
            int rc = hash_long(i, w, out);
            Py_DECREF(i);
            return rc;
        }
        PyErr_Clear();
    }
    Py_hash_t h = PyObject_Hash(o);
    if (h == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            unhashable(o, index);
        }
        return -1;
    }
    w->local = 1;
    *out = hl_dhash_object((int64_t)h, w->key);
    return 0;
}

/* Walks `items` (a list or tuple directly, any other iterable through its iterator) and calls
 * sink(ctx, hashes, n) for batches of canonical hashes, holding the GIL, checking for signals
 * every SIGNAL_EVERY items. Returns 0, -1 with an exception set, or the sink's non-zero
 * answer (which stops the walk). */
/* Items whose == runs no Python code (so it cannot change the list being walked). */
static inline bool plain_type(PyTypeObject *t) {
    return t == &PyUnicode_Type || t == &PyLong_Type || t == &PyFloat_Type || t == &PyBytes_Type ||
           t == &PyBool_Type || t == Py_TYPE(Py_None);
}

typedef int (*hash_sink)(void *ctx, const uint64_t *hashes, size_t n);

/* The walk's fast path: an exact str stored as compact ASCII of at most 16 characters (words,
 * identifiers, keys: the common item). hash_str would give it hl_dhash_utf8 of its bytes;
 * hl_dhash_short gives the same value inline, from the seed computed once per walk, with no
 * call and no type dispatch. */
static inline bool short_ascii(PyObject *o) {
    return Py_TYPE(o) == &PyUnicode_Type && PyUnicode_IS_COMPACT_ASCII(o) &&
           PyUnicode_GET_LENGTH(o) <= 16;
}

static inline uint64_t hash_short_ascii(PyObject *o, uint64_t str_seed) {
    return hl_dhash_short(PyUnicode_DATA(o), (size_t)PyUnicode_GET_LENGTH(o), str_seed,
                          HL_DTAG_STR);
}

static int walk_items(PyObject *items, walker *w, hash_sink sink, void *ctx) {
    uint64_t buf[HASH_BATCH];
    size_t nb = 0;
    Py_ssize_t index = 0;
    const uint64_t str_seed = hl_dhash_bytes_seed(w->key, HL_DTAG_STR);
    if (PyList_CheckExact(items) || PyTuple_CheckExact(items)) {
        /* The list may be changed by a __hash__ or __index__ of an item, by the sink or by
         * another thread while walk_pause releases the GIL: the size and item pointer are
         * re-read after each of those (a borrowed item stays alive while we hold it through
         * the list, which the caller keeps referenced). Between them, a stretch of items up
         * to the next batch flush or pause runs with no other check. */
        Py_ssize_t size = PySequence_Fast_GET_SIZE(items);
        while (index < size) {
            PyObject **arr = PySequence_Fast_ITEMS(items);
            Py_ssize_t end = index + (Py_ssize_t)(HASH_BATCH - nb);
            Py_ssize_t pause_at = (index / SIGNAL_EVERY + 1) * SIGNAL_EVERY;
            end = end < pause_at ? end : pause_at;
            end = end < size ? end : size;
            for (; index < end; index++) {
                if (index + 24 < size) {
                    __builtin_prefetch(arr[index + 24]);
                    __builtin_prefetch((const char *)arr[index + 24] + 64);
                }
                PyObject *o = arr[index];
                if (short_ascii(o)) {
                    buf[nb++] = hash_short_ascii(o, str_seed);
                    continue;
                }
                int rc;
                if (plain_type(Py_TYPE(o))) { /* no Python code runs: no reference needed */
                    rc = hash_obj(o, w, &buf[nb], index);
                } else {
                    Py_INCREF(o);
                    rc = hash_obj(o, w, &buf[nb], index);
                    Py_DECREF(o);
                    size = PySequence_Fast_GET_SIZE(items);
                    arr = PySequence_Fast_ITEMS(items);
                    end = end < size ? end : size;
                }
                if (rc != 0) {
                    return -1;
                }
                nb++;
            }
            if (nb == HASH_BATCH) {
                int r = sink(ctx, buf, nb);
                if (r != 0) {
                    return r;
                }
                nb = 0;
            }
            if (index == pause_at && walk_pause() != 0) {
                return -1;
            }
            size = PySequence_Fast_GET_SIZE(items);
        }
    } else {
        PyObject *it = PyObject_GetIter(items);
        if (it == NULL) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "items: expected an iterable, got %.100s",
                             Py_TYPE(items)->tp_name);
            }
            return -1;
        }
        PyObject *o;
        while ((o = PyIter_Next(it)) != NULL) {
            int rc = 0;
            if (short_ascii(o)) {
                buf[nb] = hash_short_ascii(o, str_seed);
            } else {
                rc = hash_obj(o, w, &buf[nb], index);
            }
            Py_DECREF(o);
            if (rc == 0 && ++nb == HASH_BATCH) {
                rc = sink(ctx, buf, nb);
                nb = 0;
            }
            if (rc != 0) {
                Py_DECREF(it);
                return rc;
            }
            if ((index & (SIGNAL_EVERY - 1)) == SIGNAL_EVERY - 1 && walk_pause() != 0) {
                Py_DECREF(it);
                return -1;
            }
            index++;
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) {
            return -1;
        }
    }
    return nb > 0 ? sink(ctx, buf, nb) : 0;
}

/* ---- array sources ------------------------------------------------------------------------ */

typedef struct sources {
    hl_dsource *src;
    size_t *data_len;
    Py_buffer *views; /* 3 per source: data, offsets, validity */
    bool *held;
    size_t n;
    size_t total;
} sources;

static void sources_release(sources *s) {
    for (size_t i = 0; i < 3 * s->n; i++) {
        if (s->held != NULL && s->held[i]) {
            PyBuffer_Release(&s->views[i]);
        }
    }
    PyMem_Free(s->src);
    PyMem_Free(s->data_len);
    PyMem_Free(s->views);
    PyMem_Free(s->held);
    memset(s, 0, sizeof *s);
}

static size_t kind_size(int kind) {
    static const size_t sizes[] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8};
    return kind >= 0 && kind <= HL_DK_F64 ? sizes[kind] : 0;
}

static int get_raw(PyObject *obj, Py_buffer *view, bool *held, const char *what, size_t i) {
    if (obj == Py_None) {
        return 0;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) != 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "sources[%zu]: %s: expected a contiguous buffer, got %.100s",
                     i, what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    *held = true;
    return 0;
}

/* Parses a list of (kind, data, offsets, validity, n, width, offset) tuples into checked
 * descriptors: buffer lengths are checked against what the kind needs. */
static int parse_sources(PyObject *list, sources *s) {
    memset(s, 0, sizeof *s);
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "sources: expected a list");
        return -1;
    }
    size_t n = (size_t)PyList_GET_SIZE(list);
    s->src = PyMem_Calloc(n ? n : 1, sizeof(hl_dsource));
    s->data_len = PyMem_Calloc(n ? n : 1, sizeof(size_t));
    s->views = PyMem_Calloc(3 * (n ? n : 1), sizeof(Py_buffer));
    s->held = PyMem_Calloc(3 * (n ? n : 1), sizeof(bool));
    if (s->src == NULL || s->views == NULL || s->held == NULL || s->data_len == NULL) {
        sources_release(s);
        PyErr_NoMemory();
        return -1;
    }
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        int kind;
        PyObject *data, *offsets, *validity;
        Py_ssize_t count, width, offset;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(list, (Py_ssize_t)i), "iOOOnnn;sources item", &kind,
                              &data, &offsets, &validity, &count, &width, &offset)) {
            goto fail;
        }
        if (kind < 0 || kind >= HL_DK_COUNT || count < 0 || width < 0 || offset < 0) {
            PyErr_Format(PyExc_ValueError, "sources[%zu]: bad kind, count, width or offset", i);
            goto fail;
        }
        Py_buffer *v = &s->views[3 * i];
        bool *held = &s->held[3 * i];
        if (get_raw(data, &v[0], &held[0], "data", i) != 0 ||
            get_raw(offsets, &v[1], &held[1], "offsets", i) != 0 ||
            get_raw(validity, &v[2], &held[2], "validity", i) != 0) {
            goto fail;
        }
        hl_dsource *d = &s->src[i];
        d->kind = (hl_dkind)kind;
        d->n = (size_t)count;
        d->width = (size_t)width;
        d->bit_offset = (size_t)offset;
        const size_t dlen = held[0] ? (size_t)v[0].len : 0;
        const char *dbuf = held[0] ? v[0].buf : NULL;
        size_t need_bits = (size_t)offset + (size_t)count;
        bool ok = true;
        if (kind <= HL_DK_F64) {
            size_t sz = kind_size(kind);
            ok = dlen / sz >= need_bits;
            d->data = dbuf ? dbuf + (size_t)offset * sz : NULL;
        } else if (kind == HL_DK_BITS) {
            ok = dlen >= (need_bits + 7) / 8;
            d->data = dbuf;
        } else if (kind == HL_DK_BYTES_FIX || kind == HL_DK_UCS4_FIX) {
            ok = width > 0 && dlen / (size_t)width >= need_bits;
            d->data = dbuf ? dbuf + (size_t)offset * (size_t)width : NULL;
        } else {
            size_t osz = (kind == HL_DK_UTF8_O32 || kind == HL_DK_BIN_O32) ? 4 : 8;
            size_t olen = held[1] ? (size_t)v[1].len : 0;
            ok = held[1] && olen / osz >= need_bits + 1;
            d->offsets = held[1] ? (const char *)v[1].buf + (size_t)offset * osz : NULL;
            d->data = dbuf;
            s->data_len[i] = dlen;
        }
        if (ok && held[2]) {
            ok = (size_t)v[2].len >= (need_bits + 7) / 8;
            d->validity = v[2].buf;
        }
        if (!ok || (count > 0 && d->data == NULL && kind < HL_DK_UTF8_O32)) {
            PyErr_Format(PyExc_ValueError,
                         "sources[%zu]: buffers too short for %zd items at offset %zd", i, count,
                         offset);
            goto fail;
        }
        s->total += (size_t)count;
    }
    return 0;
fail:
    sources_release(s);
    return -1;
}

/* Runs hl_dsource_check on every source (O(n) for offsets). */
static hl_status check_sources(const sources *s) {
    for (size_t i = 0; i < s->n; i++) {
        hl_status st = hl_dsource_check(&s->src[i], s->data_len[i]);
        if (st != HL_OK) {
            return st;
        }
    }
    return HL_OK;
}

/* ---- the Sketch type ---------------------------------------------------------------------- */

typedef struct SketchObject {
    PyObject_HEAD hl_hll *hll;
    int busy;  /* an update/merge is running (possibly with the GIL released) */
    int local; /* holds hashes of objects without a canonical encoding */
} SketchObject;

static int sketch_enter(SketchObject *self) {
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "Sketch is in use by another thread: a sketch is not thread-safe; give "
                        "each thread its own sketch and merge them");
        return -1;
    }
    self->busy = 1;
    return 0;
}

static void sketch_leave(SketchObject *self) {
    self->busy = 0;
}

static PyObject *sketch_wrap(PyTypeObject *type, hl_hll *hll, int local) {
    SketchObject *self = (SketchObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        hl_hll_free(hll);
        return NULL;
    }
    self->hll = hll;
    self->local = local;
    return (PyObject *)self;
}

static PyObject *sketch_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    int p;
    unsigned long long key;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "Sketch(precision, key): positional arguments only");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "iK", &p, &key)) {
        return NULL;
    }
    if (p < HL_HLL_MIN_P || p > HL_HLL_MAX_P) {
        PyErr_Format(PyExc_ValueError, "precision: expected %d..%d, got %d", HL_HLL_MIN_P,
                     HL_HLL_MAX_P, p);
        return NULL;
    }
    hl_hll *hll;
    hl_status st = hl_hll_create(p, key, &hll);
    if (st != HL_OK) {
        return hl_raise_status_type(type, st, "Sketch");
    }
    return sketch_wrap(type, hll, 0);
}

static int sketch_traverse(PyObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void sketch_dealloc(PyObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    hl_hll_free(((SketchObject *)self)->hll);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int sink_hll(void *ctx, const uint64_t *h, size_t n) {
    hl_hll_add(ctx, h, n);
    return 0;
}

PyDoc_STRVAR(sketch_update_doc, "update(items, /)\n--\n\n"
                                "Add the items of a list, tuple or any iterable (GIL held).");

static PyObject *sketch_update(PyObject *op, PyObject *items) {
    SketchObject *self = (SketchObject *)op;
    if (sketch_enter(self) != 0) {
        return NULL;
    }
    walker w = {.key = hl_hll_key(self->hll)};
    int rc = walk_items(items, &w, sink_hll, self->hll);
    walker_free(&w);
    /* Hashes added before an error stay (like set.update); a local one marks the sketch. */
    self->local |= w.local;
    sketch_leave(self);
    if (rc != 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

typedef struct upd_args {
    hl_hll *hll;
    const sources *s;
    unsigned threads;
} upd_args;

static hl_status upd_call(void *p, hl_monitor *mon) {
    upd_args *a = p;
    hl_status st = check_sources(a->s);
    for (size_t i = 0; i < a->s->n && st == HL_OK; i++) {
        st = hl_hll_add_source(a->hll, &a->s->src[i], a->threads, mon);
    }
    return st;
}

PyDoc_STRVAR(sketch_update_sources_doc,
             "update_sources(sources, threads, /)\n--\n\n"
             "Add the items of array sources (see hotloop.distinct) with the GIL released.");

static PyObject *sketch_update_sources(PyObject *op, PyObject *args) {
    SketchObject *self = (SketchObject *)op;
    PyObject *list, *threads_obj;
    if (!PyArg_ParseTuple(args, "OO", &list, &threads_obj)) {
        return NULL;
    }
    upd_args a = {.hll = self->hll};
    if (hl_parse_threads(threads_obj, &a.threads) != 0) {
        return NULL;
    }
    sources s;
    if (parse_sources(list, &s) != 0) {
        return NULL;
    }
    if (sketch_enter(self) != 0) {
        sources_release(&s);
        return NULL;
    }
    a.s = &s;
    hl_status st = hl_run_nogil(upd_call, &a, NULL);
    sketch_leave(self);
    sources_release(&s);
    if (st != HL_OK) {
        return hl_raise_status_type(Py_TYPE(op), st, "Sketch.update");
    }
    Py_RETURN_NONE;
}

typedef struct lines_args {
    int fd;
    hl_hll *hll;
    hl_lineset *exact;
    uint64_t bytes, lines;
} lines_args;

static hl_status lines_call(void *p, hl_monitor *mon) {
    lines_args *a = p;
    return hl_lines_read_fd(a->fd, a->hll, a->exact, &a->bytes, &a->lines, mon);
}

PyDoc_STRVAR(sketch_update_lines_doc,
             "update_lines(fd, /)\n--\n\n"
             "Add each line of the open file descriptor fd (read to its end in C, GIL released)\n"
             "as a str; return (bytes_read, lines).");

static PyObject *sketch_update_lines(PyObject *op, PyObject *arg) {
    SketchObject *self = (SketchObject *)op;
    int fd = PyObject_AsFileDescriptor(arg);
    if (fd < 0) {
        return NULL;
    }
    if (sketch_enter(self) != 0) {
        return NULL;
    }
    lines_args a = {.fd = fd, .hll = self->hll};
    hl_status st = hl_run_nogil(lines_call, &a, NULL);
    sketch_leave(self);
    if (st != HL_OK) {
        return hl_raise_status_type(Py_TYPE(op), st, "count lines");
    }
    return Py_BuildValue("KK", (unsigned long long)a.bytes, (unsigned long long)a.lines);
}

PyDoc_STRVAR(sketch_estimate_doc, "estimate()\n--\n\n"
                                  "Return (estimate, exact): exact is True in the sparse mode.");

static PyObject *sketch_estimate(PyObject *op, PyObject *unused) {
    (void)unused;
    SketchObject *self = (SketchObject *)op;
    if (sketch_enter(self) != 0) {
        return NULL;
    }
    bool exact;
    double e = hl_hll_estimate(self->hll, &exact);
    sketch_leave(self);
    return Py_BuildValue("dO", e, exact ? Py_True : Py_False);
}

static SketchObject *as_sketch(PyObject *self, PyObject *other, const char *what) {
    if (Py_TYPE(other) != Py_TYPE(self)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a Sketch, got %.100s", what,
                     Py_TYPE(other)->tp_name);
        return NULL;
    }
    return (SketchObject *)other;
}

static int check_compatible(SketchObject *a, SketchObject *b) {
    if (hl_hll_precision(a->hll) != hl_hll_precision(b->hll)) {
        PyErr_Format(PyExc_ValueError,
                     "cannot merge sketches of different precision (%d and %d registers bits): "
                     "they were made with different error parameters",
                     hl_hll_precision(a->hll), hl_hll_precision(b->hll));
        return -1;
    }
    if (hl_hll_key(a->hll) != hl_hll_key(b->hll)) {
        PyErr_SetString(PyExc_ValueError,
                        "cannot merge sketches made with different seeds (their hashes differ)");
        return -1;
    }
    return 0;
}

static int refuse_local(SketchObject *s, const char *what) {
    if (s->local) {
        PyErr_Format(PyExc_ValueError,
                     "cannot %s this sketch: it holds items without a stable hash (objects "
                     "other than str, bytes, int, float, bool, None and tuples of them were "
                     "hashed with Python's per-process hash()), so it is valid in this process "
                     "only",
                     what);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(sketch_merge_doc, "merge(other, /)\n--\n\n"
                               "Add the items of sketch other (same precision and key).");

static PyObject *sketch_merge(PyObject *op, PyObject *arg) {
    SketchObject *self = (SketchObject *)op;
    SketchObject *other = as_sketch(op, arg, "merge");
    if (other == NULL || check_compatible(self, other) != 0 || refuse_local(self, "merge") != 0 ||
        refuse_local(other, "merge") != 0) {
        return NULL;
    }
    if (sketch_enter(self) != 0) {
        return NULL;
    }
    if (other != self && sketch_enter(other) != 0) {
        sketch_leave(self);
        return NULL;
    }
    hl_status st = hl_hll_merge(self->hll, other->hll);
    if (other != self) {
        sketch_leave(other);
    }
    sketch_leave(self);
    if (st != HL_OK) {
        return hl_raise_status_type(Py_TYPE(op), st, "Sketch.merge");
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(sketch_copy_doc, "copy()\n--\n\nAn independent copy.");

static PyObject *sketch_copy(PyObject *op, PyObject *unused) {
    (void)unused;
    SketchObject *self = (SketchObject *)op;
    if (sketch_enter(self) != 0) {
        return NULL;
    }
    hl_hll *c;
    hl_status st = hl_hll_copy(self->hll, &c);
    sketch_leave(self);
    if (st != HL_OK) {
        return hl_raise_status_type(Py_TYPE(op), st, "Sketch.copy");
    }
    return sketch_wrap(Py_TYPE(op), c, self->local);
}

PyDoc_STRVAR(sketch_clear_doc, "clear()\n--\n\nRemove every item.");

static PyObject *sketch_clear(PyObject *op, PyObject *unused) {
    (void)unused;
    SketchObject *self = (SketchObject *)op;
    if (sketch_enter(self) != 0) {
        return NULL;
    }
    hl_hll_clear(self->hll);
    self->local = 0;
    sketch_leave(self);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(sketch_to_bytes_doc, "to_bytes()\n--\n\nThe versioned serialised form.");

static PyObject *sketch_to_bytes(PyObject *op, PyObject *unused) {
    (void)unused;
    SketchObject *self = (SketchObject *)op;
    if (refuse_local(self, "serialise") != 0 || sketch_enter(self) != 0) {
        return NULL;
    }
    size_t n = hl_hll_serialized_size(self->hll);
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    hl_status st = HL_OK;
    if (b != NULL) {
        st = hl_hll_serialize(self->hll, (unsigned char *)PyBytes_AS_STRING(b), n);
    }
    sketch_leave(self);
    if (b == NULL) {
        return NULL;
    }
    if (st != HL_OK) {
        Py_DECREF(b);
        return hl_raise_status_type(Py_TYPE(op), st, "Sketch.to_bytes");
    }
    return b;
}

PyDoc_STRVAR(sketch_from_bytes_doc,
             "from_bytes(data, /)\n--\n\n"
             "A sketch from to_bytes() output; ValueError for corrupt or foreign bytes.");

static PyObject *sketch_from_bytes(PyObject *cls, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "data: expected bytes, got %.100s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    hl_hll *hll;
    hl_status st = hl_hll_deserialize(view.buf, (size_t)view.len, &hll);
    PyBuffer_Release(&view);
    if (st == HL_EFORMAT) {
        PyErr_SetString(PyExc_ValueError,
                        "data: not a hotloop sketch (corrupt, truncated, or of an unknown format "
                        "version)");
        return NULL;
    }
    if (st != HL_OK) {
        return hl_raise_status_type((PyTypeObject *)cls, st, "Sketch.from_bytes");
    }
    return sketch_wrap((PyTypeObject *)cls, hll, 0);
}

PyDoc_STRVAR(sketch_equals_doc, "equals(other, /)\n--\n\nTrue when both hold the same state.");

static PyObject *sketch_equals(PyObject *op, PyObject *arg) {
    SketchObject *self = (SketchObject *)op;
    SketchObject *other = as_sketch(op, arg, "equals");
    if (other == NULL) {
        return NULL;
    }
    if (self->busy || other->busy) {
        PyErr_SetString(PyExc_RuntimeError, "Sketch is in use by another thread");
        return NULL;
    }
    return PyBool_FromLong(self->local == other->local && hl_hll_equal(self->hll, other->hll));
}

static PyObject *get_precision(PyObject *op, void *c) {
    (void)c;
    return PyLong_FromLong(hl_hll_precision(((SketchObject *)op)->hll));
}

static PyObject *get_key(PyObject *op, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(hl_hll_key(((SketchObject *)op)->hll));
}

static PyObject *get_sparse(PyObject *op, void *c) {
    (void)c;
    return PyBool_FromLong(hl_hll_is_sparse(((SketchObject *)op)->hll));
}

static PyObject *get_local(PyObject *op, void *c) {
    (void)c;
    return PyBool_FromLong(((SketchObject *)op)->local);
}

static PyObject *get_nbytes(PyObject *op, void *c) {
    (void)c;
    return PyLong_FromSize_t(hl_hll_memory_bytes(((SketchObject *)op)->hll));
}

static PyObject *get_rse(PyObject *op, void *c) {
    (void)c;
    return PyFloat_FromDouble(hl_hll_rse(hl_hll_precision(((SketchObject *)op)->hll)));
}

static PyObject *get_sparse_limit(PyObject *op, void *c) {
    (void)c;
    return PyLong_FromSize_t(hl_hll_sparse_limit(hl_hll_precision(((SketchObject *)op)->hll)));
}

static PyGetSetDef sketch_getset[] = {
    {"precision", get_precision, NULL, "log2 of the number of registers", NULL},
    {"key", get_key, NULL, "the hash key (the seed)", NULL},
    {"is_sparse", get_sparse, NULL, "True while the sketch is exact (sparse)", NULL},
    {"process_local", get_local, NULL, "True when items were hashed with hash()", NULL},
    {"nbytes", get_nbytes, NULL, "memory the sketch owns (fixed by the precision)", NULL},
    {"rse", get_rse, NULL, "relative standard error of a dense estimate", NULL},
    {"sparse_limit", get_sparse_limit, NULL, "distinct items kept exactly", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef sketch_methods[] = {
    {"update", sketch_update, METH_O, sketch_update_doc},
    {"update_sources", sketch_update_sources, METH_VARARGS, sketch_update_sources_doc},
    {"update_lines", sketch_update_lines, METH_O, sketch_update_lines_doc},
    {"estimate", sketch_estimate, METH_NOARGS, sketch_estimate_doc},
    {"merge", sketch_merge, METH_O, sketch_merge_doc},
    {"copy", sketch_copy, METH_NOARGS, sketch_copy_doc},
    {"clear", sketch_clear, METH_NOARGS, sketch_clear_doc},
    {"to_bytes", sketch_to_bytes, METH_NOARGS, sketch_to_bytes_doc},
    {"from_bytes", sketch_from_bytes, METH_O | METH_CLASS, sketch_from_bytes_doc},
    {"equals", sketch_equals, METH_O, sketch_equals_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(sketch_doc, "Sketch(precision, key)\n--\n\n"
                         "HyperLogLog sketch with an exact sparse mode (low-level; use\n"
                         "hotloop.distinct.Sketch).");

static PyType_Slot sketch_slots[] = {
    {Py_tp_new, sketch_new},
    {Py_tp_dealloc, sketch_dealloc},
    {Py_tp_traverse, sketch_traverse},
    {Py_tp_methods, sketch_methods},
    {Py_tp_getset, sketch_getset},
    /* The slot table stores void *; the doc string stays read-only (CPython copies it). */
    {Py_tp_doc, (void *)(uintptr_t)sketch_doc},
    {0, NULL},
};

static PyType_Spec sketch_spec = {
    .name = "hotloop._core.Sketch",
    .basicsize = sizeof(SketchObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = sketch_slots,
};

/* ---- CVM ----------------------------------------------------------------------------------- */

PyDoc_STRVAR(cvm_threshold_doc,
             "cvm_threshold(epsilon, delta, m, /)\n--\n\n"
             "The paper's buffer size ceil(12 / epsilon^2 * log2(8 m / delta)).");

static PyObject *cvm_threshold(PyObject *module, PyObject *args) {
    (void)module;
    double eps, delta, m;
    if (!PyArg_ParseTuple(args, "ddd", &eps, &delta, &m)) {
        return NULL;
    }
    size_t t = hl_cvm_threshold(eps, delta, m);
    if (t == 0) {
        PyErr_SetString(PyExc_ValueError, "epsilon and delta must be in (0, 1), m >= 0");
        return NULL;
    }
    return PyLong_FromSize_t(t);
}

static int sink_cvm(void *ctx, const uint64_t *h, size_t n) {
    hl_status st = hl_cvm_add(ctx, h, n);
    return st == HL_OK ? 0 : (int)st;
}

static PyObject *cvm_failed(PyObject *module, size_t thresh) {
    hl_module_state *state = hl_get_state(module);
    PyErr_Format(state->error,
                 "count_approx(method='paper'): the algorithm's failure event happened (the "
                 "buffer of %zu items was still full after halving; probability <= delta); "
                 "no estimate. Retry with another seed, a smaller delta, or method='knuth'",
                 thresh);
    return NULL;
}

static int make_cvm(PyObject *module, int method, Py_ssize_t thresh, unsigned long long seed,
                    hl_cvm **out) {
    if (method != HL_CVM_PAPER && method != HL_CVM_KNUTH) {
        PyErr_SetString(PyExc_ValueError, "method: expected 0 (paper) or 1 (knuth)");
        return -1;
    }
    if (thresh < 1) {
        PyErr_SetString(PyExc_ValueError, "thresh: expected >= 1");
        return -1;
    }
    hl_status st = hl_cvm_create((hl_cvm_method)method, (size_t)thresh, seed, out);
    if (st != HL_OK) {
        hl_raise_status(module, st, "count_approx");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(cvm_count_doc, "cvm_count(items, method, thresh, seed, /)\n--\n\n"
                            "CVM estimate over a list, tuple or iterable (GIL held).");

static PyObject *cvm_count(PyObject *module, PyObject *args) {
    PyObject *items;
    int method;
    Py_ssize_t thresh;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OinK", &items, &method, &thresh, &seed)) {
        return NULL;
    }
    hl_cvm *c;
    if (make_cvm(module, method, thresh, seed, &c) != 0) {
        return NULL;
    }
    walker w = {.key = 0};
    int rc = walk_items(items, &w, sink_cvm, c);
    walker_free(&w);
    PyObject *res = NULL;
    if (rc == (int)HL_ENUMERIC) {
        res = cvm_failed(module, (size_t)thresh);
    } else if (rc == 0) {
        res = PyLong_FromUnsignedLongLong(hl_cvm_estimate(c));
    }
    hl_cvm_free(c);
    return res;
}

typedef struct cvm_args {
    hl_cvm *c;
    const sources *s;
} cvm_args;

static hl_status cvm_call(void *p, hl_monitor *mon) {
    cvm_args *a = p;
    hl_status st = check_sources(a->s);
    for (size_t i = 0; i < a->s->n && st == HL_OK; i++) {
        st = hl_cvm_add_source(a->c, &a->s->src[i], 0, mon);
    }
    return st;
}

PyDoc_STRVAR(cvm_count_sources_doc, "cvm_count_sources(sources, method, thresh, seed, /)\n--\n\n"
                                    "CVM estimate over array sources (GIL released).");

static PyObject *cvm_count_sources(PyObject *module, PyObject *args) {
    PyObject *list;
    int method;
    Py_ssize_t thresh;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OinK", &list, &method, &thresh, &seed)) {
        return NULL;
    }
    sources s;
    if (parse_sources(list, &s) != 0) {
        return NULL;
    }
    hl_cvm *c;
    if (make_cvm(module, method, thresh, seed, &c) != 0) {
        sources_release(&s);
        return NULL;
    }
    cvm_args a = {c, &s};
    hl_status st = hl_run_nogil(cvm_call, &a, NULL);
    sources_release(&s);
    PyObject *res;
    if (st == HL_ENUMERIC) {
        res = cvm_failed(module, (size_t)thresh);
    } else if (st != HL_OK) {
        res = hl_raise_status(module, st, "count_approx");
    } else {
        res = PyLong_FromUnsignedLongLong(hl_cvm_estimate(c));
    }
    hl_cvm_free(c);
    return res;
}

/* ---- exact -------------------------------------------------------------------------------- */

/* ids are the item pointers: stored items are kept alive by the set's own references. */
static int py_eq(void *p, uint64_t a, uint64_t b) {
    (void)p;
    PyObject *x = (PyObject *)(uintptr_t)a, *y = (PyObject *)(uintptr_t)b;
    if (x == y) {
        return 1;
    }
    return PyObject_RichCompareBool(x, y, Py_EQ);
}

PyDoc_STRVAR(exact_count_doc,
             "exact_count(items, /)\n--\n\n"
             "Number of distinct items with Python's set semantics (hash() narrows, == decides).");

static PyObject *exact_count(PyObject *module, PyObject *items) {
    PyObject *seq = PySequence_Fast(items, "items: expected an iterable");
    if (seq == NULL) {
        return NULL;
    }
    hl_exset *set;
    hl_status st = hl_exset_create(&set);
    if (st != HL_OK) {
        Py_DECREF(seq);
        return hl_raise_status(module, st, "count_exact");
    }
    /* The set holds a reference to each distinct item it stores (kept[]), so ids (object
     * pointers) stay valid even if an item's __eq__ or __hash__ changes the list; the list is
     * re-read at each step for the same reason. */
    PyObject **kept = NULL;
    size_t n_kept = 0, cap_kept = 0;
    PyObject *res = NULL;
    /* Batches of EXACT_BATCH items: hash them all (prefetching the objects ahead), prefetch
     * their table slots, then insert: the memory latency of both overlaps. While only plain
     * items were seen no Python code can run, so batch items need no reference. */
    bool guard = false;
    enum { EXACT_BATCH = 64 };
    PyObject *objs[EXACT_BATCH];
    uint64_t hs[EXACT_BATCH];
    bool held[EXACT_BATCH];
    Py_ssize_t i = 0;
    while (i < PySequence_Fast_GET_SIZE(seq)) {
        Py_ssize_t nb = 0;
        int failed = 0;
        for (; nb < EXACT_BATCH && i + nb < PySequence_Fast_GET_SIZE(seq); nb++) {
            PyObject **arr = PySequence_Fast_ITEMS(seq);
            if (i + nb + 16 < PySequence_Fast_GET_SIZE(seq)) {
                __builtin_prefetch(arr[i + nb + 16]);
            }
            PyObject *o = arr[i + nb];
            if (!guard && !plain_type(Py_TYPE(o))) {
                /* From the first item whose hash or == may run Python code (which could
                 * change the list and free items), every batch item is held. */
                guard = true;
                for (Py_ssize_t k = 0; k < nb; k++) {
                    Py_INCREF(objs[k]);
                    held[k] = true;
                }
            }
            held[nb] = guard;
            if (guard) {
                Py_INCREF(o);
            }
            objs[nb] = o;
            Py_hash_t h = PyObject_Hash(o);
            if (h == -1 && PyErr_Occurred()) {
                if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                    PyErr_Clear();
                    unhashable(o, i + nb);
                }
                nb++;
                failed = 1;
                break;
            }
            hs[nb] = (uint64_t)h;
        }
        for (Py_ssize_t j = 0; j < nb - failed; j++) {
            hl_exset_prefetch(set, hs[j]);
        }
        for (Py_ssize_t j = 0; j < nb - failed && !failed; j++) {
            bool added = false;
            st = hl_exset_add_one(set, hs[j], (uint64_t)(uintptr_t)objs[j], py_eq, NULL, &added);
            if (st != HL_OK) {
                if (!PyErr_Occurred()) {
                    hl_raise_status(module, st, "count_exact");
                }
                failed = 1;
                break;
            }
            if (added) {
                if (n_kept == cap_kept) {
                    size_t nc = cap_kept ? 2 * cap_kept : 1024;
                    PyObject **nk = PyMem_Realloc(kept, nc * sizeof(PyObject *));
                    if (nk == NULL) {
                        /* The table now holds an id we cannot keep alive: stop here (the set
                         * is freed below, before anything reads it). */
                        PyErr_NoMemory();
                        failed = 1;
                        break;
                    }
                    kept = nk;
                    cap_kept = nc;
                }
                Py_INCREF(objs[j]);
                kept[n_kept++] = objs[j];
            }
        }
        for (Py_ssize_t j = 0; j < nb; j++) {
            if (held[j]) {
                Py_DECREF(objs[j]);
            }
        }
        if (failed) {
            goto done;
        }
        Py_ssize_t before = i;
        i += nb;
        if ((before / SIGNAL_EVERY) != (i / SIGNAL_EVERY) && walk_pause() != 0) {
            goto done;
        }
    }
    res = PyLong_FromUnsignedLongLong(hl_exset_count(set));
done:
    hl_exset_free(set);
    for (size_t k = 0; k < n_kept; k++) {
        Py_DECREF(kept[k]);
    }
    PyMem_Free(kept);
    Py_DECREF(seq);
    return res;
}

typedef struct ex_args {
    hl_exset *set;
    const sources *s;
} ex_args;

static hl_status ex_call(void *p, hl_monitor *mon) {
    ex_args *a = p;
    hl_status st = check_sources(a->s);
    if (st == HL_OK) {
        st = hl_exset_add_sources(a->set, a->s->src, a->s->n, mon);
    }
    return st;
}

PyDoc_STRVAR(exact_count_sources_doc, "exact_count_sources(sources, /)\n--\n\n"
                                      "Exact distinct count of array sources (GIL released).");

static PyObject *exact_count_sources(PyObject *module, PyObject *list) {
    sources s;
    if (parse_sources(list, &s) != 0) {
        return NULL;
    }
    hl_exset *set;
    hl_status st = hl_exset_create(&set);
    if (st == HL_OK) {
        ex_args a = {set, &s};
        st = hl_run_nogil(ex_call, &a, NULL);
    }
    sources_release(&s);
    PyObject *res = st == HL_OK ? PyLong_FromUnsignedLongLong(hl_exset_count(set))
                                : hl_raise_status(module, st, "count_exact");
    hl_exset_free(set);
    return res;
}

PyDoc_STRVAR(exact_count_lines_doc,
             "exact_count_lines(fds, /)\n--\n\n"
             "Exact number of distinct lines over the open file descriptors fds (read in C);\n"
             "return (count, bytes_read, lines).");

static PyObject *exact_count_lines(PyObject *module, PyObject *fds) {
    PyObject *seq = PySequence_Fast(fds, "fds: expected a list of file descriptors");
    if (seq == NULL) {
        return NULL;
    }
    hl_lineset *ls;
    hl_status st = hl_lineset_create(&ls);
    uint64_t bytes = 0, lines = 0;
    for (Py_ssize_t i = 0; st == HL_OK && i < PySequence_Fast_GET_SIZE(seq); i++) {
        int fd = PyObject_AsFileDescriptor(PySequence_Fast_GET_ITEM(seq, i));
        if (fd < 0) {
            hl_lineset_free(ls);
            Py_DECREF(seq);
            return NULL;
        }
        lines_args a = {.fd = fd, .exact = ls};
        st = hl_run_nogil(lines_call, &a, NULL);
        bytes += a.bytes;
        lines += a.lines;
    }
    Py_DECREF(seq);
    PyObject *res = st == HL_OK
                        ? Py_BuildValue("KKK", (unsigned long long)hl_lineset_count(ls),
                                        (unsigned long long)bytes, (unsigned long long)lines)
                        : hl_raise_status(module, st, "count lines");
    hl_lineset_free(ls);
    return res;
}

/* ---- test helpers ------------------------------------------------------------------------- */

typedef struct list_sink_ctx {
    PyObject *out;
} list_sink_ctx;

static int sink_list(void *p, const uint64_t *h, size_t n) {
    list_sink_ctx *c = p;
    for (size_t i = 0; i < n; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(h[i]);
        if (v == NULL || PyList_Append(c->out, v) != 0) {
            Py_XDECREF(v);
            return -1;
        }
        Py_DECREF(v);
    }
    return 0;
}

PyDoc_STRVAR(hash_items_doc, "_hash_items(items, key, /)\n--\n\n"
                             "Test only: (canonical hashes of items, process_local).");

static PyObject *hash_items(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *items;
    unsigned long long key;
    if (!PyArg_ParseTuple(args, "OK", &items, &key)) {
        return NULL;
    }
    list_sink_ctx c = {PyList_New(0)};
    if (c.out == NULL) {
        return NULL;
    }
    walker w = {.key = key};
    int rc = walk_items(items, &w, sink_list, &c);
    walker_free(&w);
    if (rc != 0) {
        Py_DECREF(c.out);
        return NULL;
    }
    PyObject *res = Py_BuildValue("(OO)", c.out, w.local ? Py_True : Py_False);
    Py_DECREF(c.out);
    return res;
}

PyDoc_STRVAR(hash_sources_doc, "_hash_sources(sources, key, /)\n--\n\n"
                               "Test only: canonical hashes of the items of array sources.");

static PyObject *hash_sources(PyObject *module, PyObject *args) {
    PyObject *list;
    unsigned long long key;
    if (!PyArg_ParseTuple(args, "OK", &list, &key)) {
        return NULL;
    }
    sources s;
    if (parse_sources(list, &s) != 0) {
        return NULL;
    }
    hl_status st = check_sources(&s);
    PyObject *out = NULL;
    uint64_t *buf = PyMem_Malloc((s.total ? s.total : 1) * sizeof(uint64_t));
    if (buf == NULL) {
        sources_release(&s);
        return PyErr_NoMemory();
    }
    size_t at = 0;
    for (size_t i = 0; i < s.n && st == HL_OK; i++) {
        st = hl_dsource_hash(&s.src[i], 0, s.src[i].n, key, buf + at);
        at += s.src[i].n;
    }
    if (st != HL_OK) {
        hl_raise_status(module, st, "_hash_sources");
    } else {
        out = PyList_New((Py_ssize_t)s.total);
        for (size_t i = 0; out != NULL && i < s.total; i++) {
            PyObject *v = PyLong_FromUnsignedLongLong(buf[i]);
            if (v == NULL) {
                Py_CLEAR(out);
                break;
            }
            PyList_SET_ITEM(out, (Py_ssize_t)i, v);
        }
    }
    PyMem_Free(buf);
    sources_release(&s);
    return out;
}

static PyMethodDef distinct_methods[] = {
    {"cvm_threshold", cvm_threshold, METH_VARARGS, cvm_threshold_doc},
    {"cvm_count", cvm_count, METH_VARARGS, cvm_count_doc},
    {"cvm_count_sources", cvm_count_sources, METH_VARARGS, cvm_count_sources_doc},
    {"exact_count", exact_count, METH_O, exact_count_doc},
    {"exact_count_sources", exact_count_sources, METH_O, exact_count_sources_doc},
    {"exact_count_lines", exact_count_lines, METH_O, exact_count_lines_doc},
    {"_hash_items", hash_items, METH_VARARGS, hash_items_doc},
    {"_hash_sources", hash_sources, METH_VARARGS, hash_sources_doc},
    {NULL, NULL, 0, NULL},
};

int hl_exec_distinct(PyObject *module) {
    if (PyModule_AddFunctions(module, distinct_methods) != 0) {
        return -1;
    }
    hl_module_state *state = hl_get_state(module);
    state->sketch_type = PyType_FromModuleAndSpec(module, &sketch_spec, NULL);
    if (state->sketch_type == NULL) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "Sketch", state->sketch_type) != 0) {
        return -1;
    }
    static const struct {
        const char *name;
        int value;
    } kinds[] = {
        {"DK_I8", HL_DK_I8},
        {"DK_I16", HL_DK_I16},
        {"DK_I32", HL_DK_I32},
        {"DK_I64", HL_DK_I64},
        {"DK_U8", HL_DK_U8},
        {"DK_U16", HL_DK_U16},
        {"DK_U32", HL_DK_U32},
        {"DK_U64", HL_DK_U64},
        {"DK_F32", HL_DK_F32},
        {"DK_F64", HL_DK_F64},
        {"DK_BITS", HL_DK_BITS},
        {"DK_BYTES_FIX", HL_DK_BYTES_FIX},
        {"DK_UCS4_FIX", HL_DK_UCS4_FIX},
        {"DK_UTF8_O32", HL_DK_UTF8_O32},
        {"DK_UTF8_O64", HL_DK_UTF8_O64},
        {"DK_BIN_O32", HL_DK_BIN_O32},
        {"DK_BIN_O64", HL_DK_BIN_O64},
        {"HLL_MIN_P", HL_HLL_MIN_P},
        {"HLL_MAX_P", HL_HLL_MAX_P},
        {"HLL_FORMAT_VERSION", HL_HLL_FORMAT_VERSION},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (PyModule_AddIntConstant(module, kinds[i].name, kinds[i].value) != 0) {
            return -1;
        }
    }
    return 0;
}
