/* libsrtp 2, as pylibsrtp (pinned exactly) ships it: its functions are looked up once, at import
 * (`bind_libsrtp(path)`, from the already loaded library, so there is one libsrtp and one crypto
 * kernel in the process), and SRTP sessions are objects Python builds from the DTLS keying
 * material: no function or session pointer ever crosses into Python as an integer.
 *
 * The policy structure is libsrtp 2's `srtp_policy_t`; `policy_layout()` gives its size and field
 * offsets as compiled here, and sfu/aiortc_adapter.py compares them with pylibsrtp's own at import.
 */
#include "_media.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

typedef enum { SSRC_UNDEFINED = 0, SSRC_SPECIFIC = 1, SSRC_ANY_INBOUND = 2, SSRC_ANY_OUTBOUND = 3 } ssrc_type_t;

typedef struct {
    ssrc_type_t type;
    unsigned int value;
} srtp_ssrc_t;

typedef struct {
    uint32_t cipher_type;
    int cipher_key_len;
    uint32_t auth_type;
    int auth_key_len;
    int auth_tag_len;
    int sec_serv;
} srtp_crypto_policy_t;

typedef struct srtp_policy {
    srtp_ssrc_t ssrc;
    srtp_crypto_policy_t rtp;
    srtp_crypto_policy_t rtcp;
    unsigned char *key;
    void **keys;
    unsigned long num_master_keys;
    void *deprecated_ekt;
    unsigned long window_size;
    int allow_repeat_tx;
    int *enc_xtn_hdr;
    int enc_xtn_hdr_count;
    struct srtp_policy *next;
} srtp_policy_t;

typedef int (*create_fn)(void **session, const srtp_policy_t *policy);
typedef int (*dealloc_fn)(void *session);
typedef int (*process_fn)(void *session, void *packet, int *length);
typedef int (*profile_fn)(srtp_crypto_policy_t *policy, int profile);
typedef unsigned int (*length_fn)(int profile);

/* Bound once by bind_libsrtp(), never changed after. */
static struct {
    create_fn create;
    dealloc_fn dealloc;
    process_fn protect;
    process_fn unprotect;
    profile_fn policy_for_rtp;
    profile_fn policy_for_rtcp;
    length_fn key_length;
    length_fn salt_length;
} srtp;

int srtp_session_protect(SrtpSession *session, uint8_t *packet, int *length) {
    if (srtp.protect(session->ctx, packet, length) != 0) {
        session->failures++;
        return -1;
    }
    return 0;
}

int srtp_session_unprotect(SrtpSession *session, uint8_t *packet, int *length) {
    if (srtp.unprotect(session->ctx, packet, length) != 0) {
        session->failures++;
        return -1;
    }
    return 0;
}

PyObject *media_bind_libsrtp(PyObject *module, PyObject *args) {
    const char *path;
    if (!PyArg_ParseTuple(args, "s:bind_libsrtp", &path)) {
        return NULL;
    }
    if (srtp.create != NULL) {
        Py_RETURN_NONE;
    }
    void *library = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (library == NULL) {
        PyErr_Format(PyExc_ImportError, "libsrtp is not loaded from %s: import pylibsrtp first", path);
        return NULL;
    }
    struct {
        const char *name;
        void **into;
    } wanted[] = {
        {"srtp_create", (void **)&srtp.create},
        {"srtp_dealloc", (void **)&srtp.dealloc},
        {"srtp_protect", (void **)&srtp.protect},
        {"srtp_unprotect", (void **)&srtp.unprotect},
        {"srtp_crypto_policy_set_from_profile_for_rtp", (void **)&srtp.policy_for_rtp},
        {"srtp_crypto_policy_set_from_profile_for_rtcp", (void **)&srtp.policy_for_rtcp},
        {"srtp_profile_get_master_key_length", (void **)&srtp.key_length},
        {"srtp_profile_get_master_salt_length", (void **)&srtp.salt_length},
    };
    void *found[sizeof(wanted) / sizeof(wanted[0])];
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        found[i] = dlsym(library, wanted[i].name);
        if (found[i] == NULL) {
            PyErr_Format(PyExc_ImportError, "libsrtp at %s has no %s", path, wanted[i].name);
            dlclose(library);
            return NULL;
        }
    }
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        *wanted[i].into = found[i];
    }
    /* the handle stays open: the library must outlive every session */
    Py_RETURN_NONE;
}

PyObject *media_policy_layout(PyObject *module, PyObject *unused) {
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n}", "size", (Py_ssize_t)sizeof(srtp_policy_t), "crypto_size",
                         (Py_ssize_t)sizeof(srtp_crypto_policy_t), "ssrc", (Py_ssize_t)offsetof(srtp_policy_t, ssrc),
                         "rtp", (Py_ssize_t)offsetof(srtp_policy_t, rtp), "rtcp",
                         (Py_ssize_t)offsetof(srtp_policy_t, rtcp), "key", (Py_ssize_t)offsetof(srtp_policy_t, key),
                         "window_size", (Py_ssize_t)offsetof(srtp_policy_t, window_size), "allow_repeat_tx",
                         (Py_ssize_t)offsetof(srtp_policy_t, allow_repeat_tx));
}

static PyObject *session_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"profile", "key", "outbound", NULL};
    int profile, outbound;
    Py_buffer key;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iy*p:SrtpSession", keywords, &profile, &key, &outbound)) {
        return NULL;
    }
    if (srtp.create == NULL) {
        PyBuffer_Release(&key);
        PyErr_SetString(PyExc_RuntimeError, "bind_libsrtp() first");
        return NULL;
    }
    srtp_policy_t policy;
    memset(&policy, 0, sizeof(policy));
    if (srtp.policy_for_rtp(&policy.rtp, profile) != 0 || srtp.policy_for_rtcp(&policy.rtcp, profile) != 0) {
        PyBuffer_Release(&key);
        PyErr_Format(PyExc_ValueError, "unknown SRTP profile %d", profile);
        return NULL;
    }
    Py_ssize_t needed = (Py_ssize_t)(srtp.key_length(profile) + srtp.salt_length(profile));
    if (key.len < needed) {
        PyBuffer_Release(&key);
        PyErr_Format(PyExc_ValueError, "the key must hold at least %zd bytes (key and salt)", needed);
        return NULL;
    }
    unsigned char material[64];
    if (key.len > (Py_ssize_t)sizeof(material)) {
        PyBuffer_Release(&key);
        PyErr_SetString(PyExc_ValueError, "key too long");
        return NULL;
    }
    memcpy(material, key.buf, (size_t)key.len);
    PyBuffer_Release(&key);
    policy.ssrc.type = outbound ? SSRC_ANY_OUTBOUND : SSRC_ANY_INBOUND;
    policy.key = material;
    policy.window_size = 1024;
    policy.allow_repeat_tx = 1; /* a retransmission without RTX repeats a sequence number */
    SrtpSession *self = (SrtpSession *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    int status = srtp.create(&self->ctx, &policy);
    memset(material, 0, sizeof(material));
    if (status != 0) {
        self->ctx = NULL;
        Py_DECREF(self);
        PyErr_Format(PyExc_ValueError, "libsrtp refused the session (status %d)", status);
        return NULL;
    }
    self->outbound = outbound;
    return (PyObject *)self;
}

static void session_dealloc(SrtpSession *self) {
    if (self->ctx != NULL) {
        srtp.dealloc(self->ctx);
        self->ctx = NULL;
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *session_process(SrtpSession *self, PyObject *packet, int protect) {
    if (!PyBytes_Check(packet)) {
        PyErr_SetString(PyExc_TypeError, "packet must be bytes");
        return NULL;
    }
    Py_ssize_t length = PyBytes_GET_SIZE(packet);
    if (length < 12 || length > MAX_PACKET) {
        PyErr_SetString(PyExc_ValueError, "not an RTP packet's size");
        return NULL;
    }
    uint8_t buffer[BUFFER_SIZE];
    memcpy(buffer, PyBytes_AS_STRING(packet), (size_t)length);
    int n = (int)length;
    int failed = protect ? srtp_session_protect(self, buffer, &n) : srtp_session_unprotect(self, buffer, &n);
    if (failed) {
        PyErr_SetString(PyExc_ValueError, protect ? "SRTP protect failed" : "SRTP unprotect failed");
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)buffer, n);
}

static PyObject *session_protect(SrtpSession *self, PyObject *packet) {
    if (!self->outbound) {
        PyErr_SetString(PyExc_ValueError, "an inbound session does not protect");
        return NULL;
    }
    return session_process(self, packet, 1);
}

static PyObject *session_unprotect(SrtpSession *self, PyObject *packet) {
    if (self->outbound) {
        PyErr_SetString(PyExc_ValueError, "an outbound session does not unprotect");
        return NULL;
    }
    return session_process(self, packet, 0);
}

static PyMethodDef session_methods[] = {
    {"protect", (PyCFunction)session_protect, METH_O, "protect(rtp) -> srtp (an outbound session)"},
    {"unprotect", (PyCFunction)session_unprotect, METH_O, "unprotect(srtp) -> rtp (an inbound session)"},
    {NULL},
};

static PyMemberDef session_members[] = {
    {"outbound", T_INT, offsetof(SrtpSession, outbound), READONLY, "protects (1) or unprotects (0)"},
    {"failures", T_ULONGLONG, offsetof(SrtpSession, failures), READONLY, "packets libsrtp refused"},
    {NULL},
};

PyTypeObject SrtpSessionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sfu._media.SrtpSession",
    .tp_doc = PyDoc_STR("SrtpSession(profile, key, outbound): one direction of a transport's SRTP (RTP packets),\n"
                        "keyed with the master key and salt from the DTLS handshake."),
    .tp_basicsize = sizeof(SrtpSession),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = session_new,
    .tp_dealloc = (destructor)session_dealloc,
    .tp_methods = session_methods,
    .tp_members = session_members,
};
