"""Simulcast from publishers: the offer's rids read and accepted in the answer; a producer keeping
each encoding as a layer, learnt from the rid header extension of synthetic RTP fed into a real
transport; a consumer following the best layer and moving at a keyframe without a gap."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpReceiveParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

import sfu.simulcast
from sfu.aiortc_adapter import RidRouter, SimulcastReceiver
from sfu.simulcast import Layers, vp8_keyframe_size
from signaling.errors import BadSdp
from signaling.simulcast import REPAIRED_RID_URI, RID_URI, accept_simulcast, answer_lines, offered_simulcast
from tests.sfu.test_forwarding import Rig

CHROME_OFFER = "\r\n".join([
    "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=mid:0", "a=sendonly", "a=rtpmap:111 opus/48000/2",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "c=IN IP4 0.0.0.0", "a=mid:1", "a=sendonly",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    f"a=extmap:10 {RID_URI}", f"a=extmap:11 {REPAIRED_RID_URI}",
    "a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
    "a=rid:q send", "a=rid:h send", "a=rid:f send", "a=simulcast:send q;h;f", "",
])
AIORTC_ANSWER = "\r\n".join([
    "v=0", "o=- 3 4 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=recvonly", "a=mid:0", "a=rtpmap:111 opus/48000/2",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "c=IN IP4 0.0.0.0", "a=recvonly", "a=mid:1",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid", "a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "",
])


# --- the offer and the answer --------------------------------------------------------------------
def test_an_offer_with_three_rids_is_read_in_its_order_with_its_extension_ids() -> None:
    offers = offered_simulcast(CHROME_OFFER)
    assert set(offers) == {"1"}
    offer = offers["1"]
    assert (offer.rids, offer.rid_id, offer.repaired_rid_id) == (("q", "h", "f"), 10, 11)
    assert answer_lines(offer) == [f"a=extmap:10 {RID_URI}", f"a=extmap:11 {REPAIRED_RID_URI}",
                                   "a=rid:q recv", "a=rid:h recv", "a=rid:f recv", "a=simulcast:recv q;h;f"]


def test_the_answer_accepts_the_rids_in_the_video_section_only() -> None:
    answer = accept_simulcast(AIORTC_ANSWER, offered_simulcast(CHROME_OFFER))
    audio, video = answer.split("m=video")
    assert "a=rid" not in audio and "simulcast" not in audio and RID_URI not in audio
    lines = video.split("\r\n")
    assert lines.index(f"a=extmap:10 {RID_URI}") == lines.index("a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid") + 1
    assert "a=simulcast:recv q;h;f" in lines and "a=rid:h recv" in lines
    assert answer.endswith("\r\n") and "\r\n\r\n" not in answer
    assert accept_simulcast(AIORTC_ANSWER, {}) == AIORTC_ANSWER


@pytest.mark.parametrize("change", [
    ("a=simulcast:send q;h;f", "a=simulcast:send ~q;h,x;f"),  # paused and alternative rids: the first of each
])
def test_paused_and_alternative_rids_are_read(change: tuple[str, str]) -> None:
    assert offered_simulcast(CHROME_OFFER.replace(*change))["1"].rids == ("q", "h", "f")


def test_without_the_rid_extension_or_with_more_than_four_layers() -> None:
    assert offered_simulcast(CHROME_OFFER.replace(f"a=extmap:10 {RID_URI}\r\n", "")) == {}
    many = CHROME_OFFER.replace("a=simulcast:send q;h;f", "a=rid:a send\r\na=rid:b send\r\na=simulcast:send q;h;f;a;b")
    assert offered_simulcast(many)["1"].rids == ("q", "h", "f", "a")
    assert offered_simulcast(CHROME_OFFER.replace("m=video", "m=audio")) == {}


@pytest.mark.parametrize("bad", [
    ("a=rid:q send", "a=rid:<script> send"),
    ("a=rid:q send", "a=rid:" + "q" * 17 + " send"),
    ("a=rid:h send", "a=rid:q send"),
    ("a=simulcast:send q;h;f", "a=simulcast:send q;h;z"),
    ("a=simulcast:send q;h;f", "a=simulcast:sideways q"),
    ("a=simulcast:send q;h;f", "a=simulcast:send q;h;f\r\na=simulcast:send q"),
])
def test_malformed_rid_and_simulcast_lines_are_bad_sdp(bad: tuple[str, str]) -> None:
    with pytest.raises(BadSdp):
        offered_simulcast(CHROME_OFFER.replace(*bad))


# --- layers ---------------------------------------------------------------------------------------
def vp8(rid: str, n: int, *, key: bool = False, start: bool = True, size: tuple[int, int] = (0, 0)) -> bytes:
    """A VP8 RTP payload: descriptor (S bit), then a keyframe header with its size, or an inter frame;
    the rest names the layer and the frame, so a subscriber's packets show where they came from."""
    body = f"{rid}:{n}".encode()
    if not start:
        return b"\x00" + body
    if key:
        w, h = size
        return b"\x10" + b"\x00\x00\x00\x9d\x01\x2a" + w.to_bytes(2, "little") + h.to_bytes(2, "little") + body
    return b"\x10\x01\x00\x00" + body


def test_vp8_keyframe_sizes_are_read_from_the_frame_header() -> None:
    assert vp8_keyframe_size(vp8("f", 0, key=True, size=(640, 360))) == (640, 360)
    assert vp8_keyframe_size(vp8("f", 0)) is None
    assert vp8_keyframe_size(b"\x90\xe0\x80\x01\x00\x00" + vp8("q", 0, key=True, size=(160, 90))[1:]) == (160, 90)
    assert vp8_keyframe_size(b"\x10\x00") is None


def test_unmeasured_layers_rank_by_the_simulcast_order() -> None:
    layers = Layers(["q", "h", "f"])
    now = time.perf_counter()
    for i, rid in enumerate("qhf"):
        layers.learn(1000 + i, rid).last_packet = now
    assert layers.best(now).rid == "f"
    layers.by_rid["q"].width, layers.by_rid["q"].height = 160, 90  # measured beats unmeasured
    assert layers.best(now).rid == "q"
    layers.by_rid["f"].last_packet = now - 10  # stopped: no longer sent
    layers.by_rid["q"].width = 0
    assert layers.best(now).rid == "h"
    assert layers.learn(5, "x") is None


class Publisher:
    """Synthetic RTP into a real publisher transport, after SRTP, as its DTLS transport hands it on."""

    def __init__(self, producer: Any, mid: str) -> None:
        self.producer = producer
        self.mid = mid
        self.dtls = producer._receiver.transport
        self.map = HeaderExtensionsMap()
        self.map.configure(RTCRtpReceiveParameters(headerExtensions=[
            RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
            RTCRtpHeaderExtensionParameters(id=10, uri=RID_URI)]))
        self.seq = {"q": 100, "h": 30000, "f": 65500}
        self.ts = {"q": 1_000, "h": 2_000_000_000, "f": 4_294_000_000}
        self.ssrc = {"q": 111, "h": 222, "f": 333}
        self.sent: dict[str, int] = {}

    async def frame(self, rid: str, n: int, *, key: bool = False, size: tuple[int, int] = (0, 0),
                    with_rid: bool = True) -> None:
        """One frame of two packets on the layer `rid`."""
        for part in range(2):
            packet = RtpPacket(payload_type=self.producer.codec.payloadType, marker=part, sequence_number=self.seq[rid] & 0xFFFF,
                               timestamp=self.ts[rid] & 0xFFFFFFFF, ssrc=self.ssrc[rid],
                               payload=vp8(rid, n, key=key, start=part == 0, size=size))
            if with_rid:
                packet.extensions.mid = self.mid
                packet.extensions.rtp_stream_id = rid
            self.seq[rid] += 1
            await self.dtls._handle_rtp_data(packet.serialize(self.map), 0)
        self.ts[rid] += 3000


async def until(check: Any, why: str = "", timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out {why}"
        await asyncio.sleep(0.02)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    made = Rig()
    yield made
    await made.close()


async def test_a_consumer_follows_the_best_layer_and_moves_at_its_keyframe_without_a_gap(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sfu.simulcast, "LAYER_STALE", 0.4)
    plain, camera = await rig.publish("video", "video")
    mid = next(t.mid for t in rig.server[0].pc.getTransceivers() if t.receiver is camera._receiver)
    camera.receive_layers(mid, ["q", "h", "f"], 10)
    # Only the simulcast producer left the fast path: the other keeps aiortc's receiver and its sink.
    assert isinstance(camera._receiver, SimulcastReceiver) and not isinstance(plain._receiver, SimulcastReceiver)
    assert plain._receiver.sink == plain._on_rtp and isinstance(camera._receiver.transport._rtp_router, RidRouter)
    transport, pc, (consumer,) = await rig.subscribe([camera], decode=False)
    got: list[RtpPacket] = []
    receiver = next(t.receiver for t in pc.getTransceivers() if t.mid is not None)
    publisher = Publisher(camera, mid)
    await until(lambda: transport.state == "connected" and rig.server[0].state == "connected" and consumer.ready)
    receiver.sink = lambda packet, codec: got.append(packet)

    def layers_seen() -> list[str]:
        return [p.payload.split(b":")[0][-1:].decode() for p in got]

    # q and h are sent; the consumer starts on h, the larger, at its keyframe.
    n = 0
    await publisher.frame("h", n, key=True, size=(320, 180))
    await publisher.frame("q", n, key=True, size=(160, 90))
    for n in range(1, 4):
        await publisher.frame("q", n)
        await publisher.frame("h", n)
    await until(lambda: len(got) >= 8, f"{camera.dump()} {consumer.dump()} {got}")
    assert set(layers_seen()) == {"h"}, layers_seen()
    assert camera.layers is not None and camera.layers.by_rid["h"].ssrc == 222

    # A packet of an unknown SSRC with no known rid goes nowhere.
    stray = RtpPacket(payload_type=camera.codec.payloadType, sequence_number=1, timestamp=1, ssrc=999, payload=vp8("z", 0))
    stray.extensions.mid, stray.extensions.rtp_stream_id = mid, "z"
    await publisher.dtls._handle_rtp_data(stray.serialize(publisher.map), 0)
    assert 999 not in camera.layers.by_ssrc

    # f begins: the consumer moves to it at f's keyframe, not before (an f inter frame first).
    await publisher.frame("f", 0)
    await publisher.frame("h", 4)
    await publisher.frame("f", 1, key=True, size=(640, 360))
    for n in range(5, 8):
        await publisher.frame("h", n)
        await publisher.frame("f", n - 3, with_rid=False)  # a known SSRC needs no rid
    await until(lambda: len(got) >= 8 + 2 + 2 + 6)
    seen = layers_seen()
    assert seen[:10] == ["h"] * 10 and set(seen[10:]) == {"f"}, seen
    assert got[10].payload.startswith(b"\x10\x00\x00\x00\x9d\x01\x2a"), "the move starts on f's keyframe"
    # The subscriber sees one stream: one SSRC, sequence numbers without a gap, timestamps going on.
    assert len({p.ssrc for p in got}) == 1
    seqs = [p.sequence_number for p in got]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:])), seqs
    stamps = [p.timestamp for p in got]
    assert all(0 <= (b - a) & 0xFFFFFFFF < 90000 for a, b in zip(stamps, stamps[1:])), stamps
    assert camera.dump()["layers"][2] == {"rid": "f", "ssrc": 333, "width": 640, "height": 360, "consumers": 1}

    # f stops: the consumer goes back to h at h's next keyframe.
    before = len(got)
    await asyncio.sleep(0.5)
    n = 8
    while not camera.layers.by_rid["h"].pending:  # h goes on with inter frames: no move yet
        await publisher.frame("h", n)
        n += 1
        assert n < 200, camera.layers.by_rid
        await asyncio.sleep(0.03)
    assert len(got) == before
    await publisher.frame("h", n, key=True, size=(320, 180))
    await publisher.frame("h", n + 1)
    await until(lambda: len(got) >= before + 4)
    assert set(layers_seen()[before:]) == {"h"}
    seqs = [p.sequence_number for p in got]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:])), seqs

    # Per-subscriber choice: a consumer limited to q moves down at q's keyframe.
    consumer.producer.prefer_layer("q")
    await publisher.frame("q", 20, key=True, size=(160, 90))
    await publisher.frame("h", 12)
    await until(lambda: layers_seen()[-1] == "q")
    assert layers_seen()[-2:] == ["q", "q"]
