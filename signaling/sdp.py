"""The little of SDP that signaling reads itself: each m-line's mid and kind, in order; whether an
offer is one the media plane can take at all (refused with `bad_sdp` before anything is made for
it); and which of its sections share no codec with the room."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from sfu.codecs import is_room_codec
from signaling.errors import BadSdp

MAX_SECTIONS = 32
"""m-lines an offer may have: a page's send transport has a handful, a WHIP or WHEP peer two to four."""
RTP_PROTOCOLS = frozenset({"UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP", "RTP/SAVPF", "RTP/SAVP", "RTP/AVPF", "RTP/AVP",
                           "TCP/TLS/RTP/SAVPF"})
DATA_PROTOCOLS = frozenset({"UDP/DTLS/SCTP", "TCP/DTLS/SCTP", "DTLS/SCTP"})
_M_LINE = re.compile(r"^m=(\S+) (\d{1,5})(?:/\d{1,5})? (\S+)((?: \S+)+)$")
_RTPMAP = re.compile(r"^a=rtpmap:(\d{1,3}) ([^/\s]+)/(\d+)(?:/(\d+))?\s*$")
_FMTP = re.compile(r"^a=fmtp:(\d{1,3}) (.*)$")


@dataclass
class Section:
    """One m-section as signaling sees it."""

    kind: str
    protocol: str
    formats: list[str]
    mid: str | None = None
    codecs: list[RTCRtpCodecCapability] = field(default_factory=list)


def media_sections(sdp: str) -> list[tuple[str, str]]:
    """[(mid, kind)] for the audio and video sections that carry an a=mid."""
    sections: list[tuple[str, str]] = []
    kind: str | None = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif line.startswith("a=mid:") and kind in ("audio", "video"):
            sections.append((line[6:].strip(), kind))
            kind = None
    return sections


def check_offer(sdp: str) -> list[Section]:
    """The offer's sections, or BadSdp naming what no peer connection here could take: a text
    that is not SDP, no audio or video section, an m-line of an unknown kind or transport
    (`m=text`, `m=videx`, `m=application` that is not a data channel), an audio or video
    section without a mid, too many sections. Nothing has been made for the offer yet."""
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        raise BadSdp("not an SDP description (it must start with v=0)")
    sections = _sections(sdp)
    if len(sections) > MAX_SECTIONS:
        raise BadSdp(f"an offer has at most {MAX_SECTIONS} m-lines")
    media = [s for s in sections if s.kind in ("audio", "video")]
    if not media:
        raise BadSdp("the offer has no audio or video section (m=audio, m=video)")
    seen: set[str] = set()
    for section in media:
        if section.mid is None:
            raise BadSdp(f"an m={section.kind} section has no a=mid")
        if section.mid in seen:
            raise BadSdp(f"mid {section.mid} is used twice")
        seen.add(section.mid)
    return sections


def without_room_codec(sections: list[Section]) -> list[Section]:
    """The audio and video sections that offer none of the room's codecs (Opus; VP8 or H.264
    constrained baseline, packetization-mode 1): nothing the room forwards could flow on them."""
    return [s for s in sections if s.kind in ("audio", "video") and not any(is_room_codec(c) for c in s.codecs)]


def _sections(sdp: str) -> list[Section]:
    sections: list[Section] = []
    current: Section | None = None
    fmtp: dict[str, dict[str, str]] = {}
    rtpmap: dict[str, tuple[str, int, int | None]] = {}

    def close() -> None:
        if current is not None and current.kind in ("audio", "video"):
            for pt in current.formats:
                if pt in rtpmap:
                    name, rate, channels = rtpmap[pt]
                    current.codecs.append(RTCRtpCodecCapability(
                        mimeType=f"{current.kind}/{name}", clockRate=rate, channels=channels,
                        parameters=dict(fmtp.get(pt, {}))))

    for line in sdp.splitlines():
        if line.startswith("m="):
            close()
            fmtp, rtpmap = {}, {}
            current = _m_line(line)
            sections.append(current)
            if len(sections) > MAX_SECTIONS:
                break
        elif current is None:
            continue
        elif line.startswith("a=mid:"):
            current.mid = line[6:].strip() or None
        elif (found := _RTPMAP.match(line)) is not None:
            pt, name, rate, channels = found.groups()
            rtpmap[pt] = (name, int(rate), int(channels) if channels else None)
        elif (found := _FMTP.match(line)) is not None:
            params = {}
            for item in found.group(2).split(";"):
                key, _, value = item.strip().partition("=")
                if key:
                    params[key.strip()] = value.strip()
            fmtp[found.group(1)] = params
    close()
    return sections


def _m_line(line: str) -> Section:
    found = _M_LINE.match(line.strip())
    if found is None:
        raise BadSdp(f"not an m-line: {line[:60]!r}")
    kind, _port, protocol, formats = found.groups()
    fmts = formats.split()
    if kind in ("audio", "video"):
        if protocol not in RTP_PROTOCOLS or not all(f.isdigit() and int(f) < 128 for f in fmts):
            raise BadSdp(f"m={kind}: {protocol} with formats {' '.join(fmts)[:40]} is not RTP media")
    elif kind == "application":
        if protocol not in DATA_PROTOCOLS:
            raise BadSdp(f"m=application over {protocol[:30]}: only a data channel (DTLS/SCTP) is understood")
    else:
        raise BadSdp(f"m={kind[:20]}: an unknown kind of media (audio, video or a data channel only)")
    return Section(kind, protocol, fmts)
