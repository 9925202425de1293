"""Notices to parents: a change to their child's lesson and their child's absence reach them in the
page (bell count, list, mark read) and by e-mail through a real SMTP server (aiosmtpd) when the
school configures it; a failing server is tried again; the SMTP password is never answered."""
from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller

from coursework import notices
from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login
from tests.web.test_parents_api import PARENT_PASSWORD, make_parent, student_ids
from tests.web.test_assignments_api import BASE, create, form, iso, math_id
from web.api.notices import sweep_absences, sweep_missing_work
from web.keys import DATABASE


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def subject_of(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


async def configure_smtp(client: TestClient, admin: dict[str, str], port: int) -> None:
    response = await client.patch("/api/school/smtp", headers=admin, json={
        "enabled": True, "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
        "smtp_user": "", "smtp_password": "bi-mat-123", "smtp_from": "truong@example.edu.vn"})
    assert response.status == 200, await response.text()
    data = await response.json()
    assert data["password_set"] is True and "smtp_password" not in data and "bi-mat-123" not in str(data)


async def test_a_lesson_change_reaches_the_parents_in_the_page_and_by_mail(
        client: TestClient, demo: DemoSchool, login: Login, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    admin = await login(demo.admin)
    await configure_smtp(client, admin, port)
    ids = await student_ids(client, admin)
    await make_parent(client, admin, "ph.an", [ids["hs.an"]], email="me.an@example.vn")
    parent = await login(("ph.an", PARENT_PASSWORD))
    teacher = await login(demo.teacher)
    assert (await (await client.get("/api/notices", headers=parent)).json())["unread"] == 0

    cancelled = await client.post(f"/api/lessons/{demo.lesson_id}/cancel", headers=admin,
                                  json={"reason": "Giáo viên đi tập huấn"})
    assert cancelled.status in (200, 204), await cancelled.text()

    mine = await (await client.get("/api/notices", headers=parent)).json()
    assert mine["unread"] == 1
    (notice,) = mine["items"]
    assert notice["kind"] == "lesson_change" and notice["lesson_id"] == demo.lesson_id
    assert notice["title"].startswith("Nghỉ học") and "10A1" in notice["title"]
    assert "Giáo viên đi tập huấn" in notice["body"]
    # Nobody else is told through parents' notices; the teacher has none.
    assert (await (await client.get("/api/notices", headers=teacher)).json())["items"] == []

    db = client.app[DATABASE]
    sent, failed = await notices.send_pending(db, datetime.now(UTC))
    assert (sent, failed) == (1, 0)
    (message,) = inbox.messages
    assert message["To"] == "me.an@example.vn" and message["From"] == "truong@example.edu.vn"
    assert subject_of(message).startswith("Nghỉ học")
    assert await notices.send_pending(db, datetime.now(UTC)) == (0, 0), "sent once"

    # Another user's notice cannot be marked read by this parent; their own can.
    marked = await client.post("/api/notices/read", headers=teacher, json={"ids": [notice["id"]]})
    assert (await marked.json())["marked"] == 0
    marked = await client.post("/api/notices/read", headers=parent, json={"ids": [notice["id"]]})
    assert (await marked.json())["marked"] == 1
    assert (await (await client.get("/api/notices", headers=parent)).json())["unread"] == 0


async def test_a_mail_server_down_is_tried_again_then_given_up(client: TestClient, demo: DemoSchool,
                                                               login: Login) -> None:
    admin = await login(demo.admin)
    await configure_smtp(client, admin, free_port())  # nothing listens there
    ids = await student_ids(client, admin)
    await make_parent(client, admin, "ph.an", [ids["hs.an"]], email="me.an@example.vn")
    await client.post(f"/api/lessons/{demo.lesson_id}/cancel", headers=admin, json={"reason": "Mất điện"})
    db = client.app[DATABASE]
    far = datetime(2100, 1, 1, tzinfo=UTC)
    assert await notices.send_pending(db, far) == (0, 1)
    assert await notices.send_pending(db, far) == (0, 0), "not again at once: later"
    for hour in range(1, notices.MAX_EMAIL_TRIES):
        assert await notices.send_pending(db, far + timedelta(hours=hour)) == (0, 1)
    assert await notices.send_pending(db, far + timedelta(days=1)) == (0, 0), "given up after a few tries"
    async with db.session() as session:
        states = [n.email_state for n in (await session.scalars(notices.select(notices.Notice))).all()]
    assert states == ["failed"]


async def test_smtp_settings_are_for_admins_and_validated(client: TestClient, demo: DemoSchool, login: Login) -> None:
    admin, teacher = await login(demo.admin), await login(demo.teacher)
    assert (await client.get("/api/school/smtp", headers=teacher)).status == 403
    assert (await client.patch("/api/school/smtp", headers=teacher, json={"enabled": True})).status == 403
    for bad in ({"smtp_port": 0}, {"smtp_host": "<b>x</b>"}, {"smtp_tls": "ssl3"}, {"extra": 1},
                {"smtp_from": "not an address"}):
        assert (await client.patch("/api/school/smtp", headers=admin, json=bad)).status == 422, bad
    data = await (await client.get("/api/school/smtp", headers=admin)).json()
    assert data["enabled"] is False and data["password_set"] is False


async def test_an_absent_child_is_told_to_their_parent_once_the_lesson_is_over(
        live_server: LiveServer, demo: DemoSchool, login: Login) -> None:
    client = live_server.client
    admin = await login(demo.admin)
    ids = await student_ids(client, admin)
    await make_parent(client, admin, "ph.an", [ids["hs.an"]])
    await make_parent(client, admin, "ph.binh", [ids["hs.binh"]])
    teacher_headers = await login(demo.teacher)
    teacher = LessonClient(live_server.url, demo.lesson_id, teacher_headers["Authorization"].removeprefix("Bearer "))
    binh_token = (await login(demo.students[1]))["Authorization"].removeprefix("Bearer ")
    binh = LessonClient(live_server.url, demo.lesson_id, binh_token)
    await teacher.connect()  # the room opens: the lesson is held
    await binh.connect()
    db = live_server.app[DATABASE]
    assert await sweep_absences(db, datetime.now(UTC)) == 0, "not over yet: nobody is told"
    await asyncio.sleep(0.5)
    ended = await client.post(f"/api/lessons/{demo.lesson_id}/end", headers=teacher_headers)
    assert ended.status == 200, await ended.text()
    await binh.close()
    await teacher.close()

    told = await sweep_absences(db, datetime.now(UTC))
    assert told == 2, "An never came; Bình came for seconds of a 45-minute lesson: both absent"
    assert await sweep_absences(db, datetime.now(UTC)) == 0, "told once"
    parent = await login(("ph.an", PARENT_PASSWORD))
    mine = await (await client.get("/api/notices", headers=parent)).json()
    (notice,) = mine["items"]
    assert notice["kind"] == "absence" and notice["student_id"] == ids["hs.an"]
    assert notice["title"].startswith("Vắng học: Lê Văn An")
    overview = await (await client.get(f"/api/parent/children/{ids['hs.an']}", headers=parent)).json()
    lesson = next(x for x in overview["lessons"] if x["lesson_id"] == demo.lesson_id)
    assert lesson["attendance"] == "absent" and overview["absences"] == 1


async def test_work_not_handed_in_by_the_due_time_is_told_to_the_parent_once(
        client: TestClient, demo: DemoSchool, login: Login) -> None:
    admin = await login(demo.admin)
    ids = await student_ids(client, admin)
    await make_parent(client, admin, "ph.an", [ids["hs.an"]])
    await make_parent(client, admin, "ph.binh", [ids["hs.binh"]])
    teacher = await login(demo.teacher)
    subject = await math_id(client.app)
    now = datetime.now(UTC)
    soon = await create(client, teacher, demo, subject, title="Bài tập về nhà số 1",
                        opens_at=iso(now - timedelta(hours=1)), due_at=iso(now + timedelta(seconds=2)))
    await create(client, teacher, demo, subject, title="Chưa giao", published=False,
                          opens_at=iso(now - timedelta(hours=1)), due_at=iso(now + timedelta(seconds=2)))
    binh = await login(demo.students[1])
    handed = await client.post(f"{BASE}/assignments/{soon['id']}/submission", headers=binh, data=form("bài làm"))
    assert handed.status in (200, 201), await handed.text()
    db = client.app[DATABASE]
    assert await sweep_missing_work(db, datetime.now(UTC)) == 0, "not due yet: nobody is told"

    due = datetime.now(UTC) + timedelta(seconds=3)
    told = await sweep_missing_work(db, due)
    assert told == 1, "An handed nothing in; Bình did; the unpublished assignment tells nobody"
    assert await sweep_missing_work(db, due) == 0, "told once"
    mine = await (await client.get("/api/notices", headers=await login(("ph.an", PARENT_PASSWORD)))).json()
    (notice,) = mine["items"]
    assert notice["kind"] == "missing_work" and notice["student_id"] == ids["hs.an"]
    assert notice["title"].startswith("Chưa nộp bài: Lê Văn An") and "Bài tập về nhà số 1" in notice["body"]
    theirs = await (await client.get("/api/notices", headers=await login(("ph.binh", PARENT_PASSWORD)))).json()
    assert theirs["items"] == []
