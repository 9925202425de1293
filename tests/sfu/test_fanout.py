"""The C forwarding loop on its own: real libsrtp sessions (the media module's, keyed like a
transport's), real UDP sockets on loopback. What a subscriber receives is unprotected with the
matching key by pylibsrtp, an implementation of its own, and read back byte by byte."""
from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pylibsrtp import Policy, Session

import sfu.aiortc_adapter  # noqa: F401  (binds libsrtp for the media module)
from sfu._media import MAX_PACKET, Route, SrtpSession, forward
from sfu.consumer import AUDIO_LEVEL, NO_VALUE, extension_blocks

KEY = bytes(range(30))  # AES_CM_128_HMAC_SHA1_80: 16-byte key + 14-byte salt
PROFILE = Policy.SRTP_PROFILE_AES128_CM_SHA1_80


@dataclass
class Subscriber:
    sock: socket.socket
    rx: Session

    def receive(self) -> bytes:
        return self.rx.unprotect(self.sock.recv(4096))

    def nothing_waiting(self) -> bool:
        self.sock.setblocking(False)
        try:
            self.sock.recv(4096)
        except BlockingIOError:
            return True
        finally:
            self.sock.setblocking(True)
        return False


@pytest.fixture
def server_socket() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
def subscribers() -> Iterator[list[Subscriber]]:
    made: list[Subscriber] = []
    yield made
    for s in made:
        s.sock.close()


def connected_route(server_socket: socket.socket, subscribers: list[Subscriber], ssrc: int, pt: int) -> Route:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    subscribers.append(Subscriber(sock, Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=PROFILE))))
    route = Route()
    route.ssrc, route.payload_type, route.active = ssrc, pt, True
    route.connect(server_socket.fileno(), "127.0.0.1", sock.getsockname()[1], outbound(), server_socket)
    return route


def outbound() -> SrtpSession:
    return SrtpSession(PROFILE, KEY, outbound=True)


def header(data: bytes) -> tuple[int, int, int, int, int, int]:
    """(first byte, marker, payload type, sequence number, timestamp, SSRC)."""
    first, second, seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
    return first, second >> 7, second & 0x7F, seq, ts, ssrc


def test_each_subscriber_gets_its_own_header_extensions_and_the_same_payload(server_socket, subscribers) -> None:
    video = connected_route(server_socket, subscribers, ssrc=0x11111111, pt=96)
    video.timestamp_offset = 1000
    video.next_sequence = 500
    video.set_extensions(*extension_blocks("video", b"0", {"urn:ietf:params:rtp-hdrext:sdes:mid": 1,
                                                           "urn:ietf:params:rtp-hdrext:ssrc-audio-level": 2}))
    other = connected_route(server_socket, subscribers, ssrc=0x22222222, pt=120)
    other.timestamp_offset = 0xFFFFFFFF  # wraps
    other.next_sequence = 0xFFFF  # wraps on the second packet
    payload = b"\x10" + os.urandom(900)

    assert forward([video, other], 1, 40000, 90000, payload, True, 0x85, 7) == 2
    assert forward([video, other], 0, 40001, 93000, payload, False, -1, 8) == 2

    first, second = subscribers[0].receive(), subscribers[0].receive()
    assert header(first) == (0x90, 1, 96, 500, 91000, 0x11111111)
    assert header(second) == (0x90, 0, 96, 501, 94000, 0x11111111)
    # one-byte extensions (RFC 8285): MID "0" with id 1, padded to 4 bytes; video carries no level
    assert first[12:20] == second[12:20] == b"\xbe\xde\x00\x01" + b"\x10" + b"0" + b"\x00\x00"
    assert first[20:] == second[20:] == payload

    first, second = subscribers[1].receive(), subscribers[1].receive()
    assert header(first) == (0x80, 1, 120, 0xFFFF, 89999, 0x22222222)
    assert header(second) == (0x80, 0, 120, 0, 92999, 0x22222222)
    assert first[12:] == payload
    assert (video.next_sequence, other.next_sequence) == (502, 1)
    assert (video.packets_sent, video.octets_sent, video.last_timestamp, video.last_ntp) == (2, 2 * len(payload), 94000, 8)
    assert video.send_errors == other.send_errors == 0


def test_audio_carries_the_level_when_the_packet_has_one(server_socket, subscribers) -> None:
    audio = connected_route(server_socket, subscribers, ssrc=7, pt=111)
    static, before, after, value = extension_blocks("audio", b"", {"urn:ietf:params:rtp-hdrext:ssrc-audio-level": 2})
    assert value == AUDIO_LEVEL
    audio.set_extensions(static, before, after, value)
    assert forward([audio], 0, 1, 960, b"opus", False, 0x80 | 30, 1) == 1
    assert forward([audio], 0, 2, 1920, b"opus", False, -1, 1) == 1
    voiced, silent = subscribers[0].receive(), subscribers[0].receive()
    assert voiced[12:20] == b"\xbe\xde\x00\x01" + b"\x20\x9e\x00\x00" and voiced[20:] == b"opus"  # id 2, V + 30
    assert header(silent)[0] == 0x80 and silent[12:] == b"opus", "no level, no extension block"


def test_video_starts_on_a_keyframe_and_a_restart_continues_the_numbering(server_socket, subscribers) -> None:
    route = connected_route(server_socket, subscribers, ssrc=9, pt=96)
    route.waiting_keyframe = True
    route.next_sequence = 100
    assert forward([route], 0, 7000, 0, b"delta", False, -1, 0) == 0
    assert subscribers[0].nothing_waiting()
    assert forward([route], 0, 7001, 0, b"key", True, -1, 0) == 1
    assert forward([route], 0, 7002, 0, b"delta", False, -1, 0) == 1
    assert [header(subscribers[0].receive())[3] for _ in range(2)] == [100, 101]
    assert not route.waiting_keyframe and route.based

    route.based, route.waiting_keyframe = False, True  # a pause and resume: wait for the next keyframe
    assert forward([route], 0, 7100, 0, b"delta", False, -1, 0) == 0
    assert forward([route], 0, 7101, 0, b"key", True, -1, 0) == 1
    assert header(subscribers[0].receive())[3] == 102, "no gap after the pause"


def test_inactive_and_disconnected_routes_are_skipped(server_socket, subscribers) -> None:
    inactive = connected_route(server_socket, subscribers, ssrc=1, pt=96)
    inactive.active = False
    gone = connected_route(server_socket, subscribers, ssrc=2, pt=96)
    gone.disconnect()
    assert not gone.connected
    live = connected_route(server_socket, subscribers, ssrc=3, pt=96)
    assert forward([inactive, gone, live], 0, 1, 1, b"x", False, -1, 0) == 1
    assert subscribers[0].nothing_waiting() and subscribers[1].nothing_waiting()
    assert header(subscribers[2].receive())[5] == 3
    assert not gone.send(b"\x80" * 20), "a disconnected route sends nothing"


def test_a_retransmission_is_protected_and_sent_as_built(server_socket, subscribers) -> None:
    route = connected_route(server_socket, subscribers, ssrc=5, pt=96)
    packet = struct.pack("!BBHII", 0x80, 97, 4242, 1234, 6) + b"\x00\x10" + b"payload"
    assert route.send(packet)
    assert subscribers[0].receive() == packet
    assert not route.send(b"short"), "not an RTP packet"


def test_a_packet_too_large_for_the_buffer_is_counted_not_sent(server_socket, subscribers) -> None:
    route = connected_route(server_socket, subscribers, ssrc=5, pt=96)
    assert forward([route], 0, 1, 1, b"x" * MAX_PACKET, False, -1, 0) == 0
    assert route.send_errors == 1 and subscribers[0].nothing_waiting()
    assert forward([route], 0, 2, 1, b"x" * (MAX_PACKET - 12), False, -1, 0) == 1


def test_a_send_that_fails_is_counted_and_the_others_still_go_out(server_socket, subscribers) -> None:
    broken = connected_route(server_socket, subscribers, ssrc=1, pt=96)
    broken.connect(server_socket.fileno(), "::1", 9, outbound(), None)  # IPv6 on IPv4
    fine = connected_route(server_socket, subscribers, ssrc=2, pt=96)
    assert forward([broken, fine], 0, 1, 1, b"a", False, -1, 0) == 1
    assert forward([broken, fine], 0, 2, 1, b"b", False, -1, 0) == 1
    assert broken.send_errors == 2 and broken.packets_sent == 0
    assert broken.send_blocked == 0, "a refused send is an error, not a full buffer"
    assert [header(subscribers[1].receive())[3] for _ in range(2)] == [fine.next_sequence - 2, fine.next_sequence - 1]


def test_a_relayed_route_hands_each_protected_copy_to_its_send_function(server_socket, subscribers) -> None:
    """A TURN-relayed pair has no socket of ours: the route calls the TURN transport's send."""
    received: list[bytes] = []
    tx = outbound()
    rx = Session(Policy(key=KEY, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=PROFILE))
    relayed = Route()
    relayed.ssrc, relayed.payload_type, relayed.active = 77, 96, True
    relayed.connect_callable(received.append, tx, None)
    assert relayed.connected

    def refuses(packet: bytes) -> None:
        raise ConnectionError("allocation lost")

    broken = Route()
    broken.ssrc, broken.payload_type, broken.active = 78, 96, True
    broken.connect_callable(refuses, tx, None)
    direct = connected_route(server_socket, subscribers, ssrc=79, pt=96)

    assert forward([relayed, broken, direct], 1, 10, 20, b"frame", True, -1, 0) == 2
    assert relayed.send(struct.pack("!BBHII", 0x80, 97, 5, 20, 77) + b"rtx")
    first, retransmitted = (rx.unprotect(p) for p in received)
    assert header(first) == (0x80, 1, 96, 0, 20, 77) and first[12:] == b"frame"
    assert header(retransmitted) == (0x80, 0, 97, 5, 20, 77) and retransmitted[12:] == b"rtx"
    assert broken.send_errors == 1 and broken.packets_sent == 0
    assert header(subscribers[0].receive())[5] == 79, "the copy after a failing send still goes out"
    with pytest.raises(ValueError):
        broken.connect_callable("not callable", tx, None)
    relayed.disconnect()
    assert not relayed.connected and forward([relayed], 0, 11, 20, b"x", False, -1, 0) == 0


def test_bad_arguments_are_refused_with_an_error() -> None:
    route = Route()
    with pytest.raises(ValueError):
        route.connect(3, "not-an-address", 5000, outbound(), None)
    with pytest.raises(ValueError):
        route.connect(-1, "127.0.0.1", 5000, outbound(), None)
    with pytest.raises(ValueError):
        route.connect(3, "127.0.0.1", 70000, outbound(), None)
    with pytest.raises(ValueError):
        route.connect(3, "127.0.0.1", 5000, SrtpSession(PROFILE, KEY, outbound=False), None)
    with pytest.raises(TypeError):
        route.connect(3, "127.0.0.1", 5000, 0x7F0000001000, None)  # never a raw pointer
    with pytest.raises(ValueError):
        route.set_extensions(b"x" * 65, b"", b"", 0)
    with pytest.raises(ValueError):
        route.set_extensions(b"", b"", b"", 2)
    with pytest.raises(TypeError):
        route.set_extensions("text", b"", b"", 0)
    with pytest.raises(TypeError):
        forward((route,), 0, 1, 1, b"x", False, -1, 0)
    with pytest.raises(TypeError):
        forward([object()], 0, 1, 1, b"x", False, -1, 0)
    with pytest.raises(TypeError):
        forward([route], 0, 1, 1, "text", False, -1, 0)
    with pytest.raises(TypeError):
        forward([route], 0, 1)
    with pytest.raises(OverflowError):
        forward([route], 0, -1, 1, b"x", False, -1, 0)
    assert extension_blocks("video", b"", {"urn:ietf:params:rtp-hdrext:ssrc-audio-level": 1})[3] == NO_VALUE

