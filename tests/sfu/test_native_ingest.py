"""The native way in, end to end in one process: an aiortc publisher, the SFU's transports and
subscribers (tests/sfu/test_forwarding.py's rig). Media reaches the producer in one C call per
packet; losses on the publisher's side are NACKed and repaired through RTX; a publisher that changes
its SSRC is followed."""
from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from sfu.aiortc_adapter import ForwardingReceiver
from sfu.codecs import starts_keyframe
from tests.media import ColourTrack, ToneTrack
from tests.sfu.test_forwarding import Rig, rig  # noqa: F401  (the fixture)


def collect(pc: Any, into: dict[str, list[RtpPacket]], keyframes: list[int] | None = None) -> None:
    for transceiver in pc.getTransceivers():
        def sink(packet: RtpPacket, codec: RTCRtpCodecParameters, kind: str = transceiver.kind) -> None:
            into.setdefault(kind, []).append(packet)
            if keyframes is not None and starts_keyframe(codec.mimeType, packet.payload):
                keyframes.append(packet.sequence_number)

        transceiver.receiver.sink = sink


async def until(condition: Any, seconds: float = 15.0) -> bool:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())


def contiguous(numbers: list[int]) -> bool:
    ordered = sorted(set(numbers), key=lambda n: (n - numbers[0]) & 0xFFFF)
    return all((b - a) & 0xFFFF == 1 for a, b in zip(ordered, ordered[1:]))


async def test_media_reaches_the_producers_in_c_python_sees_only_each_ssrcs_first_packet(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    python_path: list[int] = []
    original = ForwardingReceiver._handle_rtp_packet

    async def counted(self: ForwardingReceiver, packet: RtpPacket, arrival_time_ms: int) -> None:
        python_path.append(packet.ssrc)
        await original(self, packet, arrival_time_ms)

    monkeypatch.setattr(ForwardingReceiver, "_handle_rtp_packet", counted)
    producers = await rig.publish(ColourTrack((0, 255, 0)), ToneTrack())
    _transport, pc, _consumers = await rig.subscribe(producers, decode=False)
    received: dict[str, list[RtpPacket]] = {}
    collect(pc, received)
    assert await until(lambda: len(received.get("audio", ())) > 60 and len(received.get("video", ())) > 60)
    ingest = rig.server[0].pc._lophoc_dtls[0]._lophoc_ingest
    assert ingest is not None and ingest.packets > 120
    publisher_ssrcs = {p.media_ssrc for p in producers}
    before_producers = [ssrc for ssrc in python_path if ssrc in publisher_ssrcs]
    assert len(before_producers) < 30, "only packets that came before the producers were made take Python's path"
    assert ingest.unrouted <= 6, "a packet or two per SSRC (audio, video, RTX) before it was bound"
    for producer in producers:
        assert producer.source is not None and producer.source.packets_in > 60
        assert producer.stats.packets_in == producer.source.packets_in
    receiver = producers[1]._receiver if producers[1].kind == "video" else producers[0]._receiver
    video = next(p for p in producers if p.kind == "video")
    streams = receiver._RTCRtpReceiver__remote_streams
    assert streams[video.media_ssrc].packets_received >= video.source.packets_in, "receiver reports read C's counts"
    report = await video._receiver.getStats()
    inbound = [s for s in report.values() if s.type == "inbound-rtp"]
    assert inbound and inbound[0].packetsReceived > 60


async def test_losses_on_the_publishers_side_are_nacked_and_repaired_through_rtx(rig: Rig) -> None:
    producers = await rig.publish(ColourTrack((255, 255, 0)))
    publisher = rig.peers[0]
    sender = publisher.getTransceivers()[0].sender
    dtls = sender.transport
    send = dtls._send_rtp
    dropped: set[int] = set()
    sent: list[int] = []

    async def lossy(data: bytes) -> None:
        if len(data) >= 12 and not 192 <= data[1] <= 223:  # RTP, not RTCP
            seq, ssrc = struct.unpack("!H", data[2:4])[0], struct.unpack("!I", data[8:12])[0]
            sent.append(seq)
            # once the stream flows (a loss before the first packet received is no loss to anyone)
            if len(sent) > 30 and ssrc == sender._ssrc and seq % 10 == 3 and seq not in dropped and len(dropped) < 8:
                dropped.add(seq)  # lost once; its retransmission (on the RTX SSRC) goes through
                return
        await send(data)

    dtls._send_rtp = lossy
    retransmitted: list[int] = []
    retransmit = sender._retransmit

    async def counting(sequence_number: int) -> None:
        retransmitted.append(sequence_number)
        await retransmit(sequence_number)

    sender._retransmit = counting
    _transport, pc, _consumers = await rig.subscribe(producers, decode=False)
    received: dict[str, list[RtpPacket]] = {}
    collect(pc, received)
    assert await until(lambda: len(dropped) == 8 and set(dropped) <= set(retransmitted)), \
        f"the server asks again for what it lost: lost {sorted(dropped)}, asked {sorted(set(retransmitted))}"
    await asyncio.sleep(0.5)  # the last retransmissions travel on
    numbers = [p.sequence_number for p in received["video"]]
    assert len(numbers) > 60 and contiguous(numbers), "the subscriber gets every packet, the lost ones repaired"
    video = producers[0]
    assert video.source.rtx_payload_type >= 0


async def test_a_publisher_that_changes_its_ssrc_is_followed_without_a_gap(rig: Rig) -> None:
    producers = await rig.publish(ColourTrack((0, 255, 255)))
    sender = rig.peers[0].getTransceivers()[0].sender
    _transport, pc, _consumers = await rig.subscribe(producers, decode=False)
    received: dict[str, list[RtpPacket]] = {}
    keyframes: list[int] = []
    collect(pc, received, keyframes)
    assert await until(lambda: len(received.get("video", ())) > 30 and keyframes)
    before = producers[0].media_ssrc
    sender._ssrc = before ^ 0x5A5A5A5A  # what a publisher's new encoder does
    count = len(received["video"])
    assert await until(lambda: producers[0].media_ssrc == sender._ssrc and len(received["video"]) > count + 30
                       and len(keyframes) >= 2)
    numbers = [p.sequence_number for p in received["video"]]
    assert contiguous(numbers), "the subscriber's numbering goes on across the change"
    assert len({p.ssrc for p in received["video"]}) == 1, "the subscriber sees one stream throughout"


async def test_a_closed_producers_late_packets_take_pythons_path_and_the_transport_lives_on(rig: Rig) -> None:
    """A publisher still sending a track whose producer closed (unpublished, moved to a group): its
    packets are received the Python way, counted in the same statistics, and the transport goes on."""
    from aiortc.rtcdtlstransport import State

    producers = await rig.publish(ColourTrack((128, 0, 255)), ToneTrack())
    _transport, pc, _consumers = await rig.subscribe(producers, decode=False)
    received: dict[str, list[RtpPacket]] = {}
    collect(pc, received)
    assert await until(lambda: len(received.get("audio", ())) > 20 and len(received.get("video", ())) > 20)
    video = next(p for p in producers if p.kind == "video")
    audio = next(p for p in producers if p.kind == "audio")
    stats = video._receiver._RTCRtpReceiver__remote_streams[video.media_ssrc]
    counted = stats.packets_received
    video.close()
    assert await until(lambda: stats.packets_received > counted + 20), "its packets are still counted"
    dtls = rig.server[0].pc._lophoc_dtls[0]
    assert dtls._state is State.CONNECTED
    heard = len(received["audio"])
    assert await until(lambda: len(received["audio"]) > heard + 20), "the transport's other track goes on"
    assert audio.source is not None and not audio.closed
