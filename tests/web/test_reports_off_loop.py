"""A large school's attendance and teaching statistics, as JSON and as CSV and XLSX downloads, keep
the event loop free: the figures are worked out and the files written in worker threads, the join
and leave log read in small pieces, so every callback the loop runs stays short and other requests
keep being answered while a report is made."""
from __future__ import annotations

import asyncio
import csv
import gc
import io
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import insert, select

from attendance.models import AttendanceEvent
from school.demo import DemoSchool
from school.models import ClassStudent, Grade, Lesson, Role, SchoolClass, Subject, User
from tests.conftest import Login
from web.keys import CONFIG, DATABASE
from web.tables import XLSX

CLASSES = 6
STUDENTS = 40
DAYS = 30
LESSONS_A_DAY = 5
SLOW = 0.1
"""Seconds of work a callback of the event loop may do at most while a report is made."""


async def seed_large_school(app: web.Application, demo: DemoSchool) -> int:
    """Six classes of forty students, five lessons a day each for the last thirty days, every one of
    them held, each student there for most of it: written straight into the database. Returns how
    many lessons were held."""
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        school_id = lesson.school_id
        demo_class = await session.get(SchoolClass, lesson.class_id)
        assert demo_class is not None
        teacher = lesson.teacher_id
        subjects = list(await session.scalars(select(Subject.id).where(Subject.school_id == school_id)))
        grades = {g.level: g.id for g in await session.scalars(select(Grade).where(Grade.school_id == school_id))}
        class_ids = list(await session.scalars(insert(SchoolClass).returning(SchoolClass.id), [
            {"school_id": school_id, "school_year_id": demo_class.school_year_id, "grade_id": grades[10 + n % 3],
             "name": f"{10 + n % 3}B{n}"} for n in range(CLASSES)]))
        students = list(await session.scalars(insert(User).returning(User.id), [
            {"school_id": school_id, "username": f"hs.lon.{n}", "full_name": f"Học sinh {n:04d}",
             "role": Role.student, "password_hash": "-"} for n in range(CLASSES * STUDENTS)]))
        await session.execute(insert(ClassStudent), [
            {"class_id": class_ids[n // STUDENTS], "student_id": uid} for n, uid in enumerate(students)])
        today = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0)
        lessons: list[dict[str, Any]] = []
        for day in range(1, DAYS + 1):
            for period in range(LESSONS_A_DAY):
                starts = today - timedelta(days=day) + timedelta(minutes=50 * period)
                lessons += [{"school_id": school_id, "class_id": cid, "subject_id": subjects[period % len(subjects)],
                             "teacher_id": teacher, "title": f"Tiết {period + 1}", "starts_at": starts,
                             "ends_at": starts + timedelta(minutes=45)} for cid in class_ids]
        lesson_ids = list(await session.scalars(insert(Lesson).returning(Lesson.id), lessons))
    # The teacher the whole lesson; a student from minute 0 to 8 until minute 39 to 45.
    presences = {cid: [(teacher, "teacher", 0, 45)] + [(uid, "student", n % 9, 45 - n % 7) for n, uid in
                                                      enumerate(students[k * STUDENTS:(k + 1) * STUDENTS])]
                 for k, cid in enumerate(class_ids)}
    events: list[dict[str, Any]] = []
    for lid, row in zip(lesson_ids, lessons, strict=True):
        starts = row["starts_at"]
        for uid, role, came, went in presences[row["class_id"]]:
            for kind, minute in (("join", came), ("leave", went)):
                events.append({"presence_id": f"{lid}-{uid}", "school_id": school_id, "lesson_id": lid,
                               "user_id": uid, "role": role, "via": "browser", "room": "main", "kind": kind,
                               "reason": "left" if kind == "leave" else None,
                               "at": starts + timedelta(minutes=minute), "node_id": "n"})
    await asyncio.to_thread(write_rows, app[CONFIG].data_dir / "lophoc.sqlite3", events)
    return len(lesson_ids)


def write_rows(path: Path, events: list[dict[str, Any]]) -> None:
    """The join/leave log, written into the server's SQLite file by a connection of the test's own."""
    columns = list(events[0])
    with closing(sqlite3.connect(path, timeout=30)) as connection, connection:
        connection.executemany(
            f"INSERT INTO {AttendanceEvent.__tablename__} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            ([e["at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if c == "at" else e[c] for c in columns]
             for e in events))


class LoopWork:
    """The processor time each callback of the event loop used, the garbage collector's share left out.

    Processor time, not wall time: a test machine busy with other work stops the loop's thread
    without the loop being at fault. The collector's pauses are the process's, whatever runs."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.what = ""
        self.callbacks = 0
        self._in_gc = 0.0
        self._gc_started: float | None = None

    def collector(self, phase: str, _info: dict[str, int]) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if phase == "start":
            self._gc_started = time.thread_time()
        elif self._gc_started is not None:
            self._in_gc += time.thread_time() - self._gc_started
            self._gc_started = None

    def run(self, handle: asyncio.Handle, original: Callable[[asyncio.Handle], None]) -> None:
        self._in_gc = 0.0
        started = time.thread_time()
        try:
            original(handle)
        finally:
            used = time.thread_time() - started - self._in_gc
            self.callbacks += 1
            if used > self.longest:
                self.longest, self.what = used, repr(handle)[:200]


@pytest.fixture
def loop_work(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopWork]:
    work = LoopWork()
    original = asyncio.Handle._run
    monkeypatch.setattr(asyncio.Handle, "_run", lambda handle: work.run(handle, original))
    gc.callbacks.append(work.collector)
    try:
        yield work
    finally:
        gc.callbacks.remove(work.collector)


async def download_while_pinging(client: TestClient, url: str, headers: dict[str, str],
                                 loop_work: LoopWork) -> tuple[bytes, str]:
    """The report's body and type. Meanwhile /healthz is asked again and again: it keeps being
    answered, and no callback of the loop works longer than SLOW."""
    done = asyncio.Event()
    answered = 0

    async def ping() -> None:
        nonlocal answered
        while not done.is_set():
            response = await client.get("/healthz")
            await response.read()
            answered += response.status == 200

    loop_work.longest = 0.0
    pinger = asyncio.create_task(ping())
    try:
        response = await client.get(url, headers=headers)
        body = await response.read()
        assert response.status == 200, body[:500]
        during = answered
    finally:
        done.set()
        await pinger
    assert during >= 3, f"/healthz answered {during} times while {url} was made"
    assert loop_work.longest < SLOW, f"{url}: a callback held the loop {loop_work.longest:.3f} s: {loop_work.what}"
    if response.headers["Content-Type"] != "application/json; charset=utf-8":  # a file, streamed
        assert response.headers["Content-Length"] == str(len(body))
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return body, response.headers["Content-Type"]


async def test_a_large_schools_reports_and_downloads_leave_the_loop_free(
        client: TestClient, app: web.Application, demo: DemoSchool, login: Login, loop_work: LoopWork) -> None:
    held = await seed_large_school(app, demo)
    admin = await login(demo.admin)
    today = datetime.now(UTC).date()
    period = f"from={today - timedelta(days=DAYS + 2)}&to={today + timedelta(days=1)}"

    body, kind = await download_while_pinging(client, f"/api/reports/attendance?{period}", admin, loop_work)
    report = json.loads(body)
    assert kind == "application/json; charset=utf-8"
    assert report["lessons_held"] == held
    students = {s["full_name"]: s for s in report["students"]}
    assert len(students) == CLASSES * STUDENTS and all(s["lessons"] == DAYS * LESSONS_A_DAY for s in students.values())

    body, kind = await download_while_pinging(client, f"/api/reports/attendance?{period}&format=xlsx", admin, loop_work)
    assert kind == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("STT", "Họ và tên", "Lớp") and len(rows) == 1 + len(students)
    assert {row[1]: row[3] for row in rows[1:]} == {name: s["lessons"] for name, s in students.items()}

    body, kind = await download_while_pinging(client, f"/api/reports/attendance?{period}&format=csv", admin, loop_work)
    assert kind == "text/csv; charset=utf-8"
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row[1] for row in table[1:]] == [row[1] for row in rows[1:]]

    body, kind = await download_while_pinging(client, f"/api/reports/teaching?{period}", admin, loop_work)
    teaching = json.loads(body)
    assert teaching["total"]["lessons_held"] == held
    body, kind = await download_while_pinging(client, f"/api/reports/teaching?{period}&format=xlsx&by=class", admin, loop_work)
    classes = list(openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))[1:]
    assert sorted(row[1] for row in classes) == sorted(r["name"] for r in teaching["by_class"])
    assert loop_work.callbacks > 1000
