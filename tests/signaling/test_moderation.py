"""Moderation and the lesson's end with real peers over a real server: mute all, cameras off, a
locked room's waiting list, removing a student, ending the lesson, and the room closing by itself
after its warnings."""
from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from attendance.models import AttendanceEvent
from bench.peers import Seat, WhepStudent
from classroom.activity import LessonActivity
from classroom.moderation import LessonBan
from school.demo import Credentials, DemoSchool
from school.models import Lesson, User
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from tests.waiting import until
from web.keys import DATABASE, ROOMS

SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
async def people() -> Any:
    made: list[LessonClient] = []
    yield made
    await asyncio.gather(*(c.close() for c in made), return_exceptions=True)


async def token_of(login: Login, who: Credentials) -> str:
    return (await login(who))["Authorization"].removeprefix("Bearer ")


async def user_id(app: web.Application, who: Credentials) -> int:
    async with app[DATABASE].session() as session:
        found = await session.scalar(select(User.id).where(User.username == who.username))
    assert found is not None
    return found


def client_of(live_server: LiveServer, demo: DemoSchool, token: str, people: list[LessonClient]) -> LessonClient:
    client = LessonClient(live_server.url, demo.lesson_id, token)
    people.append(client)
    return client


async def join(live_server: LiveServer, demo: DemoSchool, login: Login, people: list[LessonClient],
               *who: Credentials) -> list[LessonClient]:
    """Join these people at once (the teacher first when listed first, so the room is theirs)."""
    clients = [client_of(live_server, demo, await token_of(login, w), people) for w in who]
    await asyncio.gather(*(c.connect(auto_subscribe=False) for c in clients))
    return clients


async def events(app: web.Application, user: int) -> list[AttendanceEvent]:
    async with app[DATABASE].session() as session:
        return list(await session.scalars(select(AttendanceEvent).where(AttendanceEvent.user_id == user)
                                          .order_by(AttendanceEvent.id)))


async def activity(app: web.Application, lesson_id: int) -> list[tuple[str, int | None]]:
    async with app[DATABASE].session() as session:
        rows = await session.scalars(select(LessonActivity).where(LessonActivity.lesson_id == lesson_id)
                                     .order_by(LessonActivity.id))
        return [(r.kind, r.user_id) for r in rows]


async def test_mute_all_pauses_every_students_microphone_and_tells_them(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login, people: list[LessonClient],
) -> None:
    teacher, = await join(live_server, demo, login, people, demo.teacher)
    students = await join(live_server, demo, login, people, *demo.students[:2])
    published = await asyncio.gather(*(s.publish({"mic": ToneTrack()}) for s in students))
    mics = [p["producers"][0]["producer_id"] for p in published]
    await teacher.publish({"mic": ToneTrack()})
    reply = await teacher.request({"type": "moderate", "action": "mute_all"})
    assert reply["type"] == "ok" and reply["muted"] == 2
    for student in students:
        notice = await student.next_event("muted")
        assert notice["source"] == "mic" and notice["by"] == "teacher"
    room = app[ROOMS].rooms[demo.lesson_id]
    assert all(room.room.producers[mic].paused for mic in mics)
    teachers_mic = [p for p in room.room.producers.values() if p.app_data["role"] == "teacher"]
    assert teachers_mic and not teachers_mic[0].paused, "the teacher's own microphone stays on"
    seen: dict[str, bool] = {}
    while set(seen) != set(mics):  # in whatever order the two were paused
        event = await teacher.next_event("producer_muted")
        if event["producer_id"] in mics:
            seen[event["producer_id"]] = event["muted"]
    assert set(seen.values()) == {True}
    assert [k for k, _ in await activity(app, demo.lesson_id)] == ["muted_all"]


async def test_cameras_off_revokes_every_students_camera_and_a_reconnection_keeps_it_off(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login, people: list[LessonClient],
) -> None:
    teacher, = await join(live_server, demo, login, people, demo.teacher)
    student, = await join(live_server, demo, login, people, demo.students[0])
    me = student.joined["participant_id"]
    await teacher.request({"type": "permit", "participant_id": me, "source": "camera", "allowed": True})
    await student.next_event("permissions")
    await student.publish({"camera": ColourTrack((255, 0, 0))})
    room = app[ROOMS].rooms[demo.lesson_id]
    await until("the student's camera is published",
                lambda: any(p.app_data["participant_id"] == me for p in room.room.producers.values()))
    reply = await teacher.request({"type": "moderate", "action": "cameras_off"})
    assert reply["cameras_off"] == 1
    revoked = await student.next_event("permissions")
    assert revoked["permissions"]["camera"] is False
    await until("the student's camera is gone",
                lambda: not any(p.app_data["participant_id"] == me for p in room.room.producers.values()))
    await student.close(leave=False)
    again, = await join(live_server, demo, login, people, demo.students[0])
    assert again.joined["permissions"]["camera"] is False


async def test_a_locked_room_keeps_new_students_waiting_until_admitted_or_denied(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login, people: list[LessonClient],
) -> None:
    teacher, = await join(live_server, demo, login, people, demo.teacher)
    early, = await join(live_server, demo, login, people, demo.students[0])
    assert teacher.joined["moderation"]["locked"] is False
    assert teacher.joined["moderation"]["closes_at"] > teacher.joined["moderation"]["ends_at"]
    assert (await teacher.request({"type": "lock", "locked": True}))["locked"] is True
    assert (await early.next_event("lock"))["locked"] is True

    late = client_of(live_server, demo, await token_of(login, demo.students[1]), people)
    other = client_of(live_server, demo, await token_of(login, demo.students[2]), people)
    waits = await asyncio.gather(late.connect(), other.connect())
    assert [w["type"] for w in waits] == ["waiting", "waiting"]
    late_id, other_id = await user_id(app, demo.students[1]), await user_id(app, demo.students[2])

    async def both_listed() -> bool:
        event = await teacher.next_event("waiting_list")
        return {w["user_id"] for w in event["waiting"]} == {late_id, other_id}

    await until("the teacher sees both waiting", both_listed)
    assert await events(app, late_id) == [], "no attendance while waiting"
    with pytest.raises(ProtocolError) as refused:
        await late.request({"type": "hand", "raised": True})
    assert refused.value.code == "waiting"
    assert (await late.request({"type": "ping"}))["type"] == "pong"
    with pytest.raises(ProtocolError) as refused:
        await early.request({"type": "admit", "user_id": late_id, "admit": True})
    assert refused.value.code == "forbidden"

    await teacher.request({"type": "admit", "user_id": late_id, "admit": True})
    admitted = await late.next_event("joined")
    assert admitted["id"] == waits[0]["id"] and admitted["role"] == "student"
    assert admitted["moderation"]["waiting"] == [] and admitted["moderation"]["locked"] is True
    assert [e.kind for e in await events(app, late_id)] == ["join"], "attendance starts when admitted"

    await teacher.request({"type": "admit", "user_id": other_id, "admit": False})
    assert (await other.next_event("bye"))["reason"] == "denied"
    assert await events(app, other_id) == []

    # Someone who was in the room since it opened comes back in at once, even locked.
    await early.close(leave=False)
    back, = await join(live_server, demo, login, people, demo.students[0])
    assert back.joined["type"] == "joined"

    # A waiting student who goes away leaves the list.
    third = client_of(live_server, demo, await token_of(login, demo.students[3]), people)
    assert (await third.connect())["type"] == "waiting"
    await third.close(leave=False)
    room = app[ROOMS].rooms[demo.lesson_id]
    await until("the list is empty again", lambda: not room.moderation.waiting)
    assert [k for k, _ in await activity(app, demo.lesson_id)] == ["locked", "admitted", "denied"]


async def test_a_removed_student_waits_to_come_back_and_admitting_them_lifts_the_ban(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
    people: list[LessonClient],
) -> None:
    teacher, student = await join(live_server, demo, login, people, demo.teacher, demo.students[0])
    removed = await user_id(app, demo.students[0])
    reply = await teacher.request({"type": "remove", "user_id": removed})
    assert reply["removed"] == 1
    assert (await student.next_event("bye"))["reason"] == "removed"
    await until("the removal is written", lambda: _left_with(app, removed, "removed"))
    async with app[DATABASE].session() as session:
        ban = await session.get(LessonBan, (demo.lesson_id, removed))
    assert ban is not None and ban.lifted_at is None

    # Over WHEP the student cannot wait: refused with a reason.
    viewer = WhepStudent(live_server.url, Seat(demo.lesson_id, student.token))
    try:
        response = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data=await viewer.offer(),
                                     headers={**viewer.headers, **SDP})
        assert response.status == 403
        assert "admit" in (await response.json())["error"]["message"]
    finally:
        await viewer.close()

    again = client_of(live_server, demo, student.token, people)
    assert (await again.connect())["type"] == "waiting", "not locked, but removed: the rejoin waits"
    await teacher.request({"type": "admit", "user_id": removed, "admit": True})
    assert (await again.next_event("joined"))["role"] == "student"
    async with app[DATABASE].session() as session:
        ban = await session.get(LessonBan, (demo.lesson_id, removed))
    assert ban is not None and ban.lifted_at is not None
    kinds = await activity(app, demo.lesson_id)
    assert kinds == [("removed", removed), ("admitted", removed)]


async def _left_with(app: web.Application, user: int, reason: str) -> bool:
    return any(e.kind == "leave" and e.reason == reason for e in await events(app, user))


async def test_students_may_not_moderate(
    live_server: LiveServer, demo: DemoSchool, login: Login, people: list[LessonClient], app: web.Application,
) -> None:
    teacher, student = await join(live_server, demo, login, people, demo.teacher, demo.students[0])
    other = await user_id(app, demo.students[1])
    for message in ({"type": "moderate", "action": "mute_all"}, {"type": "moderate", "action": "cameras_off"},
                    {"type": "lock", "locked": True}, {"type": "admit", "user_id": other, "admit": True},
                    {"type": "remove", "user_id": other}, {"type": "end_lesson"}, {"type": "extend", "minutes": 10}):
        with pytest.raises(ProtocolError) as refused:
            await student.request(message)
        assert refused.value.code == "forbidden", message
    for bad in ({"type": "extend", "minutes": 4}, {"type": "extend", "minutes": 121},
                {"type": "moderate", "action": "<b>all</b>"}, {"type": "remove", "user_id": "x"}):
        with pytest.raises(ProtocolError) as refused:
            await teacher.request(bad)
        assert refused.value.code == "bad_message", bad
    with pytest.raises(ProtocolError) as refused:
        await teacher.request({"type": "remove", "user_id": await user_id(app, demo.teacher)})
    assert refused.value.code == "not_found"
    assert await activity(app, demo.lesson_id) == []


async def test_the_teacher_extends_and_ends_the_lesson_for_everyone(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
    people: list[LessonClient],
) -> None:
    teacher, student = await join(live_server, demo, login, people, demo.teacher, demo.students[0])
    before = datetime.fromisoformat(teacher.joined["moderation"]["closes_at"])
    times = await teacher.request({"type": "extend", "minutes": 10})
    assert datetime.fromisoformat(times["closes_at"]) == before + timedelta(minutes=10)
    told = await student.next_event("lesson_times")
    assert told["closes_at"] == times["closes_at"]
    async with app[DATABASE].session() as session:
        lesson = await session.get(Lesson, demo.lesson_id)
        assert lesson is not None and lesson.closes_at == before + timedelta(minutes=10)

    assert (await teacher.request({"type": "end_lesson"}))["type"] == "ok"
    for person in (teacher, student):
        assert (await person.next_event("bye"))["reason"] == "lesson_ended"
    for who in (demo.teacher, demo.students[0]):
        uid = await user_id(app, who)
        await until("the leave is written as lesson_ended", lambda uid=uid: _left_with(app, uid, "lesson_ended"))
    late = client_of(live_server, demo, await token_of(login, demo.students[1]), people)
    with pytest.raises(ProtocolError) as refused:
        await late.connect()
    assert refused.value.code == "lesson_ended"
    viewer = WhepStudent(live_server.url, Seat(demo.lesson_id, late.token))
    try:
        response = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data=await viewer.offer(),
                                     headers={**viewer.headers, **SDP})
        assert response.status == 409 and (await response.json())["error"]["code"] == "lesson_ended"
    finally:
        await viewer.close()
    assert [k for k, _ in await activity(app, demo.lesson_id)] == ["extended", "ended"]


async def test_the_room_closes_by_itself_after_its_end_and_grace_with_a_warning_first(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
    admin: dict[str, str], people: list[LessonClient],
) -> None:
    registry = app[ROOMS]
    registry.media = dataclasses.replace(registry.media, close_warnings=(timedelta(seconds=4),))
    response = await client.put("/api/school/lesson-settings", headers=admin, json={"lesson_grace_minutes": 0})
    assert response.status == 200, await response.text()
    ends_at = datetime.now(UTC) + timedelta(seconds=10)
    response = await client.patch(f"/api/lessons/{demo.lesson_id}", headers=admin,
                                  json={"ends_at": ends_at.isoformat()})
    assert response.status == 200, await response.text()
    lesson = await response.json()
    assert lesson["closes_at"] == lesson["ends_at"] and lesson["live_open"] is True

    teacher, student = await join(live_server, demo, login, people, demo.teacher, demo.students[0])
    assert datetime.fromisoformat(teacher.joined["moderation"]["closes_at"]) == datetime.fromisoformat(lesson["ends_at"])
    for person in (teacher, student):
        warning = await person.next_event("lesson_ending", timeout=30)
        assert warning["closes_at"] == teacher.joined["moderation"]["closes_at"] and 0 <= warning["in_s"] <= 10
        assert (await person.next_event("bye", timeout=30))["reason"] == "lesson_ended"
    for who in (demo.teacher, demo.students[0]):
        uid = await user_id(app, who)
        await until("the leave is written as lesson_ended", lambda uid=uid: _left_with(app, uid, "lesson_ended"))
    response = await client.get(f"/api/lessons/{demo.lesson_id}", headers=await login(demo.students[0]))
    after = await response.json()
    assert after["ended_at"] is not None and after["live_open"] is False
    assert [k for k, _ in await activity(app, demo.lesson_id)] == ["ended"]
    with pytest.raises(ProtocolError) as refused:
        await join(live_server, demo, login, people, demo.teacher)
    assert refused.value.code == "lesson_ended"
