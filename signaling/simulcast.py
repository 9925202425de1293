"""Simulcast from publishers (RFC 8853, RFC 8851): which m-sections of an offer send several
encodings of one track, each named by a rid and marked in its packets by the rtp-stream-id header
extension; and the answer's lines that accept them (`a=rid:<id> recv`, `a=simulcast:recv <ids>`,
the rtp-stream-id and repaired-rtp-stream-id extmaps). aiortc reads none of these: without them in
the answer, a browser sends its first encoding only."""
from __future__ import annotations

import re
from dataclasses import dataclass

from signaling.errors import BadSdp

RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
MAX_LAYERS = 4
"""Encodings accepted per track (browsers send three at most); more listed are left out of the answer."""
_RID_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
"""RFC 8851 rid-id, at most 16 bytes: a one-byte header extension carries it."""
_EXTMAP = re.compile(r"^a=extmap:(\d{1,2})(?:/\S+)? (\S+)")


@dataclass(frozen=True)
class SimulcastOffer:
    """One m-section's simulcast: its rids in the order the simulcast attribute lists them (for a
    browser, the order of its `sendEncodings`), and the header-extension ids that carry them."""

    mid: str
    rids: tuple[str, ...]
    rid_id: int
    repaired_rid_id: int | None = None


def offered_simulcast(sdp: str) -> dict[str, SimulcastOffer]:
    """The video sections of an offer that send simulcast the server can take apart, by mid.
    A section without the rtp-stream-id extension is left out (its encodings could not be told
    apart); a malformed rid or simulcast line is BadSdp."""
    found: dict[str, SimulcastOffer] = {}
    for kind, lines in _sections(sdp):
        if kind != "video":
            continue
        mid = next((line[6:].strip() for line in lines if line.startswith("a=mid:")), None)
        rids: dict[str, str] = {}
        simulcast: list[str] | None = None
        ext_ids: dict[str, int] = {}
        for line in lines:
            if line.startswith("a=rid:"):
                rid, _, rest = line[6:].partition(" ")
                direction = rest.split(" ", 1)[0]
                if not _RID_ID.match(rid) or direction not in ("send", "recv"):
                    raise BadSdp(f"a=rid: {line[:60]!r} is not '<id> send|recv' with an id of 1-16 letters, digits, - or _")
                if rid in rids:
                    raise BadSdp(f"a=rid:{rid} is listed twice")
                rids[rid] = direction
            elif line.startswith("a=simulcast:"):
                if simulcast is not None:
                    raise BadSdp("a=simulcast is listed twice in one section")
                simulcast = _send_rids(line[12:].strip())
            elif (ext := _EXTMAP.match(line)) is not None:
                ext_ids[ext.group(2)] = int(ext.group(1))
        if simulcast is None or mid is None:
            continue
        for rid in simulcast:
            if rids.get(rid) != "send":
                raise BadSdp(f"a=simulcast names rid {rid}, which no 'a=rid:{rid} send' describes")
        rid_id = ext_ids.get(RID_URI)
        if not simulcast or rid_id is None or not 1 <= rid_id <= 14:
            continue
        repaired = ext_ids.get(REPAIRED_RID_URI)
        found[mid] = SimulcastOffer(mid, tuple(simulcast[:MAX_LAYERS]), rid_id,
                                    repaired if repaired is not None and 1 <= repaired <= 14 else None)
    return found


def answer_lines(offer: SimulcastOffer) -> list[str]:
    """The lines an answer's m-section gets to receive these encodings."""
    lines = [f"a=extmap:{offer.rid_id} {RID_URI}"]
    if offer.repaired_rid_id is not None:
        lines.append(f"a=extmap:{offer.repaired_rid_id} {REPAIRED_RID_URI}")
    lines += [f"a=rid:{rid} recv" for rid in offer.rids]
    lines.append(f"a=simulcast:recv {';'.join(offer.rids)}")
    return lines


def accept_simulcast(answer: str, offers: dict[str, SimulcastOffer]) -> str:
    """The answer with each simulcast section's lines added (after its last extmap line, else at its
    end), for the mids in `offers` that the answer receives on. Other sections are unchanged."""
    if not offers:
        return answer
    newline = "\r\n" if "\r\n" in answer else "\n"
    lines = answer.split(newline)
    out: list[str] = []
    section: list[str] = []

    def flush() -> None:
        mid = next((line[6:].strip() for line in section if line.startswith("a=mid:")), None)
        offer = offers.get(mid) if mid is not None and section and section[0].startswith("m=video") else None
        if offer is not None and any(line in ("a=recvonly", "a=sendrecv") for line in section):
            added = [line for line in answer_lines(offer) if line not in section]
            known = {line[9:].split(" ", 1)[0] for line in section if line.startswith("a=extmap:")}
            added = [line for line in added if not (line.startswith("a=extmap:") and line[9:].split(" ", 1)[0] in known)]
            at = max((i for i, line in enumerate(section) if line.startswith("a=extmap:")), default=None)
            if at is None:
                at = len(section) - 1
                while at > 0 and not section[at]:
                    at -= 1
            section[at + 1:at + 1] = added
        out.extend(section)
        section.clear()

    for line in lines:
        if line.startswith("m="):
            flush()
        section.append(line)
    flush()
    return newline.join(out)


def _send_rids(value: str) -> list[str]:
    """The rids of `a=simulcast:send <list>` (RFC 8853: ';' between streams, ',' between
    alternatives, '~' before a paused one), the first alternative of each stream."""
    parts = value.split(" ")
    send: list[str] = []
    for i in range(0, len(parts) - 1, 2):
        direction, streams = parts[i], parts[i + 1]
        if direction not in ("send", "recv"):
            raise BadSdp(f"a=simulcast: {value[:60]!r} is not 'send <rids>' or 'recv <rids>'")
        if direction == "send":
            for stream in streams.split(";"):
                first = stream.split(",")[0].lstrip("~")
                if not _RID_ID.match(first):
                    raise BadSdp(f"a=simulcast: {first[:20]!r} is not a rid")
                if first not in send:
                    send.append(first)
    if len(parts) % 2:
        raise BadSdp(f"a=simulcast: {value[:60]!r} is not 'send <rids>' or 'recv <rids>'")
    return send


def _sections(sdp: str) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            sections.append((line[2:].split(" ", 1)[0], []))
        elif sections:
            sections[-1][1].append(line)
    return sections
