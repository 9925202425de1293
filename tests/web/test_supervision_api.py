"""Supervision over REST: the administrator sees the lessons happening now with what their rooms
show (teacher, students present of the roster, recording, waiting), read from real WebSocket
peers; teachers and students are refused."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login
from tests.waiting import until

URL = "/api/supervision/live"


async def supervision(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(URL, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


def lesson_in(body: dict[str, Any], lesson_id: int) -> dict[str, Any]:
    (found,) = [item for item in body["items"] if item["id"] == lesson_id]
    return found


async def test_the_admin_sees_the_live_lesson_with_its_teacher_and_students_present(
    live_server: LiveServer, client: TestClient, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    before = lesson_in(await supervision(client, admin), demo.lesson_id)
    assert before["live"] is False and before["students_present"] == 0 and before["students_total"] == 4
    assert before["teacher_present"] is False and before["recording"] is False
    assert before["class_name"] == demo.class_name and before["teacher_name"] == demo.teacher.full_name
    closes_at = datetime.fromisoformat(before["closes_at"])
    assert closes_at == datetime.fromisoformat(before["ends_at"]) + timedelta(minutes=15)
    assert datetime.fromisoformat(before["starts_at"]) <= datetime.fromisoformat(
        (await supervision(client, admin))["now"]) <= closes_at

    people = [demo.teacher, demo.students[0], demo.students[1]]
    tokens = [(await login(who))["Authorization"].removeprefix("Bearer ") for who in people]
    peers = [LessonClient(live_server.url, demo.lesson_id, token) for token in tokens]
    try:
        await asyncio.gather(*(peer.connect(auto_subscribe=False) for peer in peers))
        now = lesson_in(await supervision(client, admin), demo.lesson_id)
        assert now["live"] is True and now["teacher_present"] is True
        assert (now["students_present"], now["students_total"]) == (2, 4)
        assert now["observers"] == 0 and now["waiting"] == 0
        # The demo lesson records from the start: the recorder runs once its teacher is present.
        await until("the recording shows", lambda: _recording(client, admin, demo.lesson_id))

        await peers[1].close()
        await until("one student present after one left", lambda: _present(client, admin, demo.lesson_id, 1))
    finally:
        await asyncio.gather(*(peer.close() for peer in peers))


async def _recording(client: TestClient, admin: dict[str, str], lesson_id: int) -> bool:
    return bool(lesson_in(await supervision(client, admin), lesson_id)["recording"])


async def _present(client: TestClient, admin: dict[str, str], lesson_id: int, count: int) -> bool:
    return bool(lesson_in(await supervision(client, admin), lesson_id)["students_present"] == count)


async def test_students_waiting_in_a_locked_room_are_counted_apart(
    live_server: LiveServer, client: TestClient, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    teacher = LessonClient(live_server.url, demo.lesson_id,
                           (await login(demo.teacher))["Authorization"].removeprefix("Bearer "))
    late = LessonClient(live_server.url, demo.lesson_id,
                        (await login(demo.students[2]))["Authorization"].removeprefix("Bearer "))
    try:
        await teacher.connect(auto_subscribe=False)
        await teacher.request({"type": "lock", "locked": True})
        assert (await late.connect(auto_subscribe=False))["type"] == "waiting"
        now = lesson_in(await supervision(client, admin), demo.lesson_id)
        assert (now["waiting"], now["students_present"], now["teacher_present"]) == (1, 0, True)
    finally:
        await asyncio.gather(late.close(), teacher.close())


async def test_teachers_and_students_are_refused_and_other_times_are_not_listed(
    client: TestClient, demo: DemoSchool, login: Login, admin: dict[str, str],
) -> None:
    for who in (demo.teacher, demo.students[0]):
        response = await client.get(URL, headers=await login(who))
        assert response.status == 403, who.username
    client.session.cookie_jar.clear()  # signed in by the logins above: the last one is a student's
    assert (await client.get(URL)).status == 401

    # A lesson of the same class later today is not happening now.
    lesson = (await (await client.get(f"/api/lessons/{demo.lesson_id}", headers=admin)).json())
    later = datetime.fromisoformat(lesson["ends_at"]) + timedelta(hours=2)
    response = await client.post("/api/lessons", headers=admin, json={
        "class_id": lesson["class_id"], "subject_id": lesson["subject_id"], "teacher_id": lesson["teacher_id"],
        "title": "Tiết sau", "starts_at": later.isoformat(), "ends_at": (later + timedelta(minutes=45)).isoformat()})
    assert response.status == 201, await response.text()
    body = await supervision(client, admin)
    assert [item["id"] for item in body["items"]] == [demo.lesson_id]

    # Once the lesson is ended it is no longer happening.
    response = await client.post(f"/api/lessons/{demo.lesson_id}/end", headers=admin)
    assert response.status == 200, await response.text()
    assert (await supervision(client, admin))["items"] == []
