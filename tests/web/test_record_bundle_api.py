"""Hồ sơ tiết học: a lesson's records as one ZIP, read back member by member (the plan, attendance,
participation, chat with a formula-looking text made harmless, quiz results on the 10-point scale,
the board as PDF once it was opened, the lesson video's bytes); only its teacher and administrators.
Lưu trữ: the school's retention per kind of record, set in the settings and applied by the job."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from attendance.models import AttendanceEvent
from classroom.chat import ChatMessage
from classroom.polls import Poll, PollAnswer
from coursework.records import apply_retention
from recorder.models import Recording
from school.demo import DemoSchool
from school.models import Lesson, User
from tests.conftest import Login
from web.keys import CONFIG, DATABASE
from whiteboard.store import BoardStore


async def seed(app: web.Application, demo: DemoSchool) -> tuple[Lesson, dict[str, int]]:
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None
        users = {u.username: u.id for u in await session.scalars(select(User))}
        an, teacher = users[demo.students[0].username], users[demo.teacher.username]
        t0 = lesson.starts_at
        for presence, uid, role in (("t", teacher, "teacher"), ("a", an, "student")):
            session.add(AttendanceEvent(presence_id=presence, school_id=lesson.school_id, lesson_id=lesson.id,
                                        user_id=uid, role=role, via="browser", room="main", kind="join", reason=None,
                                        at=t0, node_id="n"))
        for sender, text in ((an, "=HYPERLINK(\"http://x\")"), (teacher, "Chào các em <b>lớp</b>")):
            session.add(ChatMessage(school_id=lesson.school_id, lesson_id=lesson.id, sender_id=sender,
                                    recipient_id=None, room="main", text=text, created_at=t0 + timedelta(minutes=1)))
        poll = Poll(school_id=lesson.school_id, lesson_id=lesson.id, created_by=teacher, question="Đỉnh parabol?",
                    kind="single", options=["A", "B"], correct=[0], points=4.0, duration_s=None, anonymous=False,
                    status="closed", opened_at=t0, closes_at=None, closed_at=t0, published=False, created_at=t0)
        session.add(poll)
        await session.flush()
        session.add(PollAnswer(poll_id=poll.id, user_id=an, answer=[0], correct=True, score=4.0, answered_at=t0,
                               updated_at=t0))
        session.add(Recording(school_id=lesson.school_id, lesson_id=lesson.id, class_id=lesson.class_id,
                              subject_id=lesson.subject_id, teacher_id=teacher, kind="composite", source="lesson",
                              codec="h264", path=f"lesson-{lesson.id}/lesson.mp4", started_at=t0, status="complete"))
        session.expunge(lesson)
        return lesson, {"an": an, "teacher": teacher}


def rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_the_zip_read_back(client: TestClient, app: web.Application, demo: DemoSchool, login: Login) -> None:
    lesson, ids = await seed(app, demo)
    video = app[CONFIG].data_dir / "recordings" / f"lesson-{lesson.id}" / "lesson.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42 the lesson video")
    response = await client.get(f"/api/lessons/{lesson.id}/record.zip", headers=await login(demo.teacher))
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(await response.read()))
    names = bundle.namelist()
    assert names == ["lesson.json", "attendance.csv", "participation.csv", "chat.csv", "results.csv",
                     "materials.csv", f"video/lesson-{lesson.id}-1.mp4"]  # the board was never opened
    plan = json.loads(bundle.read("lesson.json"))
    assert (plan["title"], plan["class"]["name"], plan["subject"]["name"]) == ("Hàm số bậc hai", "10A1", "Toán")
    assert plan["teacher"]["full_name"] == "Nguyễn Thị Lan" and plan["held"] is True and plan["students"] == 4
    attendance = rows(bundle.read("attendance.csv"))
    assert attendance[0][:4] == ["STT", "Họ và tên", "Tên đăng nhập", "Trạng thái"]
    statuses = {row[2]: row[3] for row in attendance[1:]}
    assert statuses == {demo.students[0].username: "Có mặt", **{s.username: "Vắng" for s in demo.students[1:]}}
    assert len(rows(bundle.read("participation.csv"))) == 5
    chat = rows(bundle.read("chat.csv"))[1:]
    texts = {cell for row in chat for cell in row}
    assert "'=HYPERLINK(\"http://x\")" in texts and "Chào các em <b>lớp</b>" in texts
    results = rows(bundle.read("results.csv"))
    by_name = {row[3]: row for row in results[1:]}
    assert by_name["Lê Văn An"][5:] == ["Đúng", "4.0", "4.0", "10.0"]
    assert by_name["Vũ Tiến Dũng"][5:] == ["Sai", "0.0", "4.0", "0.0"]
    assert rows(bundle.read("materials.csv"))[1:] == []
    assert bundle.read(f"video/lesson-{lesson.id}-1.mp4") == video.read_bytes()
    assert not list((app[CONFIG].data_dir / "tmp").iterdir())  # the temporary file is gone


async def test_the_board_and_who_may_download(client: TestClient, app: web.Application, demo: DemoSchool,
                                              login: Login) -> None:
    lesson, _ids = await seed(app, demo)
    await BoardStore(app[DATABASE]).load(lesson.school_id, lesson.id, "main")  # the board opened
    response = await client.get(f"/api/lessons/{lesson.id}/record.zip", headers=await login(demo.admin))
    assert response.status == 200
    bundle = zipfile.ZipFile(io.BytesIO(await response.read()))
    assert bundle.read("board.pdf").startswith(b"%PDF")
    assert "video/" not in "".join(bundle.namelist())  # its file is not there: left out
    student = await login(demo.students[0])
    assert (await client.get(f"/api/lessons/{lesson.id}/record.zip", headers=student)).status == 403
    assert (await client.get("/api/lessons/999999/record.zip", headers=await login(demo.teacher))).status == 404


async def test_retention_set_and_applied(client: TestClient, app: web.Application, demo: DemoSchool,
                                         login: Login) -> None:
    lesson, ids = await seed(app, demo)
    admin = await login(demo.admin)
    response = await client.patch("/api/school/settings", json={"chat_retention_days": 30}, headers=admin)
    assert response.status == 200, await response.text()
    assert (await response.json())["chat_retention_days"] == 30
    refused = await client.patch("/api/school/settings", json={"board_retention_days": 0}, headers=admin)
    assert refused.status == 422
    refused = await client.patch("/api/school/settings", json={"attempts_retention_days": "30"}, headers=admin)
    assert refused.status == 422
    now = datetime.now(UTC)
    async with app[DATABASE].session() as session:
        session.add(ChatMessage(school_id=lesson.school_id, lesson_id=lesson.id, sender_id=ids["an"], recipient_id=None,
                                room="main", text="cũ", created_at=now - timedelta(days=31)))
    await BoardStore(app[DATABASE]).load(lesson.school_id, lesson.id, "main")
    deleted = await apply_retention(app[DATABASE], now)
    assert deleted["chat_retention_days"] == 1 and deleted["board_retention_days"] == 0  # boards: kept
    async with app[DATABASE].session() as session:
        left = list(await session.scalars(select(ChatMessage.text).where(ChatMessage.lesson_id == lesson.id)))
        assert sorted(left) == sorted(["=HYPERLINK(\"http://x\")", "Chào các em <b>lớp</b>"])
    response = await client.patch("/api/school/settings", json={"chat_retention_days": None}, headers=admin)
    assert (await response.json())["chat_retention_days"] is None
    async with app[DATABASE].session() as session:
        session.add(ChatMessage(school_id=lesson.school_id, lesson_id=lesson.id, sender_id=ids["an"], recipient_id=None,
                                room="main", text="giữ", created_at=now - timedelta(days=400)))
    assert (await apply_retention(app[DATABASE], now))["chat_retention_days"] == 0
    async with app[DATABASE].session() as session:
        assert await session.scalar(select(func.count()).select_from(ChatMessage)) == 3


async def test_the_lessons_materials_listed_and_their_files_inside(client: TestClient, app: web.Application,
                                                                   demo: DemoSchool, login: Login) -> None:
    from coursework.materials_models import LessonMaterial, Material
    from coursework.storage import LocalStore

    lesson, ids = await seed(app, demo)
    source = app[CONFIG].data_dir / "upload.pdf"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(b"%PDF-1.4 phieu hoc tap")
    await LocalStore(app[CONFIG].data_dir / "materials").put("m/phieu", source)
    async with app[DATABASE].session() as session:
        made = [Material(school_id=lesson.school_id, class_id=lesson.class_id, subject_id=lesson.subject_id,
                         owner_id=ids["teacher"], title=title, kind=kind, url=url, file_key=key, file_name=name,
                         mime=mime, size_bytes=size, status="published")
                for title, kind, url, key, name, mime, size in (
                    ("Phiếu học tập", "file", None, "m/phieu", "../Phiếu học tập 1.pdf", "application/pdf", 22),
                    ("Video tham khảo", "link", "https://example.edu.vn/v", None, "", "", 0),
                    ("Tệp đã mất", "file", None, "m/gone", "mat.pdf", "application/pdf", 5))]
        session.add_all(made)
        await session.flush()
        session.add_all(LessonMaterial(lesson_id=lesson.id, material_id=m.id) for m in made)
    response = await client.get(f"/api/lessons/{lesson.id}/record.zip", headers=await login(demo.teacher))
    assert response.status == 200, await response.text()
    bundle = zipfile.ZipFile(io.BytesIO(await response.read()))
    listed = rows(bundle.read("materials.csv"))[1:]
    assert [(row[1], row[2], row[3]) for row in listed] == [("Phiếu học tập", "file", ""),
                                                            ("Video tham khảo", "link", "https://example.edu.vn/v"),
                                                            ("Tệp đã mất", "file", "")]
    inside = [name for name in bundle.namelist() if name.startswith("materials/")]
    assert inside == ["materials/01-_Phiếu học tập 1.pdf"]  # no folder climbing; the lost file left out
    assert bundle.read(inside[0]) == b"%PDF-1.4 phieu hoc tap"
    assert not list((app[CONFIG].data_dir / "tmp").iterdir())


async def test_old_test_attempts_go_with_their_answers(client: TestClient, app: web.Application, demo: DemoSchool,
                                                        login: Login) -> None:
    from coursework.tests_models import OnlineTest, TestAttempt

    lesson, ids = await seed(app, demo)
    admin = await login(demo.admin)
    response = await client.patch("/api/school/settings", json={"attempts_retention_days": 30}, headers=admin)
    assert response.status == 200, await response.text()
    now = datetime.now(UTC)
    async with app[DATABASE].session() as session:
        test = OnlineTest(school_id=lesson.school_id, class_id=lesson.class_id, subject_id=lesson.subject_id,
                          teacher_id=ids["teacher"], title="Kiểm tra", opens_at=now - timedelta(days=50),
                          closes_at=now, time_limit_minutes=15)
        session.add(test)
        await session.flush()
        for number, days in ((1, 40), (2, 1)):
            session.add(TestAttempt(test_id=test.id, student_id=ids["an"], number=number,
                                    started_at=now - timedelta(days=days), deadline_at=now - timedelta(days=days),
                                    status="graded", points=5.0, max_points=10.0, score10=5.0, items=[], device="d"))
    deleted = await apply_retention(app[DATABASE], now)
    assert deleted["attempts_retention_days"] == 1 and deleted["chat_retention_days"] == 0
    async with app[DATABASE].session() as session:
        assert list(await session.scalars(select(TestAttempt.number))) == [2]
