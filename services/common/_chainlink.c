/*
 * The per-row step of the chain check, compiled: `chain_pass` reads a
 * stretch's rows from PostgreSQL's binary COPY and hands each to
 * `LinkWalker.feed`, which reads the row's fields, recomputes its link and
 * compares it with the stored one. It does what `chain_pass.PythonWalker`
 * does, byte for byte; the two answer the same tests
 * (tests/integration/test_chain_parallel.py).
 *
 * Why compiled: in Python a row's two SHA-256 through hashlib cost about
 * 2.1 us, most of it OpenSSL's context set up and torn down per call; here
 * one context on the stack serves both hashes, and the parse is a few
 * loads (docs/decisions/0034-compiled-chain-step.md).
 *
 * A row, as COPY's binary format gives (position, record, previous, link):
 *   int16 field count, int32 length + int64 position,
 *   int32 length + the record's bytes,
 *   int32 length + int64 previous, int32 length + 32 bytes of link.
 * The field lengths of the fixed fields are not read: a row passes only
 * when its size is exactly 66 bytes plus its record's length, which a NULL
 * or a longer link breaks.
 */
#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init: no EVP context per hash */
#include <Python.h>
#include <structmember.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define RECORD_AT 18 /* a row's bytes before its record */
#define ROW_SIZE 66  /* a row's bytes but its record's */
#define LINK_SIZE 32

typedef struct {
    PyObject_HEAD
    long long position;
    unsigned char link[LINK_SIZE];
} LinkWalker;

static uint64_t
big_endian_64(const unsigned char *at)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) {
        value = (value << 8) | at[i];
    }
    return value;
}

static uint32_t
big_endian_32(const unsigned char *at)
{
    return ((uint32_t)at[0] << 24) | ((uint32_t)at[1] << 16) |
           ((uint32_t)at[2] << 8) | (uint32_t)at[3];
}

static int
walker_init(LinkWalker *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"position", "link", NULL};
    long long position;
    Py_buffer link;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Ly*", names, &position, &link)) {
        return -1;
    }
    if (link.len != LINK_SIZE) {
        PyBuffer_Release(&link);
        PyErr_SetString(PyExc_ValueError, "a link is 32 bytes");
        return -1;
    }
    self->position = position;
    memcpy(self->link, link.buf, LINK_SIZE);
    PyBuffer_Release(&link);
    return 0;
}

/* The row's position when it chains on the walk so far (which it then
 * extends), None when it does not (the walk is left where it was). */
static PyObject *
walker_feed(LinkWalker *self, PyObject *row_object)
{
    Py_buffer row;
    if (PyObject_GetBuffer(row_object, &row, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *bytes = row.buf;
    Py_ssize_t size = row.len;
    if (size < ROW_SIZE) {
        PyBuffer_Release(&row);
        Py_RETURN_NONE;
    }
    long long position = (long long)big_endian_64(bytes + 6);
    /* A record's length is a signed 32-bit field: -1 (NULL) or past the
     * row's size does not match. */
    int32_t length = (int32_t)big_endian_32(bytes + 14);
    if (length < 0 || size != (Py_ssize_t)ROW_SIZE + length) {
        PyBuffer_Release(&row);
        Py_RETURN_NONE;
    }
    const unsigned char *tail = bytes + RECORD_AT + length;
    long long previous = (long long)big_endian_64(tail + 4);
    const unsigned char *stored = tail + 16;
    if (previous != self->position || position <= previous) {
        PyBuffer_Release(&row);
        Py_RETURN_NONE;
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, bytes + RECORD_AT, (size_t)length);
    SHA256_Final(digest, &context);
    SHA256_Init(&context);
    SHA256_Update(&context, self->link, LINK_SIZE);
    SHA256_Update(&context, digest, SHA256_DIGEST_LENGTH);
    SHA256_Final(digest, &context);
    int chains = memcmp(digest, stored, LINK_SIZE) == 0;
    if (chains) {
        self->position = position;
        memcpy(self->link, stored, LINK_SIZE);
    }
    PyBuffer_Release(&row);
    if (!chains) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLongLong(position);
}

static PyObject *
walker_get_link(LinkWalker *self, void *closure)
{
    (void)closure;
    return PyBytes_FromStringAndSize((const char *)self->link, LINK_SIZE);
}

static PyObject *
walker_get_position(LinkWalker *self, void *closure)
{
    (void)closure;
    return PyLong_FromLongLong(self->position);
}

static PyMethodDef walker_methods[] = {
    {"feed", (PyCFunction)walker_feed, METH_O,
     "The row's position when it chains on the walk (and extends it), else None."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef walker_getset[] = {
    {"position", (getter)walker_get_position, NULL, "The last row's position.", NULL},
    {"link", (getter)walker_get_link, NULL, "The last row's link.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject LinkWalkerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "services.common._chainlink.LinkWalker",
    .tp_doc = "A walk along a chain's rows, each link after the one before.",
    .tp_basicsize = sizeof(LinkWalker),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)walker_init,
    .tp_methods = walker_methods,
    .tp_getset = walker_getset,
};

static struct PyModuleDef chainlink_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "services.common._chainlink",
    .m_doc = "The chain check's per-row step, compiled.",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__chainlink(void)
{
    if (PyType_Ready(&LinkWalkerType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&chainlink_module);
    if (module == NULL) {
        return NULL;
    }
    Py_INCREF(&LinkWalkerType);
    if (PyModule_AddObject(module, "LinkWalker", (PyObject *)&LinkWalkerType) < 0) {
        Py_DECREF(&LinkWalkerType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
