/* The media plane's compiled part (the extension `sfu._media`), shared declarations.
 *
 * _srtp.c    libsrtp 2, bound once at import from the library pylibsrtp loaded; SRTP sessions as
 *            opaque objects (SrtpSession) that Python builds from DTLS keying material.
 * _fanout.c  Route, one subscriber's way out, and the forwarding loop over a producer's routes.
 * _ingest.c  Ingest, a transport's way in: one call per received SRTP packet (unprotect, parse,
 *            route by SSRC, RTX unwrap, receive statistics, loss detection, packet cache, audio
 *            level, keyframe start, fan-out); Source, a producer's state there; ReceiveStats.
 *
 * Everything runs on the event loop's thread with the GIL held; nothing is kept process-wide but
 * the libsrtp functions bound at import. Counters live in the objects they count.
 */
#ifndef LOPHOC_MEDIA_H
#define LOPHOC_MEDIA_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <structmember.h>
#include <sys/socket.h>

#define BUFFER_SIZE 2048
#define SRTP_TRAILER_ROOM 160 /* libsrtp 2: SRTP_MAX_TRAILER_LEN is 16 + 128 (tag + MKI) */
#define MAX_PACKET (BUFFER_SIZE - SRTP_TRAILER_ROOM)
#define EXT_MAX 64
#define LATENCY_BUCKETS 13 /* 12 bounds (sfu/stats.py LATENCY_BOUNDS) and +Inf */

/* --- _srtp.c ----------------------------------------------------------------------------------- */
typedef struct {
    PyObject_HEAD
    void *ctx; /* srtp_t */
    int outbound;
    unsigned long long failures; /* protect or unprotect refused (replay, authentication) */
} SrtpSession;

extern PyTypeObject SrtpSessionType;
int srtp_session_protect(SrtpSession *session, uint8_t *packet, int *length);
int srtp_session_unprotect(SrtpSession *session, uint8_t *packet, int *length);
PyObject *media_bind_libsrtp(PyObject *module, PyObject *args);
PyObject *media_policy_layout(PyObject *module, PyObject *unused);

/* --- _fanout.c ----------------------------------------------------------------------------------- */
typedef struct {
    PyObject_HEAD
    /* where: set by connect(), cleared by disconnect() */
    int fd;
    struct sockaddr_storage address;
    socklen_t address_length;
    SrtpSession *session;    /* the transport's outgoing SRTP session (RTP) */
    PyObject *owner;         /* owns `fd`: kept alive while connected */
    PyObject *send_callable; /* instead of `fd`: a Python function that sends (a TURN-relayed pair) */
    /* how: set from the negotiated parameters */
    unsigned int ssrc;
    unsigned int payload_type;
    unsigned int timestamp_offset;
    unsigned int sequence_offset;
    int value_kind;
    uint8_t ext_static[EXT_MAX];
    Py_ssize_t ext_static_length;
    uint8_t ext_before[EXT_MAX];
    Py_ssize_t ext_before_length;
    uint8_t ext_after[EXT_MAX];
    Py_ssize_t ext_after_length;
    /* state */
    int active;           /* negotiated and not paused */
    int based;            /* sequence_offset is set: the stream has started */
    int waiting_keyframe; /* video that must start on a keyframe */
    unsigned int next_sequence;
    unsigned long long packets_sent;
    unsigned long long octets_sent;
    unsigned long long send_errors;  /* protect refused, or the socket failed */
    unsigned long long send_blocked; /* the socket's buffer was full (EAGAIN): dropped, not an error */
    unsigned int last_timestamp;
    unsigned long long last_ntp;
} Route;

extern PyTypeObject RouteType;

/* Send one packet (payload and its header fields) to every active route of `routes` (a list).
 * Returns the copies sent, or -1 with an exception set (only for a list holding something else). */
long fanout_packet(PyObject *routes, int marker, unsigned int sequence, unsigned int timestamp,
                   const uint8_t *payload, Py_ssize_t payload_length, int keyframe, long audio_level,
                   unsigned long long ntp);
/* Does any active route of `routes` wait for a keyframe to start? */
int fanout_awaits_keyframe(PyObject *routes);
PyObject *media_forward(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
unsigned long long media_ntp_now(void);

/* --- _ingest.c ----------------------------------------------------------------------------------- */
extern const double latency_bounds[LATENCY_BUCKETS - 1]; /* seconds, as sfu/stats.py LATENCY_BOUNDS */
extern PyTypeObject IngestType;
extern PyTypeObject SourceType;
extern PyTypeObject ReceiveStatsType;
int media_starts_keyframe(int codec, const uint8_t *payload, Py_ssize_t length);
PyObject *media_keyframe(PyObject *module, PyObject *args);

#endif
