"""Counters the media plane keeps for itself; web/metrics exports them at scrape time."""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

LATENCY_BOUNDS = tuple(b * 1e-6 for b in (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000))
"""Seconds: upper bounds of the forwarding-latency buckets (the last bucket is +Inf)."""


@dataclass
class LatencyHistogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS) + 1))
    total: float = 0.0

    def add(self, seconds: float) -> None:
        self.counts[bisect_left(LATENCY_BOUNDS, seconds)] += 1
        self.total += seconds

    def merge(self, other: LatencyHistogram) -> None:
        for i, n in enumerate(other.counts):
            self.counts[i] += n
        self.total += other.total

    @property
    def count(self) -> int:
        return sum(self.counts)

    def quantile(self, q: float) -> float:
        """Upper bound of the bucket holding quantile q (inf when it falls past the last bound)."""
        target, seen = q * self.count, 0
        for i, n in enumerate(self.counts):
            seen += n
            if n and seen >= target:
                return LATENCY_BOUNDS[i] if i < len(LATENCY_BOUNDS) else float("inf")
        return 0.0


@dataclass
class ForwardingStats:
    packets_in: int = 0
    bytes_in: int = 0
    packets_out: int = 0
    retransmissions: int = 0
    keyframe_requests: int = 0
    send_errors: int = 0
    """Forwarded copies that failed to be protected or sent."""
    send_blocked: int = 0
    """Forwarded copies dropped because a socket's buffer was full."""
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    """Per incoming packet: from the producer's sink to the last consumer's send."""

    def merge(self, other: ForwardingStats) -> None:
        self.packets_in += other.packets_in
        self.bytes_in += other.bytes_in
        self.packets_out += other.packets_out
        self.retransmissions += other.retransmissions
        self.keyframe_requests += other.keyframe_requests
        self.send_errors += other.send_errors
        self.send_blocked += other.send_blocked
        self.latency.merge(other.latency)
