"""Active-speaker choice and the NACK packet cache."""
from __future__ import annotations

from aiortc.rtp import RtpPacket

from sfu.packet_cache import PacketCache
from sfu.speaker import SpeakerDetector


def test_the_loudest_voice_speaks_and_the_highlight_is_held_briefly() -> None:
    detector = SpeakerDetector(hold_seconds=1.0)
    for _ in range(10):
        detector.add("teacher", 20)
        detector.add("student", 90)
    assert detector.evaluate(now=0.0) == "teacher"
    for _ in range(10):
        detector.add("student", 10)
        detector.add("teacher", 25)
    assert detector.evaluate(now=0.5) == "teacher", "held: no flicker between two voices"
    assert detector.evaluate(now=1.6) == "student"


def test_silence_means_nobody_speaks() -> None:
    detector = SpeakerDetector()
    detector.add("a", 127)
    assert detector.evaluate(now=0.0) is None
    for _ in range(10):
        detector.add("a", 20)
    assert detector.evaluate(now=1.0) == "a"
    for _ in range(30):
        detector.decay()
    assert detector.evaluate(now=2.0) is None
    detector.remove("a")
    assert detector.levels == {}


def test_the_cache_returns_only_the_packet_with_that_sequence_number() -> None:
    cache = PacketCache(size=4)
    for seq in range(10):
        cache.put(RtpPacket(sequence_number=seq, payload=bytes([seq])))
    assert cache.get(9).payload == b"\x09"
    assert cache.get(6).payload == b"\x06"
    assert cache.get(5) is None, "overwritten by 9"
    assert cache.get(100) is None
