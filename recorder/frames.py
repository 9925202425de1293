"""Video RTP packets reassembled into whole frames, in sequence order, or not at all.

A frame is complete when its first packet is known to start it (the packet before it ended the
previous frame, or for VP8 the payload descriptor says so) and every sequence number through the
packet that ends it (marker bit, or the next packet's new timestamp) arrived. A hole is waited
for (a retransmission may fill it) until later packets span `horizon_packets` or
`horizon_seconds` of arrival time; then the frames it touched are reported lost, never emitted.
A frame has no size limit but `max_packets` (aiortc's JitterBuffer holds 256 packets and emits
the tail of a bigger frame as if whole)."""
from __future__ import annotations

from dataclasses import dataclass, field

LATE_RUN_RESTART = 50
"""This many packets in a row from before what was consumed: the sender restarted its sequence."""


@dataclass(slots=True)
class Packet:
    payload: bytes
    """Depayloaded (codec bitstream), or empty when the payload could not be read."""
    timestamp: int
    sequence: int
    marker: bool
    starts: bool | None
    """True/False when the payload says whether it begins a frame (VP8's S bit), else None."""
    arrival: float


@dataclass(slots=True)
class Frame:
    data: bytes
    timestamp: int
    arrival: float


@dataclass(slots=True)
class Assembled:
    frames: list[Frame] = field(default_factory=list)
    lost: int = 0
    """Frames (or runs of packets) given up on: what follows needs a keyframe to decode."""


class FrameAssembler:
    def __init__(self, horizon_packets: int = 512, horizon_seconds: float = 0.6, max_packets: int = 4096) -> None:
        self.horizon_packets = horizon_packets
        self.horizon_seconds = horizon_seconds
        self.max_packets = max_packets
        self._pending: dict[int, Packet] = {}
        self._next: int | None = None
        """Extended sequence number of the next packet to consume."""
        self._frame: list[Packet] = []
        self._frame_ok = False
        self._frame_charged = False
        self._clean = False
        """The last consumed packet ended a frame: the next one starts one."""
        self._late_run = 0

    def add(self, packet: Packet, out: Assembled) -> None:
        if self._next is None:
            self._next = packet.sequence
        diff = ((packet.sequence - self._next + 0x8000) & 0xFFFF) - 0x8000
        if -self.horizon_packets * 2 <= diff < 0:
            self._late_run += 1
            if self._late_run < LATE_RUN_RESTART:
                return  # a duplicate, or too late: its frame was consumed or given up on
            self._restart(packet, out)
            diff = 0
        elif abs(diff) > self.horizon_packets * 2:
            self._restart(packet, out)
            diff = 0
        self._late_run = 0
        self._pending.setdefault(self._next + diff, packet)
        self._consume(out)
        if self._pending and self._stale(packet):
            self._skip_hole(out)
            self._consume(out)

    def reset(self, out: Assembled) -> None:
        """Packets were dropped before they got here: forget everything, start at the next one."""
        if self._pending or self._frame:
            out.lost += 1
        self._pending.clear()
        self._frame, self._frame_ok, self._clean = [], False, False
        self._next = None
        self._late_run = 0

    def _restart(self, packet: Packet, out: Assembled) -> None:
        """The sequence jumped (a new encoder on the same m-line): start over at this packet."""
        self.reset(out)
        self._next = packet.sequence

    def _stale(self, newest: Packet) -> bool:
        assert self._next is not None
        span = max(self._pending) - self._next
        oldest = min(p.arrival for p in self._pending.values())
        return span >= self.horizon_packets or newest.arrival - oldest >= self.horizon_seconds

    def _skip_hole(self, out: Assembled) -> None:
        """Give up on the missing packets: the frame being collected is lost with them."""
        out.lost += 1
        self._frame, self._frame_ok, self._clean = [], False, False
        self._next = min(self._pending)

    def _consume(self, out: Assembled) -> None:
        assert self._next is not None
        while (packet := self._pending.pop(self._next, None)) is not None:
            self._next += 1
            frame = self._frame
            if frame and packet.timestamp != frame[0].timestamp:
                self._finish(out)  # no marker, but a new timestamp: the previous frame ended
                self._clean = True
            if not self._frame:
                self._frame_ok = packet.starts if packet.starts is not None else self._clean
                self._frame_charged = not self._frame_ok  # a tail after a hole: the hole was counted
            self._frame.append(packet)
            if not packet.payload:
                self._frame_ok = False  # unreadable payload: the frame cannot be whole
            if packet.marker:
                self._finish(out)
                self._clean = True
            elif len(self._frame) >= self.max_packets:
                self._frame_ok = False
                self._finish(out)
                self._clean = False

    def _finish(self, out: Assembled) -> None:
        frame, self._frame = self._frame, []
        if not frame:
            return
        if self._frame_ok:
            out.frames.append(Frame(b"".join(p.payload for p in frame), frame[0].timestamp, frame[-1].arrival))
        elif not self._frame_charged:
            out.lost += 1
        self._frame_ok = False
