/* The forwarding loop of the SFU, in C: for one incoming RTP packet, each subscriber's copy gets its
 * own header (SSRC, sequence number, timestamp, payload type, header-extension block), is protected
 * with that subscriber's SRTP session and sent on its ICE socket, with no Python per copy.
 *
 * A Route is one consumer's way out. Python (sfu/consumer.py) fills in what negotiation decided;
 * sfu/aiortc_adapter.py connects it to a transport: a socket descriptor, the remote address, and the
 * transport's outgoing SrtpSession (sfu/_srtp.c). The route keeps an `owner` object alive while
 * connected: what owns the descriptor (the adapter passes a duplicate of the ICE socket shared by
 * the transport's routes, closed when the last route lets go, so aioice closing its own cannot leave
 * us a reused number). The ingest path (sfu/_ingest.c) calls fanout_packet() for each packet it
 * receives; forward() is the same loop called from Python (a simulcast layer, tests, benchmarks).
 */
#include "_media.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <structmember.h>
#include <time.h>

enum { VALUE_NONE = 0, VALUE_AUDIO_LEVEL = 1 };

static void route_release(Route *self) {
    self->fd = -1;
    Py_CLEAR(self->session);
    Py_CLEAR(self->owner);
    Py_CLEAR(self->send_callable);
}

static inline int route_connected_now(Route *self) {
    return self->fd >= 0 || self->send_callable != NULL;
}

static PyObject *route_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Route *self = (Route *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->fd = -1;
    }
    return (PyObject *)self;
}

static int route_traverse(Route *self, visitproc visit, void *arg) {
    Py_VISIT(self->session);
    Py_VISIT(self->owner);
    Py_VISIT(self->send_callable);
    return 0;
}

static int route_clear(Route *self) {
    Py_CLEAR(self->session);
    Py_CLEAR(self->owner);
    Py_CLEAR(self->send_callable);
    return 0;
}

static void route_dealloc(Route *self) {
    PyObject_GC_UnTrack(self);
    route_release(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Send packet[0:length] protected (the buffer has SRTP_TRAILER_ROOM after it); 0 on success, -1
 * on a failure counted in send_errors or, for a full socket buffer, in send_blocked. */
static int route_protect_and_send(Route *self, uint8_t *packet, int length) {
    if (self->session == NULL || srtp_session_protect(self->session, packet, &length) != 0) {
        goto failed;
    }
    if (self->fd >= 0) {
        if (sendto(self->fd, packet, (size_t)length, MSG_DONTWAIT, (struct sockaddr *)&self->address,
                   self->address_length) < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
                self->send_blocked++;
                return -1;
            }
            goto failed;
        }
        return 0;
    }
    /* A relayed pair: the TURN transport wraps the packet, in Python. The caller holds a reference
     * to this route; the callable may run any Python code, so it is held across the call too. */
    PyObject *callable = self->send_callable;
    if (callable == NULL) {
        goto failed;
    }
    PyObject *data = PyBytes_FromStringAndSize((const char *)packet, length);
    if (data == NULL) {
        goto python_failed;
    }
    Py_INCREF(callable);
    PyObject *result = PyObject_CallOneArg(callable, data);
    Py_DECREF(callable);
    Py_DECREF(data);
    if (result == NULL) {
        goto python_failed;
    }
    Py_DECREF(result);
    return 0;
python_failed:
    /* One subscriber's failure never stops the others; only ordinary exceptions are cleared. */
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return -2;
    }
    PyErr_Clear();
failed:
    self->send_errors++;
    return -1;
}

static int copy_block(const char *name, PyObject *value, uint8_t *into, Py_ssize_t *length) {
    if (!PyBytes_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s must be bytes", name);
        return -1;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(value);
    if (n > EXT_MAX) {
        PyErr_Format(PyExc_ValueError, "%s is longer than %d bytes", name, EXT_MAX);
        return -1;
    }
    memcpy(into, PyBytes_AS_STRING(value), (size_t)n);
    *length = n;
    return 0;
}

PyDoc_STRVAR(set_extensions_doc,
             "set_extensions(static, before, after, value)\n\n"
             "The RFC 8285 header-extension block: `static` for a packet without a per-packet value,\n"
             "else `before` + the value + `after`. value: 0 none, 1 audio level (1 byte).");

static PyObject *route_set_extensions(Route *self, PyObject *args) {
    PyObject *whole, *before, *after;
    int value;
    if (!PyArg_ParseTuple(args, "SSSi:set_extensions", &whole, &before, &after, &value)) {
        return NULL;
    }
    if (value < VALUE_NONE || value > VALUE_AUDIO_LEVEL) {
        PyErr_SetString(PyExc_ValueError, "value must be 0 or 1");
        return NULL;
    }
    if (copy_block("static", whole, self->ext_static, &self->ext_static_length) < 0 ||
        copy_block("before", before, self->ext_before, &self->ext_before_length) < 0 ||
        copy_block("after", after, self->ext_after, &self->ext_after_length) < 0) {
        return NULL;
    }
    self->value_kind = self->ext_before_length ? value : VALUE_NONE;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(connect_doc,
             "connect(fd, host, port, session, owner)\n\n"
             "Send on socket `fd` to (host, port), protecting with `session` (an outbound SrtpSession);\n"
             "`owner` keeps the descriptor open while connected.");

static PyObject *route_connect(Route *self, PyObject *args) {
    int fd, port;
    const char *host;
    PyObject *session, *owner;
    if (!PyArg_ParseTuple(args, "isiO!O:connect", &fd, &host, &port, &SrtpSessionType, &session, &owner)) {
        return NULL;
    }
    struct sockaddr_storage address;
    socklen_t length;
    memset(&address, 0, sizeof(address));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address;
    if (port <= 0 || port > 65535) {
        PyErr_SetString(PyExc_ValueError, "port out of range");
        return NULL;
    }
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        length = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        length = sizeof(*v6);
    } else {
        PyErr_Format(PyExc_ValueError, "not a numeric address: %s", host);
        return NULL;
    }
    if (fd < 0 || !((SrtpSession *)session)->outbound) {
        PyErr_SetString(PyExc_ValueError, "fd must be set and the session outbound");
        return NULL;
    }
    Py_INCREF(session); /* before letting go of the old ones: they may be the same objects */
    Py_INCREF(owner);
    route_release(self);
    self->fd = fd;
    self->address = address;
    self->address_length = length;
    self->session = (SrtpSession *)session;
    self->owner = owner;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(connect_callable_doc,
             "connect_callable(send, session, owner)\n\n"
             "Hand each protected packet to `send(packet)` (a relayed pair: the TURN transport wraps it)\n"
             "instead of a socket; `session` and `owner` as for connect().");

static PyObject *route_connect_callable(Route *self, PyObject *args) {
    PyObject *send, *session, *owner;
    if (!PyArg_ParseTuple(args, "OO!O:connect_callable", &send, &SrtpSessionType, &session, &owner)) {
        return NULL;
    }
    if (!PyCallable_Check(send) || !((SrtpSession *)session)->outbound) {
        PyErr_SetString(PyExc_ValueError, "send must be callable and the session outbound");
        return NULL;
    }
    Py_INCREF(send); /* before letting go of the old ones: they may be the same objects */
    Py_INCREF(session);
    Py_INCREF(owner);
    route_release(self);
    self->session = (SrtpSession *)session;
    self->send_callable = send;
    self->owner = owner;
    Py_RETURN_NONE;
}

static PyObject *route_disconnect(Route *self, PyObject *unused) {
    route_release(self);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(send_doc, "send(packet) -> bool\n\nProtect and send a packet built by the caller (a retransmission).");

static PyObject *route_send(Route *self, PyObject *packet) {
    if (!PyBytes_Check(packet)) {
        PyErr_SetString(PyExc_TypeError, "packet must be bytes");
        return NULL;
    }
    Py_ssize_t length = PyBytes_GET_SIZE(packet);
    if (!route_connected_now(self) || length < 12 || length > MAX_PACKET) {
        Py_RETURN_FALSE;
    }
    uint8_t buffer[BUFFER_SIZE] __attribute__((aligned(16)));
    memcpy(buffer, PyBytes_AS_STRING(packet), (size_t)length);
    Py_INCREF(self);
    int result = route_protect_and_send(self, buffer, (int)length);
    Py_DECREF(self);
    if (result == -2) {
        return NULL;
    }
    if (result < 0) {
        Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

static PyObject *route_connected(Route *self, void *closure) {
    return PyBool_FromLong(route_connected_now(self));
}

static PyMethodDef route_methods[] = {
    {"set_extensions", (PyCFunction)route_set_extensions, METH_VARARGS, set_extensions_doc},
    {"connect", (PyCFunction)route_connect, METH_VARARGS, connect_doc},
    {"connect_callable", (PyCFunction)route_connect_callable, METH_VARARGS, connect_callable_doc},
    {"disconnect", (PyCFunction)route_disconnect, METH_NOARGS, "Stop sending; let go of the owner."},
    {"send", (PyCFunction)route_send, METH_O, send_doc},
    {NULL},
};

static PyMemberDef route_members[] = {
    {"ssrc", T_UINT, offsetof(Route, ssrc), 0, "SSRC of the subscriber's m-line"},
    {"payload_type", T_UINT, offsetof(Route, payload_type), 0, "payload type negotiated with the subscriber"},
    {"timestamp_offset", T_UINT, offsetof(Route, timestamp_offset), 0, "added to the publisher's RTP timestamps"},
    {"sequence_offset", T_UINT, offsetof(Route, sequence_offset), 0, "added to the publisher's sequence numbers"},
    {"active", T_INT, offsetof(Route, active), 0, "forward packets (negotiated, not paused)"},
    {"based", T_INT, offsetof(Route, based), 0, "sequence_offset was set by the first forwarded packet"},
    {"waiting_keyframe", T_INT, offsetof(Route, waiting_keyframe), 0, "start only on a keyframe"},
    {"next_sequence", T_UINT, offsetof(Route, next_sequence), 0, "the sequence number the next new packet gets"},
    {"packets_sent", T_ULONGLONG, offsetof(Route, packets_sent), READONLY, "packets forwarded"},
    {"octets_sent", T_ULONGLONG, offsetof(Route, octets_sent), READONLY, "payload octets forwarded"},
    {"send_errors", T_ULONGLONG, offsetof(Route, send_errors), READONLY, "copies that failed to protect or send"},
    {"send_blocked", T_ULONGLONG, offsetof(Route, send_blocked), READONLY,
     "copies dropped because the socket's buffer was full (EAGAIN)"},
    {"last_timestamp", T_UINT, offsetof(Route, last_timestamp), READONLY, "RTP timestamp of the last packet sent"},
    {"last_ntp", T_ULONGLONG, offsetof(Route, last_ntp), READONLY, "NTP time of the last packet sent"},
    {NULL},
};

static PyGetSetDef route_getset[] = {
    {"connected", (getter)route_connected, NULL, "a socket and an SRTP session are set", NULL},
    {NULL},
};

PyTypeObject RouteType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sfu._media.Route",
    .tp_doc = PyDoc_STR("One consumer's way out: header rewrite, SRTP session and socket."),
    .tp_basicsize = sizeof(Route),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = route_new,
    .tp_dealloc = (destructor)route_dealloc,
    .tp_traverse = (traverseproc)route_traverse,
    .tp_clear = (inquiry)route_clear,
    .tp_methods = route_methods,
    .tp_members = route_members,
    .tp_getset = route_getset,
};

static inline void put16(uint8_t *p, unsigned int v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, unsigned int v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

unsigned long long media_ntp_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    unsigned long long seconds = (unsigned long long)now.tv_sec + 2208988800ULL; /* 1900 to 1970 */
    unsigned long long fraction = ((unsigned long long)now.tv_nsec << 32) / 1000000000ULL;
    return (seconds << 32) | fraction;
}

int fanout_awaits_keyframe(PyObject *routes) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(routes); i++) {
        PyObject *item = PyList_GET_ITEM(routes, i);
        if (Py_TYPE(item) == &RouteType) {
            Route *r = (Route *)item;
            if (r->active && !r->based && r->waiting_keyframe) {
                return 1;
            }
        }
    }
    return 0;
}

long fanout_packet(PyObject *routes, int marker, unsigned int sequence, unsigned int timestamp,
                   const uint8_t *body, Py_ssize_t body_length, int keyframe, long audio_level,
                   unsigned long long ntp) {
    uint8_t buffer[BUFFER_SIZE] __attribute__((aligned(16)));
    long sent = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(routes); i++) { /* a TURN send runs Python: re-read */
        PyObject *item = PyList_GET_ITEM(routes, i);
        if (Py_TYPE(item) != &RouteType) {
            PyErr_SetString(PyExc_TypeError, "routes must hold Route objects");
            return -1;
        }
        Route *r = (Route *)item;
        if (!r->active || !route_connected_now(r)) {
            continue;
        }
        if (!r->based) {
            if (r->waiting_keyframe && !keyframe) {
                continue;
            }
            r->waiting_keyframe = 0;
            r->sequence_offset = (r->next_sequence - sequence) & 0xFFFF;
            r->based = 1;
        }
        unsigned int seq = (sequence + r->sequence_offset) & 0xFFFF;
        unsigned int ts = timestamp + r->timestamp_offset;
        /* the header-extension block for this packet */
        uint8_t value[1];
        Py_ssize_t value_length = 0;
        if (r->value_kind == VALUE_AUDIO_LEVEL && audio_level >= 0) {
            value[0] = (uint8_t)audio_level;
            value_length = 1;
        }
        Py_ssize_t length = 12 + body_length +
                            (value_length ? r->ext_before_length + value_length + r->ext_after_length
                                          : r->ext_static_length);
        if (length > MAX_PACKET) {
            r->send_errors++;
            continue;
        }
        uint8_t *p = buffer;
        int has_ext = value_length ? 1 : r->ext_static_length > 0;
        p[0] = has_ext ? 0x90 : 0x80;
        p[1] = (uint8_t)(((marker ? 1 : 0) << 7) | (r->payload_type & 0x7F));
        put16(p + 2, seq);
        put32(p + 4, ts);
        put32(p + 8, r->ssrc);
        p += 12;
        if (value_length) {
            memcpy(p, r->ext_before, (size_t)r->ext_before_length);
            p += r->ext_before_length;
            memcpy(p, value, (size_t)value_length);
            p += value_length;
            memcpy(p, r->ext_after, (size_t)r->ext_after_length);
            p += r->ext_after_length;
        } else if (r->ext_static_length) {
            memcpy(p, r->ext_static, (size_t)r->ext_static_length);
            p += r->ext_static_length;
        }
        memcpy(p, body, (size_t)body_length);
        Py_INCREF(r);
        int result = route_protect_and_send(r, buffer, (int)length);
        if (result < 0) {
            Py_DECREF(r);
            if (result == -2) {
                return -1;
            }
            continue;
        }
        if (((seq - r->next_sequence) & 0xFFFF) < 0x8000) {
            r->next_sequence = (seq + 1) & 0xFFFF;
        }
        r->last_ntp = ntp;
        r->last_timestamp = ts;
        r->octets_sent += (unsigned long long)body_length;
        r->packets_sent++;
        sent++;
        Py_DECREF(r);
    }
    return sent;
}

PyObject *media_forward(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "forward() takes 8 arguments");
        return NULL;
    }
    PyObject *routes = args[0];
    if (!PyList_Check(routes)) {
        PyErr_SetString(PyExc_TypeError, "routes must be a list");
        return NULL;
    }
    PyObject *payload = args[4];
    if (!PyBytes_Check(payload)) {
        PyErr_SetString(PyExc_TypeError, "payload must be bytes");
        return NULL;
    }
    long marker = PyLong_AsLong(args[1]);
    unsigned long sequence = PyLong_AsUnsignedLong(args[2]);
    unsigned long timestamp = PyLong_AsUnsignedLong(args[3]);
    int keyframe = PyObject_IsTrue(args[5]);
    long audio_level = PyLong_AsLong(args[6]);
    unsigned long long ntp = PyLong_AsUnsignedLongLong(args[7]);
    if (PyErr_Occurred() || keyframe < 0) {
        return NULL;
    }
    long sent = fanout_packet(routes, marker != 0, (unsigned int)sequence & 0xFFFF, (unsigned int)timestamp,
                              (const uint8_t *)PyBytes_AS_STRING(payload), PyBytes_GET_SIZE(payload), keyframe,
                              audio_level, ntp);
    if (sent < 0) {
        return NULL;
    }
    return PyLong_FromLong(sent);
}
