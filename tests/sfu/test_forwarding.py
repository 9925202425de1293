"""The forwarding path, end to end in one process: an aiortc publisher, transports of the SFU, and
subscribers. Specification: packets are forwarded, never decoded or encoded."""
from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy, RTCIceTransportPolicy
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from sfu.aiortc_adapter import AnnouncingPeerConnection, ForwardingReceiver, ForwardingSender, SfuPeerConnection
from sfu.codecs import starts_keyframe
from sfu.consumer import Consumer
from sfu.router import ProducerLink, Router
from sfu.transport import WebRtcTransport
from tests.media import ColourTrack, ToneTrack, close_to, mean_rgb

LOOPBACK = ("127.0.0.1",)


class Rig:
    """A room with one publisher's transport and any number of subscriber transports."""

    def __init__(self) -> None:
        self.room = Router("test")
        self.server: list[WebRtcTransport] = []
        self.peers: list[AnnouncingPeerConnection] = []

    async def publish(self, *tracks: Any) -> list[Any]:
        transport = WebRtcTransport("send", announced=LOOPBACK)
        self.server.append(transport)
        pc = AnnouncingPeerConnection(announced=LOOPBACK)
        self.peers.append(pc)
        for track in tracks:
            pc.addTransceiver(track, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        answer, incoming = await transport.answer(pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        producers = [transport.produce(f"m{i}", t) for i, t in enumerate(incoming)]
        for producer in producers:
            self.room.add_producer(producer)
        return producers

    async def subscribe(self, producers: list[Any], *, decode: bool = True) -> tuple[WebRtcTransport, Any, list[Any]]:
        transport = WebRtcTransport(f"recv{len(self.server)}", announced=LOOPBACK)
        self.server.append(transport)
        consumers = [self.room.consume(transport, f"c{p.id}", p.id) for p in producers]
        pc = (AnnouncingPeerConnection if decode else SfuPeerConnection)(announced=LOOPBACK)
        self.peers.append(pc)
        await self.negotiate(transport, pc)
        return transport, pc, consumers

    @staticmethod
    async def negotiate(transport: WebRtcTransport, pc: Any) -> None:
        await pc.setRemoteDescription(RTCSessionDescription(await transport.offer(), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await transport.accept_answer(pc.localDescription.sdp)

    async def close(self) -> None:
        for pc in self.peers:
            await pc.close()
        for transport in self.server:
            await transport.close()
        await self.room.close()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    made = Rig()
    yield made
    await made.close()


async def test_forwarding_creates_no_decoder_and_no_encoder_in_the_sfu(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    decoders: list[Any] = []
    encoders: list[Any] = []
    real_decoder, real_encoder = aiortc.rtcrtpreceiver.get_decoder, aiortc.rtcrtpsender.get_encoder

    def spy_decoder(codec: RTCRtpCodecParameters) -> Any:
        decoders.append(codec)
        return real_decoder(codec)

    def spy_encoder(codec: RTCRtpCodecParameters) -> Any:
        encoders.append(sys._getframe(1).f_locals.get("self"))  # the RTCRtpSender that asked
        return real_encoder(codec)

    monkeypatch.setattr(aiortc.rtcrtpreceiver, "get_decoder", spy_decoder)
    monkeypatch.setattr(aiortc.rtcrtpsender, "get_encoder", spy_encoder)

    producers = await rig.publish(ColourTrack((255, 0, 0)), ToneTrack())
    received: dict[str, list[RtpPacket]] = {"audio": [], "video": []}
    keyframes: list[int] = []
    transports = [await rig.subscribe(producers, decode=False) for _ in range(3)]
    for _transport, pc, _consumers in transports:
        for transceiver in pc.getTransceivers():
            assert isinstance(transceiver.receiver, ForwardingReceiver)

            def sink(packet: RtpPacket, codec: RTCRtpCodecParameters, kind: str = transceiver.kind) -> None:
                received[kind].append(packet)
                if starts_keyframe(codec.mimeType, packet.payload):
                    keyframes.append(packet.sequence_number)

            transceiver.receiver.sink = sink
    for _ in range(200):
        if len(received["video"]) > 60 and len(received["audio"]) > 60 and len(keyframes) >= 3:
            break
        await asyncio.sleep(0.05)
    assert len(keyframes) >= 3, "every subscriber starts on a keyframe"
    assert len(received["audio"]) > 60 and len(received["video"]) > 60

    assert decoders == [], "nothing decodes: neither the SFU nor these subscribers"
    assert len(encoders) == 2, "only the publisher's two tracks are encoded"
    assert not any(isinstance(sender, ForwardingSender) for sender in encoders)
    assert not [t.name for t in threading.enumerate() if t.name.endswith("-decoder")]
    for transport in rig.server:
        for transceiver in transport.pc.getTransceivers():
            assert transceiver.receiver._RTCRtpReceiver__decoder_thread is None
            assert transceiver.sender._RTCRtpSender__encoder is None
    stats = rig.room.stats()
    sent = sum(c.packets_sent for _t, _pc, consumers in transports for c in consumers)
    assert stats.packets_out == sent >= 120
    assert stats.latency.count > 0


async def test_each_subscriber_gets_its_own_ssrc_and_gapless_sequence_numbers(rig: Rig) -> None:
    producers = await rig.publish(ColourTrack((0, 0, 255)))
    seen: dict[int, list[int]] = {}
    subscribers = [await rig.subscribe(producers, decode=False) for _ in range(2)]
    for _transport, pc, _consumers in subscribers:
        receiver = pc.getTransceivers()[0].receiver
        receiver.sink = lambda packet, codec: seen.setdefault(packet.ssrc, []).append(packet.sequence_number)
    for _ in range(200):
        if len(seen) == 2 and all(len(s) > 40 for s in seen.values()):
            break
        await asyncio.sleep(0.05)
    assert len(seen) == 2, "two subscribers, two SSRCs"
    server_ssrcs = {t.pc.getTransceivers()[0].sender._ssrc for t, _pc, _c in subscribers}
    assert set(seen) == server_ssrcs
    for _transport, _pc, (consumer,) in subscribers:
        sender = consumer.transceiver.sender
        assert sender._RTCRtpSender__packet_count == consumer.packets_sent > 0, "sender reports count what went out"
        assert sender._RTCRtpSender__octet_count == consumer.octets_sent
        ntp, _rtp_timestamp = consumer.report()
        assert ntp > 0, "the report pairs an NTP time with the subscriber's RTP timestamps (checked below)"
    for numbers in seen.values():
        ordered = sorted(numbers, key=lambda n: (n - numbers[0]) & 0xFFFF)
        steps = {(b - a) & 0xFFFF for a, b in zip(ordered, ordered[1:], strict=False)}
        assert steps == {1}, "no gaps on loopback: the rewrite keeps numbers contiguous"


async def test_a_closed_producer_closes_its_consumers_and_their_m_line_is_reused(rig: Rig) -> None:
    camera, = await rig.publish(ColourTrack((255, 0, 0)))
    transport, pc, (consumer,) = await rig.subscribe([camera])
    first = await asyncio.wait_for(pc.getTransceivers()[0].receiver.track.recv(), 15)
    assert close_to(mean_rgb(first), (255, 0, 0))
    reasons: list[str] = []
    consumer.on_close = lambda c, reason: reasons.append(reason)
    camera.close()
    assert reasons == ["producer_closed"]
    assert consumer.closed and not rig.room.consumers_of(camera.id)
    transport.release(consumer)
    await rig.negotiate(transport, pc)
    assert pc.getTransceivers()[0].currentDirection == "inactive"
    sender = consumer.transceiver.sender
    sequence_after_first = sender.next_sequence

    screen, = await rig.publish(ColourTrack((0, 255, 0)))
    again = rig.room.consume(transport, "c2", screen.id)
    assert again.transceiver is consumer.transceiver, "the inactive m-line is reused"
    await rig.negotiate(transport, pc)
    assert len(pc.getTransceivers()) == 1
    track = pc.getTransceivers()[0].receiver.track
    for _ in range(100):
        frame = await asyncio.wait_for(track.recv(), 15)
        if close_to(mean_rgb(frame), (0, 255, 0)):
            break
    assert close_to(mean_rgb(frame), (0, 255, 0)), mean_rgb(frame)
    # Same SSRC, so the sequence numbers go on from the first consumer's: SRTP refuses old ones.
    assert 0 < (sender.next_sequence - sequence_after_first) & 0xFFFF < 0x8000


async def test_a_paused_producer_sends_nothing_and_resumes_on_a_keyframe(rig: Rig) -> None:
    camera, = await rig.publish(ColourTrack((255, 0, 0)))
    _transport, _pc, (consumer,) = await rig.subscribe([camera], decode=False)
    for _ in range(100):
        if consumer.packets_sent > 10:
            break
        await asyncio.sleep(0.05)
    camera.pause()
    await asyncio.sleep(0.1)
    paused_at = consumer.packets_sent
    await asyncio.sleep(0.5)
    assert consumer.packets_sent == paused_at
    camera.resume()
    assert consumer.waiting_keyframe
    for _ in range(100):
        if consumer.packets_sent > paused_at:
            break
        await asyncio.sleep(0.05)
    assert consumer.packets_sent > paused_at and not consumer.waiting_keyframe


async def test_subscribers_are_not_asked_for_bandwidth_estimates(rig: Rig) -> None:
    """No goog-remb and no abs-send-time in the offer to a subscriber: forwarding cannot use their
    estimates. Keyframe requests and NACK stay."""
    camera, = await rig.publish(ColourTrack((255, 0, 0)))
    transport, pc, (consumer,) = await rig.subscribe([camera], decode=False)
    offer = pc.remoteDescription.sdp
    assert "goog-remb" not in offer and "abs-send-time" not in offer
    assert "nack pli" in offer and " nack\r\n" in offer and "sdes:mid" in offer
    arrived: list[Any] = []
    receiver = pc.getTransceivers()[0].receiver
    receiver.sink = lambda packet, codec: arrived.append(packet)
    for _ in range(100):
        if len(arrived) > 20:
            break
        await asyncio.sleep(0.05)
    assert len(arrived) > 20
    assert all(p.extensions.abs_send_time is None and p.extensions.mid == consumer.transceiver.mid for p in arrived)


async def test_sender_reports_reach_subscribers_video_about_every_second_audio_every_few(rig: Rig) -> None:
    """Reports carry the subscriber's own SSRC and the publisher's timing translated (lip sync);
    video every 0.5-1.5 s, audio every 2.5-7.5 s, as browsers send them."""
    camera, mic = await rig.publish(ColourTrack((0, 255, 0)), ToneTrack())
    _transport, pc, consumers = await rig.subscribe([camera, mic], decode=False)
    started = time.monotonic()
    reports: list[tuple[str, int, float, int, int]] = []
    for transceiver, consumer in zip(pc.getTransceivers(), consumers, strict=True):
        transceiver.receiver.sr_sink = lambda ssrc, ntp, rtp, kind=transceiver.kind, route=consumer.route: reports.append(
            (kind, ssrc, time.monotonic() - started, ntp, (rtp - route.last_timestamp) & 0xFFFFFFFF))
    for _ in range(100):
        if any(kind == "video" for kind, *_ in reports):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(max(0.0, 2.0 - (time.monotonic() - started)))
    video = [r for r in reports if r[0] == "video"]
    assert video, "a video sender report within 5 s"
    assert all(ssrc == consumers[0].route.ssrc and ntp > 0 for _kind, ssrc, _at, ntp, _gap in video)
    # The RTP timestamp is the subscriber's (offset applied): within 2 s of what it was last sent, at 90 kHz.
    assert all(min(gap, 0x100000000 - gap) < 2 * 90000 for *_, gap in video), video
    assert not [r for r in reports if r[0] == "audio" and r[2] < 2.0], "no audio report in the first 2 s"


async def test_a_transports_routes_share_one_socket_duplicate_closed_with_the_transport(rig: Rig) -> None:
    camera, mic = await rig.publish(ColourTrack((0, 0, 255)), ToneTrack())
    transport, _pc, consumers = await rig.subscribe([camera, mic], decode=False)
    for _ in range(100):
        if all(c.packets_sent > 5 for c in consumers):
            break
        await asyncio.sleep(0.05)
    assert all(c.route.connected and c.packets_sent > 5 for c in consumers)
    shared = {id(c._dtls._lophoc_send_socket[1]) for c in consumers}
    assert len(shared) == 1, "one descriptor per transport, not one per consumer"
    fd = consumers[0]._dtls._lophoc_send_socket[1].fd
    os.fstat(fd)
    await transport.close()
    assert not any(c.route.connected for c in consumers)
    with pytest.raises(OSError):
        os.fstat(fd)


@pytest.fixture
def turn_server(tmp_path: Any) -> Iterator[str]:
    """coturn on loopback (Debian's package, installed by `make test`): a TURN URL with credentials."""
    exe = shutil.which("turnserver")
    assert exe is not None, "coturn is missing: `make test` installs it"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    relay_base = random.randrange(40000, 59000, 200)
    proc = subprocess.Popen(
        [exe, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
         f"--min-port={relay_base}", f"--max-port={relay_base + 199}", "--lt-cred-mech", "--user=lophoc:secret",
         "--realm=lophoc.test", "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp",
         f"--userdb={tmp_path / 'turndb'}", f"--pidfile={tmp_path / 'turn.pid'}", f"--log-file={tmp_path / 'turn.log'}",
         "--simple-log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        assert proc.poll() is None, (tmp_path / "turn.log").read_text() if (tmp_path / "turn.log").exists() else ""
        yield f"turn:127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_a_server_reachable_only_through_turn_forwards_over_the_relay(turn_server: str, rig: Rig) -> None:
    """The server's own candidates are relayed (policy relay): its pair has no socket of ours, and
    each copy goes through the TURN transport, which wraps it for coturn. (turn_server comes first
    so that coturn outlives the peers: they deallocate when the rig closes them.)"""
    camera, = await rig.publish(ColourTrack((255, 0, 0)))
    config = RTCConfiguration(iceServers=[RTCIceServer(urls=turn_server, username="lophoc", credential="secret")],
                              iceTransportPolicy=RTCIceTransportPolicy.RELAY, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    server = SfuPeerConnection(config, announced=())
    client = AnnouncingPeerConnection(announced=LOOPBACK)
    rig.peers += [server, client]
    # A bare peer connection, not a WebRtcTransport: the consumer is linked by hand, as the router would.
    consumer = Consumer("relayed", ProducerLink(rig.room, camera), server.addTransceiver("video", direction="sendonly"))
    camera.attach(consumer.route)
    await server.setLocalDescription(await server.createOffer())
    assert " typ relay " in server.localDescription.sdp and " typ host " not in server.localDescription.sdp
    await client.setRemoteDescription(server.localDescription)
    await client.setLocalDescription(await client.createAnswer())
    await server.setRemoteDescription(client.localDescription)
    frame = await asyncio.wait_for(client.getTransceivers()[0].receiver.track.recv(), 20)
    assert close_to(mean_rgb(frame), (255, 0, 0)), mean_rgb(frame)
    pair = consumer._dtls.transport._connection._nominated[1]
    assert pair.local_candidate.type == "relay"
    assert consumer.route.connected and getattr(consumer._dtls, "_lophoc_send_socket", None) is None
    assert consumer.packets_sent > 0 and consumer.route.send_errors == 0
