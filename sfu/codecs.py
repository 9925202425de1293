"""The room's codecs and what the forwarding path must know about payloads: pure functions."""
from __future__ import annotations

from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters

from sfu.aiortc_adapter import codec_capabilities

ROOM_MIME_TYPES = {"audio": ("audio/opus",), "video": ("video/VP8", "video/H264")}
"""What every room forwards: Opus; VP8 and H.264 (constrained baseline, packetization-mode 1)."""

H264_PROFILES = ("42001f", "42e01f")


def is_room_codec(codec: RTCRtpCodecCapability | RTCRtpCodecParameters) -> bool:
    kind = codec.mimeType.split("/")[0].lower()
    if codec.mimeType.lower() not in {m.lower() for m in ROOM_MIME_TYPES.get(kind, ())}:
        return False
    if codec.mimeType.lower() == "video/h264":
        params = codec.parameters or {}
        return str(params.get("packetization-mode", "0")) == "1" and str(
            params.get("profile-level-id", "")).lower() in H264_PROFILES
    return True


def same_codec(a: RTCRtpCodecCapability | RTCRtpCodecParameters, b: RTCRtpCodecCapability | RTCRtpCodecParameters) -> bool:
    """Same codec for forwarding purposes: mime type, clock rate, and for H.264 the profile."""
    if a.mimeType.lower() != b.mimeType.lower() or a.clockRate != b.clockRate:
        return False
    if a.mimeType.lower() == "video/h264":
        pa, pb = a.parameters or {}, b.parameters or {}
        return (str(pa.get("packetization-mode", "0")) == str(pb.get("packetization-mode", "0"))
                and str(pa.get("profile-level-id", ""))[:2] == str(pb.get("profile-level-id", ""))[:2])
    return True


def room_preferences(kind: str) -> list[RTCRtpCodecCapability]:
    """Codec preferences for a publisher's m-line: the room's codecs and their RTX."""
    caps = codec_capabilities(kind)
    chosen = [c for c in caps if is_room_codec(c)]
    if kind == "video":
        chosen += [c for c in caps if c.mimeType.lower() == "video/rtx"]
    return chosen


def preferences_for(codec: RTCRtpCodecParameters) -> list[RTCRtpCodecCapability]:
    """Codec preferences for a subscriber's m-line: exactly the producer's codec (and RTX)."""
    caps = codec_capabilities(codec.mimeType.split("/")[0].lower())
    chosen = [c for c in caps if same_codec(c, codec)][:1]
    if not chosen:
        raise ValueError(f"codec {codec.mimeType} is not forwardable")
    if codec.mimeType.lower().startswith("video/"):
        chosen += [c for c in caps if c.mimeType.lower() == "video/rtx"]
    return chosen


def find_payload_type(codecs: list[RTCRtpCodecParameters], codec: RTCRtpCodecParameters) -> tuple[int, int | None]:
    """(payload type, RTX payload type or None) that a peer negotiated for `codec`."""
    for candidate in codecs:
        if same_codec(candidate, codec):
            rtx = next((c.payloadType for c in codecs if c.mimeType.lower().endswith("/rtx")
                        and c.parameters.get("apt") == candidate.payloadType), None)
            return candidate.payloadType, rtx
    raise LookupError(f"{codec.mimeType} not negotiated")


def starts_keyframe(mime_type: str, payload: bytes) -> bool:
    """Does this RTP payload begin a keyframe? VP8: RFC 7741; H.264: an IDR or SPS at the start
    of a single NAL unit, inside a STAP-A, or in the first fragment of an FU-A (RFC 6184)."""
    if not payload:
        return False
    mime = mime_type.lower()
    if mime == "video/vp8":
        return _vp8_keyframe_start(payload)
    if mime == "video/h264":
        return _h264_keyframe(payload)
    return False


def _vp8_keyframe_start(payload: bytes) -> bool:
    first = payload[0]
    start, partition = first & 0x10, first & 0x07
    if not start or partition != 0:
        return False
    i = 1
    if first & 0x80:  # X: extension byte follows
        if len(payload) < 2:
            return False
        ext = payload[1]
        i = 2
        if ext & 0x80:  # I: picture id
            if len(payload) <= i:
                return False
            i += 2 if payload[i] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            i += 1
        if ext & 0x30:  # T or K: TID/KEYIDX byte
            i += 1
    return len(payload) > i and (payload[i] & 0x01) == 0  # P bit 0: a keyframe


def _h264_keyframe(payload: bytes) -> bool:
    nal = payload[0] & 0x1F
    if nal in (5, 7):
        return True
    if nal == 24:  # STAP-A: 16-bit sizes then NAL units
        i = 1
        while i + 2 < len(payload):
            size = int.from_bytes(payload[i:i + 2], "big")
            if size == 0 or i + 2 >= len(payload):
                break
            if payload[i + 2] & 0x1F in (5, 7):
                return True
            i += 2 + size
        return False
    if nal == 28 and len(payload) > 1:  # FU-A: the start fragment of an IDR
        return bool(payload[1] & 0x80) and (payload[1] & 0x1F) == 5
    return False
