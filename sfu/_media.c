/* The module `sfu._media`: the media plane's compiled part (see _media.h for its files). */
#include "_media.h"

static PyMethodDef media_methods[] = {
    {"bind_libsrtp", (PyCFunction)media_bind_libsrtp, METH_VARARGS,
     "bind_libsrtp(path): look up libsrtp 2's functions in the loaded library at `path` (pylibsrtp's), once."},
    {"policy_layout", (PyCFunction)media_policy_layout, METH_NOARGS,
     "srtp_policy_t's size and field offsets as compiled here (checked against pylibsrtp's at import)."},
    {"forward", (PyCFunction)(void (*)(void))media_forward, METH_FASTCALL,
     "forward(routes, marker, sequence, timestamp, payload, keyframe, audio_level, ntp) -> int\n\n"
     "Send one packet to every active route; returns how many copies went out.\n"
     "audio_level: the extension's byte (V bit and level) or -1."},
    {"starts_keyframe", (PyCFunction)media_keyframe, METH_VARARGS,
     "starts_keyframe(mime_type, payload) -> bool: does this RTP payload begin a keyframe (VP8, H.264)?"},
    {NULL},
};

static struct PyModuleDef media_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sfu._media",
    .m_doc = PyDoc_STR("The media plane in C: SRTP sessions, the way in (Ingest) and the way out (Route)."),
    .m_size = 0,
    .m_methods = media_methods,
};

static int add_type(PyObject *module, PyTypeObject *type, const char *name) {
    if (PyType_Ready(type) < 0) {
        return -1;
    }
    Py_INCREF(type);
    if (PyModule_AddObject(module, name, (PyObject *)type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__media(void) {
    PyObject *module = PyModule_Create(&media_module);
    if (module == NULL) {
        return NULL;
    }
    if (add_type(module, &SrtpSessionType, "SrtpSession") < 0 || add_type(module, &RouteType, "Route") < 0 ||
        add_type(module, &ReceiveStatsType, "ReceiveStats") < 0 || add_type(module, &SourceType, "Source") < 0 ||
        add_type(module, &IngestType, "Ingest") < 0 || PyModule_AddIntConstant(module, "MAX_PACKET", MAX_PACKET) < 0 ||
        PyModule_AddIntConstant(module, "UNROUTED", 1) < 0 || PyModule_AddIntConstant(module, "NACK", 2) < 0 ||
        PyModule_AddIntConstant(module, "TAP", 3) < 0 || PyModule_AddIntConstant(module, "LEVEL", 4) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    PyObject *bounds = PyTuple_New(LATENCY_BUCKETS - 1);
    if (bounds == NULL) {
        Py_DECREF(module);
        return NULL;
    }
    for (int i = 0; i < LATENCY_BUCKETS - 1; i++) {
        PyTuple_SET_ITEM(bounds, i, PyFloat_FromDouble(latency_bounds[i]));
    }
    if (PyModule_AddObject(module, "LATENCY_BOUNDS", bounds) < 0) {
        Py_DECREF(bounds);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
