/* egsu_core.pki.gost._gosthash: GOST R 34.11-94 and Streebog for CPython (plain C API).
 *
 * Why compiled: the pure-Python hashes run at about 1 MB/s, so a Body near the 15 MB packet
 * limit (INT-07) took 20-45 s to hash against 10 s average / 30 s maximum per request (INT-08).
 * The pure modules stay the reference; egsu_core.pki.gost.gost3411_94 and .streebog pick this one
 * when it imports.
 *
 * Large updates run without the GIL. Each object then gets a lock so that two threads feeding
 * the same object cannot interleave inside the state; small updates keep the GIL and skip it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include "gost94.h"
#include "streebog.h"

/* Below this many bytes, releasing the GIL costs more than it frees. */
#define UNLOCKED_UPDATE_MIN 2048

/* ------------------------------------------------------------------ per-object locking */

typedef struct {
    PyThread_type_lock lock; /* created on the first large update */
} object_lock;

static void lock_enter(object_lock *l)
{
    if (l->lock && !PyThread_acquire_lock(l->lock, 0)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(l->lock, 1);
        Py_END_ALLOW_THREADS
    }
}

static void lock_leave(object_lock *l)
{
    if (l->lock) {
        PyThread_release_lock(l->lock);
    }
}

static void lock_free(object_lock *l)
{
    if (l->lock) {
        PyThread_free_lock(l->lock);
        l->lock = NULL;
    }
}

/* Makes sure the lock exists before a GIL-free update. -1 with MemoryError set on failure. */
static int lock_ensure(object_lock *l)
{
    if (!l->lock) {
        l->lock = PyThread_allocate_lock();
        if (!l->lock) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

static PyObject *hex_of(const uint8_t *digest, Py_ssize_t size)
{
    static const char digits[] = "0123456789abcdef";
    char text[128];
    for (Py_ssize_t i = 0; i < size; i++) {
        text[2 * i] = digits[digest[i] >> 4];
        text[2 * i + 1] = digits[digest[i] & 0xf];
    }
    return PyUnicode_FromStringAndSize(text, 2 * size);
}

/* ------------------------------------------------------------------ GOST R 34.11-94 */

/* The round tables of one S-box, shared by an object and its copies. */
typedef struct {
    Py_ssize_t refs;
    gost94_sbox tables;
} shared_sbox;

typedef struct {
    PyObject_HEAD
    object_lock lock;
    shared_sbox *sbox;
    gost94_state state;
} GOST94Object;

static int gost94_feed_object(GOST94Object *self, PyObject *data)
{
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    if (view.len >= UNLOCKED_UPDATE_MIN) {
        if (lock_ensure(&self->lock) < 0) {
            PyBuffer_Release(&view);
            return -1;
        }
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock.lock, 1);
        gost94_update(&self->state, view.buf, (size_t)view.len);
        PyThread_release_lock(self->lock.lock);
        Py_END_ALLOW_THREADS
    } else {
        lock_enter(&self->lock);
        gost94_update(&self->state, view.buf, (size_t)view.len);
        lock_leave(&self->lock);
    }
    PyBuffer_Release(&view);
    return 0;
}

static PyObject *GOST94_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"sbox", "data", NULL};
    Py_buffer rows;
    PyObject *data = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|O:GOST94", keywords, &rows, &data)) {
        return NULL;
    }
    if (rows.len != 128) {
        PyBuffer_Release(&rows);
        PyErr_SetString(PyExc_ValueError, "the S-box is 8 rows of 16 nibbles (128 bytes)");
        return NULL;
    }
    shared_sbox *sbox = PyMem_Malloc(sizeof *sbox);
    if (!sbox) {
        PyBuffer_Release(&rows);
        return PyErr_NoMemory();
    }
    sbox->refs = 1;
    int bad = gost94_sbox_init(&sbox->tables, rows.buf);
    PyBuffer_Release(&rows);
    if (bad) {
        PyMem_Free(sbox);
        PyErr_SetString(PyExc_ValueError, "every S-box entry must be a nibble (0..15)");
        return NULL;
    }
    GOST94Object *self = (GOST94Object *)type->tp_alloc(type, 0);
    if (!self) {
        PyMem_Free(sbox);
        return NULL;
    }
    self->sbox = sbox;
    gost94_init(&self->state, &sbox->tables);
    if (data && gost94_feed_object(self, data) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void GOST94_dealloc(GOST94Object *self)
{
    lock_free(&self->lock);
    if (--self->sbox->refs == 0) {
        PyMem_Free(self->sbox);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *GOST94_update(GOST94Object *self, PyObject *data)
{
    if (gost94_feed_object(self, data) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static void gost94_final(GOST94Object *self, uint8_t out[32])
{
    lock_enter(&self->lock);
    gost94_digest(&self->state, out);
    lock_leave(&self->lock);
}

static PyObject *GOST94_digest(GOST94Object *self, PyObject *Py_UNUSED(ignored))
{
    uint8_t out[32];
    gost94_final(self, out);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

static PyObject *GOST94_hexdigest(GOST94Object *self, PyObject *Py_UNUSED(ignored))
{
    uint8_t out[32];
    gost94_final(self, out);
    return hex_of(out, 32);
}

static PyObject *GOST94_copy(GOST94Object *self, PyObject *Py_UNUSED(ignored))
{
    GOST94Object *clone = PyObject_New(GOST94Object, Py_TYPE(self));
    if (!clone) {
        return NULL;
    }
    clone->lock.lock = NULL;
    clone->sbox = self->sbox;
    self->sbox->refs++;
    lock_enter(&self->lock);
    clone->state = self->state;
    lock_leave(&self->lock);
    return (PyObject *)clone;
}

static PyMethodDef GOST94_methods[] = {
    {"update", (PyCFunction)GOST94_update, METH_O, "Feed bytes (any contiguous buffer)."},
    {"digest", (PyCFunction)GOST94_digest, METH_NOARGS, "The 32-byte digest; the object stays usable."},
    {"hexdigest", (PyCFunction)GOST94_hexdigest, METH_NOARGS, "digest() as lowercase hex."},
    {"copy", (PyCFunction)GOST94_copy, METH_NOARGS, "An independent copy of the state."},
    {NULL, NULL, 0, NULL},
};

static PyObject *GOST94_get_digest_size(PyObject *Py_UNUSED(self), void *Py_UNUSED(closure))
{
    return PyLong_FromLong(32);
}

static PyGetSetDef GOST94_getset[] = {
    {"digest_size", GOST94_get_digest_size, NULL, "Digest size in bytes.", NULL},
    {"block_size", GOST94_get_digest_size, NULL, "Block size in bytes.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject GOST94Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "egsu_core.pki.gost._gosthash.GOST94",
    .tp_doc = "GOST94(sbox, data=b'') -- incremental GOST R 34.11-94 for a 128-nibble S-box.",
    .tp_basicsize = sizeof(GOST94Object),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = GOST94_new,
    .tp_dealloc = (destructor)GOST94_dealloc,
    .tp_methods = GOST94_methods,
    .tp_getset = GOST94_getset,
};

/* ------------------------------------------------------------------ Streebog */

typedef struct {
    PyObject_HEAD
    object_lock lock;
    streebog_state state;
} StreebogObject;

static PyTypeObject StreebogType;

static int streebog_feed_object(StreebogObject *self, PyObject *data)
{
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    if (view.len >= UNLOCKED_UPDATE_MIN) {
        if (lock_ensure(&self->lock) < 0) {
            PyBuffer_Release(&view);
            return -1;
        }
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(self->lock.lock, 1);
        streebog_update(&self->state, view.buf, (size_t)view.len);
        PyThread_release_lock(self->lock.lock);
        Py_END_ALLOW_THREADS
    } else {
        lock_enter(&self->lock);
        streebog_update(&self->state, view.buf, (size_t)view.len);
        lock_leave(&self->lock);
    }
    PyBuffer_Release(&view);
    return 0;
}

static PyObject *Streebog_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"digest_bits", "data", NULL};
    int digest_bits;
    PyObject *data = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "i|O:Streebog", keywords, &digest_bits, &data)) {
        return NULL;
    }
    if (digest_bits != 256 && digest_bits != 512) {
        PyErr_SetString(PyExc_ValueError, "Streebog digests are 256 or 512 bits");
        return NULL;
    }
    StreebogObject *self = (StreebogObject *)type->tp_alloc(type, 0);
    if (!self) {
        return NULL;
    }
    self->lock.lock = NULL;
    streebog_init(&self->state, digest_bits);
    if (data && streebog_feed_object(self, data) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void Streebog_dealloc(StreebogObject *self)
{
    lock_free(&self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Streebog_update(StreebogObject *self, PyObject *data)
{
    if (streebog_feed_object(self, data) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static Py_ssize_t streebog_final(StreebogObject *self, uint8_t out[64])
{
    lock_enter(&self->lock);
    streebog_digest(&self->state, out);
    lock_leave(&self->lock);
    return self->state.digest_bits / 8;
}

static PyObject *Streebog_digest(StreebogObject *self, PyObject *Py_UNUSED(ignored))
{
    uint8_t out[64];
    Py_ssize_t size = streebog_final(self, out);
    return PyBytes_FromStringAndSize((const char *)out, size);
}

static PyObject *Streebog_hexdigest(StreebogObject *self, PyObject *Py_UNUSED(ignored))
{
    uint8_t out[64];
    Py_ssize_t size = streebog_final(self, out);
    return hex_of(out, size);
}

static PyObject *Streebog_copy(StreebogObject *self, PyObject *Py_UNUSED(ignored))
{
    StreebogObject *clone = PyObject_New(StreebogObject, Py_TYPE(self));
    if (!clone) {
        return NULL;
    }
    clone->lock.lock = NULL;
    lock_enter(&self->lock);
    clone->state = self->state;
    lock_leave(&self->lock);
    return (PyObject *)clone;
}

static PyMethodDef Streebog_methods[] = {
    {"update", (PyCFunction)Streebog_update, METH_O, "Feed bytes (any contiguous buffer)."},
    {"digest", (PyCFunction)Streebog_digest, METH_NOARGS, "The digest; the object stays usable."},
    {"hexdigest", (PyCFunction)Streebog_hexdigest, METH_NOARGS, "digest() as lowercase hex."},
    {"copy", (PyCFunction)Streebog_copy, METH_NOARGS, "An independent copy of the state."},
    {NULL, NULL, 0, NULL},
};

static PyObject *Streebog_get_digest_size(StreebogObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(self->state.digest_bits / 8);
}

static PyObject *Streebog_get_block_size(StreebogObject *Py_UNUSED(self), void *Py_UNUSED(closure))
{
    return PyLong_FromLong(64);
}

static PyObject *Streebog_get_name(StreebogObject *self, void *Py_UNUSED(closure))
{
    return PyUnicode_FromFormat("streebog%d", self->state.digest_bits);
}

static PyGetSetDef Streebog_getset[] = {
    {"digest_size", (getter)Streebog_get_digest_size, NULL, "Digest size in bytes.", NULL},
    {"block_size", (getter)Streebog_get_block_size, NULL, "Block size in bytes.", NULL},
    {"name", (getter)Streebog_get_name, NULL, "streebog256 or streebog512.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject StreebogType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "egsu_core.pki.gost._gosthash.Streebog",
    .tp_doc = "Streebog(digest_bits, data=b'') -- incremental GOST R 34.11-2012, 256 or 512 bits.",
    .tp_basicsize = sizeof(StreebogObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Streebog_new,
    .tp_dealloc = (destructor)Streebog_dealloc,
    .tp_methods = Streebog_methods,
    .tp_getset = Streebog_getset,
};

/* ------------------------------------------------------------------ module */

static struct PyModuleDef gosthash_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "egsu_core.pki.gost._gosthash",
    .m_doc = "Compiled GOST R 34.11-94 and Streebog (GOST R 34.11-2012) for egsu_core.pki.gost.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__gosthash(void)
{
    streebog_tables_init();
    if (PyType_Ready(&GOST94Type) < 0 || PyType_Ready(&StreebogType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&gosthash_module);
    if (!module) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "GOST94", (PyObject *)&GOST94Type) < 0 ||
        PyModule_AddObjectRef(module, "Streebog", (PyObject *)&StreebogType) < 0 ||
        PyModule_AddIntConstant(module, "UNLOCKED_UPDATE_MIN", UNLOCKED_UPDATE_MIN) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
