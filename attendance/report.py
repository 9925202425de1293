"""From the log to a lesson's attendance: intervals, time present, and each student's status.
Pure functions over plain data; the web layer brings the roster, the lesson's times and the school's rules.

The statuses tell the truth: a student is present only when their time in the lesson reaches the
school's minimum share of its scheduled length (42 seconds of 45 minutes is not present); being late
and leaving early are flags of a student who reached it (`late_left_early` when both). Until a lesson
has started, and for a lesson whose room never opened (its teacher never joined), every student is
`not_yet`: nobody is absent from a lesson that did not take place."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

STATUSES = ("present", "late", "left_early", "late_left_early", "absent", "not_yet")
ATTENDED = ("present", "late", "left_early", "late_left_early")
"""The statuses of a student who took part (reached the minimum share)."""


class LoggedEvent(Protocol):
    """What a report reads of a join or a leave: a row of the log (a mapped `AttendanceEvent`, or
    the same columns selected as a plain row)."""

    @property
    def presence_id(self) -> str: ...
    @property
    def user_id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def via(self) -> str: ...
    @property
    def room(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def at(self) -> datetime: ...


@dataclass(frozen=True)
class Interval:
    joined_at: datetime
    left_at: datetime | None
    """None while the presence is open (the student is here now)."""
    room: str
    reason: str | None
    via: str


@dataclass
class StudentAttendance:
    user_id: int
    status: str
    first_join: datetime | None
    last_leave: datetime | None
    seconds_present: int
    present_now: bool
    intervals: list[Interval] = field(default_factory=list)
    late: bool = False
    """First joined later than the late threshold after the start."""
    left_early: bool = False
    """Last left earlier than the left-early threshold before the end (and is not here now)."""
    share: float = 0.0
    """Time present within the lesson's scheduled times, as a share (0..1) of its scheduled length."""

    @property
    def minutes_present(self) -> float:
        return round(self.seconds_present / 60, 1)


def intervals_by_user(events: Iterable[LoggedEvent]) -> dict[int, list[Interval]]:
    """Pair each join with the leave of the same presence; a join without one is open."""
    joins: dict[str, LoggedEvent] = {}
    leaves: dict[str, LoggedEvent] = {}
    for event in events:
        (joins if event.kind == "join" else leaves)[event.presence_id] = event
    out: dict[int, list[Interval]] = {}
    for presence_id, join in joins.items():
        leave = leaves.get(presence_id)
        out.setdefault(join.user_id, []).append(Interval(join.at, leave.at if leave else None, join.room,
                                                         leave.reason if leave else None, join.via))
    for intervals in out.values():
        intervals.sort(key=lambda i: i.joined_at)
    return out


def seconds_within(intervals: list[Interval], start: datetime, end: datetime, now: datetime) -> int:
    """Time present between start and end, counting overlapping presences (two devices) once."""
    spans = sorted((max(i.joined_at, start), min(i.left_at or now, end)) for i in intervals)
    total, current_start, current_end = 0.0, None, None
    for a, b in spans:
        if b <= a:
            continue
        if current_end is None or a > current_end:
            if current_end is not None and current_start is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = a, b
        else:
            current_end = max(current_end, b)
    if current_end is not None and current_start is not None:
        total += (current_end - current_start).total_seconds()
    return round(total)


def room_opened(events: Iterable[LoggedEvent]) -> bool:
    """Whether the lesson took place: its room opened, i.e. a teacher of the lesson joined it."""
    return any(e.kind == "join" and e.role == "teacher" for e in events)


def student_attendance(user_id: int, intervals: list[Interval], *, starts_at: datetime, ends_at: datetime,
                       now: datetime, late_after: timedelta, left_early: timedelta, min_share: float = 0.0,
                       opened: bool = True) -> StudentAttendance:
    """One student's record. `min_share` (0..1) is the share of the scheduled length a student must be
    present to count as attending; while the lesson runs, a student here now is judged on what they
    reach if they stay to the end. `opened`: whether the lesson's room ever opened."""
    length = max((ends_at - starts_at).total_seconds(), 1.0)
    if not intervals:
        status = "not_yet" if now < starts_at or not opened else "absent"
        return StudentAttendance(user_id, status, None, None, 0, False, [])
    first_join = min(i.joined_at for i in intervals)
    present_now = any(i.left_at is None for i in intervals)
    last_leave = None if present_now else max(i.left_at for i in intervals if i.left_at is not None)
    seconds = seconds_within(intervals, min(first_join, starts_at), max(ends_at, now if present_now else ends_at), now)
    within = seconds_within(intervals, starts_at, ends_at, min(now, ends_at)) if now > starts_at else 0
    share = min(within / length, 1.0)
    if now < starts_at or not opened:
        return StudentAttendance(user_id, "not_yet", first_join, last_leave, seconds, present_now, intervals,
                                 share=round(share, 4))
    reachable = within + ((ends_at - now).total_seconds() if present_now and now < ends_at else 0)
    late = first_join > starts_at + late_after
    early = last_leave is not None and last_leave < ends_at - left_early and now >= last_leave
    if reachable / length + 1e-9 < min_share:
        status = "absent"
    elif late and early:
        status = "late_left_early"
    elif late:
        status = "late"
    elif early:
        status = "left_early"
    else:
        status = "present"
    attended = status != "absent"
    return StudentAttendance(user_id, status, first_join, last_leave, seconds, present_now, intervals,
                             late=late and attended, left_early=early and attended, share=round(share, 4))


def lesson_attendance(roster: Iterable[int], events: Iterable[LoggedEvent], *, starts_at: datetime,
                      ends_at: datetime, now: datetime, late_after: timedelta,
                      left_early: timedelta, min_share: float = 0.0, opened: bool = True) -> list[StudentAttendance]:
    """One entry per student of the roster, in roster order, including those who never came."""
    by_user = intervals_by_user(events)
    return [student_attendance(uid, by_user.get(uid, []), starts_at=starts_at, ends_at=ends_at, now=now,
                               late_after=late_after, left_early=left_early, min_share=min_share, opened=opened)
            for uid in roster]
