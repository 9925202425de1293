"""Transport-wide congestion control between a publisher and the server: negotiated where the
publisher offers it (as Chrome does), fed back every few tens of milliseconds in place of REMB,
and never offered to subscribers.

The publisher is aiortc, which neither offers transport-cc nor stamps transport-wide sequence
numbers: `TransportCcPublisher` adds both (its offer edited as Chrome writes it, each RTP packet
stamped before SRTP) and keeps the RTCP it is sent."""
from __future__ import annotations

import asyncio
import re
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpReceiveParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket, is_rtcp

from school.demo import DemoSchool
from sfu.aiortc_adapter import TRANSPORT_CC_URI, AnnouncingPeerConnection, transport_feedback
from sfu.router import Router
from sfu.transport import WebRtcTransport
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack

LOOPBACK = ("127.0.0.1",)
TWCC_ID = 5


def offer_transport_cc(sdp: str) -> str:
    """An aiortc offer with what Chrome's has besides: the transport-wide sequence number extension
    and transport-cc feedback on every codec but RTX."""
    out: list[str] = []
    for line in sdp.split("\r\n"):
        out.append(line)
        if line.startswith("a=mid:"):
            out.append(f"a=extmap:{TWCC_ID} {TRANSPORT_CC_URI}")
        rtpmap = re.match(r"a=rtpmap:(\d+) (\S+)/", line)
        if rtpmap and rtpmap.group(2).lower() != "rtx":
            out.append(f"a=rtcp-fb:{rtpmap.group(1)} transport-cc")
    return "\r\n".join(out)


class TransportCcPublisher:
    """An aiortc publisher that stamps transport-wide sequence numbers and keeps the RTCP it gets."""

    def __init__(self) -> None:
        self.pc = AnnouncingPeerConnection(announced=LOOPBACK)
        self.sent: list[int] = []
        self.feedback: list[bytes] = []
        self.remb = 0
        self._next = 65_500  # wraps past 65535 within the test

    def patch(self) -> None:
        dtls = self.pc.getTransceivers()[0].sender.transport
        extensions = HeaderExtensionsMap()
        mid_id = next(e.id for e in self.pc.getTransceivers()[0]._headerExtensions if e.uri.endswith("sdes:mid"))
        extensions.configure(RTCRtpReceiveParameters(headerExtensions=[
            RTCRtpHeaderExtensionParameters(id=mid_id, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
            RTCRtpHeaderExtensionParameters(id=TWCC_ID, uri=TRANSPORT_CC_URI)]))
        send, handle = dtls._send_rtp, dtls._handle_rtcp_data

        async def stamped(data: bytes) -> None:
            if not is_rtcp(data):
                packet = RtpPacket.parse(data, extensions)
                packet.extensions.transport_sequence_number = self._next & 0xFFFF
                self.sent.append(self._next & 0xFFFF)
                self._next += 1
                data = packet.serialize(extensions)
            await send(data)

        async def heard(data: bytes) -> None:
            offset = 0
            while offset + 4 <= len(data):
                first, pt, length = struct.unpack_from("!BBH", data, offset)
                size = (length + 1) * 4
                if pt == 205 and first & 0x1F == 15:
                    self.feedback.append(data[offset:offset + size])
                elif pt == 206 and first & 0x1F == 15:
                    self.remb += 1
                offset += size
            await handle(data)

        dtls._send_rtp = stamped
        dtls._handle_rtcp_data = heard


def statuses(packet: bytes) -> tuple[int, int]:
    """(base sequence number, packet status count) of a transport-wide feedback packet."""
    return struct.unpack_from("!HH", packet, 12)


@pytest.fixture
async def room() -> AsyncIterator[tuple[Router, list[Any]]]:
    router, closing = Router("test"), []
    yield router, closing
    for thing in reversed(closing):
        await thing.close()
    await router.close()


async def test_a_publisher_offering_transport_cc_gets_it_and_feedback_instead_of_remb(
    room: tuple[Router, list[Any]]
) -> None:
    router, closing = room
    publisher = TransportCcPublisher()
    transport = WebRtcTransport("send", announced=LOOPBACK)
    closing += [transport, publisher.pc]
    publisher.pc.addTransceiver(ColourTrack((255, 0, 0)), direction="sendonly")
    publisher.pc.addTransceiver(ToneTrack(), direction="sendonly")
    await publisher.pc.setLocalDescription(await publisher.pc.createOffer())
    answer, incoming = await transport.answer(offer_transport_cc(publisher.pc.localDescription.sdp))

    # The answer takes transport-cc on both m-lines, and on each codec that offered it; no REMB.
    sections = answer.split("m=")[1:]
    assert len(sections) == 2
    for section in sections:
        assert f"a=extmap:{TWCC_ID} {TRANSPORT_CC_URI}" in section
        assert "goog-remb" not in section and "abs-send-time" not in section
    video_pt = re.search(r"a=rtpmap:(\d+) VP8/90000", sections[0]).group(1)
    opus_pt = re.search(r"a=rtpmap:(\d+) opus/48000", sections[1]).group(1)
    assert f"a=rtcp-fb:{video_pt} transport-cc" in sections[0] and f"a=rtcp-fb:{video_pt} nack pli" in sections[0]
    assert f"a=rtcp-fb:{opus_pt} transport-cc" in sections[1]

    await publisher.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    publisher.patch()
    for i, transceiver in enumerate(incoming):
        router.add_producer(transport.produce(f"p{i}", transceiver))
    for _ in range(200):  # about 10 s at most; usually a second or two
        if len(publisher.feedback) >= 20 and len(publisher.sent) > 150:
            break
        await asyncio.sleep(0.05)
    feedback = transport_feedback(incoming[0].receiver.transport)  # made once media connected
    assert feedback is not None
    assert len(publisher.feedback) >= 20 and feedback.packets_sent >= len(publisher.feedback)
    # Consecutive feedbacks take over where the previous stopped, past 65535, and the reported
    # packets were sent (audio and video: the sequence is transport-wide).
    reported: list[int] = []
    for packet in publisher.feedback:
        base, count = statuses(packet)
        if reported:
            assert base == (reported[-1] + 1) & 0xFFFF
        reported += [(base + i) & 0xFFFF for i in range(count)]
    assert 65_535 in reported and 0 in reported
    assert set(reported) <= set(publisher.sent)
    assert feedback.arrivals.received >= len(reported) * 0.9
    assert publisher.remb == 0


async def test_a_publisher_without_transport_cc_keeps_remb_and_subscribers_are_never_offered_it(
    room: tuple[Router, list[Any]]
) -> None:
    router, closing = room
    publisher = AnnouncingPeerConnection(announced=LOOPBACK)
    transport = WebRtcTransport("send", announced=LOOPBACK)
    closing += [transport, publisher]
    publisher.addTransceiver(ColourTrack((0, 0, 255)), direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    answer, (incoming,) = await transport.answer(publisher.localDescription.sdp)
    assert "transport-cc" not in answer and "transport-wide-cc" not in answer
    assert "goog-remb" in answer and "abs-send-time" in answer
    await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    camera = transport.produce("cam", incoming)
    router.add_producer(camera)
    assert transport_feedback(incoming.receiver.transport) is None

    receiving = WebRtcTransport("recv", announced=LOOPBACK)
    closing.append(receiving)
    router.consume(receiving, "c1", camera.id)
    offer = await receiving.offer()
    assert "transport-cc" not in offer and "transport-wide-cc" not in offer


async def test_a_chromium_publisher_negotiates_transport_cc_and_its_bandwidth_estimate_rises(
    live_server: LiveServer, demo: DemoSchool, login: Login
) -> None:
    """Chrome offers transport-cc on its own; with the server's feedback its send-side estimate
    climbs from its 300 kbps start by probing (REMB alone held it near there for half a minute)."""
    from bench.ramp import PUBLISH_JS, STATS_JS
    from tests.browser import open_browser_page
    from web.keys import ROOMS

    token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    endpoint = f"{live_server.url}/api/lessons/{demo.lesson_id}/whip"
    async with open_browser_page() as browser:
        await browser.page.goto(f"{live_server.url}/healthz")
        result = await browser.page.evaluate(PUBLISH_JS, [endpoint, token, 1_500_000, 640, 480, 30, True, False])
        assert "error" not in result, result
        assert TRANSPORT_CC_URI in result["answer"] and "transport-cc" in result["answer"]
        assert "goog-remb" not in result["answer"]

        room = live_server.app[ROOMS].rooms[demo.lesson_id]
        (publisher,) = [p for p in room.participants.values() if p.via == "whip"]
        dtls = publisher.send_transport._ice_dtls()
        stats: dict[str, Any] = {}
        for _ in range(300):  # at most 30 s; with feedback Chrome probes past 1 Mbps within seconds
            stats = await browser.page.evaluate(STATS_JS)
            feedback = transport_feedback(dtls)
            if (feedback is not None and feedback.packets_sent > 10 and feedback.arrivals.received > 100
                    and (stats.get("available") or 0) > 1_000_000):
                break
            await asyncio.sleep(0.1)
        feedback = transport_feedback(dtls)
        assert feedback is not None and feedback.packets_sent > 10
        assert feedback.arrivals.received > 100  # audio and video packets, all stamped by Chrome
        assert (stats.get("available") or 0) > 1_000_000, stats


async def test_a_publisher_that_negotiates_again_keeps_transport_cc_on_every_m_line(
    room: tuple[Router, list[Any]]
) -> None:
    """aiortc recomputes every m-line's extensions from its own tables on each offer: the answer to
    a second offer (a screen added) still takes transport-cc on the first m-line and on the new one."""
    _router, closing = room
    publisher = AnnouncingPeerConnection(announced=LOOPBACK)
    transport = WebRtcTransport("send", announced=LOOPBACK)
    closing += [transport, publisher]
    publisher.addTransceiver(ColourTrack((0, 255, 0)), direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    answer, _ = await transport.answer(offer_transport_cc(publisher.localDescription.sdp))
    await publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    publisher.addTransceiver(ColourTrack((0, 0, 0)), direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    answer, incoming = await transport.answer(offer_transport_cc(publisher.localDescription.sdp))
    sections = answer.split("m=")[1:]
    assert len(sections) == 2 and len(incoming) == 2
    assert all(TRANSPORT_CC_URI in section and "transport-cc" in section and "goog-remb" not in section
               for section in sections)
