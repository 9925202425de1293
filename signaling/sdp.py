"""The little of SDP that signaling reads itself: each m-line's mid and kind, in order."""
from __future__ import annotations


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
