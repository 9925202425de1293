"""Who receives what in a lesson, decided from the lesson's state alone: a pure function, so every
rule (rooms, listening in, the WHEP stage) is checked by a table of cases, and applying it is a
diff against the consumers that exist.

- A participant receives the media of the others in their room, and nothing of another room.
- The lesson's teacher may listen to one group from anywhere: its audio, without joining it; and
  speak into one group from anywhere: their microphone is heard there too; and keep an overview
  of the groups: one camera of each (its latest speaker's).
- A participant who chose what to receive (no auto-subscribe) gets what they chose, within that.
- A WHEP player's m-lines show the room's stage: the teacher's camera and screen (video) and
  microphone and screen audio (audio) when the teacher is in that room, otherwise the group's
  cameras and microphones, the most recent speaker first."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

STAGE = {"video": ("camera", "screen"), "audio": ("mic", "screen-audio")}
GROUP = {"video": "camera", "audio": "mic"}


@dataclass(frozen=True)
class Seat:
    """A participant as the plan sees them."""

    id: str
    room: str
    via: str = "ws"
    listening: str | None = None
    """The group whose audio they hear without being in it (the teacher)."""
    chosen: frozenset[str] | None = None
    """The producers they asked for, when they do not receive everything in reach."""
    declined: frozenset[str] = frozenset()
    """Producers in reach they asked not to receive."""
    slots: tuple[str, ...] = ()
    """WHEP: the kind of each m-line the player offered, in order."""
    overview: bool = False
    """The teacher's grid of groups: one camera of every other room (its latest speaker's)."""


@dataclass(frozen=True)
class Feed:
    """A producer as the plan sees it."""

    id: str
    owner: str
    room: str
    source: str
    kind: str
    teacher: bool = False
    """Published by the lesson's teacher."""
    spoke: float = 0.0
    """When its owner last spoke (higher is more recent): orders a group's stage."""
    speaks_into: str | None = None
    """A group this audio is also heard in (the teacher speaking into a group from elsewhere)."""


def in_reach(seat: Seat, feed: Feed) -> bool:
    if feed.owner == seat.id:
        return False
    if feed.room == seat.room:
        return True
    if feed.kind != "audio":
        return False
    return (seat.listening is not None and seat.listening == feed.room) or feed.speaks_into == seat.room


def receives(seats: Iterable[Seat], feeds: Iterable[Feed]) -> dict[str, frozenset[str]]:
    """For each page participant (not WHEP), the producers they should be receiving."""
    feeds = list(feeds)
    out: dict[str, frozenset[str]] = {}
    for seat in seats:
        if seat.via == "whep":
            continue
        reach = {f.id for f in feeds if in_reach(seat, f)}
        if seat.overview:
            reach |= overview(seat, feeds)
        out[seat.id] = frozenset((reach if seat.chosen is None else reach & seat.chosen) - seat.declined)
    return out


def overview(seat: Seat, feeds: Iterable[Feed]) -> set[str]:
    """One camera per other room, its latest speaker's (else its first): the grid's thumbnails,
    a camera per group rather than every camera of the class."""
    best: dict[str, Feed] = {}
    for feed in feeds:
        if feed.source != "camera" or feed.room == seat.room or feed.owner == seat.id:
            continue
        if feed.room not in best or feed.spoke > best[feed.room].spoke:
            best[feed.room] = feed
    return {f.id for f in best.values()}


def stage(seat: Seat, feeds: Iterable[Feed]) -> tuple[str | None, ...]:
    """For a WHEP player: the producer for each of its m-lines (None: nothing to show there)."""
    here = [f for f in feeds if f.room == seat.room and f.owner != seat.id]
    teacher = [f for f in here if f.teacher]
    wanted: dict[str, list[Feed]] = {}
    if teacher:
        newest = {f.source: f for f in teacher}  # in order of publishing: the newest wins
        for kind, sources in STAGE.items():
            wanted[kind] = [newest[s] for s in sources if s in newest]
    else:
        by_voice = sorted(here, key=lambda f: -f.spoke)
        for kind, source in GROUP.items():
            wanted[kind] = [f for f in by_voice if f.source == source]
    taken = {kind: iter(items) for kind, items in wanted.items()}
    return tuple(next((f.id for f in taken.get(kind, iter(()))), None) for kind in seat.slots)


@dataclass(frozen=True)
class Change:
    """What applying a plan does to one participant's consumers."""

    add: frozenset[str]
    drop: frozenset[str]


def diff(wanted: Mapping[str, frozenset[str]], existing: Mapping[str, Iterable[str]]) -> dict[str, Change]:
    """Per participant, the consumers to create and to close (only those with something to do)."""
    out: dict[str, Change] = {}
    for seat_id, want in wanted.items():
        have = frozenset(existing.get(seat_id, ()))
        if want != have:
            out[seat_id] = Change(add=want - have, drop=have - want)
    return out
