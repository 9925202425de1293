/* The way in: one call per SRTP packet a transport receives, from the ICE socket's datagram
 * callback (sfu/aiortc_adapter.py). In C: SRTP unprotect with the transport's inbound session,
 * header parse (RFC 3550, RFC 8285 extensions), route by SSRC to the producer's Source, RTX unwrap
 * (RFC 4588), receive statistics for the receiver reports (RFC 3550 A.3, A.8), loss detection for
 * NACK, the packet cache NACKs from subscribers are answered from, audio level (RFC 6464),
 * keyframe start, transport-wide arrival times, then the fan-out (sfu/_fanout.c).
 *
 * Python sees only what needs a decision, as events returned by receive(): a packet of an SSRC not
 * bound yet (it routes it with aiortc's router and binds the SSRC), losses to NACK, audio levels at
 * a low rate, and each packet of a Source a reader taps (the recorder). RTCP and DTLS never come
 * here. Garbage and truncated packets are counted and dropped.
 */
#include "_media.h"

#include <string.h>
#include <time.h>

enum { CODEC_OTHER = 0, CODEC_VP8 = 1, CODEC_H264 = 2 };
enum { EVENT_UNROUTED = 1, EVENT_NACK = 2, EVENT_TAP = 3, EVENT_LEVEL = 4 };

#define SLOT_PAYLOAD 1500
#define VIDEO_SLOTS 512
#define AUDIO_SLOTS 64
#define NACK_HISTORY 128 /* aiortc's RTP_HISTORY_SIZE: losses older than this are forgotten */
#define MAX_BINDINGS 64 /* SSRCs per transport: a student receiving a group and the teacher has ~15 */
#define MAX_ARRIVALS 8192
#define LEVEL_INTERVAL_NS 50000000LL /* audio levels reach Python at most every 50 ms per source */

const double latency_bounds[LATENCY_BUCKETS - 1] = {5e-6,   10e-6, 20e-6, 50e-6, 100e-6, 200e-6,
                                                           500e-6, 1e-3,  2e-3,  5e-3,  10e-3,  50e-3};

static inline unsigned int get16(const uint8_t *p) { return ((unsigned int)p[0] << 8) | p[1]; }

static inline unsigned int get32(const uint8_t *p) {
    return ((unsigned int)p[0] << 24) | ((unsigned int)p[1] << 16) | ((unsigned int)p[2] << 8) | p[3];
}

static inline int seq_newer(unsigned int a, unsigned int b) { /* a after b, 16-bit serial numbers */
    unsigned int d = (a - b) & 0xFFFF;
    return d != 0 && d < 0x8000;
}

static inline long long monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline double realtime_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* --- keyframe start, per codec ------------------------------------------------------------------ */
static int vp8_keyframe_start(const uint8_t *p, Py_ssize_t n) {
    uint8_t first = p[0];
    if (!(first & 0x10) || (first & 0x07) != 0) {
        return 0; /* not the start of partition 0 */
    }
    Py_ssize_t i = 1;
    if (first & 0x80) { /* X: extension byte follows */
        if (n < 2) {
            return 0;
        }
        uint8_t ext = p[1];
        i = 2;
        if (ext & 0x80) { /* I: picture id */
            if (n <= i) {
                return 0;
            }
            i += (p[i] & 0x80) ? 2 : 1;
        }
        if (ext & 0x40) { /* L: TL0PICIDX */
            i += 1;
        }
        if (ext & 0x30) { /* T or K: TID/KEYIDX byte */
            i += 1;
        }
    }
    return n > i && (p[i] & 0x01) == 0; /* P bit 0: a keyframe */
}

static int h264_keyframe(const uint8_t *p, Py_ssize_t n) {
    unsigned int nal = p[0] & 0x1F;
    if (nal == 5 || nal == 7) {
        return 1;
    }
    if (nal == 24) { /* STAP-A: 16-bit sizes then NAL units */
        Py_ssize_t i = 1;
        while (i + 2 < n) {
            unsigned int size = get16(p + i);
            if (size == 0) {
                break;
            }
            unsigned int inner = p[i + 2] & 0x1F;
            if (inner == 5 || inner == 7) {
                return 1;
            }
            i += 2 + (Py_ssize_t)size;
        }
        return 0;
    }
    if (nal == 28 && n > 1) { /* FU-A: the start fragment of an IDR */
        return (p[1] & 0x80) && (p[1] & 0x1F) == 5;
    }
    return 0;
}

int media_starts_keyframe(int codec, const uint8_t *payload, Py_ssize_t length) {
    if (length <= 0) {
        return 0;
    }
    if (codec == CODEC_VP8) {
        return vp8_keyframe_start(payload, length);
    }
    if (codec == CODEC_H264) {
        return h264_keyframe(payload, length);
    }
    return 0;
}

static int codec_of(const char *mime) {
    if (strcasecmp(mime, "video/vp8") == 0) {
        return CODEC_VP8;
    }
    if (strcasecmp(mime, "video/h264") == 0) {
        return CODEC_H264;
    }
    return CODEC_OTHER;
}

PyObject *media_keyframe(PyObject *module, PyObject *args) {
    const char *mime;
    Py_buffer payload;
    if (!PyArg_ParseTuple(args, "sy*:starts_keyframe", &mime, &payload)) {
        return NULL;
    }
    int found = media_starts_keyframe(codec_of(mime), payload.buf, payload.len);
    PyBuffer_Release(&payload);
    return PyBool_FromLong(found);
}

/* --- ReceiveStats: aiortc's StreamStatistics, kept in C ------------------------------------------ */
typedef struct {
    PyObject_HEAD
    unsigned int clock_rate;
    int started;
    unsigned int base_seq;
    unsigned int max_seq;
    long long cycles; /* multiples of 65536, as aiortc counts them */
    long long packets_received;
    long long jitter_q4;
    long long last_arrival;
    unsigned int last_timestamp;
    int has_last;
    long long expected_prior;
    long long received_prior;
} ReceiveStats;

static void stats_add(ReceiveStats *s, unsigned int seq, unsigned int timestamp, double now) {
    int in_order = !s->started || seq_newer(seq, s->max_seq);
    s->packets_received++;
    if (!s->started) {
        s->base_seq = seq;
    }
    if (in_order) {
        long long arrival = (long long)(now * s->clock_rate);
        if (s->started && seq < s->max_seq) {
            s->cycles += 1LL << 16;
        }
        s->max_seq = seq;
        s->started = 1;
        if (s->has_last && timestamp != s->last_timestamp && s->packets_received > 1) {
            long long transit = (arrival - s->last_arrival) - (long long)(int32_t)(timestamp - s->last_timestamp);
            long long diff = transit < 0 ? -transit : transit;
            s->jitter_q4 += diff - ((s->jitter_q4 + 8) >> 4);
        }
        s->last_arrival = arrival;
        s->last_timestamp = timestamp;
        s->has_last = 1;
    }
    s->started = 1;
}

static long long stats_expected(ReceiveStats *s) {
    return s->started ? s->cycles + (long long)s->max_seq - (long long)s->base_seq + 1 : 0;
}

static PyObject *receive_stats_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"clock_rate", NULL};
    unsigned int clock_rate;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "I:ReceiveStats", keywords, &clock_rate)) {
        return NULL;
    }
    if (clock_rate == 0) {
        PyErr_SetString(PyExc_ValueError, "clock_rate must be positive");
        return NULL;
    }
    ReceiveStats *self = (ReceiveStats *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->clock_rate = clock_rate;
    }
    return (PyObject *)self;
}

static PyObject *rs_base_seq(ReceiveStats *s, void *c) {
    if (!s->started) {
        Py_RETURN_NONE;
    }
    return PyLong_FromUnsignedLong(s->base_seq);
}

static PyObject *rs_max_seq(ReceiveStats *s, void *c) {
    if (!s->started) {
        Py_RETURN_NONE;
    }
    return PyLong_FromUnsignedLong(s->max_seq);
}

static PyObject *rs_packets_expected(ReceiveStats *s, void *c) { return PyLong_FromLongLong(stats_expected(s)); }

static PyObject *rs_packets_lost(ReceiveStats *s, void *c) {
    long long lost = stats_expected(s) - s->packets_received;
    if (lost > 0x7FFFFF) {
        lost = 0x7FFFFF;
    } else if (lost < -0x800000) {
        lost = -0x800000;
    }
    return PyLong_FromLongLong(lost);
}

static PyObject *rs_jitter(ReceiveStats *s, void *c) { return PyLong_FromLongLong(s->jitter_q4 >> 4); }

static PyObject *rs_fraction_lost(ReceiveStats *s, void *c) {
    /* Since the last time it was read (as aiortc's property: read once per receiver report). */
    long long expected = stats_expected(s);
    long long expected_interval = expected - s->expected_prior;
    s->expected_prior = expected;
    long long received_interval = s->packets_received - s->received_prior;
    s->received_prior = s->packets_received;
    long long lost_interval = expected_interval - received_interval;
    if (expected_interval == 0 || lost_interval <= 0) {
        return PyLong_FromLong(0);
    }
    return PyLong_FromLongLong((lost_interval << 8) / expected_interval);
}

static PyObject *rs_add(ReceiveStats *s, PyObject *packet) {
    /* A packet counted on Python's path (aiortc's StreamStatistics.add): the same object goes on. */
    PyObject *seq = PyObject_GetAttrString(packet, "sequence_number");
    PyObject *timestamp = seq != NULL ? PyObject_GetAttrString(packet, "timestamp") : NULL;
    if (timestamp == NULL) {
        Py_XDECREF(seq);
        return NULL;
    }
    unsigned long sequence_number = PyLong_AsUnsignedLong(seq);
    unsigned long ts = PyLong_AsUnsignedLong(timestamp);
    Py_DECREF(seq);
    Py_DECREF(timestamp);
    if (PyErr_Occurred()) {
        return NULL;
    }
    stats_add(s, (unsigned int)sequence_number & 0xFFFF, (unsigned int)ts, realtime_seconds());
    Py_RETURN_NONE;
}

static PyMethodDef receive_stats_methods[] = {
    {"add", (PyCFunction)rs_add, METH_O, "add(packet): count an RtpPacket received on Python's path."},
    {NULL},
};

static PyMemberDef receive_stats_members[] = {
    {"cycles", T_LONGLONG, offsetof(ReceiveStats, cycles), READONLY, "sequence number wraps, times 65536"},
    {"packets_received", T_LONGLONG, offsetof(ReceiveStats, packets_received), READONLY, "packets received"},
    {"clock_rate", T_UINT, offsetof(ReceiveStats, clock_rate), READONLY, "the RTP clock rate"},
    {NULL},
};

static PyGetSetDef receive_stats_getset[] = {
    {"base_seq", (getter)rs_base_seq, NULL, "the first sequence number (None before a packet)", NULL},
    {"max_seq", (getter)rs_max_seq, NULL, "the highest sequence number (None before a packet)", NULL},
    {"packets_expected", (getter)rs_packets_expected, NULL, "packets expected", NULL},
    {"packets_lost", (getter)rs_packets_lost, NULL, "cumulative packets lost (24-bit signed)", NULL},
    {"jitter", (getter)rs_jitter, NULL, "interarrival jitter, in RTP clock units", NULL},
    {"fraction_lost", (getter)rs_fraction_lost, NULL, "fraction lost since the last read, out of 256", NULL},
    {NULL},
};

PyTypeObject ReceiveStatsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sfu._media.ReceiveStats",
    .tp_doc = PyDoc_STR("ReceiveStats(clock_rate): one received SSRC's statistics for receiver reports,\n"
                        "read like aiortc's StreamStatistics."),
    .tp_basicsize = sizeof(ReceiveStats),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = receive_stats_new,
    .tp_methods = receive_stats_methods,
    .tp_members = receive_stats_members,
    .tp_getset = receive_stats_getset,
};

/* --- Source: a producer's state on the way in ---------------------------------------------------- */
typedef struct {
    PyObject_HEAD
    int video;
    int codec;
    unsigned int clock_rate;
    int payload_type;     /* the producer's codec as this publisher numbers it */
    int rtx_payload_type; /* -1: none */
    PyObject *routes;     /* the producer's list of Route */
    int paused;
    int tapped;
    int closed;
    unsigned int media_ssrc;
    int has_media_ssrc;
    /* the packet cache */
    int slots;
    uint8_t *payloads;
    uint16_t *slot_length;
    uint16_t *slot_seq;
    uint32_t *slot_timestamp;
    uint8_t *slot_flags; /* 1: used, 2: marker */
    /* audio level */
    int level_loudest;
    long long level_due;
    /* counters */
    unsigned long long packets_in;
    unsigned long long bytes_in;
    unsigned long long packets_out;
    unsigned long long keyframes;
    unsigned long long latency_counts[LATENCY_BUCKETS];
    double latency_total;
} Source;

static void source_free_cache(Source *s) {
    PyMem_Free(s->payloads);
    PyMem_Free(s->slot_length);
    PyMem_Free(s->slot_seq);
    PyMem_Free(s->slot_timestamp);
    PyMem_Free(s->slot_flags);
    s->payloads = NULL;
    s->slot_length = NULL;
    s->slot_seq = NULL;
    s->slot_timestamp = NULL;
    s->slot_flags = NULL;
    s->slots = 0;
}

static PyObject *source_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"kind", "mime_type", "clock_rate", "routes", NULL};
    const char *kind, *mime;
    unsigned int clock_rate;
    PyObject *routes;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "ssIO!:Source", keywords, &kind, &mime, &clock_rate, &PyList_Type,
                                     &routes)) {
        return NULL;
    }
    if (strcmp(kind, "audio") != 0 && strcmp(kind, "video") != 0) {
        PyErr_SetString(PyExc_ValueError, "kind must be 'audio' or 'video'");
        return NULL;
    }
    if (clock_rate == 0) {
        PyErr_SetString(PyExc_ValueError, "clock_rate must be positive");
        return NULL;
    }
    Source *self = (Source *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->video = strcmp(kind, "video") == 0;
    self->codec = codec_of(mime);
    self->clock_rate = clock_rate;
    self->payload_type = -1;
    self->rtx_payload_type = -1;
    self->level_loudest = 128;
    Py_INCREF(routes);
    self->routes = routes;
    int slots = self->video ? VIDEO_SLOTS : AUDIO_SLOTS;
    self->payloads = PyMem_Calloc((size_t)slots, SLOT_PAYLOAD);
    self->slot_length = PyMem_Calloc((size_t)slots, sizeof(uint16_t));
    self->slot_seq = PyMem_Calloc((size_t)slots, sizeof(uint16_t));
    self->slot_timestamp = PyMem_Calloc((size_t)slots, sizeof(uint32_t));
    self->slot_flags = PyMem_Calloc((size_t)slots, 1);
    if (!self->payloads || !self->slot_length || !self->slot_seq || !self->slot_timestamp || !self->slot_flags) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->slots = slots;
    return (PyObject *)self;
}

static int source_traverse(Source *self, visitproc visit, void *arg) {
    Py_VISIT(self->routes);
    return 0;
}

static int source_clear(Source *self) {
    Py_CLEAR(self->routes);
    return 0;
}

static void source_dealloc(Source *self) {
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->routes);
    source_free_cache(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static void source_cache_put(Source *s, unsigned int seq, unsigned int timestamp, int marker, const uint8_t *payload,
                             Py_ssize_t length) {
    if (s->slots == 0 || length > SLOT_PAYLOAD) {
        return;
    }
    int i = (int)(seq % (unsigned int)s->slots);
    memcpy(s->payloads + (size_t)i * SLOT_PAYLOAD, payload, (size_t)length);
    s->slot_length[i] = (uint16_t)length;
    s->slot_seq[i] = (uint16_t)seq;
    s->slot_timestamp[i] = timestamp;
    s->slot_flags[i] = (uint8_t)(1 | (marker ? 2 : 0));
}

PyDoc_STRVAR(cached_doc, "cached(sequence_number) -> (marker, timestamp, payload) or None\n\n"
                         "A packet still in the cache (what a NACK is answered from).");

static PyObject *source_cached(Source *self, PyObject *arg) {
    unsigned long seq = PyLong_AsUnsignedLong(arg);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (self->slots == 0 || seq > 0xFFFF) {
        Py_RETURN_NONE;
    }
    int i = (int)(seq % (unsigned long)self->slots);
    if (!(self->slot_flags[i] & 1) || self->slot_seq[i] != seq) {
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(iky#)", (self->slot_flags[i] & 2) ? 1 : 0, (unsigned long)self->slot_timestamp[i],
                         (const char *)(self->payloads + (size_t)i * SLOT_PAYLOAD), (Py_ssize_t)self->slot_length[i]);
}

static PyObject *source_close(Source *self, PyObject *unused) {
    self->closed = 1;
    source_free_cache(self);
    Py_RETURN_NONE;
}

static PyObject *source_latency_counts(Source *self, void *c) {
    PyObject *counts = PyTuple_New(LATENCY_BUCKETS);
    if (counts == NULL) {
        return NULL;
    }
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
        PyObject *n = PyLong_FromUnsignedLongLong(self->latency_counts[i]);
        if (n == NULL) {
            Py_DECREF(counts);
            return NULL;
        }
        PyTuple_SET_ITEM(counts, i, n);
    }
    return counts;
}

static PyObject *source_media_ssrc(Source *self, void *c) {
    if (!self->has_media_ssrc) {
        Py_RETURN_NONE;
    }
    return PyLong_FromUnsignedLong(self->media_ssrc);
}

static PyMethodDef source_methods[] = {
    {"cached", (PyCFunction)source_cached, METH_O, cached_doc},
    {"close", (PyCFunction)source_close, METH_NOARGS, "Stop: packets bound to it are dropped; the cache goes."},
    {NULL},
};

static PyMemberDef source_members[] = {
    {"payload_type", T_INT, offsetof(Source, payload_type), 0, "the codec's payload type (-1: none accepted yet)"},
    {"rtx_payload_type", T_INT, offsetof(Source, rtx_payload_type), 0, "its RTX payload type, or -1"},
    {"paused", T_INT, offsetof(Source, paused), 0, "received and counted, not forwarded"},
    {"tapped", T_INT, offsetof(Source, tapped), 0, "hand every packet to Python as well (a reader)"},
    {"closed", T_INT, offsetof(Source, closed), READONLY, "closed: its packets are dropped"},
    {"packets_in", T_ULONGLONG, offsetof(Source, packets_in), READONLY, "media packets received"},
    {"bytes_in", T_ULONGLONG, offsetof(Source, bytes_in), READONLY, "payload bytes received"},
    {"packets_out", T_ULONGLONG, offsetof(Source, packets_out), READONLY, "copies forwarded"},
    {"keyframes", T_ULONGLONG, offsetof(Source, keyframes), READONLY, "keyframe starts seen (when looked for)"},
    {"latency_total", T_DOUBLE, offsetof(Source, latency_total), READONLY, "seconds from arrival to last send, summed"},
    {NULL},
};

static PyGetSetDef source_getset[] = {
    {"latency_counts", (getter)source_latency_counts, NULL, "packets per latency bucket (LATENCY_BOUNDS, then +Inf)",
     NULL},
    {"media_ssrc", (getter)source_media_ssrc, NULL, "the SSRC of the last media packet (None before one)", NULL},
    {NULL},
};

PyTypeObject SourceType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sfu._media.Source",
    .tp_doc = PyDoc_STR("Source(kind, mime_type, clock_rate, routes): a producer on the way in: its routes,\n"
                        "packet cache, counters and audio level."),
    .tp_basicsize = sizeof(Source),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_new = source_new,
    .tp_dealloc = (destructor)source_dealloc,
    .tp_traverse = (traverseproc)source_traverse,
    .tp_clear = (inquiry)source_clear,
    .tp_methods = source_methods,
    .tp_members = source_members,
    .tp_getset = source_getset,
};

/* --- Ingest: a transport's way in ------------------------------------------------------------------ */
typedef struct {
    unsigned int ssrc;
    int rtx;                 /* an RTX stream, unwrapped to media_ssrc */
    unsigned int media_ssrc; /* for rtx */
    int nack;                /* detect losses (media) */
    Source *source;
    ReceiveStats *stats;
    int nack_started;
    unsigned int nack_max;
    int missing_count;
    uint16_t missing[NACK_HISTORY];
} Binding;

typedef struct {
    PyObject_HEAD
    SrtpSession *session;
    int count;
    Binding bindings[MAX_BINDINGS];
    int audio_level_id;
    int transport_cc_id;
    int arrivals;
    uint16_t arrival_seq[MAX_ARRIVALS];
    long long arrival_us[MAX_ARRIVALS];
    /* counters */
    unsigned long long packets;
    unsigned long long bytes;
    unsigned long long unprotect_failures;
    unsigned long long malformed;
    unsigned long long unrouted;
    unsigned long long padding;
    unsigned long long arrivals_dropped;
} Ingest;

static Binding *ingest_find(Ingest *self, unsigned int ssrc) {
    for (int i = 0; i < self->count; i++) {
        if (self->bindings[i].ssrc == ssrc) {
            return &self->bindings[i];
        }
    }
    return NULL;
}

static void binding_release(Binding *b) {
    Py_CLEAR(b->source);
    Py_CLEAR(b->stats);
}

static void ingest_remove_at(Ingest *self, int i) {
    binding_release(&self->bindings[i]);
    self->count--;
    if (i != self->count) {
        self->bindings[i] = self->bindings[self->count];
    }
    memset(&self->bindings[self->count], 0, sizeof(Binding));
}

static PyObject *ingest_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"session", NULL};
    PyObject *session;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!:Ingest", keywords, &SrtpSessionType, &session)) {
        return NULL;
    }
    if (((SrtpSession *)session)->outbound) {
        PyErr_SetString(PyExc_ValueError, "the session must be inbound");
        return NULL;
    }
    Ingest *self = (Ingest *)type->tp_alloc(type, 0);
    if (self != NULL) {
        Py_INCREF(session);
        self->session = (SrtpSession *)session;
    }
    return (PyObject *)self;
}

static int ingest_traverse(Ingest *self, visitproc visit, void *arg) {
    Py_VISIT(self->session);
    for (int i = 0; i < self->count; i++) {
        Py_VISIT(self->bindings[i].source);
        Py_VISIT(self->bindings[i].stats);
    }
    return 0;
}

static int ingest_clear(Ingest *self) {
    Py_CLEAR(self->session);
    while (self->count > 0) {
        ingest_remove_at(self, self->count - 1);
    }
    return 0;
}

static void ingest_dealloc(Ingest *self) {
    PyObject_GC_UnTrack(self);
    ingest_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Loss detection, as aiortc's NackGenerator: 1 when this packet revealed new losses. */
static int nack_add(Binding *b, unsigned int seq) {
    if (!b->nack_started) {
        b->nack_started = 1;
        b->nack_max = seq;
        return 0;
    }
    int missed = 0;
    if (seq_newer(seq, b->nack_max)) {
        unsigned int gap = (seq - b->nack_max) & 0xFFFF;
        unsigned int first = gap > NACK_HISTORY ? (seq - NACK_HISTORY) & 0xFFFF : (b->nack_max + 1) & 0xFFFF;
        for (unsigned int s = first; s != seq; s = (s + 1) & 0xFFFF) {
            if (b->missing_count < NACK_HISTORY) {
                b->missing[b->missing_count++] = (uint16_t)s;
            }
            missed = 1;
        }
        b->nack_max = seq;
        /* forget losses older than the history */
        int kept = 0;
        for (int i = 0; i < b->missing_count; i++) {
            if (((seq - b->missing[i]) & 0xFFFF) <= NACK_HISTORY) {
                b->missing[kept++] = b->missing[i];
            }
        }
        b->missing_count = kept;
    } else {
        for (int i = 0; i < b->missing_count; i++) {
            if (b->missing[i] == seq) {
                b->missing[i] = b->missing[--b->missing_count];
                break;
            }
        }
    }
    return missed;
}

static PyObject *nack_list(Binding *b) {
    /* oldest first */
    uint16_t sorted[NACK_HISTORY];
    int n = b->missing_count;
    memcpy(sorted, b->missing, (size_t)n * sizeof(uint16_t));
    for (int i = 1; i < n; i++) {
        uint16_t v = sorted[i];
        unsigned int age = (b->nack_max - v) & 0xFFFF;
        int j = i - 1;
        while (j >= 0 && ((b->nack_max - sorted[j]) & 0xFFFF) < age) {
            sorted[j + 1] = sorted[j];
            j--;
        }
        sorted[j + 1] = v;
    }
    PyObject *list = PyList_New(n);
    if (list == NULL) {
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        PyObject *v = PyLong_FromLong(sorted[i]);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, v);
    }
    return list;
}

/* Append an event (a new reference, stolen) to *events, made on first use. -1 on failure. */
static int add_event(PyObject **events, PyObject *event) {
    if (event == NULL) {
        return -1;
    }
    if (*events == NULL) {
        *events = PyList_New(0);
        if (*events == NULL) {
            Py_DECREF(event);
            return -1;
        }
    }
    int failed = PyList_Append(*events, event);
    Py_DECREF(event);
    return failed;
}

static void latency_add(Source *s, long long started_ns) {
    double seconds = (double)(monotonic_ns() - started_ns) * 1e-9;
    int i = 0;
    while (i < LATENCY_BUCKETS - 1 && seconds > latency_bounds[i]) {
        i++;
    }
    s->latency_counts[i]++;
    s->latency_total += seconds;
}

/* An RTP header as it came: fixed part, CSRCs and extensions (in the clear under SRTP too), with the
 * values the ingest reads from the extensions. */
typedef struct {
    int marker;
    int pt;
    unsigned int seq;
    unsigned int timestamp;
    unsigned int ssrc;
    int offset;        /* where the payload starts */
    int audio_level;   /* the audio-level byte, or -1 */
    int transport_seq; /* the transport-wide sequence number, or -1 */
} Header;

/* Parse buf[0:length]'s header once per packet; -1 when it is malformed or truncated. */
static int parse_header(Ingest *self, const uint8_t *buf, Py_ssize_t length, Header *h) {
    if (length < 12 || (buf[0] & 0xC0) != 0x80) {
        return -1;
    }
    h->marker = buf[1] >> 7;
    h->pt = buf[1] & 0x7F;
    h->seq = get16(buf + 2);
    h->timestamp = get32(buf + 4);
    h->ssrc = get32(buf + 8);
    h->audio_level = -1;
    h->transport_seq = -1;
    Py_ssize_t offset = 12 + 4 * (buf[0] & 0x0F);
    if (offset > length) {
        return -1;
    }
    if (buf[0] & 0x10) { /* header extensions (RFC 8285) */
        if (offset + 4 > length) {
            return -1;
        }
        unsigned int profile = get16(buf + offset);
        Py_ssize_t ext_length = 4 * (Py_ssize_t)get16(buf + offset + 2);
        const uint8_t *ext = buf + offset + 4;
        offset += 4 + ext_length;
        if (offset > length) {
            return -1;
        }
        int two_byte = (profile & 0xFFF0) == 0x1000;
        if (profile != 0xBEDE && !two_byte) {
            ext_length = 0; /* an extension profile of no interest */
        }
        Py_ssize_t i = 0;
        while (i < ext_length) {
            int id, n, head;
            if (ext[i] == 0) { /* padding */
                i++;
                continue;
            }
            if (two_byte) {
                if (i + 1 >= ext_length) {
                    break;
                }
                id = ext[i], n = ext[i + 1], head = 2;
            } else {
                id = ext[i] >> 4, n = (ext[i] & 0x0F) + 1, head = 1;
                if (id == 15) {
                    break;
                }
            }
            if (i + head + n > ext_length) {
                break;
            }
            const uint8_t *value = ext + i + head;
            if (id == self->audio_level_id && n >= 1) {
                h->audio_level = value[0];
            } else if (id == self->transport_cc_id && n >= 2) {
                h->transport_seq = (int)get16(value);
            }
            i += head + n;
        }
    }
    h->offset = (int)offset;
    return 0;
}

/* One plaintext RTP packet in buf[0:length], its header parsed in `h` and its binding `b` (NULL: not
 * bound). Returns None, a list of events, or NULL (error). */
static PyObject *ingest_plain(Ingest *self, uint8_t *buf, int length, long long started_ns, const Header *h,
                              Binding *b) {
    PyObject *events = NULL;
    int marker = h->marker;
    int pt = h->pt;
    unsigned int seq = h->seq;
    unsigned int timestamp = h->timestamp;
    unsigned int ssrc = h->ssrc;
    int offset = h->offset;
    int audio_level = h->audio_level;
    if (offset > length) {
        self->malformed++;
        Py_RETURN_NONE;
    }
    int end = length;
    if (buf[0] & 0x20) { /* padding */
        int pad = buf[length - 1];
        if (pad == 0 || offset + pad > length) {
            self->malformed++;
            Py_RETURN_NONE;
        }
        end -= pad;
    }
    Source *source = b != NULL ? b->source : NULL;
    if (source == NULL || (b->rtx ? pt != source->rtx_payload_type : pt != source->payload_type)) {
        self->unrouted++; /* Python routes it (aiortc's router: by SSRC, payload type, rid) */
        PyObject *data = PyBytes_FromStringAndSize((const char *)buf, length);
        if (data == NULL || add_event(&events, Py_BuildValue("(iN)", EVENT_UNROUTED, data)) < 0) {
            Py_XDECREF(events);
            return NULL;
        }
        return events;
    }
    if (source->closed) {
        Py_RETURN_NONE;
    }
    stats_add(b->stats, seq, timestamp, realtime_seconds());
    const uint8_t *payload = buf + offset;
    Py_ssize_t payload_length = end - offset;
    Binding *media = b;
    if (b->rtx) {
        if (payload_length < 2) {
            self->padding++; /* padding probes arrive on the RTX SSRC */
            Py_RETURN_NONE;
        }
        seq = get16(payload);
        payload += 2;
        payload_length -= 2;
        ssrc = b->media_ssrc;
        pt = source->payload_type;
        media = ingest_find(self, ssrc);
    }
    Py_INCREF(source); /* a tap or a TURN send runs Python, which may unbind it */
    if (media != NULL && media->nack && nack_add(media, seq)) {
        PyObject *lost = nack_list(media);
        if (lost == NULL || add_event(&events, Py_BuildValue("(ikN)", EVENT_NACK, (unsigned long)ssrc, lost)) < 0) {
            goto error;
        }
    }
    if (payload_length <= 0) {
        self->padding++;
        goto done;
    }
    source->media_ssrc = ssrc;
    source->has_media_ssrc = 1;
    source->packets_in++;
    source->bytes_in += (unsigned long long)payload_length;
    source_cache_put(source, seq, timestamp, marker, payload, payload_length);
    if (audio_level >= 0 && !source->video) {
        int level = audio_level & 0x7F;
        if (level < source->level_loudest) {
            source->level_loudest = level;
        }
        if (started_ns >= source->level_due) {
            source->level_due = started_ns + LEVEL_INTERVAL_NS;
            int loudest = source->level_loudest;
            source->level_loudest = 128;
            Py_INCREF(source);
            if (add_event(&events, Py_BuildValue("(iNi)", EVENT_LEVEL, (PyObject *)source, loudest)) < 0) {
                goto error;
            }
        }
    }
    if (source->paused) {
        goto done;
    }
    int keyframe = 0;
    if (source->video && (source->tapped || fanout_awaits_keyframe(source->routes))) {
        keyframe = media_starts_keyframe(source->codec, payload, payload_length);
        source->keyframes += (unsigned long long)keyframe;
    }
    if (PyList_GET_SIZE(source->routes) > 0) {
        long sent = fanout_packet(source->routes, marker, seq, timestamp, payload, payload_length, keyframe,
                                  source->video ? -1 : audio_level, media_ntp_now());
        if (sent < 0) {
            goto error;
        }
        if (sent > 0) {
            source->packets_out += (unsigned long long)sent;
            latency_add(source, started_ns);
        }
    }
    if (source->tapped) {
        /* the packet as the reader expects it: the media SSRC and sequence, no extensions */
        PyObject *data = PyBytes_FromStringAndSize(NULL, 12 + payload_length);
        if (data == NULL) {
            goto error;
        }
        uint8_t *p = (uint8_t *)PyBytes_AS_STRING(data);
        p[0] = 0x80;
        p[1] = (uint8_t)((marker << 7) | (pt & 0x7F));
        p[2] = (uint8_t)(seq >> 8);
        p[3] = (uint8_t)seq;
        p[4] = (uint8_t)(timestamp >> 24);
        p[5] = (uint8_t)(timestamp >> 16);
        p[6] = (uint8_t)(timestamp >> 8);
        p[7] = (uint8_t)timestamp;
        p[8] = (uint8_t)(ssrc >> 24);
        p[9] = (uint8_t)(ssrc >> 16);
        p[10] = (uint8_t)(ssrc >> 8);
        p[11] = (uint8_t)ssrc;
        memcpy(p + 12, payload, (size_t)payload_length);
        Py_INCREF(source);
        if (add_event(&events, Py_BuildValue("(iNNO)", EVENT_TAP, (PyObject *)source, data,
                                             keyframe ? Py_True : Py_False)) < 0) {
            goto error;
        }
    }
done:
    Py_DECREF(source);
    if (events == NULL) {
        Py_RETURN_NONE;
    }
    return events;
error:
    Py_DECREF(source);
    Py_XDECREF(events);
    return NULL;
}

/* A packet's transport-wide sequence number kept with its arrival time, for the feedback: every
 * packet of the transport counts, whichever path takes it, padding probes included, or the
 * publisher's estimate would take the packets Python's path took for losses. */
static void record_arrival(Ingest *self, const Header *h, long long now_ns) {
    if (h->transport_seq < 0) {
        return;
    }
    if (self->arrivals < MAX_ARRIVALS) {
        self->arrival_seq[self->arrivals] = (uint16_t)h->transport_seq;
        self->arrival_us[self->arrivals] = now_ns / 1000;
        self->arrivals++;
    } else {
        self->arrivals_dropped++;
    }
}

PyDoc_STRVAR(receive_doc,
             "receive(datagram) -> False | True | None | list of events\n\n"
             "A datagram from the ICE socket. False: not SRTP for C (DTLS, SRTCP, an SSRC left to Python):\n"
             "Python's path takes it. True: an SSRC not bound yet, still protected: Python routes it and\n"
             "binds the SSRC (then calls again) or leaves it to its own path (and queues the datagram).\n"
             "None: handled (or counted and dropped). Else the events Python must act on:\n"
             "(UNROUTED, plaintext), (NACK, media_ssrc, [sequence numbers]), (LEVEL, source, -dBov),\n"
             "(TAP, source, plaintext, keyframe).");

static PyObject *ingest_receive(Ingest *self, PyObject *datagram) {
    if (!PyBytes_Check(datagram)) {
        PyErr_SetString(PyExc_TypeError, "datagram must be bytes");
        return NULL;
    }
    Py_ssize_t length = PyBytes_GET_SIZE(datagram);
    const uint8_t *data = (const uint8_t *)PyBytes_AS_STRING(datagram);
    /* RFC 7983: 128-191 is RTP or RTCP; RTCP's packet types 192-223 (aiortc: up to 208) go to Python */
    if (length < 2 || data[0] < 128 || data[0] > 191 || (data[1] >= 192 && data[1] <= 223)) {
        Py_RETURN_FALSE;
    }
    long long started = monotonic_ns();
    if (length < 12 || length > MAX_PACKET || self->session == NULL) {
        self->malformed++;
        Py_RETURN_NONE;
    }
    Header h;
    if (parse_header(self, data, length, &h) < 0) { /* the header is in the clear */
        self->malformed++;
        Py_RETURN_NONE;
    }
    record_arrival(self, &h, started);
    Binding *b = ingest_find(self, h.ssrc);
    if (b == NULL) {
        self->unrouted++;
        Py_RETURN_TRUE; /* Python routes it, then binds or leaves the SSRC, and hands it back or queues it */
    }
    if (b->source == NULL) {
        Py_RETURN_FALSE; /* an SSRC left to Python's path */
    }
    self->packets++;
    self->bytes += (unsigned long long)length;
    uint8_t buffer[BUFFER_SIZE] __attribute__((aligned(16)));
    memcpy(buffer, data, (size_t)length);
    int n = (int)length;
    if (srtp_session_unprotect(self->session, buffer, &n) != 0) {
        self->unprotect_failures++;
        Py_RETURN_NONE;
    }
    return ingest_plain(self, buffer, n, started, &h, b);
}

PyDoc_STRVAR(receive_plain_doc, "receive_plain(packet) -> None | list of events\n\n"
                                "An RTP packet already unprotected, taken as receive() takes one once it has\n"
                                "unprotected it (the tests feed the parser malformed packets with it, which\n"
                                "libsrtp would refuse to protect).");

static PyObject *ingest_receive_plain(Ingest *self, PyObject *packet) {
    if (!PyBytes_Check(packet)) {
        PyErr_SetString(PyExc_TypeError, "packet must be bytes");
        return NULL;
    }
    Py_ssize_t length = PyBytes_GET_SIZE(packet);
    if (length > MAX_PACKET) {
        self->malformed++;
        Py_RETURN_NONE;
    }
    uint8_t buffer[BUFFER_SIZE] __attribute__((aligned(16)));
    memcpy(buffer, PyBytes_AS_STRING(packet), (size_t)length);
    Header h;
    if (parse_header(self, buffer, length, &h) < 0) {
        self->malformed++;
        Py_RETURN_NONE;
    }
    return ingest_plain(self, buffer, (int)length, monotonic_ns(), &h, ingest_find(self, h.ssrc));
}

PyDoc_STRVAR(bind_doc, "bind(ssrc, source, stats, rtx_of=None, nack=False, after=None) -> bool\n\n"
                       "Route the packets of `ssrc` to `source`, counting them in `stats` (a ReceiveStats);\n"
                       "an RTX stream unwraps to `rtx_of`. `nack`: detect losses. False when the transport\n"
                       "holds too many streams (the SSRC stays with Python's path). `after`: the last sequence\n"
                       "number Python's path saw of it, so that a loss in between is found too.");

static PyObject *ingest_bind(Ingest *self, PyObject *args, PyObject *kwds) {
    static char *keywords[] = {"ssrc", "source", "stats", "rtx_of", "nack", "after", NULL};
    unsigned int ssrc;
    PyObject *source, *stats, *rtx_of = Py_None, *after = Py_None;
    int nack = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "IO!O!|OpO:bind", keywords, &ssrc, &SourceType, &source,
                                     &ReceiveStatsType, &stats, &rtx_of, &nack, &after)) {
        return NULL;
    }
    long last_seen = -1;
    if (after != Py_None) {
        last_seen = PyLong_AsLong(after);
        if (PyErr_Occurred()) {
            return NULL;
        }
        if (last_seen < 0 || last_seen > 0xFFFF) {
            PyErr_SetString(PyExc_ValueError, "after is not a sequence number");
            return NULL;
        }
    }
    unsigned long media_ssrc = 0;
    if (rtx_of != Py_None) {
        media_ssrc = PyLong_AsUnsignedLong(rtx_of);
        if (PyErr_Occurred()) {
            return NULL;
        }
        if (media_ssrc > 0xFFFFFFFFUL) {
            PyErr_SetString(PyExc_ValueError, "rtx_of is not an SSRC");
            return NULL;
        }
    }
    Binding *b = ingest_find(self, ssrc);
    if (b == NULL) {
        if (self->count == MAX_BINDINGS) {
            Py_RETURN_FALSE;
        }
        b = &self->bindings[self->count++];
    } else {
        binding_release(b);
    }
    memset(b, 0, sizeof(*b));
    b->ssrc = ssrc;
    b->rtx = rtx_of != Py_None;
    b->media_ssrc = (unsigned int)media_ssrc;
    b->nack = nack && rtx_of == Py_None;
    if (b->nack && last_seen >= 0) { /* losses from the last packet Python's path saw are found too */
        b->nack_started = 1;
        b->nack_max = (unsigned int)last_seen;
    }
    Py_INCREF(source);
    b->source = (Source *)source;
    Py_INCREF(stats);
    b->stats = (ReceiveStats *)stats;
    Py_RETURN_TRUE;
}

PyDoc_STRVAR(leave_doc, "leave(ssrc) -> bool\n\n"
                        "Leave the packets of `ssrc` to Python's path (aiortc's own session and receiver):\n"
                        "receive() returns False for them until the SSRC is unbound. False when full.");

static PyObject *ingest_leave(Ingest *self, PyObject *arg) {
    unsigned long ssrc = PyLong_AsUnsignedLong(arg);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (ssrc > 0xFFFFFFFFUL) {
        PyErr_SetString(PyExc_ValueError, "not an SSRC");
        return NULL;
    }
    Binding *b = ingest_find(self, (unsigned int)ssrc);
    if (b == NULL) {
        if (self->count == MAX_BINDINGS) {
            Py_RETURN_FALSE;
        }
        b = &self->bindings[self->count++];
    } else {
        binding_release(b);
    }
    memset(b, 0, sizeof(*b));
    b->ssrc = (unsigned int)ssrc;
    Py_RETURN_TRUE;
}

static PyObject *ingest_unbind(Ingest *self, PyObject *args) {
    PyObject *what;
    if (!PyArg_ParseTuple(args, "O:unbind", &what)) {
        return NULL;
    }
    if (PyObject_TypeCheck(what, &SourceType)) { /* every SSRC of a source */
        for (int i = self->count - 1; i >= 0; i--) {
            if ((PyObject *)self->bindings[i].source == what) {
                ingest_remove_at(self, i);
            }
        }
        Py_RETURN_NONE;
    }
    unsigned long ssrc = PyLong_AsUnsignedLong(what);
    if (PyErr_Occurred()) {
        return NULL;
    }
    for (int i = 0; i < self->count; i++) {
        if (self->bindings[i].ssrc == ssrc) {
            ingest_remove_at(self, i);
            break;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *ingest_bound(Ingest *self, PyObject *unused) {
    PyObject *found = PyDict_New();
    if (found == NULL) {
        return NULL;
    }
    for (int i = 0; i < self->count; i++) {
        PyObject *key = PyLong_FromUnsignedLong(self->bindings[i].ssrc);
        PyObject *value = self->bindings[i].source != NULL ? (PyObject *)self->bindings[i].source : Py_None;
        if (key == NULL || PyDict_SetItem(found, key, value) < 0) {
            Py_XDECREF(key);
            Py_DECREF(found);
            return NULL;
        }
        Py_DECREF(key);
    }
    return found;
}

static PyObject *ingest_take_arrivals(Ingest *self, PyObject *unused) {
    PyObject *list = PyList_New(self->arrivals);
    if (list == NULL) {
        return NULL;
    }
    for (int i = 0; i < self->arrivals; i++) {
        PyObject *pair = Py_BuildValue("(iL)", (int)self->arrival_seq[i], self->arrival_us[i]);
        if (pair == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, pair);
    }
    self->arrivals = 0;
    return list;
}

static PyObject *ingest_set_session(Ingest *self, PyObject *session) {
    if (Py_TYPE(session) != &SrtpSessionType || ((SrtpSession *)session)->outbound) {
        PyErr_SetString(PyExc_TypeError, "an inbound SrtpSession is needed");
        return NULL;
    }
    Py_INCREF(session);
    Py_XSETREF(self->session, (SrtpSession *)session);
    Py_RETURN_NONE;
}

static PyMethodDef ingest_methods[] = {
    {"receive", (PyCFunction)ingest_receive, METH_O, receive_doc},
    {"receive_plain", (PyCFunction)ingest_receive_plain, METH_O, receive_plain_doc},
    {"bind", (PyCFunction)(void (*)(void))ingest_bind, METH_VARARGS | METH_KEYWORDS, bind_doc},
    {"leave", (PyCFunction)ingest_leave, METH_O, leave_doc},
    {"unbind", (PyCFunction)ingest_unbind, METH_VARARGS, "unbind(ssrc or source): unknown again (routed on its next packet)."},
    {"bound", (PyCFunction)ingest_bound, METH_NOARGS, "{ssrc: source, or None if left to Python} of the bound streams."},
    {"take_arrivals", (PyCFunction)ingest_take_arrivals, METH_NOARGS,
     "[(transport-wide sequence number, arrival in microseconds)] since the last call (for feedback)."},
    {"set_session", (PyCFunction)ingest_set_session, METH_O, "A new inbound SrtpSession (new DTLS keys)."},
    {NULL},
};

static PyMemberDef ingest_members[] = {
    {"audio_level_id", T_INT, offsetof(Ingest, audio_level_id), 0, "the audio-level extension's id (0: none)"},
    {"transport_cc_id", T_INT, offsetof(Ingest, transport_cc_id), 0,
     "the transport-wide sequence number extension's id (0: none)"},
    {"packets", T_ULONGLONG, offsetof(Ingest, packets), READONLY, "SRTP packets of bound SSRCs received"},
    {"bytes", T_ULONGLONG, offsetof(Ingest, bytes), READONLY, "SRTP bytes of bound SSRCs received"},
    {"unprotect_failures", T_ULONGLONG, offsetof(Ingest, unprotect_failures), READONLY,
     "packets SRTP refused (authentication, replay)"},
    {"malformed", T_ULONGLONG, offsetof(Ingest, malformed), READONLY, "packets too short or malformed: dropped"},
    {"unrouted", T_ULONGLONG, offsetof(Ingest, unrouted), READONLY,
     "packets handed to Python to route (an unknown SSRC, or a payload type its source does not take)"},
    {"padding", T_ULONGLONG, offsetof(Ingest, padding), READONLY, "padding-only packets dropped"},
    {"arrivals_dropped", T_ULONGLONG, offsetof(Ingest, arrivals_dropped), READONLY,
     "arrival times not kept: nobody took them in time"},
    {NULL},
};

PyTypeObject IngestType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sfu._media.Ingest",
    .tp_doc = PyDoc_STR("Ingest(session): a transport's received SRTP, one call per packet."),
    .tp_basicsize = sizeof(Ingest),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = ingest_new,
    .tp_dealloc = (destructor)ingest_dealloc,
    .tp_traverse = (traverseproc)ingest_traverse,
    .tp_clear = (inquiry)ingest_clear,
    .tp_methods = ingest_methods,
    .tp_members = ingest_members,
};
