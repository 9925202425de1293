"""A consumer: one producer forwarded to one subscriber's transport, with that subscriber's SSRC,
sequence numbers, timestamps, payload type, header-extension IDs and MID. The hot path
(`forward`) builds the RTP header with `struct` and sends synchronously: no parse, no coroutine."""
from __future__ import annotations

import logging
import random
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver
from aiortc.rtp import RtpPacket

from sfu.aiortc_adapter import ForwardingSender, Send, fast_sender
from sfu.codecs import find_payload_type

if TYPE_CHECKING:
    from sfu.producer import Producer

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!BBHII")
_EXT_HEADER = struct.Struct("!HH")
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


class Consumer:
    def __init__(self, consumer_id: str, producer: Producer, transceiver: RTCRtpTransceiver,
                 app_data: dict[str, Any] | None = None) -> None:
        self.id = consumer_id
        self.producer = producer
        self.kind = producer.kind
        self.transceiver = transceiver
        self.app_data = dict(app_data or {})
        self.closed = False
        self.paused = False
        self.ready = False
        self.waiting_keyframe = producer.kind == "video"
        self.packets_sent = 0
        self.octets_sent = 0
        self.retransmitted = 0
        self._last_ntp = 0
        self._last_ts = 0
        self.on_close: Callable[[Consumer, str], None] | None = None
        sender = transceiver.sender
        assert isinstance(sender, ForwardingSender), "transceiver not created by SfuPeerConnection"
        self._sender = sender
        self._dtls = sender.transport
        self._ssrc = 0
        self._rtx_ssrc = 0
        self._pt = 0
        self._rtx_pt: int | None = None
        self._ext_prefix = b""
        self._abs_id = 0
        self._level_id = 0
        self._ext_before = b""
        """The header-extension block up to the per-packet value (abs-send-time or audio level)."""
        self._ext_after = b""
        self._ext_static = b""
        """The whole block when a packet carries no per-packet value."""
        self._send: Send | None = None
        """The bound send function, looked up once the transport is connected."""
        self._seq_offset = 0
        self._ts_offset = random.randint(0, 0xFFFFFFFF)
        self._based = False
        sender.on_parameters = self._configure
        sender.on_feedback = self._feedback
        sender.report_source = self
        self._dtls.on("statechange", self._transport_changed)
        if sender.parameters is not None:  # a reused transceiver already negotiated
            self._configure(sender.parameters)
        producer.add_consumer(self)

    # --- negotiation -------------------------------------------------------------------------
    def _configure(self, parameters: RTCRtpSendParameters) -> None:
        if self.closed:
            return
        try:
            self._pt, self._rtx_pt = find_payload_type(parameters.codecs, self.producer.codec)
        except LookupError:
            log.warning("consumer %s: subscriber did not accept %s", self.id, self.producer.codec.mimeType)
            self.ready = False
            return
        ids = {ext.uri: ext.id for ext in parameters.headerExtensions}
        mid = (parameters.muxId or "").encode()
        mid_id = ids.get(MID_URI, 0)
        self._ext_prefix = bytes([(mid_id << 4) | (len(mid) - 1)]) + mid if mid_id and 0 < len(mid) <= 16 else b""
        self._abs_id = ids.get(ABS_SEND_TIME_URI, 0)
        self._level_id = ids.get(AUDIO_LEVEL_URI, 0)
        self._ssrc = self._sender._ssrc
        self._rtx_ssrc = self._sender._rtx_ssrc
        self._prepare_extensions()
        self._send = None
        self.ready = True
        if self.waiting_keyframe:
            self.producer.wait_for_keyframe()

    def _prepare_extensions(self) -> None:
        """Precompute the one-byte header-extension block (RFC 8285) but for its per-packet value."""
        def block(body: bytes) -> bytes:
            body += b"\x00" * (-len(body) % 4)
            return _EXT_HEADER.pack(0xBEDE, len(body) >> 2) + body if body else b""

        per_packet_id, size = (self._abs_id, 3) if self.kind == "video" else (self._level_id, 1)
        self._ext_static = block(self._ext_prefix)
        if per_packet_id:
            whole = block(self._ext_prefix + bytes(((per_packet_id << 4) | (size - 1),)) + b"\x00" * size)
            cut = 4 + len(self._ext_prefix) + 1
            self._ext_before, self._ext_after = whole[:cut], whole[cut + size:]
        else:
            self._ext_before = self._ext_after = b""

    def _transport_changed(self) -> None:
        self._send = None  # looked up again on the next packet

    def report(self) -> tuple[int, int]:
        """For the sender report: the publisher's own NTP/RTP pair translated, else the last send."""
        report = self.producer.sender_report
        if report is not None:
            return report[0], (report[1] + self._ts_offset) & 0xFFFFFFFF
        return self._last_ntp, self._last_ts

    def restart(self) -> None:
        """After a pause: video waits for a keyframe; sequence numbers continue without a gap."""
        self._based = False
        if self.kind == "video":
            self.waiting_keyframe = True
            if self.ready:
                self.producer.wait_for_keyframe()

    # --- the hot path ------------------------------------------------------------------------
    def _extensions(self, packet: RtpPacket, abs_send_time: bytes | None) -> bytes:
        if not self._ext_before:
            return self._ext_static
        if self.kind == "video":
            if abs_send_time is None:
                return self._ext_static
            return self._ext_before + abs_send_time + self._ext_after
        level = packet.extensions.audio_level
        if level is None:
            return self._ext_static
        return self._ext_before + bytes((((0x80 if level[0] else 0) | (level[1] & 0x7F)),)) + self._ext_after

    def _packet(self, marker: int, pt: int, seq: int, ts: int, ssrc: int, packet: RtpPacket,
                abs_send_time: bytes | None, payload: bytes) -> bytes:
        ext = self._extensions(packet, abs_send_time)
        return _HEADER.pack(0x90 if ext else 0x80, (marker << 7) | pt, seq, ts, ssrc) + ext + payload

    def forward(self, packet: RtpPacket, keyframe: bool, ntp: int, abs_send_time: bytes) -> int:
        """Send one packet of the producer; 1 if it went out, else 0."""
        if not self.ready or self.paused:
            return 0
        send = self._send
        if send is None:
            send = self._send = fast_sender(self._dtls)
            if send is None:
                return 0
        sender = self._sender
        if not self._based:
            if self.waiting_keyframe and not keyframe:
                return 0
            self.waiting_keyframe = False
            self._seq_offset = (sender.next_sequence - packet.sequence_number) & 0xFFFF
            self._based = True
        seq = (packet.sequence_number + self._seq_offset) & 0xFFFF
        ts = (packet.timestamp + self._ts_offset) & 0xFFFFFFFF
        payload = packet.payload
        ext = self._extensions(packet, abs_send_time)
        if not send(_HEADER.pack(0x90 if ext else 0x80, (packet.marker << 7) | self._pt, seq, ts, self._ssrc)
                    + ext + payload):
            return 0
        if ((seq - sender.next_sequence) & 0xFFFF) < 0x8000:
            sender.next_sequence = (seq + 1) & 0xFFFF
        self._last_ntp = ntp
        self._last_ts = ts
        self.octets_sent += len(payload)
        self.packets_sent += 1
        return 1

    # --- feedback from the subscriber --------------------------------------------------------
    def _feedback(self, kind: str, sequence_numbers: list[int]) -> None:
        if self.closed:
            return
        if kind == "keyframe":
            self.producer.request_keyframe()
            return
        if not self._based:
            return
        for seq in sequence_numbers:
            original = self.producer.cache.get((seq - self._seq_offset) & 0xFFFF)
            if original is None:
                continue
            ts = (original.timestamp + self._ts_offset) & 0xFFFFFFFF
            if self._rtx_pt is not None:
                data = self._packet(original.marker, self._rtx_pt, self._sender.next_rtx_sequence, ts, self._rtx_ssrc,
                                    original, None, seq.to_bytes(2, "big") + original.payload)
                self._sender.next_rtx_sequence = (self._sender.next_rtx_sequence + 1) & 0xFFFF
            else:
                data = self._packet(original.marker, self._pt, seq, ts, self._ssrc, original, None, original.payload)
            send = self._send or fast_sender(self._dtls)
            if send is not None and send(data):
                self.retransmitted += 1
                self.producer.stats.retransmissions += 1

    # --- closing -----------------------------------------------------------------------------
    def producer_closed(self) -> None:
        self._close("producer_closed")

    def close(self) -> None:
        self._close("closed")

    def _close(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.ready = False
        self.producer.remove_consumer(self)
        self._sender.on_parameters = None
        self._sender.on_feedback = None
        if self._sender.report_source is self:
            self._sender.report_source = None
        self._dtls.remove_listener("statechange", self._transport_changed)
        if self.on_close is not None:
            try:
                self.on_close(self, reason)
            except Exception:
                log.exception("consumer close listener failed")

    def dump(self) -> dict[str, Any]:
        return {"id": self.id, "producer_id": self.producer.id, "kind": self.kind, "ready": self.ready,
                "waiting_keyframe": self.waiting_keyframe, "packets_sent": self.packets_sent,
                "retransmitted": self.retransmitted, "app_data": self.app_data}
