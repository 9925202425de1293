"""A producer: one incoming track of a transport, forwarded packet by packet to its consumers."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from sfu._fanout import Route, forward
from sfu.aiortc_adapter import ForwardingReceiver, ntp_now
from sfu.codecs import starts_keyframe
from sfu.packet_cache import PacketCache
from sfu.stats import ForwardingStats

log = logging.getLogger(__name__)

KEYFRAME_MIN_INTERVAL = 0.3
"""Seconds between keyframe requests sent upstream (subscribers' requests are throttled to this)."""
KEYFRAME_RETRY_INTERVAL = 0.5
"""While a consumer waits for a keyframe, ask again this often: one PLI is not always enough."""


class Producer:
    def __init__(self, producer_id: str, kind: str, codec: RTCRtpCodecParameters, receiver: ForwardingReceiver,
                 app_data: dict[str, Any] | None = None) -> None:
        self.id = producer_id
        self.kind = kind
        self.codec = codec
        self.app_data = dict(app_data or {})
        self.paused = False
        self.closed = False
        self.cache = PacketCache()
        self.stats = ForwardingStats()
        self.media_ssrc: int | None = None
        self.sender_report: tuple[int, int] | None = None
        """The publisher's last (NTP, RTP) timestamp pair, translated into consumers' reports."""
        self.on_audio_level: Callable[[Producer, int], None] | None = None
        self.on_close: list[Callable[[Producer], None]] = []
        self.on_resume: list[Callable[[Producer], None]] = []
        """Called when a paused producer resumes (its router restarts the consumers)."""
        self._routes: list[Route] = []
        """The routes of its consumers (attached by the router): what the C forwarding loop takes."""
        self._taps: list[Callable[[RtpPacket, bool], None]] = []
        """In-process readers of the packets (the recorder): called after the consumers."""
        self._receiver = receiver
        self._video = kind == "video"
        self._mime = codec.mimeType
        self._last_keyframe_request = 0.0
        self._keyframe_task: asyncio.Task[None] | None = None
        receiver.sink = self._on_rtp
        receiver.sr_sink = self._on_sender_report

    def _on_sender_report(self, ssrc: int, ntp: int, rtp_timestamp: int) -> None:
        if ssrc == self.media_ssrc:
            self.sender_report = (ntp, rtp_timestamp)

    def _on_rtp(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        started = time.perf_counter()
        self.media_ssrc = packet.ssrc
        self.cache.put(packet)
        stats = self.stats
        stats.packets_in += 1
        stats.bytes_in += len(packet.payload)
        level = packet.extensions.audio_level
        if level is not None and self.on_audio_level is not None:
            self.on_audio_level(self, level[1])
        if self.paused or not (self._routes or self._taps):
            return
        keyframe = self._video and starts_keyframe(self._mime, packet.payload)
        if self._routes:
            ntp = ntp_now()
            sent = forward(self._routes, packet.marker, packet.sequence_number, packet.timestamp, packet.payload,
                           keyframe, -1 if level is None else ((0x80 if level[0] else 0) | (level[1] & 0x7F)), ntp)
            if sent:
                stats.packets_out += sent
                stats.latency.add(time.perf_counter() - started)
        for tap in self._taps:
            try:
                tap(packet, keyframe)
            except Exception:  # a reader never breaks forwarding
                log.exception("producer %s: tap failed", self.id)

    def attach(self, route: Route) -> None:
        """Forward to this route too (the router's call, when a consumer of this producer is made)."""
        if self.closed:
            raise RuntimeError("producer is closed")
        self._routes.append(route)

    def add_tap(self, tap: Callable[[RtpPacket, bool], None]) -> None:
        """Read every packet in-process, as forwarded (no transport): the recorder's way in."""
        self._taps.append(tap)
        self.request_keyframe()

    def remove_tap(self, tap: Callable[[RtpPacket, bool], None]) -> None:
        with contextlib.suppress(ValueError):
            self._taps.remove(tap)

    def detach(self, route: Route) -> None:
        with contextlib.suppress(ValueError):
            self._routes.remove(route)

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            for callback in self.on_resume:
                callback(self)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe now, unless one was asked for very recently."""
        if not self._video or self.closed or self.media_ssrc is None:
            return
        now = time.monotonic()
        if now - self._last_keyframe_request < KEYFRAME_MIN_INTERVAL:
            return
        self._last_keyframe_request = now
        self.stats.keyframe_requests += 1
        task = asyncio.ensure_future(self._receiver.request_keyframe(self.media_ssrc))
        task.add_done_callback(_log_failure)

    def wait_for_keyframe(self) -> None:
        """A consumer waits for a keyframe: ask now and every KEYFRAME_RETRY_INTERVAL until served."""
        if not self._video or self.closed:
            return
        self.request_keyframe()
        if self._keyframe_task is None or self._keyframe_task.done():
            self._keyframe_task = asyncio.ensure_future(self._keyframe_loop())

    async def _keyframe_loop(self) -> None:
        while not self.closed and any(r.waiting_keyframe for r in self._routes):
            await asyncio.sleep(KEYFRAME_RETRY_INTERVAL)
            if any(r.waiting_keyframe for r in self._routes):
                self._last_keyframe_request = 0.0
                self.request_keyframe()

    def close(self) -> None:
        """Close by the owner (the publisher stopped, or left): its router closes the consumers."""
        if self.closed:
            return
        self.closed = True
        self._receiver.sink = None
        self._receiver.sr_sink = None
        if self._keyframe_task is not None:
            self._keyframe_task.cancel()
        self._routes.clear()
        self._taps.clear()
        for callback in self.on_close:
            try:
                callback(self)
            except Exception:  # listeners never break the media plane
                log.exception("producer close listener failed")

    def dump(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "codec": self.codec.mimeType, "paused": self.paused,
                "consumers": len(self._routes), "packets_in": self.stats.packets_in,
                "packets_out": self.stats.packets_out, "app_data": self.app_data}


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("keyframe request failed: %s", task.exception())
