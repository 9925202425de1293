"""Thống kê dạy học trực tuyến over REST on seeded records: a lesson held (its teacher opened the
room for 3 minutes, one student of four attended, a quiz) and one not held, grouped by subject,
teacher, grade and class; the XLSX read back; who may ask; assignments counted once their table exists."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from attendance.models import AttendanceEvent
from classroom.polls import Poll, PollAnswer
from school.demo import DemoSchool
from school.models import Lesson, Subject, User
from tests.conftest import Login
from web.keys import DATABASE


async def seed(app: web.Application, demo: DemoSchool) -> dict[str, Any]:
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        users = {u.username: u.id for u in await session.scalars(select(User))}
        an, binh = users[demo.students[0].username], users[demo.students[1].username]
        teacher = users[demo.teacher.username]
        t0, school, lid = lesson.starts_at, lesson.school_id, lesson.id
        rows = [("t", teacher, "teacher", 0, 3), ("a", an, "student", 0, None), ("b", binh, "student", 1, 2)]
        for presence, uid, role, start, end in rows:
            session.add(AttendanceEvent(presence_id=presence, school_id=school, lesson_id=lid, user_id=uid, role=role,
                                        via="browser", room="main", kind="join", reason=None,
                                        at=t0 + timedelta(minutes=start), node_id="n"))
            if end is not None:
                session.add(AttendanceEvent(presence_id=presence, school_id=school, lesson_id=lid, user_id=uid,
                                            role=role, via="browser", room="main", kind="leave", reason="left",
                                            at=t0 + timedelta(minutes=end), node_id="n"))
        poll = Poll(school_id=school, lesson_id=lid, created_by=teacher, question="2 + 2 = ?", kind="single",
                    options=["3", "4"], correct=[1], points=2.0, duration_s=None, anonymous=False, status="closed",
                    opened_at=t0, closes_at=None, closed_at=t0 + timedelta(minutes=1), published=True, created_at=t0)
        session.add(poll)
        await session.flush()
        for uid, choice, score in ((an, [1], 2.0), (binh, [0], 0.0)):
            session.add(PollAnswer(poll_id=poll.id, user_id=uid, answer=choice, correct=score > 0, score=score,
                                   answered_at=t0 + timedelta(minutes=1),
                                   updated_at=t0 + timedelta(minutes=1)))
        van = await session.scalar(select(Subject).where(Subject.school_id == school, Subject.name == "Ngữ văn"))
        assert van is not None
        yesterday = t0 - timedelta(days=1)
        session.add(Lesson(school_id=school, class_id=lesson.class_id, subject_id=van.id, teacher_id=teacher,
                           title="Văn: không dạy", starts_at=yesterday, ends_at=yesterday + timedelta(minutes=45)))
        return {"school": school, "class_id": lesson.class_id, "subject_id": lesson.subject_id, "van": van.id,
                "teacher": teacher, "an": an}


def period() -> str:
    today = datetime.now(UTC).date()
    return f"from={today - timedelta(days=3)}&to={today + timedelta(days=1)}"


async def test_figures_by_subject_teacher_grade_and_class(client: TestClient, app: web.Application,
                                                           demo: DemoSchool, login: Login) -> None:
    ids = await seed(app, demo)
    response = await client.get(f"/api/reports/teaching?{period()}", headers=await login(demo.admin))
    assert response.status == 200, await response.text()
    report = await response.json()
    total = report["total"]
    assert (total["lessons_scheduled"], total["lessons_held"]) == (2, 1)
    assert total["minutes"] == 3.0
    assert total["attendance_rate"] == 0.25  # An of four
    assert (total["results"], total["average_score10"]) == (4, 2.5)  # quiz: 10, 0, and 0 for two who never answered
    subjects = {row["name"]: row for row in report["by_subject"]}
    assert subjects["Toán"]["lessons_held"] == 1 and subjects["Toán"]["average_score10"] == 2.5
    assert (subjects["Ngữ văn"]["lessons_scheduled"], subjects["Ngữ văn"]["lessons_held"]) == (1, 0)
    assert subjects["Ngữ văn"]["minutes"] == 0 and subjects["Ngữ văn"]["average_score10"] is None
    assert [(r["id"], r["lessons_scheduled"], r["lessons_held"]) for r in report["by_teacher"]] == [(ids["teacher"], 2, 1)]
    assert [(r["name"], r["lessons_held"]) for r in report["by_grade"]] == [("Khối 10", 1)]
    assert [(r["name"], r["attendance_rate"]) for r in report["by_class"]] == [(demo.class_name, 0.25)]

    only_van = await (await client.get(f"/api/reports/teaching?{period()}&subject_id={ids['van']}",
                                       headers=await login(demo.teacher))).json()
    assert (only_van["total"]["lessons_scheduled"], only_van["total"]["lessons_held"]) == (1, 0)


async def test_xlsx_and_who_may_ask(client: TestClient, app: web.Application, demo: DemoSchool,
                                    login: Login) -> None:
    await seed(app, demo)
    teacher = await login(demo.teacher)
    response = await client.get(f"/api/reports/teaching?{period()}&format=xlsx&by=subject", headers=teacher)
    assert response.status == 200
    assert "thong-ke-day-hoc-truc-tuyen-subject" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(await response.read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "Môn học" and rows[0][3] == "Số tiết đã dạy trực tuyến"
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Toán"][3] == 1 and by_name["Toán"][5] == 25.0 and by_name["Toán"][9] == 2.5
    assert by_name["Ngữ văn"][3] == 0 and by_name["Ngữ văn"][9] is None

    student = await login(demo.students[0])
    assert (await client.get("/api/reports/teaching", headers=student)).status == 403
    bad = await client.get("/api/reports/teaching?by=<script>", headers=teacher)
    assert bad.status == 422
    assert (await client.get("/api/reports/teaching?grade=13", headers=teacher)).status == 422


async def test_assignments_given_and_their_results(client: TestClient, app: web.Application, demo: DemoSchool,
                                                   login: Login) -> None:
    models = pytest.importorskip("coursework.assignments_models")
    ids = await seed(app, demo)
    now = datetime.now(UTC)
    async with app[DATABASE].session() as session:
        work = models.Assignment(school_id=ids["school"], class_id=ids["class_id"], subject_id=ids["subject_id"],
                                 teacher_id=ids["teacher"], title="Bài tập 1", instructions="", opens_at=now - timedelta(days=2),
                                 due_at=now - timedelta(hours=1), late_policy="accept", late_penalty_percent=0,
                                 published=True)
        draft = models.Assignment(school_id=ids["school"], class_id=ids["class_id"], subject_id=ids["subject_id"],
                                  teacher_id=ids["teacher"], title="Nháp", instructions="", opens_at=now - timedelta(days=2),
                                  due_at=now - timedelta(hours=1), late_policy="accept", late_penalty_percent=0,
                                  published=False)
        session.add_all([work, draft])
        await session.flush()
        session.add(models.Submission(assignment_id=work.id, student_id=ids["an"], text="Bài làm", score10=8.5,
                                      comment="", submitted_at=now - timedelta(hours=2)))
    report = await (await client.get(f"/api/reports/teaching?{period()}", headers=await login(demo.admin))).json()
    toan = next(row for row in report["by_subject"] if row["name"] == "Toán")
    assert toan["assignments"] == 1  # the draft is not given
    assert toan["results"] == 5 and toan["average_score10"] == round((10 + 8.5) / 5, 2)


async def test_online_tests_given_count_each_students_best_attempt(client: TestClient, app: web.Application,
                                                                   demo: DemoSchool, login: Login) -> None:
    models = pytest.importorskip("coursework.tests_models")
    ids = await seed(app, demo)
    now = datetime.now(UTC)
    async with app[DATABASE].session() as session:
        users = {u.username: u.id for u in await session.scalars(select(User))}
        test = models.OnlineTest(school_id=ids["school"], class_id=ids["class_id"], subject_id=ids["van"],
                                 teacher_id=ids["teacher"], title="Kiểm tra 15 phút", opens_at=now - timedelta(hours=3),
                                 closes_at=now - timedelta(hours=1), time_limit_minutes=15, attempts_allowed=2)
        session.add(test)
        await session.flush()
        binh = users[demo.students[1].username]
        chi = users[demo.students[2].username]
        for number, (student, status, score) in enumerate(((ids["an"], "graded", 4.0), (ids["an"], "graded", 8.0),
                                                           (binh, "graded", 6.0), (chi, "in_progress", None)), 1):
            session.add(models.TestAttempt(test_id=test.id, student_id=student, number=number,
                                           started_at=now - timedelta(hours=2), deadline_at=now - timedelta(hours=1),
                                           status=status, points=score, max_points=10.0, score10=score, items=[],
                                           device="d"))
    report = await (await client.get(f"/api/reports/teaching?{period()}", headers=await login(demo.admin))).json()
    van = next(row for row in report["by_subject"] if row["name"] == "Ngữ văn")
    assert (van["tests"], van["results"], van["average_score10"]) == (1, 2, 7.0)  # An's best 8, Bình's 6
    assert report["total"]["tests"] == 1 and report["total"]["average_score10"] == round((10 + 8 + 6) / 6, 2)
