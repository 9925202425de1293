"""A producer: one incoming track of a transport, forwarded packet by packet to its consumers.

A track of one encoding is received the native way (`ReceivedTrack`, sfu/_ingest.c): its packets
are cached, counted and forwarded in C, and Python hears only its audio levels, its packets while
a reader taps it, and a change of SSRC. A simulcast track, or a packet the native way leaves to
Python, comes through `_on_rtp` / `_on_layer_rtp` here."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from sfu._media import Route, forward
from sfu.aiortc_adapter import ForwardingReceiver, ReceivedTrack, ntp_now, receive_simulcast
from sfu.codecs import starts_keyframe
from sfu.packet_cache import PacketCache
from sfu import simulcast
from sfu.simulcast import Layer, Layers, vp8_keyframe_size
from sfu.stats import ForwardingStats, LatencyHistogram

log = logging.getLogger(__name__)

KEYFRAME_MIN_INTERVAL = 0.3
"""Seconds between keyframe requests sent upstream (subscribers' requests are throttled to this)."""
KEYFRAME_RETRY_INTERVAL = 0.5
"""While a consumer waits for a keyframe, ask again this often: one PLI is not always enough."""
LAYER_CHECK_INTERVAL = 0.5
"""How often a simulcast producer looks again for its best layer (one may stop or come back)."""


class CachedPacket(NamedTuple):
    """A packet from the native cache: what a retransmission is built from."""

    marker: int
    timestamp: int
    payload: bytes


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
        self._stats = ForwardingStats()
        """What Python counts: packets of the Python path, retransmissions, keyframe requests, and
        the send errors of routes detached; `stats` adds the native counters."""
        self._media_ssrc: int | None = None
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
        self.layers: Layers | None = None
        """A simulcast producer's encodings (`receive_layers`); None for one encoding."""
        self._layer_task: asyncio.Task[None] | None = None
        self._tap_layer: Layer | None = None
        self._tap_state: list[int] | None = None
        receiver.sink = self._on_rtp
        receiver.sr_sink = self._on_sender_report
        self.source: ReceivedTrack | None = ReceivedTrack(kind, codec.mimeType, codec.clockRate, self._routes)
        self.source.payload_type = codec.payloadType
        self.source.on_level = self._heard_level
        self.source.on_packet = self._tapped
        receiver.attach_source(self.source)
        receiver.on_new_ssrc = self._new_ssrc

    @property
    def media_ssrc(self) -> int | None:
        """The SSRC of the publisher's media (of its last packet); None before one arrived."""
        if self.source is not None and self.source.media_ssrc is not None:
            return self.source.media_ssrc
        return self._media_ssrc

    @media_ssrc.setter
    def media_ssrc(self, value: int | None) -> None:
        self._media_ssrc = value

    @property
    def stats(self) -> ForwardingStats:
        """The producer's counters now: the native ones added to Python's."""
        total = ForwardingStats()
        total.merge(self._stats)
        source = self.source
        if source is not None:
            total.packets_in += source.packets_in
            total.bytes_in += source.bytes_in
            total.packets_out += source.packets_out
            total.latency.merge(LatencyHistogram(list(source.latency_counts), source.latency_total))
        for route in self._routes:
            total.send_errors += route.send_errors
            total.send_blocked += route.send_blocked
        return total

    def count_retransmission(self) -> None:
        self._stats.retransmissions += 1

    def _heard_level(self, level: int) -> None:
        if self.on_audio_level is not None:
            self.on_audio_level(self, level)

    def _tapped(self, packet: RtpPacket, keyframe: bool) -> None:
        for tap in self._taps:
            try:
                tap(packet, keyframe)
            except Exception:  # a reader never breaks forwarding
                log.exception("producer %s: tap failed", self.id)

    def _new_ssrc(self, ssrc: int) -> None:
        """The publisher changed its media SSRC: consumers start again on its next keyframe, their
        sequence numbers going on without a gap."""
        log.info("producer %s: the publisher's SSRC is now %d", self.id, ssrc)
        for callback in self.on_resume:
            callback(self)

    def _on_sender_report(self, ssrc: int, ntp: int, rtp_timestamp: int) -> None:
        if self.layers is not None:
            layer = self.layers.by_ssrc.get(ssrc)
            if layer is not None:
                layer.sender_report = (ntp, rtp_timestamp)
        if ssrc == self.media_ssrc:
            self.sender_report = (ntp, rtp_timestamp)

    def _on_rtp(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        started = time.perf_counter()
        self.media_ssrc = packet.ssrc
        self.cache.put(packet)
        stats = self._stats
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
        if self.layers is not None:
            self.layers.routes.append(route)
            self._retarget()

    def add_tap(self, tap: Callable[[RtpPacket, bool], None]) -> None:
        """Read every packet in-process, as forwarded (no transport): the recorder's way in."""
        self._taps.append(tap)
        if self.source is not None:
            self.source.tapped = 1
        self.request_keyframe()

    def remove_tap(self, tap: Callable[[RtpPacket, bool], None]) -> None:
        with contextlib.suppress(ValueError):
            self._taps.remove(tap)
        if self.source is not None:
            self.source.tapped = int(bool(self._taps))

    def detach(self, route: Route) -> None:
        with contextlib.suppress(ValueError):
            self._routes.remove(route)
            self._retire(route)
        if self.layers is not None:
            self.layers.remove(route)

    def _retire(self, route: Route) -> None:
        self._stats.send_errors += route.send_errors
        self._stats.send_blocked += route.send_blocked

    def pause(self) -> None:
        self.paused = True
        if self.source is not None:
            self.source.paused = 1

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            if self.source is not None:
                self.source.paused = 0
            for callback in self.on_resume:
                callback(self)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe now, unless one was asked for very recently (of a
        simulcast producer: of each layer that feeds or awaits a consumer)."""
        if not self._video or self.closed or self.media_ssrc is None:
            return
        now = time.monotonic()
        if now - self._last_keyframe_request < KEYFRAME_MIN_INTERVAL:
            return
        self._last_keyframe_request = now
        ssrcs = [self.media_ssrc] if self.layers is None else self._layer_ssrcs_in_use()
        for ssrc in ssrcs:
            self._stats.keyframe_requests += 1
            task = asyncio.ensure_future(self._receiver.request_keyframe(ssrc))
            task.add_done_callback(_log_failure)

    def wait_for_keyframe(self) -> None:
        """A consumer waits for a keyframe: ask now and every KEYFRAME_RETRY_INTERVAL until served."""
        if not self._video or self.closed:
            return
        self.request_keyframe()
        if self._keyframe_task is None or self._keyframe_task.done():
            self._keyframe_task = asyncio.ensure_future(self._keyframe_loop())

    async def _keyframe_loop(self) -> None:
        while not self.closed and self._awaiting_keyframe():
            await asyncio.sleep(KEYFRAME_RETRY_INTERVAL)
            if self._awaiting_keyframe():
                self._last_keyframe_request = 0.0
                self.request_keyframe()

    def _awaiting_keyframe(self) -> bool:
        if any(r.waiting_keyframe for r in self._routes):
            return True
        return self.layers is not None and any(layer.pending for layer in self.layers.by_rid.values())

    def _release_native(self) -> None:
        """Counts kept, the track leaves the native way in (closed, or made simulcast)."""
        source = self.source
        if source is None:
            return
        self._stats.packets_in += source.packets_in
        self._stats.bytes_in += source.bytes_in
        self._stats.packets_out += source.packets_out
        self._stats.latency.merge(LatencyHistogram(list(source.latency_counts), source.latency_total))
        if source.media_ssrc is not None:
            self._media_ssrc = source.media_ssrc
        self.source = None
        self._receiver.release_native()

    def close(self) -> None:
        """Close by the owner (the publisher stopped, or left): its router closes the consumers."""
        if self.closed:
            return
        self.closed = True
        self._receiver.sink = None
        self._receiver.sr_sink = None
        self._receiver.on_new_ssrc = None
        self._release_native()
        if self._keyframe_task is not None:
            self._keyframe_task.cancel()
        if self._layer_task is not None:
            self._layer_task.cancel()
        if self.layers is not None:
            for layer in self.layers.by_rid.values():
                layer.routes.clear()
                layer.pending.clear()
            self.layers.routes.clear()
        for route in self._routes:
            self._retire(route)
        self._routes.clear()
        self._taps.clear()
        for callback in self.on_close:
            try:
                callback(self)
            except Exception:  # listeners never break the media plane
                log.exception("producer close listener failed")

    def dump(self) -> dict[str, Any]:
        found = {"id": self.id, "kind": self.kind, "codec": self.codec.mimeType, "paused": self.paused,
                 "consumers": len(self._routes), "packets_in": self.stats.packets_in,
                 "packets_out": self.stats.packets_out, "app_data": self.app_data}
        if self.layers is not None:
            found["layers"] = [layer.describe() for layer in self.layers.by_rid.values()]
        return found

    # --- simulcast: several encodings of the track, one forwarded to each consumer --------------
    # Only a producer made simulcast takes this path (its receiver's sink is `_on_layer_rtp`); a
    # producer of one encoding forwards in `_on_rtp` above, unchanged.
    def receive_layers(self, mid: str | None, rids: Sequence[str], rid_id: int, repaired_rid_id: int | None = None) -> None:
        """Take the publisher's encodings `rids` of this track (video only). Each layer's SSRC is learnt
        from its first packet carrying the rid; a consumer follows the best layer being sent and
        moves at a keyframe of another, its sequence numbers and timestamps going on."""
        if self.layers is not None or not self._video or len(rids) < 2:
            return
        self.layers = Layers(rids)
        self._release_native()  # layers are told apart in Python
        receive_simulcast(self._receiver, mid, rids, rid_id, repaired_rid_id)
        self._receiver.sink = self._on_layer_rtp
        for route in self._routes:
            self.layers.routes.append(route)
        self._layer_task = asyncio.ensure_future(self._layer_loop())

    def prefer_layer(self, route: Route, rid: str | None) -> None:
        """A consumer's choice of its largest layer (None: the best there is)."""
        if self.layers is None:
            return
        if rid is None:
            self.layers.preferred.pop(route, None)
        else:
            self.layers.preferred[route] = rid
        self._retarget()

    def sender_report_for(self, route: Route) -> tuple[int, int] | None:
        """The publisher's (NTP, RTP) pair for what this route forwards."""
        if self.layers is None:
            return self.sender_report
        layer = self.layers.of.get(route)
        return layer.sender_report if layer is not None else None

    def cached_for(self, route: Route, sequence_number: int) -> RtpPacket | CachedPacket | None:
        if self.layers is None:
            if self.source is not None:
                found = self.source.cached(sequence_number)
                if found is not None:
                    return CachedPacket(*found)
            return self.cache.get(sequence_number)
        layer = self.layers.of.get(route)
        return layer.cache.get(sequence_number) if layer is not None else None

    def _on_layer_rtp(self, packet: RtpPacket, codec: RTCRtpCodecParameters) -> None:
        started = time.perf_counter()
        layers = self.layers
        assert layers is not None
        layer = layers.by_ssrc.get(packet.ssrc)
        if layer is None:
            layer = layers.learn(packet.ssrc, packet.extensions.rtp_stream_id)
            if layer is None:
                return  # an SSRC of no known rid
            fresh = True
        else:
            fresh = started - layer.last_packet > simulcast.LAYER_STALE  # it comes back
        layer.last_packet = started
        layer.cache.put(packet)
        stats = self._stats
        stats.packets_in += 1
        stats.bytes_in += len(packet.payload)
        keyframe = starts_keyframe(self._mime, packet.payload)
        if keyframe:
            size = vp8_keyframe_size(packet.payload) if self._mime.lower() == "video/vp8" else None
            if size is not None and size != (layer.width, layer.height):
                layer.width, layer.height = size
                fresh = True
        if fresh:  # a layer began, came back or changed size: the best may be another now
            self._retarget()
        if self.media_ssrc is None:
            self.media_ssrc = packet.ssrc  # keyframe requests may begin
        if self.paused:
            return
        ntp = ntp_now()
        if keyframe and layer.pending:
            layers.switch(layer, packet.timestamp, ntp, self.codec.clockRate)
        if layer.routes:
            sent = forward(layer.routes, packet.marker, packet.sequence_number, packet.timestamp, packet.payload,
                           keyframe, -1, ntp)
            if sent:
                stats.packets_out += sent
                stats.latency.add(time.perf_counter() - started)
        if self._taps:
            self._tap_layer_packet(layer, packet, keyframe)

    def _tap_layer_packet(self, layer: Layer, packet: RtpPacket, keyframe: bool) -> None:
        """Readers in-process get the best layer, moving at its keyframes, renumbered as one stream."""
        state = self._tap_state
        best = self.layers.best(time.perf_counter()) if self.layers is not None else None
        if layer is not best and (layer is not self._tap_layer or state is None):
            return
        now = time.perf_counter()
        if layer is not self._tap_layer or state is None:
            if not keyframe:
                self.request_keyframe()
                return
            # [sequence offset, timestamp offset, last timestamp out, next sequence out, when]
            if state is None:
                state = self._tap_state = [0, 0, packet.timestamp, packet.sequence_number, now]
                state[0] = state[1] = 0
            else:
                elapsed = max(1, int((now - state[4]) * self.codec.clockRate))
                state[0] = (state[3] - packet.sequence_number) & 0xFFFF
                state[1] = (state[2] + elapsed - packet.timestamp) & 0xFFFFFFFF
            self._tap_layer = layer
        out = RtpPacket(payload_type=packet.payload_type, marker=packet.marker,
                        sequence_number=(packet.sequence_number + state[0]) & 0xFFFF,
                        timestamp=(packet.timestamp + state[1]) & 0xFFFFFFFF, ssrc=packet.ssrc, payload=packet.payload)
        state[2], state[3], state[4] = out.timestamp, (out.sequence_number + 1) & 0xFFFF, now
        for tap in self._taps:
            try:
                tap(out, keyframe)
            except Exception:  # a reader never breaks forwarding
                log.exception("producer %s: tap failed", self.id)

    def _layer_ssrcs_in_use(self) -> list[int]:
        """The SSRCs of the layers that feed or await a consumer, or the taps."""
        assert self.layers is not None
        best = self.layers.best(time.perf_counter()) if self._taps else None
        return [layer.ssrc for layer in self.layers.by_rid.values()
                if layer.ssrc is not None and (layer.routes or layer.pending or layer is best)]

    def _retarget(self) -> None:
        if self.layers is None or self.closed:
            return
        waiting = self.layers.retarget(time.perf_counter())
        if waiting:
            self.wait_for_keyframe()

    async def _layer_loop(self) -> None:
        while not self.closed:
            await asyncio.sleep(LAYER_CHECK_INTERVAL)
            self._retarget()


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("keyframe request failed: %s", task.exception())
