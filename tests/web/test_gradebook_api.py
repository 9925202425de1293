"""Results and the gradebook over REST: quizzes (published through the polls API), graded assignments
and published online tests on the 10-point scale; a student's own results with averages, attendance
and what is due; a class's gradebook with averages and its XLSX; parents, teachers and strangers."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from attendance.models import AttendanceEvent
from coursework.assignments_models import Assignment, Submission
from coursework.tests_models import OnlineTest, TestAttempt
from school.demo import DemoSchool
from school.models import ClassStudent, Lesson, Role, SchoolClass, User
from school.parents import ParentLink
from school.passwords import hash_password
from tests.conftest import Login
from web.keys import DATABASE

QUIZ = {"question": "2 + 2 = ?", "kind": "number", "correct": 4, "points": 4, "draft": True}


async def get(client: TestClient, path: str, headers: dict[str, str], status: int = 200) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status == status, await response.text()
    return await response.json() if response.content_type == "application/json" else await response.read()


async def post(client: TestClient, path: str, headers: dict[str, str], body: Any = None, status: int = 200) -> Any:
    response = await client.post(path, headers=headers, json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def seed(app: web.Application, demo: DemoSchool) -> dict[str, int]:
    """In Toán: a graded assignment (An 8.5, Bình submitted, not graded), an assignment due tomorrow
    (An handed it in), a published online test (An 6 then 7.25; Bình in progress), an unpublished one."""
    now = datetime.now(UTC).replace(microsecond=0)
    parent_hash = await hash_password("phu-huynh-an")
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        users = {u.username: u.id for u in await session.scalars(select(User))}
        an, binh = users[demo.students[0].username], users[demo.students[1].username]
        common = {"school_id": lesson.school_id, "class_id": lesson.class_id, "subject_id": lesson.subject_id,
                  "teacher_id": lesson.teacher_id}
        done = Assignment(**common, title="Bài tập hàm số", instructions="", opens_at=now - timedelta(days=3),
                          due_at=now - timedelta(days=1), late_policy="refuse", late_penalty_percent=0, published=True)
        soon = Assignment(**common, title="Bài tập lượng giác", instructions="", opens_at=now - timedelta(days=1),
                          due_at=now + timedelta(days=1), late_policy="accept", late_penalty_percent=0, published=True)
        draft = Assignment(**common, title="Nháp", instructions="", opens_at=now, due_at=now + timedelta(days=2),
                           late_policy="accept", late_penalty_percent=0, published=False)
        test = OnlineTest(**common, title="Kiểm tra 15 phút", opens_at=now - timedelta(days=2),
                          closes_at=now - timedelta(days=1, hours=12), time_limit_minutes=15, results_published=True)
        hidden = OnlineTest(**common, title="Kiểm tra giữa kỳ", opens_at=now - timedelta(hours=1),
                            closes_at=now + timedelta(days=2), time_limit_minutes=45, results_published=False)
        session.add_all([done, soon, draft, test, hidden])
        await session.flush()
        session.add_all([
            Submission(assignment_id=done.id, student_id=an, text="bài làm", submitted_at=now - timedelta(days=2),
                       score10=8.5, comment="Tốt", graded_at=now, graded_by=lesson.teacher_id),
            Submission(assignment_id=done.id, student_id=binh, text="bài làm", submitted_at=now - timedelta(days=2)),
            Submission(assignment_id=soon.id, student_id=an, text="xong", submitted_at=now),
        ])
        for number, score in ((1, 6.0), (2, 7.25)):
            session.add(TestAttempt(test_id=test.id, student_id=an, number=number, started_at=now - timedelta(days=2),
                                    deadline_at=now - timedelta(days=2), submitted_at=now - timedelta(days=2),
                                    status="graded", points=score, max_points=10, score10=score, items=[], device="d"))
        session.add(TestAttempt(test_id=test.id, student_id=binh, number=1, started_at=now - timedelta(days=2),
                                deadline_at=now - timedelta(days=2), status="in_progress", max_points=10, items=[],
                                device="d"))
        parent = User(school_id=lesson.school_id, username="ph.an", full_name="Lê Văn Ba", role=Role.parent,
                      password_hash=parent_hash)
        session.add(parent)
        await session.flush()
        session.add(ParentLink(parent_id=parent.id, student_id=an))
        # Yesterday's lesson: the teacher opened the room, An was there all along, Bình never came.
        yesterday = Lesson(school_id=lesson.school_id, class_id=lesson.class_id, subject_id=lesson.subject_id,
                           teacher_id=lesson.teacher_id, title="Ôn tập", starts_at=lesson.starts_at - timedelta(days=1),
                           ends_at=lesson.ends_at - timedelta(days=1), created_by=lesson.teacher_id)
        session.add(yesterday)
        await session.flush()
        for n, (uid, role) in enumerate(((lesson.teacher_id, "teacher"), (an, "student"))):
            for kind, at in (("join", yesterday.starts_at), ("leave", yesterday.ends_at)):
                session.add(AttendanceEvent(presence_id=f"p{n}", school_id=lesson.school_id, lesson_id=yesterday.id,
                                            user_id=uid, role=role, via="browser", room="main", kind=kind,
                                            reason="left" if kind == "leave" else None, at=at, node_id="n"))
        return {"an": an, "binh": binh, "done": done.id, "soon": soon.id, "test": test.id, "hidden": hidden.id,
                "subject": lesson.subject_id, "class": lesson.class_id}


async def quiz(client: TestClient, demo: DemoSchool, teacher: dict[str, str], an: dict[str, str],
               binh: dict[str, str]) -> int:
    poll = await post(client, f"/api/lessons/{demo.lesson_id}/polls", teacher, QUIZ, 201)
    await post(client, f"/api/polls/{poll['id']}/open", teacher)
    await post(client, f"/api/polls/{poll['id']}/answers", an, {"number": 4}, 201)
    await post(client, f"/api/polls/{poll['id']}/answers", binh, {"number": 5}, 201)
    return int(poll["id"])


async def test_a_student_sees_grades_by_subject_attendance_and_what_is_due(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login,
) -> None:
    ids = await seed(app, demo)
    teacher = await login(demo.teacher)
    an, binh = [await login(s) for s in demo.students[:2]]
    poll = await quiz(client, demo, teacher, an, binh)

    mine = await get(client, "/api/users/me/results", an)
    grades = {(g["kind"], g["id"]): (g["score10"], g["status"]) for g in mine["grades"]}
    assert grades == {("quiz", demo.lesson_id): (None, "pending"), ("assignment", ids["done"]): (8.5, "graded"),
                      ("assignment", ids["soon"]): (None, "submitted"), ("test", ids["test"]): (7.25, "graded"),
                      ("test", ids["hidden"]): (None, "open")}
    assert [(s["subject_name"], s["average10"], s["graded"]) for s in mine["subjects"]] == [("Toán", 7.88, 2)]

    await post(client, f"/api/polls/{poll}/publish", teacher)
    mine = await get(client, "/api/users/me/results", an)
    assert [(g["kind"], g["score10"]) for g in mine["grades"] if g["kind"] == "quiz"] == [("quiz", 10.0)]
    assert mine["subjects"][0]["average10"] == round((10 + 8.5 + 7.25) / 3, 2)
    # What is due: the open test first (not done), then the assignment handed in; never the draft.
    assert [(d["kind"], d["id"], d["done"]) for d in mine["due"]] == [
        ("test", ids["hidden"], False), ("assignment", ids["soon"], True)]
    # Attendance: yesterday's lesson counted (today's room is not opened yet), present all along.
    attendance = mine["attendance"]
    assert {k: attendance[k] for k in ("lessons", "present", "absent", "rate")} == {
        "lessons": 1, "present": 1, "absent": 0, "rate": 1.0}
    assert attendance["present_s"] > 0

    # Bình: his own grades only.
    theirs = await get(client, "/api/users/me/results", binh)
    assert {(g["kind"], g["id"]): (g["score10"], g["status"]) for g in theirs["grades"]} == {
        ("quiz", demo.lesson_id): (0.0, "graded"), ("assignment", ids["done"]): (None, "submitted"),
        ("assignment", ids["soon"]): (None, "open"), ("test", ids["test"]): (None, "pending"),
        ("test", ids["hidden"]): (None, "open")}
    assert [(d["kind"], d["done"]) for d in theirs["due"]] == [("assignment", False), ("test", False)]
    assert (theirs["attendance"]["lessons"], theirs["attendance"]["absent"], theirs["attendance"]["rate"]) == (1, 1, 0.0)


async def test_the_gradebook_grid_averages_and_xlsx(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    ids = await seed(app, demo)
    teacher = await login(demo.teacher)
    an, binh = [await login(s) for s in demo.students[:2]]
    poll = await quiz(client, demo, teacher, an, binh)
    await post(client, f"/api/polls/{poll}/publish", teacher)

    pairs = (await get(client, "/api/gradebook/classes", teacher))["items"]
    assert {(p["class_id"], p["subject_name"]) for p in pairs} == {
        (ids["class"], name) for name in ("Toán", "Ngữ văn", "Tiếng Anh")}
    query = f"/api/gradebook?class_id={ids['class']}&subject_id={ids['subject']}"
    book = await get(client, query, teacher)
    assert [(c["kind"], c["id"]) for c in book["columns"]] == [
        ("test", ids["test"]), ("assignment", ids["done"]), ("quiz", demo.lesson_id),
        ("assignment", ids["soon"]), ("test", ids["hidden"])]
    rows = {r["full_name"]: r for r in book["rows"]}
    assert len(rows) == 4
    assert rows["Lê Văn An"]["scores"] == [7.25, 8.5, 10.0, None, None]
    assert rows["Lê Văn An"]["average10"] == 8.58
    assert rows["Phạm Thị Bình"]["scores"] == [None, None, 0.0, None, None]
    assert rows["Phạm Thị Bình"]["statuses"][:2] == ["pending", "submitted"]
    assert rows["Hoàng Minh Chi"]["statuses"][:3] == ["not_taken", "missing", "graded"]
    assert [c["average10"] for c in book["columns"]] == [7.25, 8.5, 2.5, None, None]
    assert book["average10"] == round((8.58 + 0 + 0 + 0) / 4, 2)
    assert (await get(client, query, admin))["rows"] == book["rows"]  # an administrator opens every class

    data = await get(client, query + "&format=xlsx", teacher)
    sheet = load_workbook(io.BytesIO(data)).active
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0][:3] == ["STT", "Họ và tên", "Bài kiểm tra: Kiểm tra 15 phút"]
    assert table[0][-1] == "Điểm trung bình"
    by_name = {row[1]: row for row in table[1:]}
    assert by_name["Lê Văn An"][2:] == [7.25, 8.5, 10, None, None, 8.58]
    assert by_name["Điểm trung bình của lớp"][-1] == book["average10"]


async def test_who_may_open_a_gradebook_or_a_students_results(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    ids = await seed(app, demo)
    other_hash = await hash_password("gv-khac-mat-khau")
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        other = User(school_id=lesson.school_id, username="gv.khac", full_name="Đỗ Văn Khác", role=Role.teacher,
                     password_hash=other_hash)
        tenth = await session.get(SchoolClass, demo.class_id)
        assert tenth is not None
        klass = SchoolClass(school_id=lesson.school_id, name="11B2", grade_id=tenth.grade_id,
                            school_year_id=tenth.school_year_id)
        session.add_all([other, klass])
        await session.flush()
        stranger_student = await session.scalar(select(User.id).where(User.username == demo.students[3].username))
        session.add(ClassStudent(class_id=klass.id, student_id=stranger_student))
    stranger = await login(("gv.khac", "gv-khac-mat-khau"))
    teacher = await login(demo.teacher)
    an, binh = [await login(s) for s in demo.students[:2]]
    parent = await login(("ph.an", "phu-huynh-an"))
    query = f"/api/gradebook?class_id={ids['class']}&subject_id={ids['subject']}"
    for who in (an, parent, stranger):
        assert (await get(client, query, who, 403))["error"]["code"] == "forbidden"
    assert (await get(client, "/api/gradebook/classes", stranger))["items"] == []
    await get(client, "/api/gradebook/classes", an, 403)
    await get(client, f"/api/gradebook?class_id=999999&subject_id={ids['subject']}", teacher, 404)
    await get(client, f"/api/gradebook?class_id={ids['class']}&subject_id=abc", teacher, 422)
    await get(client, f"{query}&format=pdf", teacher, 422)
    await get(client, f"{query}&extra=1", teacher, 422)

    path = f"/api/students/{ids['an']}/results"
    for who in (an, parent, teacher, admin):
        body = await get(client, path, who)
        assert body["student_id"] == ids["an"] and body["full_name"] == "Lê Văn An"
        assert {(g["kind"], g["id"]) for g in body["grades"]} >= {("assignment", ids["done"]), ("test", ids["test"])}
    for who in (binh, stranger):
        await get(client, path, who, 403)
    await get(client, f"/api/students/{ids['binh']}/results", parent, 403)
    await get(client, "/api/students/999999/results", parent, 404)
