"""A lesson's room outlives a moment of emptiness: when everyone's connection drops (a teacher
alone whose network fails), the room waits `room_linger` before closing, and whoever comes back
finds the lock, the board's permissions and the room as they were. Past the linger it closes, and
a later join opens a new room."""
from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.conftest import ADMIN_PASSWORD, LiveServer, Login
from tests.waiting import until
from web.config import Config
from web.keys import ROOMS

LINGER = timedelta(minutes=10)
"""Longer than any test: a room is seen waiting whatever the machine's load."""
SHORT = timedelta(seconds=0.5)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, ice_addresses=("127.0.0.1",),
                  db_strict=True, room_linger=LINGER)


@pytest.fixture
async def people() -> Any:
    made: list[LessonClient] = []
    yield made
    await asyncio.gather(*(c.close() for c in made), return_exceptions=True)


async def connect(live_server: LiveServer, demo: DemoSchool, login: Login, who: Any,
                  people: list[LessonClient]) -> LessonClient:
    token = (await login(who))["Authorization"].removeprefix("Bearer ")
    client = LessonClient(live_server.url, demo.lesson_id, token)
    people.append(client)
    await client.connect(auto_subscribe=False)
    return client


async def test_an_emptied_room_waits_for_its_people_and_keeps_what_the_teacher_set(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login, people: list[LessonClient],
) -> None:
    rooms = app[ROOMS]
    teacher = await connect(live_server, demo, login, demo.teacher, people)
    student = await connect(live_server, demo, login, demo.students[0], people)
    room = rooms.rooms[demo.lesson_id]
    assert (await teacher.request({"type": "lock", "locked": True}))["locked"] is True
    allowed = await teacher.request({"type": "board_allow", "everyone": True})
    assert allowed["everyone"] is True

    # Both connections drop at once: the room is empty, and stays open.
    await asyncio.gather(student.close(), teacher.close(leave=False))
    await until("the room to be empty", lambda: room.empty)
    assert not room.closed and rooms.rooms.get(demo.lesson_id) is room

    back = await connect(live_server, demo, login, demo.teacher, people)
    assert rooms.rooms[demo.lesson_id] is room, "the same room, not a new one"
    assert back.joined["moderation"]["locked"] is True
    board = back.joined.get("board") or await back.next_event("board")
    assert board["allow"]["everyone"] is True
    # The student who was in the room comes back in at once, though it is locked.
    again = await connect(live_server, demo, login, demo.students[0], people)
    assert again.joined["type"] == "joined"

    # Past the linger with nobody in it, the room closes; a later join opens a new one.
    room.media = dataclasses.replace(room.media, empty_linger=SHORT)
    await asyncio.gather(again.close(), back.close())
    await until("the emptied room to close after its linger", lambda: room.closed)
    await until("the closed room to finish", lambda: room.finished.done())
    fresh = await connect(live_server, demo, login, demo.teacher, people)
    assert rooms.rooms[demo.lesson_id] is not room
    assert fresh.joined["moderation"]["locked"] is False


async def test_someone_coming_back_calls_the_close_off_and_the_next_emptying_waits_again(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login, people: list[LessonClient],
) -> None:
    rooms = app[ROOMS]
    teacher = await connect(live_server, demo, login, demo.teacher, people)
    room = rooms.rooms[demo.lesson_id]
    assert room._linger is None
    await teacher.close()
    await until("the room to be empty", lambda: room.empty)
    waiting = room._linger
    assert waiting is not None and not room.closed
    back = await connect(live_server, demo, login, demo.teacher, people)
    assert room._linger is None, "someone came back: the close is called off"
    await until("the called-off close to end", lambda: waiting.done())
    assert waiting.cancelled()
    await back.close()
    await until("the room to be empty again", lambda: room.empty)
    assert room._linger is not None and room._linger is not waiting and not room.closed
    assert rooms.rooms[demo.lesson_id] is room
