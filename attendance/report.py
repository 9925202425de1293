"""From the log to a lesson's attendance: intervals, time present, and each student's status.
Pure functions over plain data; the web layer brings the roster and the lesson's times."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from attendance.models import AttendanceEvent

STATUSES = ("present", "late", "absent", "left_early")


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


def intervals_by_user(events: Iterable[AttendanceEvent]) -> dict[int, list[Interval]]:
    """Pair each join with the leave of the same presence; a join without one is open."""
    joins: dict[str, AttendanceEvent] = {}
    leaves: dict[str, AttendanceEvent] = {}
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


def student_attendance(user_id: int, intervals: list[Interval], *, starts_at: datetime, ends_at: datetime,
                       now: datetime, late_after: timedelta, left_early: timedelta) -> StudentAttendance:
    if not intervals:
        return StudentAttendance(user_id, "absent", None, None, 0, False, [])
    first_join = min(i.joined_at for i in intervals)
    present_now = any(i.left_at is None for i in intervals)
    last_leave = None if present_now else max(i.left_at for i in intervals if i.left_at is not None)
    seconds = seconds_within(intervals, min(first_join, starts_at), max(ends_at, now if present_now else ends_at), now)
    if first_join > starts_at + late_after:
        status = "late"
    elif last_leave is not None and last_leave < ends_at - left_early and now >= last_leave:
        status = "left_early"
    else:
        status = "present"
    return StudentAttendance(user_id, status, first_join, last_leave, seconds, present_now, intervals)


def lesson_attendance(roster: Iterable[int], events: Iterable[AttendanceEvent], *, starts_at: datetime,
                      ends_at: datetime, now: datetime, late_after: timedelta,
                      left_early: timedelta) -> list[StudentAttendance]:
    """One entry per student of the roster, in roster order, including those who never came."""
    by_user = intervals_by_user(events)
    return [student_attendance(uid, by_user.get(uid, []), starts_at=starts_at, ends_at=ends_at, now=now,
                               late_after=late_after, left_early=left_early) for uid in roster]
