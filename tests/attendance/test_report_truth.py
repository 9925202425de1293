"""Attendance that tells the truth: present only with the school's minimum share of the lesson,
late and left early as flags of a student who attended, `not_yet` (never absent) for a lesson not
started or whose room never opened, and reports counting only the lessons held, over periods named
by the school's own calendar."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from attendance.models import AttendanceEvent
from attendance.report import Interval, StudentAttendance, lesson_attendance, student_attendance
from school.demo import DemoSchool
from school.models import Lesson, User
from tests.conftest import Login
from web.keys import DATABASE

START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
END = START + timedelta(minutes=45)
RULES: dict[str, Any] = {"late_after": timedelta(minutes=5), "left_early": timedelta(minutes=5), "min_share": 0.5}


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def span(a: float, b: float | None) -> Interval:
    return Interval(at(a), at(b) if b is not None else None, "main", "left" if b is not None else None, "browser")


def record(*intervals: Interval, now: float = 60, opened: bool = True) -> StudentAttendance:
    return student_attendance(1, list(intervals), starts_at=START, ends_at=END, now=at(now), opened=opened, **RULES)


def test_42_seconds_of_45_minutes_is_not_present() -> None:
    row = record(span(0, 0.7))
    assert row.status == "absent" and not row.late and not row.left_early
    assert row.seconds_present == 42 and row.share == round(42 / 2700, 4)
    assert record(span(0, 22)).status == "absent", "22 of 45 minutes is below half"
    assert record(span(0, 23)).status == "left_early", "23 of 45 minutes reaches half"
    full = record(span(-3, 46))
    assert (full.status, full.late, full.left_early, full.share) == ("present", False, False, 1.0)
    assert full.minutes_present == 48.0, "from the join before the start to the end"


def test_late_and_left_early_are_both_told() -> None:
    both = record(span(10, 35))
    assert (both.status, both.late, both.left_early) == ("late_left_early", True, True)
    assert both.share == round(25 / 45, 4)
    late = record(span(10, 45))
    assert (late.status, late.late, late.left_early) == ("late", True, False)
    early = record(span(0, 30))
    assert (early.status, early.late, early.left_early) == ("left_early", False, True)
    assert record(span(4, 41)).status == "present", "within both thresholds"
    assert record(span(30, 45)).status == "absent", "late by 30 minutes: 15 of 45 is not enough, and no flag"
    assert not record(span(30, 45)).late


def test_while_the_lesson_runs_a_student_here_is_judged_on_what_they_can_still_reach() -> None:
    assert record(span(2, None), now=5).status == "present"
    assert record(span(20, None), now=21).status == "late", "here from minute 20: 25 of 45 can still be reached"
    assert record(span(30, None), now=31).status == "absent", "15 of 45 can no longer reach half"
    assert record(span(0, 0.02), now=5).status == "absent", "a second and gone"


def test_not_yet_before_the_start_and_when_the_room_never_opened() -> None:
    assert record(now=-10).status == "not_yet"
    assert record(span(-5, None), now=-1).status == "not_yet", "waiting before the start"
    assert record(now=60, opened=False).status == "not_yet"
    never = record(span(0, 45), now=60, opened=False)
    assert never.status == "not_yet" and never.seconds_present == 45 * 60, "time is kept, no status invented"
    events = [AttendanceEvent(presence_id="a", school_id=1, lesson_id=1, user_id=7, role="student", via="browser",
                              room="main", kind="join", reason=None, at=at(0), node_id="n")]
    rows = lesson_attendance([7, 8], events, starts_at=START, ends_at=END, now=at(60), opened=False, **RULES)
    assert [r.status for r in rows] == ["not_yet", "not_yet"]


# --- through the API ----------------------------------------------------------------------------------
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


async def seed(app: web.Application, demo: DemoSchool) -> dict[str, Any]:
    """Three November lessons of the demo class (school time): 1 Nov 06:30 (30 Oct 23:30 UTC) held,
    An 38 of 45 minutes, Bình 42 seconds, Chi from minute 10 to 35; 15 Nov held, An all of it;
    20 Nov never opened (its teacher never came), An waited 10 minutes in the room."""
    async with app[DATABASE].session() as session:
        today = await session.get(Lesson, demo.lesson_id)
        assert today is not None
        users = {u.username: u.id for u in await session.scalars(select(User))}
        an, binh, chi = (users[s.username] for s in demo.students[:3])
        teacher = today.teacher_id
        lessons = []
        for day, hour, minute in ((1, 6, 30), (15, 7, 0), (20, 7, 0)):
            lesson = Lesson(school_id=today.school_id, class_id=today.class_id, subject_id=today.subject_id,
                            teacher_id=teacher, title=f"Bài {day}/11", starts_at=local(day, hour, minute),
                            ends_at=local(day, hour, minute) + timedelta(minutes=45), created_by=today.created_by)
            session.add(lesson)
            lessons.append(lesson)
        await session.flush()
        first, second, never = lessons
        presences = [(first, teacher, "teacher", 0, 45), (first, an, "student", 0, 38),
                     (first, binh, "student", 0, 0.7), (first, chi, "student", 10, 35),
                     (second, teacher, "teacher", -2, 45), (second, an, "student", -1, 46),
                     (never, an, "student", -5, 5)]
        for n, (lesson, uid, role, start, end) in enumerate(presences):
            for kind, minute in (("join", start), ("leave", end)):
                session.add(AttendanceEvent(presence_id=f"p{n}", school_id=lesson.school_id, lesson_id=lesson.id,
                                            user_id=uid, role=role, via="browser", room="main", kind=kind,
                                            reason=None if kind == "join" else "left",
                                            at=lesson.starts_at + timedelta(minutes=minute), node_id="test"))
        return {"first": first.id, "second": second.id, "never": never.id, "an": an, "binh": binh, "chi": chi}


async def get(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_lesson_tells_each_students_truth(client: TestClient, demo: DemoSchool, login: Login) -> None:
    ids = await seed(client.app, demo)
    teacher = await login(demo.teacher)
    report = await get(client, f"/api/lessons/{ids['first']}/attendance", teacher)
    assert report["held"] is True and report["min_presence_percent"] == 50
    rows = {s["user_id"]: s for s in report["students"]}
    assert (rows[ids["an"]]["status"], rows[ids["an"]]["left_early"]) == ("left_early", True)
    assert rows[ids["an"]]["minutes_present"] == 38.0 and rows[ids["an"]]["share"] == round(38 / 45, 4)
    assert rows[ids["binh"]]["status"] == "absent" and rows[ids["binh"]]["seconds_present"] == 42
    assert (rows[ids["chi"]]["status"], rows[ids["chi"]]["late"], rows[ids["chi"]]["left_early"]) == (
        "late_left_early", True, True)
    assert report["summary"] == {"students": 4, "present": 0, "late": 0, "left_early": 1, "late_left_early": 1,
                                 "absent": 2, "not_yet": 0}

    never = await get(client, f"/api/lessons/{ids['never']}/attendance", teacher)
    assert never["held"] is False
    assert {s["status"] for s in never["students"]} == {"not_yet"}
    assert never["summary"]["not_yet"] == 4 and never["summary"]["absent"] == 0

    # Raising the minimum changes the verdict, not the minutes.
    admin = await login(demo.admin)
    assert (await client.patch("/api/school/settings", headers=admin, json={"min_presence_percent": 90})).status == 200
    stricter = {s["user_id"]: s for s in (await get(client, f"/api/lessons/{ids['first']}/attendance",
                                                    teacher))["students"]}
    assert stricter[ids["an"]]["status"] == "absent" and stricter[ids["an"]]["minutes_present"] == 38.0

    exported = await client.get(f"/api/lessons/{ids['first']}/attendance?format=csv", headers=teacher)
    table = list(csv.reader(io.StringIO((await exported.read()).decode("utf-8-sig"))))
    assert "Tỉ lệ thời gian có mặt (%)" in table[0]
    assert "2026-11-01" in unquote(exported.headers["Content-Disposition"]), "the school's date, not 31/10 UTC"


async def test_reports_count_only_lessons_held_over_the_schools_own_days(
    client: TestClient, demo: DemoSchool, login: Login
) -> None:
    ids = await seed(client.app, demo)
    admin = await login(demo.admin)
    report = await get(client, "/api/reports/attendance?from=2026-11-01&to=2026-11-30", admin)
    assert report["lessons_held"] == 2, "the lesson whose room never opened is not counted"
    assert (report["from_date"], report["to_date"], report["period"]) == ("2026-11-01", "2026-11-30",
                                                                          "01/11/2026–30/11/2026")
    klass = report["by_class"][0]
    assert (klass["lessons_held"], klass["student_lessons"], klass["absences"], klass["late"],
            klass["left_early"]) == (2, 8, 5, 1, 2)
    assert report["attendance_rate"] == round(3 / 8, 4)
    an = next(s for s in report["students"] if s["user_id"] == ids["an"])
    assert (an["lessons"], an["present"], an["left_early"], an["absent"]) == (2, 1, 1, 0)
    assert an["minutes_present"] == 38 + 46.0, "the lesson never held adds no minutes"
    chi = next(s for s in report["students"] if s["user_id"] == ids["chi"])
    assert (chi["late_left_early"], chi["absent"]) == (1, 1)
    assert [d["date"] for d in report["by_day"]] == ["2026-11-01", "2026-11-15"], "1 Nov in school time"

    response = await client.get("/api/reports/attendance?from=2026-11-01&to=2026-11-30&format=csv", headers=admin)
    disposition = unquote(response.headers["Content-Disposition"])
    assert "thong-ke-chuyen-can-2026-11-01-den-2026-11-30.csv" in disposition
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert {row[-1] for row in rows[1:]} == {"01/11/2026–30/11/2026"}

    # October's report does not take 1 November's early lesson (31 October in UTC).
    october = await get(client, "/api/reports/attendance?from=2026-10-01&to=2026-10-31", admin)
    assert october["lessons_held"] == 0 and october["period"] == "01/10/2026–31/10/2026"


async def test_a_students_own_results_carry_the_same_truth(client: TestClient, demo: DemoSchool, login: Login) -> None:
    ids = await seed(client.app, demo)
    mine = {r["lesson_id"]: r for r in (await get(client, "/api/users/me/results",
                                                  await login(demo.students[0])))["lessons"]}
    assert (mine[ids["first"]]["attendance"], mine[ids["first"]]["left_early"]) == ("left_early", True)
    assert mine[ids["second"]]["attendance"] == "present" and mine[ids["second"]]["share"] == 1.0
    assert mine[ids["never"]]["attendance"] == "not_yet" and mine[ids["never"]]["present_s"] == 600
    binh = {r["lesson_id"]: r for r in (await get(client, "/api/users/me/results",
                                                  await login(demo.students[1])))["lessons"]}
    assert binh[ids["first"]]["attendance"] == "absent" and binh[ids["first"]]["present_s"] == 42
