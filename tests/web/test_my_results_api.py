"""A student's own results over REST: the lessons they took part in, newest first, with their time
present, the quiz score out of the published quizzes (quizzes made, opened, answered and published
through the polls API), questions, messages and hands from the classroom records; never another
student's figures; teachers, administrators and strangers refused."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from attendance.models import AttendanceEvent
from classroom.activity import LessonActivity
from classroom.chat import ChatMessage
from classroom.questions import LessonQuestion
from school.demo import DemoSchool
from school.models import Lesson, Subject, User
from tests.conftest import Login
from web.keys import DATABASE

PATH = "/api/users/me/results"
CAPITAL = {"question": "Thủ đô của Việt Nam?", "kind": "single", "options": ["Huế", "Hà Nội"], "correct": [1],
           "points": 2, "draft": True}
RIVER = {"question": "Sông dài nhất Việt Nam?", "kind": "short", "correct": "Sông Đồng Nai", "points": 3,
         "draft": True}


async def post(client: TestClient, path: str, headers: dict[str, str], body: Any = None, status: int = 200) -> Any:
    response = await client.post(path, headers=headers, json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def get(client: TestClient, path: str, headers: dict[str, str], status: int = 200) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status == status, await response.text()
    return await response.json()


async def seed(app: web.Application, demo: DemoSchool) -> dict[str, int]:
    """Yesterday's literature lesson (An 10 minutes, Bình 2), and in today's lesson: An present 10
    minutes, two messages (one deleted), two questions (one hidden), a hand raised; Bình a message."""
    async with app[DATABASE].session() as session:
        today = await session.get(Lesson, demo.lesson_id)
        assert today is not None
        users = {u.username: u.id for u in await session.scalars(select(User))}
        an, binh = users[demo.students[0].username], users[demo.students[1].username]
        literature = await session.scalar(select(Subject).where(Subject.school_id == today.school_id,
                                                                Subject.name == "Ngữ văn"))
        assert literature is not None
        yesterday = Lesson(school_id=today.school_id, class_id=today.class_id, subject_id=literature.id,
                           teacher_id=today.teacher_id, title="Truyện Kiều", starts_at=today.starts_at - timedelta(days=1),
                           ends_at=today.ends_at - timedelta(days=1), created_by=today.created_by)
        session.add(yesterday)
        await session.flush()
        presences = [(yesterday, an, 0, 10), (yesterday, binh, 3, 5), (today, an, 1, 11)]
        for n, (lesson, uid, start, end) in enumerate(presences):
            for kind, minute in (("join", start), ("leave", end)):
                session.add(AttendanceEvent(
                    presence_id=f"p{n}", school_id=lesson.school_id, lesson_id=lesson.id, user_id=uid, role="student",
                    via="browser", room="main", kind=kind, reason="left" if kind == "leave" else None,
                    at=lesson.starts_at + timedelta(minutes=minute), node_id="n"))
        t0 = today.starts_at
        for sender, text, deleted in ((an, "Em chào cô", False), (an, "xoá", True), (binh, "Chào cả lớp", False),
                                      (binh, "Bài này khó", False)):
            session.add(ChatMessage(school_id=today.school_id, lesson_id=today.id, sender_id=sender, recipient_id=None,
                                    room="main", text=text, created_at=t0, deleted_at=t0 if deleted else None,
                                    deleted_by=today.teacher_id if deleted else None))
        for text, status in (("Vì sao?", "open"), ("Câu ẩn", "hidden")):
            session.add(LessonQuestion(school_id=today.school_id, lesson_id=today.id, author_id=an, text=text,
                                       created_at=t0, status=status, answered_live=False))
        for uid, kind in ((an, "hand_raised"), (an, "hand_lowered"), (binh, "hand_raised"), (binh, "hand_raised")):
            session.add(LessonActivity(school_id=today.school_id, lesson_id=today.id, user_id=uid, kind=kind, at=t0))
        return {"an": an, "binh": binh, "yesterday": yesterday.id}


async def test_a_student_follows_their_own_lessons_newest_first_with_the_published_quiz_score(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login,
) -> None:
    ids = await seed(app, demo)
    teacher = await login(demo.teacher)
    an, binh, chi = [await login(s) for s in demo.students[:3]]
    capital = await post(client, f"/api/lessons/{demo.lesson_id}/polls", teacher, CAPITAL, 201)
    river = await post(client, f"/api/lessons/{demo.lesson_id}/polls", teacher, RIVER, 201)
    for poll in (capital, river):
        await post(client, f"/api/polls/{poll['id']}/open", teacher)
    await post(client, f"/api/polls/{capital['id']}/answers", an, {"choices": [1]}, 201)
    await post(client, f"/api/polls/{river['id']}/answers", an, {"text": "sông hồng"}, 201)
    await post(client, f"/api/polls/{capital['id']}/answers", binh, {"choices": [0]}, 201)

    # Before publishing: the answers are there, the score is not.
    mine = (await get(client, PATH, an))["lessons"]
    assert [row["lesson_id"] for row in mine] == [demo.lesson_id, ids["yesterday"]]
    assert (mine[0]["quiz_score"], mine[0]["quiz_max"], mine[0]["quiz_pending"]) == (0.0, 0.0, 2)
    assert all(q["score"] is None and q["correct"] is None for q in mine[0]["quizzes"])

    await post(client, f"/api/polls/{capital['id']}/publish", teacher)
    mine = (await get(client, PATH, an))["lessons"]
    today, yesterday = mine
    assert {k: today[k] for k in ("title", "subject", "class_name", "teacher_name", "present_s", "quiz_score",
                                  "quiz_max", "quiz_pending", "questions", "messages", "hands")} == {
        "title": demo.lesson_title, "subject": "Toán", "class_name": demo.class_name,
        "teacher_name": demo.teacher.full_name, "present_s": 600, "quiz_score": 2.0, "quiz_max": 2.0,
        "quiz_pending": 1, "questions": 1, "messages": 1, "hands": 1}
    assert [(q["question"], q["answer"], q["published"], q["correct"], q["score"]) for q in today["quizzes"]] == [
        (CAPITAL["question"], "Hà Nội", True, True, 2.0), (RIVER["question"], "sông hồng", False, None, None)]
    assert {k: yesterday[k] for k in ("title", "subject", "present_s", "quiz_max", "messages", "quizzes")} == {
        "title": "Truyện Kiều", "subject": "Ngữ văn", "present_s": 600, "quiz_max": 0.0, "messages": 0,
        "quizzes": []}
    # The same quiz answers as the quiz results page of the polls API.
    listed = (await get(client, "/api/users/me/quiz-results", an))["items"]
    assert sorted((q["poll_id"], q["score"]) for q in listed) == sorted(
        (q["poll_id"], q["score"]) for row in mine for q in row["quizzes"])

    # Bình: his own figures only (his wrong answer scores 0 out of 2; nothing of An's).
    theirs = (await get(client, PATH, binh))["lessons"]
    assert [row["lesson_id"] for row in theirs] == [demo.lesson_id, ids["yesterday"]]
    assert {k: theirs[0][k] for k in ("present_s", "quiz_score", "quiz_max", "quiz_pending", "messages", "hands",
                                      "questions")} == {
        "present_s": 0, "quiz_score": 0.0, "quiz_max": 2.0, "quiz_pending": 0, "messages": 2, "hands": 2,
        "questions": 0}
    assert [(q["answer"], q["correct"]) for q in theirs[0]["quizzes"]] == [("Huế", False)]
    assert theirs[1]["present_s"] == 120
    # Chi took part in nothing: an empty list, not the class's lessons.
    assert (await get(client, PATH, chi))["lessons"] == []


async def test_teachers_administrators_and_strangers_are_refused(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    await seed(app, demo)
    for headers in (await login(demo.teacher), admin, await login(demo.admin)):
        body = await get(client, PATH, headers, 403)
        assert body["error"]["code"] == "forbidden"
    client.session.cookie_jar.clear()  # the sign-ins above left a session cookie
    assert (await client.get(PATH)).status == 401
    assert (await client.get(PATH, headers={"Authorization": "Bearer not-a-token"})).status == 401
    # Nothing names whose results: a query naming someone else still reads the caller's own.
    async with app[DATABASE].session() as session:
        binh = await session.scalar(select(User.id).where(User.username == demo.students[1].username))
    an = await login(demo.students[0])
    own = (await get(client, PATH, an))["lessons"]
    assert [row["present_s"] for row in own] == [600, 600]
    other = (await get(client, f"{PATH}?user_id={binh}", an))["lessons"]
    assert [(r["lesson_id"], r["present_s"], r["messages"]) for r in other] == [
        (r["lesson_id"], r["present_s"], r["messages"]) for r in own]
