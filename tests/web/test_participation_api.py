"""The participation report and the replay over REST, read from what the lesson's records hold
(seeded in the database as the features write them): the counts per student (deleted messages,
hidden questions, lowered hands and drafts left out; quizzes that a student's own view counts only
once published), no-shows as rows of zeros, CSV and XLSX read back, who may see what; the replay's
messages, questions and polls as each viewer could see them, and the lesson video's start."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from typing import Any

import openpyxl
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from attendance.models import AttendanceEvent
from classroom.activity import LessonActivity
from classroom.chat import ChatMessage
from classroom.participation import LessonParticipation
from classroom.polls import Poll, PollAnswer
from classroom.questions import LessonQuestion
from recorder.models import Recording
from school.demo import DemoSchool
from school.models import Lesson, User
from tests.conftest import Login
from web.keys import DATABASE


async def seed(app: web.Application, demo: DemoSchool) -> dict[str, Any]:
    """An, Bình and Chi took part in the lesson in different ways; Dũng never came."""
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        users = {u.username: u.id for u in await session.scalars(select(User))}
        an, binh, chi = (users[s.username] for s in demo.students[:3])
        school, lid, t0 = lesson.school_id, lesson.id, lesson.starts_at

        def at(minutes: float) -> datetime:
            return t0 + timedelta(minutes=minutes)

        for n, (uid, start, end) in enumerate([(an, 1, 11), (binh, 2, 4), (chi, 5, 6)]):
            for kind, when in (("join", start), ("leave", end)):
                session.add(AttendanceEvent(presence_id=f"p{n}", school_id=school, lesson_id=lid, user_id=uid,
                                            role="student", via="browser", room="main", kind=kind,
                                            reason="left" if kind == "leave" else None, at=at(when), node_id="n"))
        session.add(LessonParticipation(lesson_id=lid, user_id=an, school_id=school, speaking_ms=61_400,
                                        camera_ms=120_000, updated_at=at(11)))
        chats = [(an, None, "main", "Em chào cô", 2, False), (an, None, "main", "=1+1", 3, False),
                 (an, None, "main", "tin nhắn bị xoá", 3.5, True), (binh, an, "main", "Bạn An ơi", 4, False),
                 (chi, None, "g1", "Nhóm 1 bàn", 5.5, False), (users[demo.teacher.username], None, "main",
                                                             "<b>Chào các em</b>", 1.5, False)]
        for sender, to, room, text, minute, deleted in chats:
            session.add(ChatMessage(school_id=school, lesson_id=lid, sender_id=sender, recipient_id=to, room=room,
                                    text=text, created_at=at(minute), deleted_at=at(8) if deleted else None,
                                    deleted_by=users[demo.teacher.username] if deleted else None))
        for author, text, status, minute in ((an, "Vì sao trời xanh?", "open", 3), (an, "Câu ẩn", "hidden", 4),
                                             (binh, "Bài 2 làm thế nào?", "answered", 3.2)):
            session.add(LessonQuestion(school_id=school, lesson_id=lid, author_id=author, text=text,
                                       created_at=at(minute), status=status, answered_live=False))
        for uid, kind, detail in ((an, "hand_raised", None), (an, "hand_lowered", None), (an, "hand_raised", None),
                                  (an, "reaction", "understood"), (binh, "reaction", "thumbs_up"),
                                  (binh, "floor_given", None)):
            session.add(LessonActivity(school_id=school, lesson_id=lid, user_id=uid, kind=kind, detail=detail,
                                       at=at(5)))
        polls = {}
        for name, correct, points, status, published in (("published", [1], 2.0, "closed", True),
                                                         ("unpublished", [0], 3.0, "closed", False),
                                                         ("poll", None, 1.0, "closed", False),
                                                         ("draft", [0], 5.0, "draft", False)):
            poll = Poll(school_id=school, lesson_id=lid, created_by=users[demo.teacher.username],
                        question=f"Câu {name}", kind="single", options=["A", "B"], correct=correct, points=points,
                        duration_s=None, anonymous=False, status=status,
                        opened_at=None if status == "draft" else at(6), closes_at=None,
                        closed_at=None if status == "draft" else at(7), published=published, created_at=at(5))
            session.add(poll)
            await session.flush()
            polls[name] = poll.id
        for uid, name, score in ((an, "published", 2.0), (an, "unpublished", 3.0), (an, "poll", None),
                                 (binh, "published", 0.0)):
            session.add(PollAnswer(poll_id=polls[name], user_id=uid, answer=[1],
                                   correct=None if score is None else score > 0, score=score, answered_at=at(6.5),
                                   updated_at=at(6.5)))
    return {"an": an, "binh": binh, "chi": chi, "t0": t0}


async def get(client: TestClient, path: str, headers: dict[str, str], status: int = 200) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status == status, await response.text()
    return await response.json() if status == 200 else response


async def test_the_teacher_sees_every_students_part_and_a_student_only_their_own(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    ids = await seed(app, demo)
    path = f"/api/lessons/{demo.lesson_id}/participation"
    report = await get(client, path, await login(demo.teacher))
    rows = {r["full_name"]: r for r in report["students"]}
    assert list(rows) == sorted(s.full_name for s in demo.students)  # every student of the class, by name
    an, binh, chi, dung = (rows[s.full_name] for s in demo.students)
    assert an == {"user_id": ids["an"], "full_name": demo.students[0].full_name, "present_s": 600,
                  "speaking_s": 61, "camera_s": 120, "messages": 2, "questions": 1, "hands": 2, "reactions": 1,
                  "poll_answers": 3, "quiz_score": 5.0, "quiz_max": 5.0}
    assert (binh["present_s"], binh["messages"], binh["questions"], binh["reactions"], binh["hands"],
            binh["poll_answers"], binh["quiz_score"]) == (120, 1, 1, 1, 0, 1, 0.0)
    assert (chi["present_s"], chi["messages"], chi["speaking_s"]) == (60, 1, 0)
    assert {k: v for k, v in dung.items() if k not in ("user_id", "full_name")} == {
        "present_s": 0, "speaking_s": 0, "camera_s": 0, "messages": 0, "questions": 0, "hands": 0, "reactions": 0,
        "poll_answers": 0, "quiz_score": 0.0, "quiz_max": 5.0}
    assert (await get(client, path, admin))["students"] == report["students"]

    # A student: their own row, counting only the quiz whose results were published.
    mine = (await get(client, path, await login(demo.students[0])))["students"]
    assert [r["user_id"] for r in mine] == [ids["an"]]
    assert (mine[0]["quiz_score"], mine[0]["quiz_max"], mine[0]["messages"]) == (2.0, 2.0, 2)


async def test_csv_and_xlsx_read_back_with_vietnamese_headers_and_typed_text_kept_inert(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login,
) -> None:
    await seed(app, demo)
    async with app[DATABASE].session() as session:  # a name that a spreadsheet would run as a formula
        user = await session.scalar(select(User).where(User.username == demo.students[3].username))
        assert user is not None
        user.full_name = "=HYPERLINK(\"http://x\")"
    teacher = await login(demo.teacher)
    path = f"/api/lessons/{demo.lesson_id}/participation"
    response = await client.get(f"{path}?format=csv", headers=teacher)
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert table[0][:4] == ["STT", "Họ và tên", "Thời gian có mặt (phút)", "Thời gian phát biểu (phút)"]
    assert len(table[0]) == 12 and len(table) == 1 + len(demo.students)
    by_name = {r[1]: r for r in table[1:]}
    an = by_name[demo.students[0].full_name]
    assert (an[2], an[3], an[4], an[5], an[7], an[10], an[11]) == ("10.0", "1.0", "2.0", "2", "2", "5.0", "5.0")
    assert "'=HYPERLINK(\"http://x\")" in by_name

    response = await client.get(f"{path}?format=xlsx", headers=teacher)
    assert response.status == 200
    book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    rows = list(book.active.iter_rows(values_only=True))
    assert book.active.title == "Tham gia"
    assert rows[0][1] == "Họ và tên" and len(rows) == 1 + len(demo.students)
    an_row = next(r for r in rows[1:] if r[1] == demo.students[0].full_name)
    assert (an_row[2], an_row[3], an_row[4], an_row[10]) == (10.0, 1.0, 2.0, 5.0)
    assert (await client.get(f"{path}?format=pdf", headers=teacher)).status == 422
    assert (await client.get(f"{path}?format=csv&x=1", headers=teacher)).status == 422


async def test_other_classes_students_and_other_teachers_are_refused(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    cls = await (await client.post("/api/classes", headers=admin, json={"name": "11B2", "grade": 11})).json()
    other = await (await client.post("/api/users", headers=admin, json={
        "username": "hs.khac", "password": "mat-khau-123", "full_name": "Học Sinh Lớp Khác", "role": "student"})).json()
    assert (await client.post(f"/api/classes/{cls['id']}/students", headers=admin,
                              json={"user_ids": [other["id"]]})).status == 200
    assert (await client.post("/api/users", headers=admin, json={
        "username": "gv.khac", "password": "mat-khau-123", "full_name": "Giáo Viên Khác",
        "role": "teacher"})).status == 201
    for who in (("hs.khac", "mat-khau-123"), ("gv.khac", "mat-khau-123")):
        headers = await login(who)
        for what in ("participation", "participation?format=csv", "replay"):
            refused = await get(client, f"/api/lessons/{demo.lesson_id}/{what}", headers, status=403)
            assert (await refused.json())["error"]["code"] == "forbidden"
    client.session.cookie_jar.clear()  # signed out
    assert (await client.get(f"/api/lessons/{demo.lesson_id}/participation")).status == 401
    await get(client, "/api/lessons/99999/participation", admin, status=404)
    await get(client, "/api/lessons/99999/replay", admin, status=404)


async def test_the_replay_gives_each_viewer_what_they_could_see_and_the_videos_start(
    client: TestClient, app: web.Application, demo: DemoSchool, login: Login,
) -> None:
    ids = await seed(app, demo)
    path = f"/api/lessons/{demo.lesson_id}/replay"
    staff = await get(client, path, await login(demo.teacher))
    assert staff["recording_id"] is None
    assert datetime.fromisoformat(staff["starts_at"]) == ids["t0"]  # no video: the lesson's start
    texts = [m["text"] for m in staff["messages"]]
    assert texts == ["<b>Chào các em</b>", "Em chào cô", "=1+1", "tin nhắn bị xoá", "Bạn An ơi", "Nhóm 1 bàn"]
    deleted = staff["messages"][3]
    assert deleted["deleted"] is True and deleted["deleted_at"] and deleted["deleted_by"]
    first = staff["messages"][1]
    assert (first["from"], first["from_name"], first["to"], first["room"]) == (
        ids["an"], demo.students[0].full_name, None, "main")
    assert datetime.fromisoformat(first["at"]) == ids["t0"] + timedelta(minutes=2)
    assert [q["text"] for q in staff["questions"]] == ["Vì sao trời xanh?", "Câu ẩn", "Bài 2 làm thế nào?"]
    assert {p["question"]: p["correct"] for p in staff["polls"]} == {
        "Câu published": [1], "Câu unpublished": [0], "Câu poll": None}  # the draft never opened

    an = await get(client, path, await login(demo.students[0]))
    assert [m["text"] for m in an["messages"]] == ["<b>Chào các em</b>", "Em chào cô", "=1+1", "Bạn An ơi"]
    assert "Câu ẩn" in [q["text"] for q in an["questions"]]  # their own hidden question
    assert {p["question"]: p["correct"] for p in an["polls"]} == {
        "Câu published": [1], "Câu unpublished": None, "Câu poll": None}
    chi = await get(client, path, await login(demo.students[2]))
    # Chi sees her own group message (An does not), not the private one between An and Bình.
    assert [m["text"] for m in chi["messages"]] == ["<b>Chào các em</b>", "Em chào cô", "=1+1", "Nhóm 1 bàn"]
    assert [q["text"] for q in chi["questions"]] == ["Vì sao trời xanh?", "Bài 2 làm thế nào?"]

    # With a lesson video recorded in two parts, the replay gives its start and where each part begins.
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        zero, second = ids["t0"] + timedelta(minutes=1), ids["t0"] + timedelta(minutes=5)
        chapters = [{"start": 0.0, "kind": "segment", "index": 1, "at": zero.isoformat(), "title": "Phần 1"},
                    {"start": 120.0, "kind": "segment", "index": 2, "at": second.isoformat(), "title": "Phần 2"},
                    {"start": 130.0, "kind": "screen", "index": 1, "at": (second + timedelta(seconds=10)).isoformat(),
                     "title": "Chia sẻ màn hình"}]
        session.add(Recording(school_id=lesson.school_id, lesson_id=lesson.id, class_id=lesson.class_id,
                              subject_id=lesson.subject_id, teacher_id=lesson.teacher_id, kind="composite",
                              source="lesson", codec="h264", path="x.mp4", started_at=zero,
                              ended_at=second + timedelta(minutes=3), status="complete", duration_seconds=300.0,
                              size_bytes=1, progress=1.0, published=True, chapters=json.dumps(chapters)))
    video = await get(client, path, await login(demo.students[0]))
    assert video["recording_id"] is not None
    assert datetime.fromisoformat(video["starts_at"]) == zero
    assert [(s["start"], datetime.fromisoformat(s["at"])) for s in video["segments"]] == [(0.0, zero),
                                                                                         (120.0, second)]
