"""A simulcast producer's layers: the encodings of one track that a publisher sends at once, each
named by a rid and on its own SSRC, and which of them is the best to forward. Pure bookkeeping;
the producer forwards (sfu/producer.py)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sfu._media import Route
from sfu.packet_cache import PacketCache

LAYER_STALE = 1.5
"""Seconds without a packet after which a layer no longer counts as sent (a browser stops its
higher encodings when its bandwidth drops)."""


@dataclass(eq=False)
class Layer:
    rid: str
    order: int
    """Its place in the offer's a=simulcast (a browser's sendEncodings order)."""
    ssrc: int | None = None
    width: int = 0
    height: int = 0
    """Measured from its keyframes (VP8); 0 until then, or for codecs not measured."""
    last_packet: float = float("-inf")
    sender_report: tuple[int, int] | None = None
    cache: PacketCache = field(default_factory=PacketCache)
    routes: list[Route] = field(default_factory=list)
    """The routes it feeds: what the C forwarding loop takes."""
    pending: list[Route] = field(default_factory=list)
    """Routes that move to this layer at its next keyframe."""

    def rank(self) -> tuple[int, int]:
        """Higher is better: the measured size, else the simulcast order (the last listed is the
        largest, as browsers list sendEncodings low first)."""
        return self.width * self.height, self.order

    def describe(self) -> dict[str, object]:
        return {"rid": self.rid, "ssrc": self.ssrc, "width": self.width, "height": self.height,
                "consumers": len(self.routes)}


class Layers:
    def __init__(self, rids: Sequence[str]) -> None:
        self.by_rid = {rid: Layer(rid, i) for i, rid in enumerate(rids)}
        self.by_ssrc: dict[int, Layer] = {}
        self.of: dict[Route, Layer] = {}
        """Each route's current layer (absent while it waits for its first)."""
        self.routes: list[Route] = []
        """Every route of the producer, placed or not."""
        self.preferred: dict[Route, str] = {}
        """Per-subscriber choice: the largest rid a route wants (absent: the best there is)."""

    def learn(self, ssrc: int, rid: str | None) -> Layer | None:
        layer = self.by_rid.get(rid) if rid is not None else None
        if layer is None:
            return None
        if layer.ssrc is not None:
            self.by_ssrc.pop(layer.ssrc, None)  # a browser restarted the encoding on a new SSRC
        layer.ssrc = ssrc
        self.by_ssrc[ssrc] = layer
        return layer

    def sending(self, now: float) -> list[Layer]:
        return [layer for layer in self.by_rid.values()
                if layer.ssrc is not None and now - layer.last_packet <= LAYER_STALE]

    def best(self, now: float, route: Route | None = None) -> Layer | None:
        """The best layer being sent (for `route`: no larger than the one it prefers)."""
        candidates = self.sending(now)
        limit = self.by_rid.get(self.preferred.get(route, "")) if route is not None else None
        if limit is not None:
            within = [layer for layer in candidates if layer.rank() <= limit.rank()]
            candidates = within or candidates
        return max(candidates, key=Layer.rank, default=None)

    def retarget(self, now: float) -> list[Layer]:
        """Point every route at its best layer: a route elsewhere waits in that layer's `pending`
        until its next keyframe. Returns the layers that now have routes waiting."""
        for layer in self.by_rid.values():
            layer.pending.clear()
        waiting: list[Layer] = []
        for route in self.routes:
            target = self.best(now, route)
            if target is None or self.of.get(route) is target:
                continue
            target.pending.append(route)
            if target not in waiting:
                waiting.append(target)
        return waiting

    def switch(self, layer: Layer, timestamp: int, ntp: int, clock_rate: int) -> None:
        """At a keyframe of `layer` (RTP `timestamp`, arriving at `ntp`): its pending routes move to
        it. Sequence numbers go on without a gap (the route re-bases on this packet) and timestamps
        go on by the time since the route's last packet (each encoding has its own timestamp base)."""
        for route in layer.pending:
            old = self.of.get(route)
            if old is not None:
                old.routes.remove(route)
            if route.based and route.packets_sent:
                elapsed = max(1, ((ntp - route.last_ntp) * clock_rate) >> 32) if ntp > route.last_ntp else 1
                route.timestamp_offset = (route.last_timestamp + elapsed - timestamp) & 0xFFFFFFFF
            route.based = False
            layer.routes.append(route)
            self.of[route] = layer
        layer.pending.clear()

    def remove(self, route: Route) -> None:
        layer = self.of.pop(route, None)
        if layer is not None and route in layer.routes:
            layer.routes.remove(route)
        for each in self.by_rid.values():
            if route in each.pending:
                each.pending.remove(route)
        if route in self.routes:
            self.routes.remove(route)
        self.preferred.pop(route, None)


def vp8_keyframe_size(payload: bytes) -> tuple[int, int] | None:
    """(width, height) from the first packet of a VP8 keyframe (RFC 7741 descriptor, then the
    RFC 6386 frame header: 3-byte tag, start code 9d 01 2a, 14-bit width and height)."""
    if len(payload) < 2:
        return None
    first = payload[0]
    i = 1
    if first & 0x80:
        ext = payload[1]
        i = 2
        if ext & 0x80:
            if len(payload) <= i:
                return None
            i += 2 if payload[i] & 0x80 else 1
        if ext & 0x40:
            i += 1
        if ext & 0x30:
            i += 1
    header = payload[i:i + 10]
    if len(header) < 10 or header[0] & 0x01 or header[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(header[6:8], "little") & 0x3FFF
    height = int.from_bytes(header[8:10], "little") & 0x3FFF
    return (width, height) if width and height else None
