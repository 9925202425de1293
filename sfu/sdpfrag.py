"""Trickle ICE SDP fragments (`application/trickle-ice-sdpfrag`, RFC 8840 section 9; RFC 9725
section 4.3): the ICE credentials, candidates and end-of-candidates of one ICE session, read
from a peer and written for it. With BUNDLE, every candidate belongs to the one transport."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from aioice import Candidate

from sfu.errors import BadSdp

MAX_CANDIDATES = 64
"""A peer gathers a handful; more in one fragment is refused."""
ICE_CHAR = re.compile(r"^[A-Za-z0-9+/]+$")
"""ice-char (RFC 8839 section 5.4)."""
LINE = re.compile(r"^[a-z]=[\x20-\x7e]*$")


@dataclass(frozen=True)
class IceFragment:
    ufrag: str | None = None
    """`a=ice-ufrag`: the ICE session the candidates belong to (a new one restarts ICE)."""
    pwd: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    """RTP's candidates (component 1; RTCP is multiplexed)."""
    end: bool = False
    """`a=end-of-candidates`: the peer sends no more candidates in this ICE session."""


def parse_sdpfrag(text: str) -> IceFragment:
    """Read a peer's fragment; anything it could not mean is `BadSdp`."""
    ufrag = pwd = None
    candidates: list[Candidate] = []
    end = False
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if not line:
            continue
        if LINE.match(line) is None:
            raise BadSdp(f"line {number} is not an SDP line")
        name, _, value = line[2:].partition(":")
        if line.startswith("a=ice-ufrag:"):
            ufrag = _credential(value, "ice-ufrag", 4, ufrag)
        elif line.startswith("a=ice-pwd:"):
            pwd = _credential(value, "ice-pwd", 22, pwd)
        elif line.startswith("a=candidate:"):
            try:
                candidate = Candidate.from_sdp(value)
            except (ValueError, IndexError) as exc:
                raise BadSdp(f"line {number}: not an ICE candidate: {exc}") from None
            if candidate.transport.lower() != "udp":
                continue  # only UDP is served
            if candidate.component == 1:
                candidates.append(candidate)
            if len(candidates) > MAX_CANDIDATES:
                raise BadSdp(f"more than {MAX_CANDIDATES} candidates in one fragment")
        elif line == "a=end-of-candidates":
            end = True
    if (ufrag is None) != (pwd is None):
        raise BadSdp("a fragment names its ICE session with both a=ice-ufrag and a=ice-pwd, or with neither")
    return IceFragment(ufrag, pwd, candidates, end)


def _credential(value: str, name: str, shortest: int, seen: str | None) -> str:
    if not (shortest <= len(value) <= 256) or ICE_CHAR.match(value) is None:
        raise BadSdp(f"a={name} must be {shortest} to 256 ice-chars")
    if seen is not None and seen != value:
        raise BadSdp(f"two different a={name} in one fragment")
    return value


def write_sdpfrag(ufrag: str, pwd: str, candidates: list[Candidate], media: str, mid: str | None) -> str:
    """A fragment with the ICE session's credentials and all its candidates, on the bundle's first
    m-line (`media`: its "m=" line from the description, e.g. "m=video 9 UDP/TLS/RTP/SAVPF 96")."""
    kind, _, rest = media.removeprefix("m=").partition(" ")
    proto_fmt = rest.partition(" ")[2]
    lines = [f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{pwd}", f"m={kind} 9 {proto_fmt}"]
    if mid is not None:
        lines.append(f"a=mid:{mid}")
    lines += [f"a=candidate:{c.to_sdp()}" for c in candidates]
    lines.append("a=end-of-candidates")
    return "\r\n".join(lines) + "\r\n"


def ice_etag(ufrag: str, pwd: str) -> str:
    """The entity-tag of an ICE session (RFC 9725 section 4.3.1): a strong tag derived from the
    server's credentials, so the answer and every later reply agree without keeping it."""
    return '"' + hashlib.sha256(f"{ufrag}:{pwd}".encode()).hexdigest()[:32] + '"'


def etag_matches(if_match: str, etag: str) -> bool:
    """An If-Match value against the current entity-tag (RFC 9110 section 13.1.1, strong
    comparison): "*" or one of the listed tags."""
    tags = [tag.strip() for tag in if_match.split(",")]
    return "*" in tags or etag in tags
