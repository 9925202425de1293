"""Payload inspection and codec choice: pure functions, table-tested."""
from __future__ import annotations

import pytest
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from sfu.codecs import find_payload_type, is_room_codec, preferences_for, starts_keyframe


@pytest.mark.parametrize(("payload", "expected"), [
    (bytes([0x10, 0x00]), True),                     # S=1, PID=0, P=0: keyframe start
    (bytes([0x10, 0x01]), False),                    # P=1: inter frame
    (bytes([0x00, 0x00]), False),                    # not the start of a partition
    (bytes([0x11, 0x00]), False),                    # partition 1
    (bytes([0x90, 0x80, 0x81, 0x23, 0x00]), True),   # X, I with 15-bit picture id, then P=0
    (bytes([0x90, 0x80, 0x81, 0x23, 0x01]), False),
    (bytes([0x90, 0xE0, 0x05, 0x07, 0x20, 0x00]), True),  # X, I (7-bit), L, T: three extension bytes
    (bytes([0x90]), False),                          # truncated
    (b"", False),
])
def test_vp8_keyframe_starts(payload: bytes, expected: bool) -> None:
    assert starts_keyframe("video/VP8", payload) is expected


@pytest.mark.parametrize(("payload", "expected"), [
    (bytes([0x65, 0x88]), True),                           # IDR slice
    (bytes([0x67, 0x42]), True),                           # SPS
    (bytes([0x41, 0x9A]), False),                          # non-IDR slice
    (bytes([0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xCE]), True),   # STAP-A with SPS
    (bytes([0x18, 0x00, 0x02, 0x41, 0x9A]), False),        # STAP-A with a P slice
    (bytes([0x7C, 0x85, 0x88]), True),                     # FU-A start of an IDR
    (bytes([0x7C, 0x05, 0x88]), False),                    # FU-A continuation
    (bytes([0x7C, 0x81, 0x88]), False),                    # FU-A start of a P slice
])
def test_h264_keyframes(payload: bytes, expected: bool) -> None:
    assert starts_keyframe("video/H264", payload) is expected


def test_audio_is_never_a_keyframe() -> None:
    assert not starts_keyframe("audio/opus", b"\x10\x00")


def codec(mime: str, pt: int, clock: int = 90000, **parameters: object) -> RTCRtpCodecParameters:
    return RTCRtpCodecParameters(mimeType=mime, clockRate=clock, payloadType=pt, parameters=dict(parameters))


def test_room_codecs_are_opus_vp8_and_constrained_baseline_h264() -> None:
    assert is_room_codec(codec("audio/opus", 111, 48000))
    assert not is_room_codec(codec("audio/PCMU", 0, 8000))
    assert is_room_codec(codec("video/VP8", 96))
    assert is_room_codec(codec("video/H264", 102, **{"packetization-mode": 1, "profile-level-id": "42e01f"}))
    assert not is_room_codec(codec("video/H264", 102, **{"packetization-mode": 0, "profile-level-id": "42e01f"}))
    assert not is_room_codec(codec("video/VP9", 98))


def test_payload_types_are_mapped_by_codec_with_their_rtx() -> None:
    negotiated = [codec("video/H264", 102, **{"packetization-mode": 1, "profile-level-id": "42e01f"}),
                  codec("video/rtx", 103, apt=102), codec("video/VP8", 97), codec("video/rtx", 98, apt=97)]
    assert find_payload_type(negotiated, codec("video/VP8", 96)) == (97, 98)
    assert find_payload_type([codec("audio/opus", 111, 48000)], codec("audio/opus", 96, 48000)) == (111, None)
    with pytest.raises(LookupError):
        find_payload_type([codec("video/VP8", 97)], codec("video/H264", 102, **{"packetization-mode": 1,
                                                                              "profile-level-id": "42e01f"}))


def test_a_subscriber_is_offered_exactly_the_producers_codec() -> None:
    preferences = preferences_for(codec("video/VP8", 96))
    assert [p.mimeType for p in preferences] == ["video/VP8", "video/rtx"]
    assert [p.mimeType for p in preferences_for(codec("audio/opus", 111, 48000))] == ["audio/opus"]
