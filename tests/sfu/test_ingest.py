"""The native way in on its own (sfu/_ingest.c): SRTP packets protected by pylibsrtp (an
implementation of its own) go into an `Ingest`, and what it forwards comes out of real UDP sockets
on loopback, unprotected again by pylibsrtp and read back byte by byte."""
from __future__ import annotations

import math
import random
import socket
import struct
from collections.abc import Iterator

import pytest
from pylibsrtp import Policy, Session

import sfu.aiortc_adapter  # noqa: F401  (binds libsrtp for the media module)
from sfu import _media
from sfu._media import Ingest, ReceiveStats, Route, Source, SrtpSession
from sfu.consumer import extension_blocks
from tests.sfu.test_fanout import KEY, PROFILE
from tests.sfu.test_fanout import Subscriber as FanoutSubscriber
from tests.sfu.test_fanout import server_socket  # noqa: F401  (the fixture)

VP8, RTX, OPUS = 96, 97, 111
MEDIA_SSRC, RTX_SSRC = 0x1111, 0x2222
VP8_KEYFRAME = bytes([0x10, 0x00])  # start of partition 0, P bit 0
VP8_DELTA = bytes([0x10, 0x01])


def rtp(seq: int, payload: bytes, *, ssrc: int = MEDIA_SSRC, pt: int = VP8, ts: int = 1000, marker: int = 0,
        extensions: bytes = b"", padding: int = 0) -> bytes:
    first = 0x80 | (0x10 if extensions else 0) | (0x20 if padding else 0)
    tail = (b"\x00" * (padding - 1) + bytes([padding])) if padding else b""
    return struct.pack("!BBHII", first, (marker << 7) | pt, seq, ts, ssrc) + extensions + payload + tail


def one_byte_extensions(*elements: tuple[int, bytes]) -> bytes:
    body = b"".join(bytes([(i << 4) | (len(v) - 1)]) + v for i, v in elements)
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("!HH", 0xBEDE, len(body) // 4) + body


class Publisher:
    """Protects like a browser's SRTP session would."""

    def __init__(self, key: bytes = KEY) -> None:
        self.session = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=PROFILE))

    def __call__(self, packet: bytes) -> bytes:
        return self.session.protect(packet)


class Subscriber(FanoutSubscriber):
    """test_fanout's subscriber socket, reading a packet back as its header fields and payload."""

    def __init__(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        super().__init__(sock, Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=PROFILE)))

    def read(self) -> tuple[int, int, int, int, bytes]:
        """(marker, payload type, sequence number, SSRC, payload) of the next packet, without extensions."""
        data = self.receive()
        first, second, seq, _, ssrc = struct.unpack("!BBHII", data[:12])
        offset = 12
        if first & 0x10:
            offset += 4 + 4 * struct.unpack("!H", data[14:16])[0]
        return second >> 7, second & 0x7F, seq, ssrc, data[offset:]


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    made = Subscriber()
    yield made
    made.sock.close()


def route_to(subscriber: Subscriber, server_socket: socket.socket, *, ssrc: int = 0x5555, pt: int = 100,
             waiting_keyframe: bool = False) -> Route:
    route = Route()
    route.ssrc, route.payload_type, route.active, route.waiting_keyframe = ssrc, pt, True, waiting_keyframe
    route.set_extensions(*extension_blocks("video", b"1", {"urn:ietf:params:rtp-hdrext:sdes:mid": 1}))
    route.connect(server_socket.fileno(), "127.0.0.1", subscriber.sock.getsockname()[1],
                  SrtpSession(PROFILE, KEY, outbound=True), server_socket)
    return route


def video_ingest(routes: list[Route], *, nack: bool = True) -> tuple[Ingest, Source, ReceiveStats, ReceiveStats]:
    ingest = Ingest(SrtpSession(PROFILE, KEY, outbound=False))
    source = Source("video", "video/VP8", 90000, routes)
    source.payload_type, source.rtx_payload_type = VP8, RTX
    media, rtx = ReceiveStats(90000), ReceiveStats(90000)
    assert ingest.bind(MEDIA_SSRC, source, media, nack=nack)
    assert ingest.bind(RTX_SSRC, source, rtx, rtx_of=MEDIA_SSRC)
    return ingest, source, media, rtx


def test_a_bound_packet_is_unprotected_and_forwarded_with_the_subscribers_header(server_socket, subscriber) -> None:
    route = route_to(subscriber, server_socket)
    ingest, source, stats, _ = video_ingest([route])
    publish = Publisher()
    assert ingest.receive(publish(rtp(7, VP8_KEYFRAME + b"frame", marker=1))) is None
    marker, pt, seq, ssrc, payload = subscriber.read()
    assert (marker, pt, ssrc, payload) == (1, 100, 0x5555, VP8_KEYFRAME + b"frame")
    assert seq == route.next_sequence - 1
    assert (source.packets_in, source.packets_out, source.media_ssrc) == (1, 1, MEDIA_SSRC)
    assert (stats.packets_received, stats.max_seq, stats.base_seq) == (1, 7, 7)
    assert ingest.packets == 1 and ingest.unrouted == ingest.malformed == ingest.unprotect_failures == 0
    assert source.cached(7) == (1, 1000, VP8_KEYFRAME + b"frame") and source.cached(8) is None
    assert sum(source.latency_counts) == 1 and source.latency_total > 0


def test_a_loss_is_reported_once_and_its_retransmission_unwrapped_and_forwarded(server_socket, subscriber) -> None:
    route = route_to(subscriber, server_socket)
    ingest, source, media, rtx = video_ingest([route])
    publish = Publisher()
    assert ingest.receive(publish(rtp(10, VP8_KEYFRAME))) is None
    events = ingest.receive(publish(rtp(13, VP8_DELTA)))
    assert events == [(_media.NACK, MEDIA_SSRC, [11, 12])]
    assert ingest.receive(publish(rtp(14, VP8_DELTA))) is None, "no new loss: no new NACK"
    # the publisher retransmits 11 on its RTX stream (RFC 4588: the original sequence number first)
    assert ingest.receive(publish(rtp(500, struct.pack("!H", 11) + b"again", ssrc=RTX_SSRC, pt=RTX))) is None
    # padding probes on the RTX SSRC are dropped
    assert ingest.receive(publish(rtp(501, b"", ssrc=RTX_SSRC, pt=RTX, padding=200))) is None
    got = [subscriber.read() for _ in range(4)]
    first = got[0][2]
    assert [(seq - first) & 0xFFFF for _, _, seq, _, _ in got] == [0, 3, 4, 1], "11 keeps its place"
    assert got[3][4] == b"again" and got[3][1] == 100
    assert subscriber.nothing_waiting()
    assert source.cached(11) == (0, 1000, b"again")
    assert (rtx.packets_received, media.packets_received) == (2, 3)
    assert media.packets_lost == 2, "the receiver report counts the media stream's own packets"
    assert media.fraction_lost == (2 << 8) // 5 and media.fraction_lost == 0, "since the last report"
    assert ingest.padding == 1
    # the next loss reports what is still missing: 12 and the new one
    assert ingest.receive(publish(rtp(16, VP8_DELTA))) == [(_media.NACK, MEDIA_SSRC, [12, 15])]


def test_a_loss_just_before_the_ssrc_was_bound_is_found(server_socket, subscriber) -> None:
    ingest = Ingest(SrtpSession(PROFILE, KEY, outbound=False))
    source = Source("video", "video/VP8", 90000, [route_to(subscriber, server_socket)])
    source.payload_type = VP8
    assert ingest.bind(MEDIA_SSRC, source, ReceiveStats(90000), nack=True, after=41)
    assert ingest.receive(Publisher()(rtp(43, VP8_DELTA))) == [(_media.NACK, MEDIA_SSRC, [42])]
    with pytest.raises(ValueError):
        ingest.bind(MEDIA_SSRC, source, ReceiveStats(90000), nack=True, after=70000)


def test_a_subscriber_waiting_for_a_keyframe_starts_on_one(server_socket, subscriber) -> None:
    route = route_to(subscriber, server_socket, waiting_keyframe=True)
    ingest, source, _, _ = video_ingest([route])
    publish = Publisher()
    ingest.receive(publish(rtp(1, VP8_DELTA)))
    assert subscriber.nothing_waiting() and source.packets_out == 0
    ingest.receive(publish(rtp(2, VP8_KEYFRAME)))
    ingest.receive(publish(rtp(3, VP8_DELTA)))
    assert [subscriber.read()[4] for _ in range(2)] == [VP8_KEYFRAME, VP8_DELTA]
    assert source.keyframes == 1 and not route.waiting_keyframe
    ingest.receive(publish(rtp(4, VP8_KEYFRAME)))
    assert source.keyframes == 1, "nobody waits: keyframes are not looked for"


def test_paused_counted_not_forwarded_and_a_closed_source_drops(server_socket, subscriber) -> None:
    route = route_to(subscriber, server_socket)
    ingest, source, _, _ = video_ingest([route])
    publish = Publisher()
    source.paused = 1
    ingest.receive(publish(rtp(1, VP8_KEYFRAME)))
    assert subscriber.nothing_waiting() and source.packets_in == 1
    source.paused = 0
    ingest.receive(publish(rtp(2, VP8_KEYFRAME)))
    assert subscriber.read()[4] == VP8_KEYFRAME
    source.close()
    ingest.receive(publish(rtp(3, VP8_KEYFRAME)))
    assert subscriber.nothing_waiting() and source.packets_in == 2 and source.cached(2) is None


def test_unknown_ssrcs_and_payload_types_go_back_to_python_and_rtcp_is_not_taken(server_socket, subscriber) -> None:
    ingest, source, _, _ = video_ingest([route_to(subscriber, server_socket)])
    publish = Publisher()
    unknown = publish(rtp(1, b"other", ssrc=0x9999))
    assert ingest.receive(unknown) is True, "an SSRC not bound: Python routes it, still protected"
    assert ingest.leave(0x9999)
    assert ingest.receive(unknown) is False, "left to Python's path: aiortc's session unprotects it"
    other_codec = rtp(2, b"h264", pt=102)
    assert ingest.receive(publish(other_codec)) == [(_media.UNROUTED, other_codec)]
    assert ingest.unrouted == 2 and source.packets_in == 0 and subscriber.nothing_waiting()
    receiver_report = struct.pack("!BBHI", 0x80, 201, 1, 0x1234)
    assert ingest.receive(receiver_report) is False, "SRTCP stays on aiortc's path"
    assert ingest.receive(b"\x16\xfe\xfd" + bytes(20)) is False, "DTLS too"
    assert ingest.bound() == {MEDIA_SSRC: source, RTX_SSRC: source, 0x9999: None}
    ingest.unbind(source)
    assert ingest.bound() == {0x9999: None}


def test_garbage_and_truncated_packets_are_counted_and_dropped_never_a_crash(server_socket, subscriber) -> None:
    ingest, source, _, _ = video_ingest([route_to(subscriber, server_socket)])
    publish = Publisher()
    assert ingest.receive(b"\x80" + bytes(5)) is None and ingest.malformed == 1
    forged = struct.pack("!BBHII", 0x80, VP8, 9, 9, MEDIA_SSRC) + random.randbytes(40)  # a bound SSRC, not its key
    assert ingest.receive(forged) is None and ingest.unprotect_failures == 1
    truncated = [
        bytes([0x8F, VP8]) + bytes(10),  # 15 CSRCs announced, none there
        struct.pack("!BBHII", 0x90, VP8, 1, 1, MEDIA_SSRC) + struct.pack("!HH", 0xBEDE, 40),  # extension past the end
        struct.pack("!BBHII", 0xA0, VP8, 1, 1, MEDIA_SSRC) + b"ab\xff",  # more padding than packet
        struct.pack("!BBHII", 0xA0, VP8, 1, 1, MEDIA_SSRC) + b"ab\x00",  # zero padding count
    ]
    for packet in truncated:  # as they would be once unprotected (libsrtp itself refuses to protect them)
        assert ingest.receive_plain(packet) is None
    assert ingest.malformed == 1 + len(truncated)
    rng = random.Random(7)
    good = rtp(100, VP8_KEYFRAME + bytes(50), extensions=one_byte_extensions((1, b"0"), (3, b"\x00\x01")))
    for i in range(3000):  # mutated plaintext: header bits, lengths, extension bytes
        packet = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            packet[rng.randrange(len(packet))] = rng.randrange(256)
        packet = bytes(packet[:rng.randint(0, len(packet))])
        events = ingest.receive_plain(packet)
        assert events is None or all(e[0] in (_media.UNROUTED, _media.NACK) for e in events)
    while not subscriber.nothing_waiting():
        pass
    assert source.packets_in + ingest.malformed + ingest.unrouted + ingest.padding >= 3000


def test_audio_levels_reach_python_at_a_low_rate_and_a_tapped_source_hands_over_each_packet(server_socket,
                                                                                           subscriber) -> None:
    route = route_to(subscriber, server_socket, pt=111)
    route.set_extensions(*extension_blocks("audio", b"0", {"urn:ietf:params:rtp-hdrext:ssrc-audio-level": 2}))
    ingest = Ingest(SrtpSession(PROFILE, KEY, outbound=False))
    ingest.audio_level_id = 1
    source = Source("audio", "audio/opus", 48000, [route])
    source.payload_type = OPUS
    assert ingest.bind(0x3333, source, ReceiveStats(48000))
    publish = Publisher()
    levels = []
    for seq in range(20):
        level = 30 if seq == 3 else 90
        events = ingest.receive(publish(rtp(seq, b"opus", ssrc=0x3333, pt=OPUS,
                                            extensions=one_byte_extensions((1, bytes([0x80 | level]))))))
        levels += [e[2] for e in events or () if e[0] == _media.LEVEL]
    assert levels == [90], "one report per 50 ms, the loudest of them"
    received = subscriber.sock.recv(4096)
    assert received, "forwarded with the subscriber's own audio-level extension"
    source.tapped = 1
    events = ingest.receive(publish(rtp(20, b"tapped", ssrc=0x3333, pt=OPUS)))
    (kind, tapped_source, data, keyframe), = events
    assert kind == _media.TAP and tapped_source is source and not keyframe
    assert struct.unpack("!BBHII", data[:12]) == (0x80, OPUS, 20, 1000, 0x3333) and data[12:] == b"tapped"


def test_new_keys_are_used_from_when_they_are_set(server_socket, subscriber) -> None:
    ingest, source, _, _ = video_ingest([route_to(subscriber, server_socket)])
    new_key = bytes(reversed(KEY))
    ingest.receive(Publisher()(rtp(1, VP8_KEYFRAME)))
    ingest.set_session(SrtpSession(PROFILE, new_key, outbound=False))
    assert ingest.receive(Publisher()(rtp(2, VP8_KEYFRAME))) is None and ingest.unprotect_failures == 1
    assert ingest.receive(Publisher(new_key)(rtp(3, VP8_KEYFRAME))) == [(_media.NACK, MEDIA_SSRC, [2])]
    assert source.packets_in == 2
    with pytest.raises(TypeError):
        ingest.set_session(SrtpSession(PROFILE, KEY, outbound=True))


def test_a_new_ssrc_bound_to_the_same_source_continues_its_subscribers_numbering(server_socket, subscriber) -> None:
    route = route_to(subscriber, server_socket)
    ingest, source, _, _ = video_ingest([route])
    publish = Publisher()
    ingest.receive(publish(rtp(100, VP8_KEYFRAME)))
    first = subscriber.read()[2]
    assert ingest.bind(0x7777, source, ReceiveStats(90000), nack=True)
    route.based, route.waiting_keyframe = 0, 1  # what the producer does when told (sfu/producer.py)
    ingest.receive(publish(rtp(9000, VP8_DELTA, ssrc=0x7777)))
    ingest.receive(publish(rtp(9001, VP8_KEYFRAME, ssrc=0x7777)))
    assert subscriber.read()[2] == (first + 1) & 0xFFFF
    assert source.media_ssrc == 0x7777


def test_transport_wide_arrivals_are_kept_for_feedback(server_socket, subscriber) -> None:
    ingest, _, _, _ = video_ingest([route_to(subscriber, server_socket)])
    ingest.transport_cc_id = 3
    publish = Publisher()
    for seq, twcc in ((1, 40), (2, 41), (3, 43)):
        ingest.receive(publish(rtp(seq, VP8_KEYFRAME, extensions=one_byte_extensions((3, struct.pack("!H", twcc))))))
    arrivals = ingest.take_arrivals()
    assert [s for s, _ in arrivals] == [40, 41, 43]
    assert all(b >= a for (_, a), (_, b) in zip(arrivals, arrivals[1:]))
    assert ingest.take_arrivals() == []


def test_latency_is_counted_in_the_buckets_the_metrics_name() -> None:
    from sfu.stats import LATENCY_BOUNDS

    assert len(_media.LATENCY_BOUNDS) == len(LATENCY_BOUNDS)
    assert all(math.isclose(a, b) for a, b in zip(_media.LATENCY_BOUNDS, LATENCY_BOUNDS))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        Ingest(SrtpSession(PROFILE, KEY, outbound=True))
    with pytest.raises(ValueError):
        Source("data", "video/VP8", 90000, [])
    with pytest.raises(TypeError):
        Source("video", "video/VP8", 90000, ())
    with pytest.raises(ValueError):
        SrtpSession(PROFILE, b"short", outbound=True)
    with pytest.raises(TypeError):
        Ingest(SrtpSession(PROFILE, KEY, outbound=False)).receive("text")
    ingest = Ingest(SrtpSession(PROFILE, KEY, outbound=False))
    source = Source("video", "video/VP8", 90000, [])
    for i in range(64):
        assert ingest.bind(i, source, ReceiveStats(90000))
    assert not ingest.bind(99, source, ReceiveStats(90000)), "full: the SSRC stays on Python's path"
