"""The one module that reaches into aiortc's and aioice's internals (aiortc==1.16.0, aioice==0.13.0,
pinned exactly; tests/sfu/test_aiortc_adapter.py breaks loudly when an upgrade moves them).

What it changes, and why:
- `ForwardingReceiver`: a publisher's receiver that keeps RTCP receiver reports, NACK generation,
  RTX unwrapping and REMB, but never depayloads, buffers or decodes: each RTP packet goes to a
  sink (the producer). aiortc's own receiver starts a decoder thread per track.
- Transport-wide congestion control with publishers (`accept_transport_cc`, `TransportFeedback`):
  aiortc negotiates only REMB, under which a Chrome publisher stayed below about 1 Mbps (blurry)
  for its first half-minute. Where a publisher offers transport-cc, the answer takes it instead of
  REMB and abs-send-time, the receivers record each packet's transport-wide sequence number and
  arrival time, and one task per DTLS transport sends the feedback (sfu/twcc.py) every 50 ms.
- `ForwardingSender`: a subscriber's sender with no track and no encoder. The consumer writes
  already-encoded RTP itself; this class sends the sender reports (from what the consumer sent,
  audio every ~5 s and video every ~1 s as browsers do) and hands NACK and PLI/FIR to the
  consumer instead of an encoder.
- `SfuPeerConnection`: injects both at construction, and announces only the configured ICE
  addresses (aioice never offers loopback; a server must choose what it announces).
- `SfuDtlsTransport`: the peer connection's DTLS, offering ECDHE with RSA as well as ECDSA
  certificates (aiortc offers ECDSA suites only, so as the DTLS client, the answerer's usual role,
  it failed against any peer with an RSA certificate: GStreamer's webrtcbin, OpenSSL-based
  publishers); and it keeps why a handshake failed (`failure`), which aiortc only logs at DEBUG.
- `connect_route`: hands the forwarding loop in C (`sfu/_fanout.c`) the nominated ICE pair's socket
  and remote address and the transport's outgoing SRTP session: each copy is rewritten, protected
  and sent without Python.
- The native way in: once DTLS has keyed SRTP, every SRTP datagram the ICE connection receives goes
  to the transport's `Ingest` (`sfu/_ingest.c`) from aioice's datagram callback, not through
  aioice's queue and aiortc's `_recv_next`. A receiver binds each SSRC it is routed (by aiortc's
  router, on the SSRC's first packet) to its producer's `ReceivedTrack`; after that a packet costs
  one C call. DTLS and RTCP keep aiortc's path. SRTP sessions are made here from the DTLS keying
  material with libsrtp (pylibsrtp's, pinned exactly) bound once at import: the outgoing one for
  the forwarding routes (RTP only; aiortc's own session protects RTCP), the incoming one for the
  ingest.
"""
from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import aioice
from aioice.ice import StunProtocol, get_host_addresses
from aioice.utils import random_string
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import get_capabilities, is_rtx
from aiortc.rtcdtlstransport import RTCCertificate, RTCDtlsParameters, RTCDtlsTransport, SRTPProtectionProfile, State
from aiortc.rtcrtpparameters import (RTCRtcpFeedback, RTCRtpCodecCapability, RTCRtpCodecParameters,
                                     RTCRtpSendParameters)
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpByePacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    RtpPacket,

    pack_remb_fci,
    unwrap_rtx,
)
from aiortc import clock
from OpenSSL import SSL
from pylibsrtp import _binding as _srtp_binding
from pylibsrtp._binding import ffi as _srtp_ffi

from sfu import _media
from sfu._media import Ingest, ReceiveStats, Route, Source, SrtpSession
from sfu.estimate import LossBasedEstimate
from sfu.twcc import Arrivals

log = logging.getLogger(__name__)

RtpSink = Callable[[RtpPacket, RTCRtpCodecParameters], None]
SrSink = Callable[[int, int, int], None]
"""(ssrc, ntp_timestamp, rtp_timestamp) of a publisher's sender report."""


class ReceivedTrack(Source):
    """A producer's track on the native way in (`sfu._media.Source`: its routes, packet cache and
    counters), with the producer's callbacks for what the C side hands back to Python."""

    on_level: Callable[[int], None] | None = None
    """An audio level (-dBov, the loudest of the last ~50 ms)."""
    on_packet: Callable[[RtpPacket, bool], None] | None = None
    """Each packet, while `tapped` (a reader such as the recorder), and whether it starts a keyframe."""

    def heard_level(self, level: int) -> None:
        if self.on_level is not None:
            self.on_level(level)

    def tapped_packet(self, data: bytes, keyframe: bool) -> None:
        if self.on_packet is not None:
            self.on_packet(RtpPacket.parse(data), keyframe)


# --- Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01) --------
# aiortc parses the transport-wide sequence number once the extension is negotiated, but neither
# offers it nor sends feedback. A publisher's m-line that offers it is answered with it (and with
# its rtcp-fb on the codecs that offer it); subscribers are never offered it, as the server does not
# adapt to their bandwidth (aiortc's own tables, which build the server's offers, lack it).

TRANSPORT_CC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
FEEDBACK_INTERVAL = 0.05
"""Seconds between two transport-wide feedbacks (libwebrtc sends them every 50-250 ms)."""


def accept_transport_cc(pc: RTCPeerConnection, transceiver: RTCRtpTransceiver) -> bool:
    """After the offer is applied and before the answer: answer this m-line's transport-wide
    sequence numbers and transport-cc feedback if the offer has them, in place of abs-send-time and
    goog-remb (the publisher's send-side estimate replaces the server's REMB). True if taken."""
    description = pc._RTCPeerConnection__remoteDescription()  # type: ignore[attr-defined]
    media = next((m for m in description.media if m.rtp.muxId == transceiver.mid), None) if description else None
    extension = next((e for e in media.rtp.headerExtensions if e.uri == TRANSPORT_CC_URI), None) if media else None
    if media is None or extension is None:
        return False
    offered = {c.payloadType for c in media.rtp.codecs if any(f.type == "transport-cc" for f in c.rtcpFeedback)}
    transceiver._headerExtensions = [e for e in transceiver._headerExtensions
                                     if e.uri not in (ABS_SEND_TIME_URI, TRANSPORT_CC_URI)] + [extension]
    for codec in transceiver._codecs:
        feedback = [f for f in codec.rtcpFeedback if f.type not in ("goog-remb", "transport-cc")]
        if codec.payloadType in offered:
            feedback.append(RTCRtcpFeedback(type="transport-cc"))
        codec.rtcpFeedback = feedback
    return True


class TransportFeedback:
    """The transport-wide feedback of one DTLS transport (the sequence numbers span all its m-lines):
    the ingest stamps each packet's arrival (sfu/_ingest.c); a task moves them to `arrivals` and
    flushes them every FEEDBACK_INTERVAL through the transport's SRTCP. Made by
    `transport_feedback`, stopped with the transport."""

    def __init__(self, dtls: RTCDtlsTransport, sender_ssrc: int, media_ssrc: int) -> None:
        self.arrivals = Arrivals()
        self.sender_ssrc = sender_ssrc
        self.media_ssrc = media_ssrc
        self.packets_sent = 0
        """Feedback packets sent so far."""
        self._dtls = dtls
        self._task: asyncio.Task[None] | None = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            while True:
                await asyncio.sleep(FEEDBACK_INTERVAL)
                try:
                    ingest = getattr(self._dtls, "_lophoc_ingest", None)
                    if ingest is not None:  # what arrived the native way (stamped in C, the same clock)
                        self.arrivals.add_many(ingest.take_arrivals())
                    for packet in self.arrivals.flush(self.sender_ssrc, self.media_ssrc):
                        await self._dtls._send_rtp(packet)  # SRTCP protect: it is RTCP by its type (205)
                        self.packets_sent += 1
                except ConnectionError:
                    pass  # not connected (yet, or any more): these arrivals go unreported
                except Exception:  # the publisher's media must not lose its feedback for good
                    log.exception("transport-wide feedback failed; the next flush tries again")
        except asyncio.CancelledError:
            pass

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])


def transport_feedback(dtls: RTCDtlsTransport) -> TransportFeedback | None:
    """The transport-wide feedback of `dtls`, if a receiver on it negotiated transport-cc."""
    return getattr(dtls, "_lophoc_feedback", None)


class ForwardingReceiver(RTCRtpReceiver):
    """Receives a publisher's RTP and hands each media packet to `sink`, undecoded."""

    sink: RtpSink | None
    sr_sink: SrSink | None

    source: ReceivedTrack | None
    """The producer's track on the native way in; None: every packet takes `_handle_rtp_packet`."""
    on_new_ssrc: Callable[[int], None] | None
    """The publisher's media SSRC changed (a new one bound): consumers start again on a keyframe."""

    def _lophoc_init(self) -> None:
        self.sink = None
        self.sr_sink = None
        self.source = None
        self.on_new_ssrc = None
        self._lophoc_estimate: LossBasedEstimate | None = None
        self._lophoc_left: set[int] = set()
        self._lophoc_transport_cc = False
        """The publisher negotiated transport-wide feedback on this m-line (its estimate, not REMB)."""

    def bind_native(self, packet: RtpPacket, ingest: Ingest) -> bool:
        """Bind the SSRC of `packet` (routed here by aiortc's router) to this receiver's track in the
        transport's ingest, with receive statistics the receiver reports read; False leaves it to
        `_handle_rtp_packet` (no native track, a codec the track does not forward, a full ingest)."""
        source = self.source
        if source is None or source.closed or not self._enabled:
            return False
        codecs = self._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return False
        streams = self._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
        if is_rtx(codec):
            media_ssrc = self._RTCRtpReceiver__rtx_ssrc.get(packet.ssrc)  # type: ignore[attr-defined]
            if media_ssrc is None or codec.parameters.get("apt") != source.payload_type:
                return False
            source.rtx_payload_type = codec.payloadType
            stats = ReceiveStats(codec.clockRate)
            if not ingest.bind(packet.ssrc, source, stats, rtx_of=media_ssrc):
                return False
            streams[packet.ssrc] = stats
            return True
        if codec.payloadType != source.payload_type:
            return False
        previous = source.media_ssrc
        stats = ReceiveStats(codec.clockRate)
        generator = self._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
        after = generator.max_seq if generator is not None and packet.ssrc in streams else None
        if not ingest.bind(packet.ssrc, source, stats, nack=generator is not None, after=after):
            return False
        streams[packet.ssrc] = stats
        self._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]  (see _remb)
        if previous is not None and previous != packet.ssrc and self.on_new_ssrc is not None:
            self.on_new_ssrc(packet.ssrc)
        return True

    def attach_source(self, source: ReceivedTrack) -> None:
        """Receive natively from now on, into `source`: SSRCs left to Python's path are routed again
        on their next packet, and bound then."""
        self.source = source
        ingest = getattr(self.transport, "_lophoc_ingest", None)
        for ssrc in self._lophoc_left:
            if ingest is not None:
                ingest.unbind(ssrc)
        self._lophoc_left.clear()

    def leave_to_python(self, ssrc: int, ingest: Ingest) -> None:
        """A receiver with no native track (a client's, a simulcast track's, or a producer's not made
        yet) takes this SSRC's packets the Python way, from aioice's queue, until `attach_source`."""
        if ingest.leave(ssrc):
            self._lophoc_left.add(ssrc)

    def release_native(self) -> None:
        """The track leaves the native way in: its SSRCs are unbound, its packets dropped."""
        source, self.source = self.source, None
        if source is None:
            return
        ingest = getattr(self.transport, "_lophoc_ingest", None)
        if ingest is not None:
            ingest.unbind(source)
        source.close()

    async def _run_rtcp(self) -> None:
        # RTCRtpReceiver._run_rtcp: receiver reports (RFC 3550 6.4.2) every 0.5-1.5 s from each
        # stream's statistics (kept in C for a bound SSRC), and for a natively received video track
        # the REMB from aggregates (`_remb`), unless the publisher has transport-wide feedback.
        self._RTCRtpReceiver__rtcp_started.set()  # type: ignore[attr-defined]
        try:
            while True:
                await asyncio.sleep(0.5 + random.random())
                reports = []
                lsr_of, lsr_time = self._RTCRtpReceiver__lsr, self._RTCRtpReceiver__lsr_time  # type: ignore[attr-defined]
                for ssrc, stream in self._RTCRtpReceiver__remote_streams.items():  # type: ignore[attr-defined]
                    if stream.max_seq is None:
                        continue
                    lsr = dlsr = 0
                    if ssrc in lsr_of:
                        lsr = lsr_of[ssrc]
                        delay = time.time() - lsr_time[ssrc]
                        if 0 < delay < 65536:
                            dlsr = int(delay * 65536)
                    reports.append(RtcpReceiverInfo(ssrc=ssrc, fraction_lost=stream.fraction_lost,
                                                    packets_lost=stream.packets_lost, highest_sequence=stream.max_seq,
                                                    jitter=stream.jitter, lsr=lsr, dlsr=dlsr))
                rtcp_ssrc = self._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
                if rtcp_ssrc is not None and reports:
                    await self._send_rtcp(RtcpRrPacket(ssrc=rtcp_ssrc, reports=reports))
                remb = self._remb()
                if rtcp_ssrc is not None and remb is not None:
                    await self._send_rtcp(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0,
                                                         fci=pack_remb_fci(*remb)))
        except asyncio.CancelledError:
            pass
        self._RTCRtpReceiver__rtcp_exited.set()  # type: ignore[attr-defined]

    def _remb(self) -> tuple[int, list[int]] | None:
        """(bitrate, [SSRC]) for a REMB of a natively received video track: what the loss-based
        estimate allows, from the bytes and the losses counted since the last report."""
        source = self.source
        if (source is None or source.media_ssrc is None or self._lophoc_transport_cc
                or self._RTCRtpReceiver__kind != "video"):  # type: ignore[attr-defined]
            return None
        stream = self._RTCRtpReceiver__remote_streams.get(source.media_ssrc)  # type: ignore[attr-defined]
        if not isinstance(stream, ReceiveStats):
            return None
        if self._lophoc_estimate is None:
            self._lophoc_estimate = LossBasedEstimate()
        bitrate = self._lophoc_estimate.update(time.monotonic(), source.bytes_in, stream.packets_expected,
                                               stream.packets_received)
        return bitrate, [source.media_ssrc]

    async def receive(self, parameters: Any) -> None:
        # RTCRtpReceiver.receive without the decoder thread.
        if not self._RTCRtpReceiver__started:  # type: ignore[attr-defined]
            codecs = self._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
            for codec in parameters.codecs:
                codecs[codec.payloadType] = codec
            rtx = self._RTCRtpReceiver__rtx_ssrc  # type: ignore[attr-defined]
            for encoding in parameters.encodings:
                if encoding.rtx:
                    rtx[encoding.rtx.ssrc] = encoding.ssrc
            self.transport._register_rtp_receiver(self, parameters)
            if isinstance(self.transport, SfuDtlsTransport):
                self.transport._lophoc_extensions_changed()
            if any(e.uri == TRANSPORT_CC_URI for e in parameters.headerExtensions):
                self._feedback(parameters)
                self._lophoc_transport_cc = True
            self._RTCRtpReceiver__rtcp_task = asyncio.ensure_future(self._run_rtcp())  # type: ignore[attr-defined]
            self._RTCRtpReceiver__started = True  # type: ignore[attr-defined]

    def _feedback(self, parameters: Any) -> TransportFeedback:
        dtls = self.transport
        feedback = transport_feedback(dtls)
        if feedback is None:
            rtcp_ssrc = self._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
            media_ssrc = next((e.ssrc for e in parameters.encodings if e.ssrc), 0)
            feedback = dtls._lophoc_feedback = TransportFeedback(dtls, rtcp_ssrc or 0, media_ssrc)
        return feedback

    async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:
        await super()._handle_rtcp_packet(packet)
        if isinstance(packet, RtcpSrPacket) and self.sr_sink is not None:
            self.sr_sink(packet.ssrc, packet.sender_info.ntp_timestamp, packet.sender_info.rtp_timestamp)

    async def _handle_rtp_packet(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        # Called from aiortc's receive loop: an exception here would end the DTLS transport.
        try:
            await self._forward_rtp_packet(packet, arrival_time_ms)
        except Exception:
            log.exception("a received RTP packet failed (SSRC %d)", packet.ssrc)

    async def _forward_rtp_packet(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        if not self._enabled:
            return
        # transport-cc: the ingest stamps every packet's arrival, whichever path takes it; no REMB
        estimator = None if self._lophoc_transport_cc else self._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
        if estimator is not None and packet.extensions.abs_send_time is not None:
            remb = estimator.add(
                abs_send_time=packet.extensions.abs_send_time,
                arrival_time_ms=arrival_time_ms,
                payload_size=len(packet.payload) + packet.padding_size,
                ssrc=packet.ssrc,
            )
            rtcp_ssrc = self._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
            if rtcp_ssrc is not None and remb is not None:
                await self._send_rtcp(
                    RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb))
                )
        codecs = self._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return
        streams = self._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
        stream = streams.get(packet.ssrc)
        if stream is None:
            from aiortc.rtcrtpreceiver import StreamStatistics

            stream = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        stream.add(packet)
        if is_rtx(codec):
            original_ssrc = self._RTCRtpReceiver__rtx_ssrc.get(packet.ssrc)  # type: ignore[attr-defined]
            apt = codec.parameters.get("apt")
            if original_ssrc is None or len(packet.payload) < 2 or apt not in codecs:
                return  # padding probes arrive on the RTX SSRC: dropped here
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
            codec = codecs[apt]
        nack = self._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
        if nack is not None and nack.add(packet):
            await self._send_rtcp_nack(packet.ssrc, sorted(nack.missing))
        if packet.payload and self.sink is not None:
            self.sink(packet, codec)

    async def request_keyframe(self, media_ssrc: int) -> None:
        await self._send_rtcp_pli(media_ssrc)


class ReportSource(Protocol):
    packets_sent: int
    octets_sent: int
    next_sequence: int

    def report(self) -> tuple[int, int]:
        """(NTP timestamp, RTP timestamp) of the same instant, for a sender report."""


SR_INTERVAL = {"video": 1.0, "audio": 5.0}
"""Mean seconds between a sender's reports, as browsers send them (aiortc sends both every second):
at 40 subscribers, audio reports were a tenth of the server's CPU."""

Feedback = Callable[[str, list[int]], None]
"""("nack", lost sequence numbers) or ("keyframe", [])."""


class ForwardingSender(RTCRtpSender):
    """Sends what a consumer writes; no track, no encoder."""

    parameters: RTCRtpSendParameters | None
    on_parameters: Callable[[RTCRtpSendParameters], None] | None
    on_feedback: Feedback | None

    def _lophoc_init(self) -> None:
        self.parameters = None
        self.on_parameters = None
        self.on_feedback = None
        # Sequence numbers belong to the sender (its SSRC), not to one consumer: a consumer that reuses
        # this m-line continues them, or SRTP's replay protection refuses its packets as too old.
        self._next_sequence = random.randint(0, 0xFFFF)
        self.next_rtx_sequence = random.randint(0, 0xFFFF)
        self.report_source = None

    @property
    def next_sequence(self) -> int:
        """The sequence number of the next new packet on this SSRC: its consumer's while it has one."""
        return self.report_source.next_sequence if self.report_source is not None else self._next_sequence

    @next_sequence.setter
    def next_sequence(self, value: int) -> None:
        self._next_sequence = value

    async def send(self, parameters: RTCRtpSendParameters) -> None:
        # Called after every negotiation that leaves this sender sending: a reused transceiver may
        # carry another codec, so the newest parameters win (aiortc itself only reads the first).
        await super().send(parameters)
        self.parameters = parameters
        if self.on_parameters is not None:
            self.on_parameters(parameters)

    async def _run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        self._RTCRtpSender__rtp_started.set()  # type: ignore[attr-defined]
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            pass
        finally:
            self._RTCRtpSender__rtp_exited.set()  # type: ignore[attr-defined]

    async def _run_rtcp(self) -> None:
        # Sender reports at SR_INTERVAL, varied 0.5-1.5x (RFC 3550 6.3.1), with the consumer's
        # timestamps read once per report; LSR kept for aiortc's round-trip time from receiver reports.
        self._RTCRtpSender__rtcp_started.set()  # type: ignore[attr-defined]
        interval = SR_INTERVAL.get(self.kind, 1.0)
        try:
            while True:
                await asyncio.sleep(interval * (0.5 + random.random()))
                ntp, rtp = self.report_source.report() if self.report_source is not None else (0, 0)
                info = RtcpSenderInfo(ntp_timestamp=ntp, rtp_timestamp=rtp,
                                      packet_count=self._RTCRtpSender__packet_count & 0xFFFFFFFF,
                                      octet_count=self._RTCRtpSender__octet_count & 0xFFFFFFFF)
                packets: list[AnyRtcpPacket] = [RtcpSrPacket(ssrc=self._ssrc, sender_info=info)]
                self._RTCRtpSender__lsr = (ntp >> 16) & 0xFFFFFFFF
                self._RTCRtpSender__lsr_time = time.time()
                cname = self._RTCRtpSender__cname  # type: ignore[attr-defined]
                if cname is not None:
                    packets.append(RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=self._ssrc, items=[(1, cname.encode())])]))
                await self._send_rtcp(packets)
        except asyncio.CancelledError:
            pass
        await self._send_rtcp([RtcpByePacket(sources=[self._ssrc])])
        self._RTCRtpSender__rtcp_exited.set()  # type: ignore[attr-defined]

    async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            if self.on_feedback is not None:
                self.on_feedback("nack", list(packet.lost))
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_FIR, RTCP_PSFB_PLI):
            if self.on_feedback is not None:
                self.on_feedback("keyframe", [])
        else:
            await super()._handle_rtcp_packet(packet)

    # aiortc's receiver-report handling and getStats read these two private counters. Here they are
    # properties over what the consumer counts anyway, read when needed, not kept per packet.
    report_source: ReportSource | None = None

    @property
    def _RTCRtpSender__octet_count(self) -> int:  # noqa: N802 (aiortc's name)
        return self.report_source.octets_sent if self.report_source else 0

    @property
    def _RTCRtpSender__packet_count(self) -> int:  # noqa: N802
        return self.report_source.packets_sent if self.report_source else 0


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a hostname (mDNS): not loopback


# --- Remote mDNS candidates --------------------------------------------------------------------
# Browsers name their host candidates `<uuid>.local` (mDNS) unless the page may use the camera or
# microphone. aioice resolves such a name by multicast before setRemoteDescription returns, waiting
# its 1 s timeout when no answer comes (always, for a browser not on the server's own link), and
# ICE checks start only after: every student's answer and every browser's WHIP offer waited that
# second. The name would add nothing anyway: a browser that can reach the server sends it checks,
# and the server learns the browser's address from them as a peer-reflexive candidate
# (RFC 8445 section 7.3.1.3, RFC 8838 section 11). So the server never resolves them.

def is_mdns_candidate(candidate: aioice.Candidate) -> bool:
    """A remote candidate named by mDNS, which the server ignores (peer-reflexive instead)."""
    return aioice.mdns.is_mdns_hostname(candidate.host)

# --- end of remote mDNS candidates ----------------------------------------------------------------


class MediaFirstProtocol(StunProtocol):
    """aioice's protocol of one local candidate, handing an RTP or RTCP datagram (first byte 128-191,
    RFC 7983) straight to its connection: aioice tries every datagram as a STUN message first, an
    exception per media packet. STUN (first byte 0-3) and DTLS (20-63) keep aioice's path."""

    def datagram_received(self, data: bytes | str, addr: tuple[Any, ...]) -> None:
        if data and 127 < data[0] < 192:  # type: ignore[operator]
            self.receiver.data_received(data, self.local_candidate.component)
            return
        super().datagram_received(data, addr)


class AnnouncedConnection(aioice.Connection):
    """An ICE agent that gathers host candidates on the configured addresses only. When every
    configured address is loopback (tests), remote candidates elsewhere are ignored, so a browser
    cannot nominate a path the server does not serve. Once its DTLS transport has keyed SRTP, its
    SRTP datagrams go to that transport's `Ingest` as they arrive (the native way in), the rest to
    aioice's queue as before."""

    announced: tuple[str, ...]
    lophoc_ingest: Ingest | None = None
    lophoc_dtls: SfuDtlsTransport | None = None

    def data_received(self, data: bytes, component: int) -> None:
        ingest, dtls = self.lophoc_ingest, self.lophoc_dtls
        if ingest is not None and dtls is not None:
            try:
                result = ingest.receive(data)
                if result is True:  # an SSRC not bound yet: bound now (C takes it) or left to Python
                    result = dtls._lophoc_route(data)
                if result is None:
                    return
                if result is not False:
                    dtls._lophoc_events(result)
                    return
            except Exception:  # one packet never stops the transport
                log.exception("a received packet failed")
                return
        self._queue.put_nowait((data, component))

    async def gather_candidates(self) -> None:
        if not self.announced:
            await super().gather_candidates()
            return
        if not self._local_candidates_start:
            self._local_candidates_start = True
            found = await asyncio.gather(
                *(self.get_component_candidates(component=c, addresses=list(self.announced)) for c in self._components)
            )
            for candidates in found:
                self._local_candidates += candidates
            self._local_candidates_end = True

    async def get_component_candidates(self, component: int, addresses: list[str], timeout: int = 5) -> list[Any]:
        candidates = await super().get_component_candidates(component, addresses, timeout)
        for protocol in self._protocols:
            if type(protocol) is StunProtocol:
                protocol.__class__ = MediaFirstProtocol
        return candidates

    async def add_remote_candidate(self, remote_candidate: aioice.Candidate | None) -> None:
        if remote_candidate is not None and is_mdns_candidate(remote_candidate):
            return  # learned as peer-reflexive when its checks arrive (remote mDNS candidates, above)
        if (
            remote_candidate is not None
            and self.announced
            and all(_is_loopback(a) for a in self.announced)
            and not _is_loopback(remote_candidate.host)
        ):
            return
        await super().add_remote_candidate(remote_candidate)


class AnnouncingPeerConnection(RTCPeerConnection):
    """An RTCPeerConnection that gathers host candidates on the given addresses only (all host
    addresses but loopback when none are given, aioice's default). Clients on loopback use it too."""

    def __init__(self, configuration: RTCConfiguration | None = None, announced: Sequence[str] = ()) -> None:
        self._lophoc_announced = tuple(announced)
        super().__init__(configuration or RTCConfiguration(iceServers=[]))

    def _RTCPeerConnection__createDtlsTransport(self) -> RTCDtlsTransport:  # noqa: N802 (aiortc's name)
        dtls: RTCDtlsTransport = RTCPeerConnection._RTCPeerConnection__createDtlsTransport(self)  # type: ignore[attr-defined]
        connection = dtls.transport.iceGatherer._connection
        connection.__class__ = AnnouncedConnection
        connection.announced = self._lophoc_announced
        return dtls


DTLS_CIPHERS = b":".join((
    b"ECDHE-ECDSA-AES128-GCM-SHA256", b"ECDHE-RSA-AES128-GCM-SHA256",
    b"ECDHE-ECDSA-AES256-GCM-SHA384", b"ECDHE-RSA-AES256-GCM-SHA384",
    b"ECDHE-ECDSA-CHACHA20-POLY1305", b"ECDHE-RSA-CHACHA20-POLY1305",
    b"ECDHE-ECDSA-AES128-SHA", b"ECDHE-RSA-AES128-SHA",
    b"ECDHE-ECDSA-AES256-SHA", b"ECDHE-RSA-AES256-SHA",
))
"""What the server's DTLS offers (as client) and accepts (as server): ECDHE only (forward secrecy),
with the peer's certificate RSA or ECDSA. In TLS 1.2 a suite names the DTLS server's certificate:
as client, the RSA suites are what a peer with an RSA certificate needs; as server, with its own
P-256 certificate, the ECDSA ones are chosen and a client's RSA certificate is accepted as is."""


class DtlsCertificate(RTCCertificate):
    """aiortc's certificate (the same key and fingerprints) whose SSL context offers DTLS_CIPHERS."""

    def _create_ssl_context(self, srtp_profiles: list[SRTPProtectionProfile]) -> SSL.Context:
        context = super()._create_ssl_context(srtp_profiles)
        context.set_cipher_list(DTLS_CIPHERS)
        return context


def _ssl_reason(exc: SSL.Error) -> str:
    """OpenSSL's reasons ("no shared cipher", "sslv3 alert handshake failure") from its error queue."""
    reasons = [str(entry[2]) for entry in (exc.args[0] if exc.args and isinstance(exc.args[0], list) else [])
               if isinstance(entry, tuple) and len(entry) == 3 and entry[2]]
    return "; ".join(reasons) or type(exc).__name__


class _ReasonKeepingConnection(SSL.Connection):
    """An SSL connection that keeps the last error `recv` raised: aiortc's `_recv_next` drives the
    handshake with `recv` and drops its errors, so `do_handshake` then fails with an empty queue."""

    lophoc_error: SSL.Error | None = None

    def recv(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().recv(*args, **kwargs)
        except (SSL.WantReadError, SSL.ZeroReturnError):
            raise
        except SSL.Error as exc:
            self.lophoc_error = exc
            raise


class SfuDtlsTransport(RTCDtlsTransport):
    """The server's DTLS transport: DtlsCertificate's ciphers in both roles, and `failure`, why the
    handshake failed (None while it has not), handed to `on_failure` when the transport fails."""

    failure: str | None
    on_failure: Callable[[RTCDtlsTransport, str], None] | None

    def _lophoc_init(self) -> None:
        self.failure = None
        self.on_failure = None
        self._lophoc_reason: str | None = None
        self._lophoc_tx: SrtpSession | None = None
        self._lophoc_ingest: Ingest | None = None
        certificate = self._RTCDtlsTransport__local_certificate  # type: ignore[has-type]
        self._RTCDtlsTransport__local_certificate = DtlsCertificate(certificate._key, certificate._cert)

    async def _do_handshake(self) -> None:
        # RTCDtlsTransport._do_handshake, keeping OpenSSL's reason and sending the peer its alert.
        self._ssl.__class__ = _ReasonKeepingConnection
        try:
            while not self.encrypted:
                try:
                    self._ssl.do_handshake()
                except SSL.WantReadError:
                    await self._write_ssl()
                    await self._recv_next()
                except SSL.Error as exc:
                    kept = self._ssl.lophoc_error
                    self._lophoc_reason = f"handshake failed: {_ssl_reason(kept if kept is not None else exc)}"
                    try:
                        await self._write_ssl()  # OpenSSL's alert tells the peer why at once
                    except ConnectionError:
                        pass
                    self._set_state(State.FAILED)
                    return
                else:
                    self.encrypted = True
        except ConnectionError:
            self._lophoc_reason = "the ICE connection closed during the handshake"
            self._set_state(State.FAILED)

    def _validate_peer_identity(self, remoteParameters: RTCDtlsParameters) -> None:  # noqa: N803 (aiortc's name)
        self._lophoc_reason = "the peer's certificate does not match the fingerprint in its SDP"
        super()._validate_peer_identity(remoteParameters)
        self._lophoc_reason = None

    def _setup_srtp(self) -> None:
        self._lophoc_reason = "no SRTP protection profile in common"
        super()._setup_srtp()
        self._lophoc_reason = None
        if self._rx_srtp is not None:
            self._lophoc_native_sessions()

    def _lophoc_native_sessions(self) -> None:
        """The native SRTP sessions, keyed as aiortc keyed its own (RFC 5764 section 4.2), and the
        ICE connection's datagrams handed to the ingest from now on."""
        selected = self._ssl.get_selected_srtp_profile()
        profile = next(p for p in self._srtp_profiles if p.openssl_profile == selected)
        view = self._ssl.export_keying_material(b"EXTRACTOR-dtls_srtp",
                                                2 * (profile.key_length + profile.salt_length))
        local, remote = (1, 0) if self._role == "server" else (0, 1)
        self._lophoc_tx = SrtpSession(profile.libsrtp_profile, profile.get_key_and_salt(view, local), outbound=True)
        incoming = SrtpSession(profile.libsrtp_profile, profile.get_key_and_salt(view, remote), outbound=False)
        if self._lophoc_ingest is None:
            self._lophoc_ingest = Ingest(incoming)
        else:
            self._lophoc_ingest.set_session(incoming)
        self._lophoc_extensions_changed()
        connection = self.transport._connection
        connection.lophoc_ingest = self._lophoc_ingest
        connection.lophoc_dtls = self

    def _lophoc_extensions_changed(self) -> None:
        """The ingest reads the header extensions this transport negotiated (the receivers configure
        them after DTLS has keyed SRTP, and a simulcast track adds its own)."""
        ingest = getattr(self, "_lophoc_ingest", None)
        if ingest is not None:
            ids = self._rtp_header_extensions_map._HeaderExtensionsMap__ids
            ingest.audio_level_id = ids.audio_level or 0
            ingest.transport_cc_id = ids.transport_sequence_number or 0

    def _lophoc_route(self, data: bytes) -> Any:
        """A protected packet of an SSRC the ingest does not know (its header is in the clear):
        aiortc's router finds its receiver (by SSRC, payload type or rid), which binds the SSRC to
        its track, and the ingest takes the packet; or the SSRC is left to Python's path, for good or
        until a track is attached, and the packet is queued there (False). One path per SSRC from
        its first packet: its packets keep their order, and one SRTP session sees them all."""
        ingest = self._lophoc_ingest
        try:
            packet = RtpPacket.parse(data, self._rtp_header_extensions_map)
        except ValueError:
            return False  # aiortc's path unprotects it and drops what it cannot parse
        receiver = self._rtp_router.route_rtp(packet)
        if isinstance(receiver, ForwardingReceiver):
            if receiver.bind_native(packet, ingest):
                return ingest.receive(data)
            if receiver.source is None:
                receiver.leave_to_python(packet.ssrc, ingest)
        elif receiver is None:
            ingest.leave(packet.ssrc)
        return False

    def _lophoc_events(self, events: list[Any]) -> None:
        """What the ingest handed back: unrouted packets, losses to NACK, levels, tapped packets."""
        for event in events:
            kind = event[0]
            if kind == _media.LEVEL:
                event[1].heard_level(event[2])
            elif kind == _media.TAP:
                event[1].tapped_packet(event[2], event[3])
            elif kind == _media.NACK:
                receiver = self._rtp_router.ssrc_table.get(event[1])
                if isinstance(receiver, ForwardingReceiver):
                    asyncio.ensure_future(receiver._send_rtcp_nack(event[1], event[2]))
            elif kind == _media.UNROUTED:
                self._lophoc_unrouted(event[1])

    def _lophoc_unrouted(self, data: bytes) -> None:
        # An unprotected packet the ingest handed back (a bound SSRC with a payload type its track
        # does not take: a codec not forwarded): its receiver takes it the Python way.
        try:
            packet = RtpPacket.parse(data, self._rtp_header_extensions_map)
        except ValueError:
            return
        receiver = self._rtp_router.route_rtp(packet)
        if receiver is not None:
            asyncio.ensure_future(receiver._handle_rtp_packet(packet, arrival_time_ms=clock.current_ms()))

    async def stop(self) -> None:
        feedback = transport_feedback(self)
        if feedback is not None:
            await feedback.stop()
        await super().stop()

    def _set_state(self, state: State) -> None:
        if state is State.FAILED and self._state is not State.FAILED:
            self.failure = f"as DTLS {self._role}: {self._lophoc_reason or 'failed'}"
            log.debug("DTLS transport %s %s", id(self), self.failure)
            if self.on_failure is not None:
                self.on_failure(self, self.failure)
        if state in (State.CLOSED, State.FAILED):
            connection = self.transport._connection
            connection.lophoc_ingest = connection.lophoc_dtls = None
        super()._set_state(state)


class SfuPeerConnection(AnnouncingPeerConnection):
    """An RTCPeerConnection whose transceivers forward instead of decoding and encoding, and that
    knows when it last heard RTCP from its peer (`last_rtcp`, the event loop's clock): a peer
    that sends none for long has gone, whatever ICE believes."""

    last_rtcp: float | None = None
    dtls_failure: str | None = None
    """Why this connection's DTLS failed ("as DTLS client: handshake failed: no shared cipher"), once it has."""
    on_dtls_failure: Callable[[str], None] | None = None

    def _RTCPeerConnection__createDtlsTransport(self) -> RTCDtlsTransport:  # noqa: N802 (aiortc's name)
        dtls = AnnouncingPeerConnection._RTCPeerConnection__createDtlsTransport(self)
        dtls.__class__ = SfuDtlsTransport
        dtls._lophoc_init()
        dtls.on_failure = self._dtls_failed
        handle = dtls._handle_rtcp_data
        loop = asyncio.get_running_loop()

        async def heard(data: bytes) -> None:
            self.last_rtcp = loop.time()
            await handle(data)

        dtls._handle_rtcp_data = heard  # type: ignore[method-assign]
        self._lophoc_dtls = [*getattr(self, "_lophoc_dtls", []), dtls]
        return dtls

    def _dtls_failed(self, dtls: RTCDtlsTransport, reason: str) -> None:
        if self.dtls_failure is None:
            self.dtls_failure = reason
            if self.on_dtls_failure is not None:
                self.on_dtls_failure(reason)

    async def close(self) -> None:
        await super().close()
        # The routes' shared duplicate of the ICE socket goes now, not when a cycle collection
        # finds the closed DTLS transport: a class leaving at once would hold one per student.
        for dtls in getattr(self, "_lophoc_dtls", []):
            dtls._lophoc_send_socket = None

    def _RTCPeerConnection__createTransceiver(  # noqa: N802 (aiortc's name)
        self, direction: str, kind: str, sender_track: Any = None
    ) -> RTCRtpTransceiver:
        transceiver: RTCRtpTransceiver = RTCPeerConnection._RTCPeerConnection__createTransceiver(  # type: ignore[attr-defined]
            self, direction, kind, sender_track
        )
        transceiver.receiver.__class__ = ForwardingReceiver
        transceiver.receiver._lophoc_init()
        transceiver.sender.__class__ = ForwardingSender
        transceiver.sender._lophoc_init()
        return transceiver


# libsrtp 2, as pylibsrtp ships it, bound once by the C module; its policy structure as compiled there
# must be pylibsrtp's, field by field, or no session could be keyed right.
_media.bind_libsrtp(_srtp_binding.__file__)


def _check_policy_layout() -> None:
    layout = _media.policy_layout()
    policy = _srtp_ffi.typeof("srtp_policy_t")
    theirs = {name: field.offset for name, field in policy.fields}
    expected = {"size": _srtp_ffi.sizeof(policy), "crypto_size": _srtp_ffi.sizeof("srtp_crypto_policy_t"),
                **{name: theirs.get(name) for name in ("ssrc", "rtp", "rtcp", "key", "window_size", "allow_repeat_tx")}}
    if layout != expected:
        raise ImportError(f"libsrtp's srtp_policy_t is laid out {expected}, the media module expects {layout}")


_check_policy_layout()


class SendSocket:
    """A duplicate of an ICE socket's descriptor for the C loop, shared by a transport's routes and
    closed when the last of them lets go: aioice closing its own socket cannot leave the routes a
    descriptor number that something else reuses."""

    def __init__(self, fd: int) -> None:
        self.fd = os.dup(fd)

    def __del__(self) -> None:
        os.close(self.fd)


def connect_route(route: Route, dtls: RTCDtlsTransport) -> bool:
    """Point `route` at the transport's nominated ICE pair and outgoing SRTP session, or disconnect
    it while the transport is not connected. Call again when the DTLS transport emits "statechange"."""
    pair = dtls.transport._connection._nominated.get(1) if dtls._state is State.CONNECTED else None
    session = getattr(dtls, "_lophoc_tx", None) if pair is not None else None
    if pair is None or session is None:
        route.disconnect()
        dtls._lophoc_send_socket = None  # the transport's routes let go of it as they disconnect
        return False
    transport = pair.protocol.transport
    socket = transport.get_extra_info("socket")
    if socket is None:  # a TURN-relayed pair (aioice's TurnTransport has no socket): it wraps each packet
        route.connect_callable(functools.partial(transport.sendto, addr=pair.remote_addr), session, None)
        return True
    shared = getattr(dtls, "_lophoc_send_socket", None)
    if shared is None or shared[0] is not pair:
        shared = dtls._lophoc_send_socket = (pair, SendSocket(socket.fileno()))
    host, port = pair.remote_addr[0].split("%", 1)[0], pair.remote_addr[1]
    route.connect(shared[1].fd, host, port, session, shared[1])
    return True


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    """The codecs both sides agreed for this m-line, in preference order."""
    return list(transceiver._codecs)


def ntp_now() -> int:
    return clock.current_ntp_time()


def codec_capabilities(kind: str) -> list[RTCRtpCodecCapability]:
    return list(get_capabilities(kind).codecs)


def restrict_codecs(transceiver: RTCRtpTransceiver, keep: Callable[[RTCRtpCodecParameters], bool]) -> None:
    """Narrow what an answer accepts to the codecs `keep` admits (and their RTX): aiortc applies
    codec preferences only to m-lines it already knew before the offer."""
    kept = [c for c in transceiver._codecs if not is_rtx(c) and keep(c)]
    pts = {c.payloadType for c in kept}
    transceiver._codecs = [c for c in transceiver._codecs
                           if c in kept or (is_rtx(c) and c.parameters.get("apt") in pts)]


# --- ICE restart (RFC 8445 section 9): the WHIP/WHEP session's PATCH (RFC 9725 section 4.3) ------
# aiortc has no ICE restart. Here a restart keeps the RTCIceTransport, its aioice Connection and the
# DTLS association on top of them: the connection gets new local credentials and freshly gathered
# candidates, forgets the previous session's checks and remote candidates, and checks again with
# the peer's new credentials. Media stays on the previous session's nominated pair until a pair of
# the new one is nominated; then the forwarding routes move to it ("statechange" on the DTLS
# transport: consumers call `connect_route` again) and the previous session's sockets close.
# Internals used: Connection._nominated, _check_list*, _early_checks*, _protocols, _local_*,
# _remote_candidates*, _query_consent_task, get_component_candidates, connect.


class RestartingConnection(AnnouncedConnection):
    """An AnnouncedConnection whose check list completes only on a pair of the current ICE session."""

    _lophoc_previous: dict[int, Any]
    """The previous session's nominated pairs, carrying media until the new session nominates."""
    _lophoc_old_protocols: list[Any]
    _lophoc_checks: asyncio.Task[None] | None

    def _check_list_maybe_complete(self) -> bool:
        if self._lophoc_on_previous():
            return False
        return bool(super()._check_list_maybe_complete())

    def _lophoc_on_previous(self) -> bool:
        """Some component still sends on the previous session's pair."""
        return any(self._nominated.get(c) is pair for c, pair in self._lophoc_previous.items())


def ice_session(dtls: RTCDtlsTransport) -> tuple[str, str, list[aioice.Candidate]]:
    """The local ufrag, password and candidates of the ICE session under `dtls`."""
    connection = dtls.transport._connection
    return connection.local_username, connection.local_password, connection.local_candidates


def ice_connected_once(dtls: RTCDtlsTransport) -> bool:
    return bool(dtls.transport.state == "completed")


async def begin_ice_restart(dtls: RTCDtlsTransport) -> tuple[str, str, list[aioice.Candidate]]:
    """New local credentials and candidates for the ICE session under `dtls` (connected once):
    the previous session's checks and consent stop, its nominated pair keeps carrying media.
    Returns the new ufrag, password and candidates; `finish_ice_restart` starts the checks."""
    ice = dtls.transport
    connection = ice._connection
    if connection._closing or not isinstance(connection, AnnouncedConnection):
        raise ConnectionError("the ICE transport is closed")
    if ice.state != "completed":
        raise ConnectionError("ICE has not connected yet: there is no session to restart")
    if not isinstance(connection, RestartingConnection):
        connection.__class__ = RestartingConnection
        connection._lophoc_previous, connection._lophoc_old_protocols, connection._lophoc_checks = {}, [], None
    previous_checks = connection._lophoc_checks
    if previous_checks is not None and not previous_checks.done():  # a restart restarted
        previous_checks.cancel()
        await asyncio.wait([previous_checks])
    tasks = [t for t in (connection._query_consent_task, *(p.task for p in connection._check_list)) if t is not None]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    connection._query_consent_task = None
    # Fresh sockets on the same addresses (and a new TURN allocation, if any).
    if connection._transport_policy == aioice.TransportPolicy.RELAY:
        addresses: list[str] = []
    elif connection.announced:
        addresses = list(connection.announced)
    else:
        addresses = get_host_addresses(use_ipv4=connection._use_ipv4, use_ipv6=connection._use_ipv6)
    old = connection._protocols
    connection._protocols = []
    try:
        candidates = await connection.get_component_candidates(component=1, addresses=addresses)
    except BaseException:
        connection._protocols = old + connection._protocols
        raise
    if connection._closing:  # closed meanwhile: close() saw only the new protocols' list
        for protocol in old:
            await protocol.close()
        raise ConnectionError("the ICE transport is closed")
    connection._lophoc_old_protocols += old
    if not connection._lophoc_previous:
        connection._lophoc_previous = dict(connection._nominated)
    # A new session, all at once (no await): checks with the old credentials are refused from here.
    connection._local_username = random_string(4)
    connection._local_password = random_string(22)
    connection._local_candidates = candidates
    connection._local_candidates_end = True
    connection._check_list = []
    connection._check_list_done = False
    connection._check_list_state = asyncio.Queue()
    connection._early_checks.clear()
    connection._early_checks_done = False
    connection._nominating = set()
    connection._remote_candidates = []
    connection._remote_candidates_end = False
    connection.remote_username = connection.remote_password = None
    ice.iceGatherer._remote_candidates_end = False
    return connection.local_username, connection.local_password, list(candidates)


def finish_ice_restart(dtls: RTCDtlsTransport, remote_ufrag: str, remote_pwd: str) -> None:
    """Start the restarted session's checks with the peer's new credentials (its candidates are
    added before or after with `add_remote_candidate`)."""
    connection = dtls.transport._connection
    assert isinstance(connection, RestartingConnection), "begin_ice_restart first"
    connection.remote_username, connection.remote_password = remote_ufrag, remote_pwd
    connection._lophoc_checks = asyncio.ensure_future(_restarted_checks(dtls, connection))


async def _restarted_checks(dtls: RTCDtlsTransport, connection: RestartingConnection) -> None:
    try:
        await connection.connect()  # pairs, checks, then consent freshness on the new pair
    except ConnectionError:
        if not connection._closing:
            await connection.close()  # the restart failed: the ICE transport fails, as on a first failure
    finally:
        if not connection._closing and not connection._lophoc_on_previous():
            connection._lophoc_previous = {}
        in_use = {pair.protocol for pair in connection._nominated.values()}
        for protocol in connection._lophoc_old_protocols:
            if protocol in in_use and not connection._closing:
                connection._protocols.append(protocol)
            else:
                await protocol.close()
        connection._lophoc_old_protocols = []
    if not connection._closing:
        dtls.emit("statechange")  # the forwarding routes move to the new pair



# --- Simulcast: a publisher's encodings told apart by rid ----------------------------------------
# aiortc routes an unknown SSRC by payload type only (never by MID or RID) and parses neither the
# rid extension nor a=simulcast. A transport with a simulcast producer gets a router that sends a
# packet of an unknown SSRC carrying a known (mid, rid) to that producer's receiver and learns the
# SSRC, and the receiver keeps one NACK generator per SSRC. Transports without simulcast keep
# aiortc's router and receivers: nothing is added to their per-packet path.

from aiortc.rtcdtlstransport import RtpRouter as _RtpRouter  # noqa: E402
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpReceiveParameters  # noqa: E402
from aiortc.rtcrtpreceiver import NackGenerator as _NackGenerator  # noqa: E402

RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"


class RidRouter(_RtpRouter):
    """aiortc's RtpRouter, but an unknown SSRC whose packet carries a rid (or repaired rid) of a
    simulcast receiver goes to that receiver, and the SSRC is learnt for the packets after it."""

    lophoc_rids: dict[tuple[str | None, str], SimulcastReceiver]
    lophoc_shared: set[str]
    """rids that several receivers of the transport use: routed only with their mid."""

    def route_rtp(self, packet: RtpPacket) -> Any:
        if packet.ssrc not in self.ssrc_table:
            ext = packet.extensions
            rid, repaired = ext.rtp_stream_id, ext.repaired_rtp_stream_id
            if rid is not None or repaired is not None:
                receiver = self.lophoc_rids.get((ext.mid, rid or repaired)) or self.lophoc_rids.get((None, rid or repaired))
                if receiver is not None:
                    self.ssrc_table[packet.ssrc] = receiver
                    receiver.learn_ssrc(packet.ssrc, rid, repaired)
                    return receiver
        return super().route_rtp(packet)


class SimulcastReceiver(ForwardingReceiver):
    """A ForwardingReceiver for several encodings of one track: NACKs per SSRC, RTX of an encoding
    unwrapped to that encoding's SSRC (learnt from the repaired rid)."""

    def _lophoc_simulcast_init(self) -> None:
        self._lophoc_nacks: dict[int, Any] = {}
        self._lophoc_rid_ssrc: dict[str, int] = {}
        self._lophoc_rtx_rid: dict[int, str] = {}
        self._lophoc_nacking = self._RTCRtpReceiver__nack_generator is not None  # type: ignore[attr-defined]

    def learn_ssrc(self, ssrc: int, rid: str | None, repaired: str | None) -> None:
        rtx = self._RTCRtpReceiver__rtx_ssrc  # type: ignore[attr-defined]
        if rid is not None:
            self._lophoc_rid_ssrc[rid] = ssrc
            for rtx_ssrc, of in self._lophoc_rtx_rid.items():
                if of == rid:
                    rtx[rtx_ssrc] = ssrc
        elif repaired is not None:
            self._lophoc_rtx_rid[ssrc] = repaired
            media = self._lophoc_rid_ssrc.get(repaired)
            if media is not None:
                rtx[ssrc] = media

    async def _handle_rtp_packet(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        if self._lophoc_nacking:
            ssrc = self._RTCRtpReceiver__rtx_ssrc.get(packet.ssrc, packet.ssrc)  # type: ignore[attr-defined]
            nacks = self._lophoc_nacks
            generator = nacks.get(ssrc)
            if generator is None:
                generator = nacks[ssrc] = _NackGenerator()
            self._RTCRtpReceiver__nack_generator = generator  # type: ignore[attr-defined]
        await super()._handle_rtp_packet(packet, arrival_time_ms)


def receive_simulcast(receiver: ForwardingReceiver, mid: str | None, rids: Sequence[str], rid_id: int,
                      repaired_rid_id: int | None = None) -> None:
    """Make `receiver` take the encodings `rids` of its m-line (`mid`): its transport parses the
    rid extensions and routes unknown SSRCs by rid to it. Call after the answer was applied."""
    dtls = receiver.transport
    extensions = [RTCRtpHeaderExtensionParameters(id=rid_id, uri=RID_URI)]
    if repaired_rid_id is not None:
        extensions.append(RTCRtpHeaderExtensionParameters(id=repaired_rid_id, uri=REPAIRED_RID_URI))
    dtls._rtp_header_extensions_map.configure(RTCRtpReceiveParameters(headerExtensions=extensions))
    if isinstance(dtls, SfuDtlsTransport):
        dtls._lophoc_extensions_changed()
    router = dtls._rtp_router
    if not isinstance(router, RidRouter):
        router.__class__ = RidRouter
        router.lophoc_rids = {}
        router.lophoc_shared = set()
    if not isinstance(receiver, SimulcastReceiver):
        receiver.__class__ = SimulcastReceiver
        receiver._lophoc_simulcast_init()
    assert isinstance(receiver, SimulcastReceiver)
    for rid in rids:
        router.lophoc_rids[(mid, rid)] = receiver
        # A packet without the mid extension goes by its rid alone, while one receiver has that rid.
        alone = router.lophoc_rids.get((None, rid))
        if alone is None and rid not in router.lophoc_shared:
            router.lophoc_rids[(None, rid)] = receiver
        elif alone is not receiver:
            router.lophoc_rids.pop((None, rid), None)
            router.lophoc_shared.add(rid)
