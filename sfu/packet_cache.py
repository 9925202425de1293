"""The last packets of a producer, by sequence number: what NACKs are answered from."""
from __future__ import annotations

from aiortc.rtp import RtpPacket

CACHE_SIZE = 1024


class PacketCache:
    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._slots: list[RtpPacket | None] = [None] * size

    def put(self, packet: RtpPacket) -> None:
        self._slots[packet.sequence_number % self._size] = packet

    def get(self, sequence_number: int) -> RtpPacket | None:
        packet = self._slots[sequence_number % self._size]
        if packet is None or packet.sequence_number != sequence_number:
            return None
        return packet
