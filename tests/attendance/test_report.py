"""Statuses and time present from intervals: pure functions, table-tested."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from attendance.models import AttendanceEvent
from attendance.report import Interval, lesson_attendance, seconds_within, student_attendance

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
END = START + timedelta(minutes=45)
LATE = timedelta(minutes=5)
EARLY = timedelta(minutes=5)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def interval(a: float, b: float | None, reason: str | None = "left") -> Interval:
    return Interval(at(a), at(b) if b is not None else None, "main", reason if b is not None else None, "browser")


def status(*intervals: Interval, now: float = 60) -> str:
    return student_attendance(1, list(intervals), starts_at=START, ends_at=END, now=at(now), late_after=LATE,
                              left_early=EARLY).status


def test_statuses() -> None:
    assert status() == "absent"
    assert status(interval(-2, 46)) == "present"
    assert status(interval(4, 45)) == "present", "within the late threshold"
    assert status(interval(6, 45)) == "late"
    assert status(interval(0, 30)) == "left_early"
    assert status(interval(0, 41)) == "present", "within the left-early threshold"
    assert status(interval(0, 20), interval(25, 45)) == "present", "came back"
    assert status(interval(0, None), now=30) == "present", "still here during the lesson"
    assert status(interval(10, 20), now=15) == "late"


def test_time_present_counts_overlaps_once_and_open_intervals_until_now() -> None:
    spans = [interval(0, 10), interval(5, 15), interval(20, None)]
    assert seconds_within(spans, START, END, at(30)) == (15 + 10) * 60
    report = student_attendance(1, spans, starts_at=START, ends_at=END, now=at(30), late_after=LATE, left_early=EARLY)
    assert report.present_now and report.last_leave is None and report.first_join == at(0)


def event(presence: str, user: int, kind: str, minutes: float, reason: str | None = None) -> AttendanceEvent:
    return AttendanceEvent(presence_id=presence, school_id=1, lesson_id=1, user_id=user, role="student",
                           via="browser", room="main", kind=kind, reason=reason, at=at(minutes), node_id="n")


def test_every_student_of_the_roster_has_a_row_in_roster_order() -> None:
    events = [event("a", 7, "join", 1), event("a", 7, "leave", 44, "left"), event("b", 9, "join", 12)]
    rows = lesson_attendance([9, 8, 7], events, starts_at=START, ends_at=END, now=at(50), late_after=LATE,
                             left_early=EARLY)
    assert [(r.user_id, r.status) for r in rows] == [(9, "late"), (8, "absent"), (7, "present")]
    assert rows[2].seconds_present == 43 * 60
    assert rows[2].intervals[0].reason == "left"
