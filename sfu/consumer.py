"""A consumer: one producer forwarded to one subscriber's transport, with that subscriber's SSRC,
sequence numbers, timestamps, payload type, header-extension IDs and MID. It owns a `Route`, the
C side of the forwarding loop (`sfu/_fanout.c`): the producer hands each packet to all of its
consumers' routes in one call, and each copy is rewritten, SRTP-protected and sent there."""
from __future__ import annotations

import logging
import random
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtcrtptransceiver import RTCRtpTransceiver

from sfu._media import Route
from sfu.aiortc_adapter import ForwardingSender, connect_route
from sfu.codecs import find_payload_type

if TYPE_CHECKING:
    from sfu.router import ProducerLink

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!BBHII")
_EXT_HEADER = struct.Struct("!HH")
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
NO_VALUE, AUDIO_LEVEL = 0, 1
"""Which per-packet header-extension value a route writes (sfu/_fanout.c)."""


def extension_blocks(kind: str, mid: bytes, ids: dict[str, int]) -> tuple[bytes, bytes, bytes, int]:
    """The one-byte header-extension block (RFC 8285) a subscriber negotiated, precomputed: (the
    block without a per-packet value, the block up to that value, the rest after it, which value).
    The MID always; the audio level on audio. (Subscribers are offered no abs-send-time: the server
    has no use for their bandwidth estimates; see sfu/transport.py.)"""
    def block(body: bytes) -> bytes:
        body += b"\x00" * (-len(body) % 4)
        return _EXT_HEADER.pack(0xBEDE, len(body) >> 2) + body if body else b""

    mid_id = ids.get(MID_URI, 0)
    prefix = bytes([(mid_id << 4) | (len(mid) - 1)]) + mid if mid_id and 0 < len(mid) <= 16 else b""
    static = block(prefix)
    level_id = ids.get(AUDIO_LEVEL_URI, 0) if kind == "audio" else 0
    if not level_id:
        return static, b"", b"", NO_VALUE
    whole = block(prefix + bytes((level_id << 4,)) + b"\x00")
    cut = 4 + len(prefix) + 1
    return static, whole[:cut], whole[cut + 1:], AUDIO_LEVEL


def rtp_header(marker: int, pt: int, seq: int, ts: int, ssrc: int, extensions: bytes) -> bytes:
    return _HEADER.pack(0x90 if extensions else 0x80, (marker << 7) | pt, seq, ts, ssrc) + extensions


class Consumer:
    def __init__(self, consumer_id: str, producer: ProducerLink, transceiver: RTCRtpTransceiver,
                 app_data: dict[str, Any] | None = None, *, start_now: bool = False) -> None:
        self.id = consumer_id
        self.producer = producer
        """What the router lets it ask of its producer (never the producer itself)."""
        self.producer_id = producer.id
        self.kind = producer.kind
        self.transceiver = transceiver
        self.app_data = dict(app_data or {})
        self.closed = False
        self.on_close: Callable[[Consumer, str], None] | None = None
        self.retransmitted = 0
        sender = transceiver.sender
        assert isinstance(sender, ForwardingSender), "transceiver not created by SfuPeerConnection"
        self._sender = sender
        self._dtls = sender.transport
        self._rtx_pt: int | None = None
        self._rtx_ssrc = 0
        self._ext_static = b""
        self.route = Route()
        """What the producer's forwarding loop reads: set here, connected by the adapter."""
        self.route.waiting_keyframe = producer.kind == "video"
        self.route.timestamp_offset = random.randint(0, 0xFFFFFFFF)
        self.route.next_sequence = sender.next_sequence  # the m-line's numbering goes on (SRTP replay check)
        sender.on_parameters = self._configure
        sender.on_feedback = self._feedback
        sender.report_source = self
        self._dtls.on("statechange", self._transport_changed)
        # A reused m-line already negotiated: forwarding starts once the subscriber has answered the
        # offer that names this consumer (the next `send`), else the first packets (the keyframe
        # asked for) reach a receiver not yet told, and are lost. A WHEP player's m-lines are fed
        # at once (`start_now`): a player never renegotiates.
        if sender.parameters is not None and start_now:
            self._configure(sender.parameters)

    # --- state the forwarding loop keeps -----------------------------------------------------
    @property
    def ready(self) -> bool:
        """Negotiated with a codec the subscriber accepts (the route forwards)."""
        return bool(self.route.active)

    @property
    def waiting_keyframe(self) -> bool:
        return bool(self.route.waiting_keyframe)

    @property
    def next_sequence(self) -> int:
        return self.route.next_sequence

    @property
    def packets_sent(self) -> int:
        return self.route.packets_sent

    @property
    def octets_sent(self) -> int:
        return self.route.octets_sent

    # --- negotiation -------------------------------------------------------------------------
    def _configure(self, parameters: RTCRtpSendParameters) -> None:
        if self.closed:
            return
        try:
            pt, self._rtx_pt = find_payload_type(parameters.codecs, self.producer.codec)
        except LookupError:
            log.warning("consumer %s: subscriber did not accept %s", self.id, self.producer.codec.mimeType)
            self.route.active = False
            return
        route = self.route
        route.payload_type = pt
        route.ssrc = self._sender._ssrc
        self._rtx_ssrc = self._sender._rtx_ssrc
        ids = {ext.uri: ext.id for ext in parameters.headerExtensions}
        blocks = extension_blocks(self.kind, (parameters.muxId or "").encode(), ids)
        self._ext_static = blocks[0]
        route.set_extensions(*blocks)
        self._transport_changed()
        self.route.active = True
        if self.waiting_keyframe:
            self.producer.wait_for_keyframe()

    def _transport_changed(self) -> None:
        if not self.closed:
            connect_route(self.route, self._dtls)

    def report(self) -> tuple[int, int]:
        """For the sender report: the publisher's own NTP/RTP pair translated, else the last send."""
        report = self.producer.sender_report
        if report is not None:
            return report[0], (report[1] + self.route.timestamp_offset) & 0xFFFFFFFF
        return self.route.last_ntp, self.route.last_timestamp

    def restart(self) -> None:
        """After a pause: video waits for a keyframe; sequence numbers continue without a gap."""
        self.route.based = False
        if self.kind == "video":
            self.route.waiting_keyframe = True
            if self.ready:
                self.producer.wait_for_keyframe()

    # --- feedback from the subscriber --------------------------------------------------------
    def _feedback(self, kind: str, sequence_numbers: list[int]) -> None:
        if self.closed:
            return
        if kind == "keyframe":
            self.producer.request_keyframe()
            return
        route = self.route
        if not route.based:
            return
        for seq in sequence_numbers:
            original = self.producer.cached((seq - route.sequence_offset) & 0xFFFF)
            if original is None:
                continue
            ts = (original.timestamp + route.timestamp_offset) & 0xFFFFFFFF
            if self._rtx_pt is not None:
                data = rtp_header(original.marker, self._rtx_pt, self._sender.next_rtx_sequence, ts, self._rtx_ssrc,
                                  self._ext_static) + seq.to_bytes(2, "big") + original.payload
                self._sender.next_rtx_sequence = (self._sender.next_rtx_sequence + 1) & 0xFFFF
            else:
                data = rtp_header(original.marker, route.payload_type, seq, ts, route.ssrc, self._ext_static) + original.payload
            if route.send(data):
                self.retransmitted += 1
                self.producer.retransmitted()

    # --- closing -----------------------------------------------------------------------------
    def producer_closed(self) -> None:
        self._close("producer_closed")

    def close(self) -> None:
        self._close("closed")

    def _close(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.route.active = False
        self.producer.detach(self)
        self.route.disconnect()
        if self._sender.report_source is self:  # the next consumer on this m-line continues the numbering
            self._sender.next_sequence = self.route.next_sequence
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
        return {"id": self.id, "producer_id": self.producer_id, "kind": self.kind, "ready": self.ready,
                "waiting_keyframe": self.waiting_keyframe, "packets_sent": self.packets_sent,
                "retransmitted": self.retransmitted, "send_errors": self.route.send_errors, "app_data": self.app_data}
