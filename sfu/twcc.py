"""Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01,
section 3.1): which of a publisher's packets arrived, and when, told back to the publisher, whose
send-side estimator (Chrome's) then finds the link's bandwidth within seconds, where under the
server's REMB it stayed below about 1 Mbps for its first half-minute (bench/ramp.py).
Pure: no aiortc, no clock. The receive side records (transport-wide sequence number, arrival time
in microseconds) per packet in `Arrivals`; a task flushes them every 50-100 ms.

The packet (RTPFB, PT 205, FMT 15):

    |V=2|P|  FMT=15 |    PT=205     |           length              |
    |                     SSRC of packet sender                     |
    |                      SSRC of media source                     |
    |      base sequence number     |      packet status count      |
    |                 reference time                | fb pkt. count |
    |          packet chunk         |         packet chunk          |
    |  recv delta   |  recv delta   | ...                           |

Each status is 0 (not received), 1 (received, small delta: 1 byte, 0..63.75 ms) or 2 (received,
large or negative delta: 2 bytes, signed). A chunk is a run (0, status, 13-bit length) or a vector
of 14 one-bit or 7 two-bit statuses. Deltas are in 250 us; the first of a packet counts from the
reference time (64 ms units), each next from the previous received packet in sequence order.
"""
from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterable

RTPFB = 205
FMT_TRANSPORT_CC = 15
DELTA_US = 250
"""A receive delta's unit."""
REFERENCE_TICKS = 256
"""The reference time's unit (64 ms) in DELTA_US."""
MAX_PACKET_BYTES = 1200
HISTORY = 4096
"""Sequence numbers behind the newest reported within which a late arrival is still reported."""

NOT_RECEIVED, SMALL_DELTA, LARGE_DELTA = 0, 1, 2
_HEADER = struct.Struct("!BBHIIHHI")
_HEADER_BYTES = _HEADER.size  # 20
_MAX_RUN = 0x1FFF
_MAX_STATUSES = 0xFFFF


class _Chunks:
    """Statuses packed into chunks as they come: the open chunk stays a run while its statuses are
    all the same, else a vector (two-bit while a large delta is in it); libwebrtc's way."""

    __slots__ = ("done", "_symbols", "_size", "_same", "_large")

    def __init__(self) -> None:
        self.done: list[int] = []
        self._symbols: list[int] = []  # the open chunk's first (up to 14) statuses
        self._size = 0
        self._same = True
        self._large = False

    def can_add(self, symbol: int) -> bool:
        size = self._size
        if size < 7:
            return True
        if size < 14 and not self._large and symbol != LARGE_DELTA:
            return True
        return size < _MAX_RUN and self._same and self._symbols[0] == symbol

    def add(self, symbol: int, count: int = 1) -> int:
        """Add up to `count` equal statuses to the open chunk; how many it took."""
        taken = 0
        while taken < count and self.can_add(symbol):
            if self._size < 14:
                self._symbols.append(symbol)
                self._same = self._same and symbol == self._symbols[0]
                self._large = self._large or symbol == LARGE_DELTA
                self._size += 1
                taken += 1
            else:  # a run of one status: take the rest at once
                n = min(count - taken, _MAX_RUN - self._size)
                self._size += n
                taken += n
        return taken

    def emit(self) -> None:
        """Close the open chunk (or its first seven statuses) when the next status does not fit."""
        if self._same:
            self.done.append(self._run())
            self._clear()
        elif self._size == 14:
            self.done.append(self._one_bit())
            self._clear()
        else:  # 7..13 statuses with a large delta among them: seven go as a two-bit vector
            self.done.append(self._two_bit(7))
            rest = self._symbols[7:]
            self._clear()
            for symbol in rest:
                self.add(symbol)

    def close(self) -> list[int]:
        """Every chunk, the open one last."""
        if self._size:
            if self._same:
                self.done.append(self._run())
            elif self._size <= 7:
                self.done.append(self._two_bit(self._size))
            else:
                self.done.append(self._one_bit())
            self._clear()
        return self.done

    @property
    def count(self) -> int:
        """Chunks, the open one included."""
        return len(self.done) + (1 if self._size else 0)

    def _clear(self) -> None:
        self._symbols = []
        self._size = 0
        self._same = True
        self._large = False

    def _run(self) -> int:
        return (self._symbols[0] << 13) | self._size

    def _one_bit(self) -> int:
        chunk = 0x8000
        for i, symbol in enumerate(self._symbols):
            chunk |= symbol << (13 - i)
        return chunk

    def _two_bit(self, n: int) -> int:
        chunk = 0xC000
        for i, symbol in enumerate(self._symbols[:n]):
            chunk |= symbol << (2 * (6 - i))
        return chunk


class _Packet:
    """One feedback packet being filled, from its base sequence number on."""

    __slots__ = ("base", "statuses", "reference", "_last", "_chunks", "_deltas", "_size", "max_bytes")

    def __init__(self, base: int, max_bytes: int) -> None:
        self.base = base
        self.statuses = 0
        self.reference: int | None = None  # in REFERENCE_TICKS, set by the first received packet
        self._last = 0  # ticks of the previous received packet (or of the reference time)
        self._chunks = _Chunks()
        self._deltas = bytearray()
        self._size = _HEADER_BYTES
        self.max_bytes = max_bytes

    def _room(self, symbol: int, delta_bytes: int) -> bool:
        if self.statuses >= _MAX_STATUSES:
            return False
        new_chunk = 0 if self._chunks.can_add(symbol) and self._chunks.count else 2
        padded = self._size + 2 * self._chunks.count + new_chunk + len(self._deltas) + delta_bytes
        return padded + (-padded % 4) <= self.max_bytes

    def _add(self, symbol: int, count: int = 1) -> int:
        chunks = self._chunks
        if not chunks.can_add(symbol):
            chunks.emit()
        return chunks.add(symbol, min(count, _MAX_STATUSES - self.statuses))

    def add_lost(self, count: int) -> int:
        """Up to `count` statuses 'not received'; how many fitted."""
        added = 0
        while added < count and self._room(NOT_RECEIVED, 0):
            n = self._add(NOT_RECEIVED, count - added)
            self.statuses += n
            added += n
        return added

    def add_received(self, ticks: int) -> bool:
        """A received packet; False when its delta is beyond 16 bits or it does not fit."""
        if self.reference is None:
            reference = ticks // REFERENCE_TICKS
            last = reference * REFERENCE_TICKS
        else:
            reference, last = self.reference, self._last
        delta = ticks - last
        if 0 <= delta <= 0xFF:
            symbol, size = SMALL_DELTA, 1
        elif -0x8000 <= delta <= 0x7FFF:
            symbol, size = LARGE_DELTA, 2
        else:
            return False
        if not self._room(symbol, size):
            return False
        self._add(symbol)
        self.statuses += 1
        self._deltas += delta.to_bytes(size, "big", signed=size == 2)
        self.reference, self._last = reference, ticks
        return True

    def encode(self, sender_ssrc: int, media_ssrc: int, feedback_count: int) -> bytes:
        chunks = self._chunks.close()
        body = b"".join(c.to_bytes(2, "big") for c in chunks) + bytes(self._deltas)
        # Zero bytes to a 32-bit boundary, without the P bit: parsers stop at the status count, and
        # GStreamer refuses an RTCP padding count that is not a multiple of four (RFC 3550 6.4.1).
        body += bytes(-(_HEADER_BYTES + len(body)) % 4)
        reference = (self.reference or 0) & 0xFFFFFF
        header = _HEADER.pack(0x80 | FMT_TRANSPORT_CC, RTPFB,
                              (_HEADER_BYTES + len(body)) // 4 - 1, sender_ssrc, media_ssrc,
                              self.base & 0xFFFF, self.statuses, (reference << 8) | (feedback_count & 0xFF))
        return header + body


class FeedbackEncoder:
    """Batches of arrivals in, transport-wide feedback packets out, continuing from batch to batch:
    sequence numbers are unwrapped past 65535, each batch is reported from the first sequence number
    the previous one did not cover (so a packet lost at a batch's edge is reported lost), and
    the feedback packet count runs on. Within a batch, arrivals may come in any order; a duplicate
    keeps its first arrival time. A late arrival (one whose sequence number was already reported
    lost) is reported again from there, with the arrivals since as they were (within HISTORY).
    A packet closes at `max_packet_bytes` or when a delta does not fit 16 bits; the next one
    takes over at the sequence number where it stopped."""

    def __init__(self, max_packet_bytes: int = MAX_PACKET_BYTES, history: int = HISTORY) -> None:
        if max_packet_bytes < 32:
            raise ValueError("max_packet_bytes must be at least 32")
        self.max_packet_bytes = max_packet_bytes
        self.history = history
        self.feedback_count = 0
        """Feedback packets made so far (the header carries it modulo 256)."""
        self.too_late = 0
        """Arrivals dropped: reported lost more than `history` sequence numbers ago."""
        self._unwrapped: int | None = None
        self._next: int | None = None
        self._ticks: dict[int, int] = {}
        self._order: deque[int] = deque()  # the keys of _ticks as they came, for pruning

    def _unwrap(self, seq: int) -> int:
        last = self._unwrapped
        if last is None:
            unwrapped = seq & 0xFFFF
        else:
            step = (seq - last) & 0xFFFF
            unwrapped = last + (step - 0x10000 if step >= 0x8000 else step)
        self._unwrapped = unwrapped
        return unwrapped

    def encode(self, arrivals: Iterable[tuple[int, int]], sender_ssrc: int, media_ssrc: int) -> list[bytes]:
        """The feedback packets for `arrivals`, (transport-wide sequence number, arrival time in
        microseconds of any monotonic clock) pairs received since the previous call."""
        ticks = self._ticks
        floor = None if self._next is None else self._next - self.history
        new: list[int] = []
        for seq, arrival_us in arrivals:
            unwrapped = self._unwrap(seq)
            if unwrapped in ticks:
                continue
            if floor is not None and unwrapped < floor:
                self.too_late += 1
                continue
            ticks[unwrapped] = arrival_us // DELTA_US
            new.append(unwrapped)
        self._order.extend(new)
        if not new:
            return []
        new.sort()
        start, end = new[0], new[-1]
        if self._next is not None:
            if start < self._next:  # late: the reported range again, from the late one on
                new = sorted({*new, *(s for s in range(start, self._next) if s in ticks)})
                end = max(end, self._next - 1)
            else:
                start = self._next
        packets = self._packets(start, new, sender_ssrc, media_ssrc)
        self._next = max(end, new[-1]) + 1
        floor = self._next - self.history
        order = self._order
        while order and order[0] < floor:
            del ticks[order.popleft()]
        return packets

    def _packets(self, start: int, received: list[int], sender_ssrc: int, media_ssrc: int) -> list[bytes]:
        packets: list[bytes] = []
        packet = _Packet(start, self.max_packet_bytes)
        position = start  # the next sequence number to give a status

        def close() -> None:
            packets.append(packet.encode(sender_ssrc, media_ssrc, self.feedback_count))
            self.feedback_count += 1

        ticks = self._ticks
        for seq in received:
            gap = seq - position
            while gap:
                added = packet.add_lost(gap)
                gap -= added
                position += added
                if gap:
                    close()
                    packet = _Packet(position, self.max_packet_bytes)
            if not packet.add_received(ticks[seq]):
                close()
                packet = _Packet(seq, self.max_packet_bytes)
                packet.add_received(ticks[seq])
            position = seq + 1
        if packet.statuses:
            close()
        return packets


class Arrivals:
    """What one transport received since the last flush: `add` per packet (or `add_many` from a
    batch collected elsewhere, e.g. in C), `flush` every 50-100 ms for the packets to send."""

    __slots__ = ("encoder", "_pending", "received")

    def __init__(self, encoder: FeedbackEncoder | None = None) -> None:
        self.encoder = encoder or FeedbackEncoder()
        self._pending: list[tuple[int, int]] = []
        self.received = 0
        """Arrivals recorded so far."""

    def add(self, seq: int, arrival_us: int) -> None:
        self._pending.append((seq, arrival_us))

    def add_many(self, pairs: Iterable[tuple[int, int]]) -> None:
        self._pending.extend(pairs)

    def flush(self, sender_ssrc: int, media_ssrc: int) -> list[bytes]:
        pending, self._pending = self._pending, []
        self.received += len(pending)
        return self.encoder.encode(pending, sender_ssrc, media_ssrc) if pending else []
