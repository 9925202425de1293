"""A publisher's available bitrate, estimated from what reaches the server once per receiver report
(the bytes and the losses of the interval), for the REMB the server sends a publisher without
transport-wide feedback. Loss-based, as the loss half of Google congestion control
(draft-ietf-rmcat-gcc-02 section 6): more than 10% lost cuts the estimate to what arrived, less
than 2% lets it grow by a quarter per report, up to twice what arrives; a clean link ramps in
seconds, not the half-minute of a per-packet delay estimator held back by its start value."""
from __future__ import annotations

START_BPS = 1_000_000
MIN_BPS = 100_000
MAX_BPS = 8_000_000
GROWTH = 1.25
HEADROOM = 2.0
HIGH_LOSS = 0.10
LOW_LOSS = 0.02


class LossBasedEstimate:
    def __init__(self, start: int = START_BPS) -> None:
        self.bitrate = start
        self._last: tuple[float, int, int, int] | None = None

    def update(self, now: float, octets: int, expected: int, received: int) -> int:
        """The estimate after an interval ending at `now` (seconds), from running totals of payload
        octets, packets expected and packets received."""
        last, self._last = self._last, (now, octets, expected, received)
        if last is None or now <= last[0]:
            return self.bitrate
        rate = (octets - last[1]) * 8 / (now - last[0])
        interval_expected = expected - last[2]
        lost = interval_expected - (received - last[3])
        loss = lost / interval_expected if interval_expected > 0 else 0.0
        if loss > HIGH_LOSS:
            self.bitrate = int(min(self.bitrate, rate) * (1 - 0.5 * loss))
        elif loss < LOW_LOSS:
            self.bitrate = int(min(self.bitrate * GROWTH, max(START_BPS, rate * HEADROOM)))
        self.bitrate = max(MIN_BPS, min(MAX_BPS, self.bitrate))
        return self.bitrate
