"""Recording follows the lesson: it starts when the teacher is there (not when the first student
arrives), pauses while the teacher is away, stops at the lesson's scheduled end, and everyone is
always told the truth. Real peers, a real server, real files."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select, update

from recorder.models import Recording
from school.demo import DemoSchool
from school.models import Lesson
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from web.keys import DATABASE

WAIT = 20.0


async def joined(live_server: LiveServer, demo: DemoSchool, login: Login, who: Any) -> LessonClient:
    token = (await login(who))["Authorization"].removeprefix("Bearer ")
    client = LessonClient(live_server.url, demo.lesson_id, token)
    await client.connect(auto_subscribe=False)
    return client


async def tracks(app: web.Application, lesson_id: int) -> list[Recording]:
    async with app[DATABASE].session() as session:
        return list(await session.scalars(select(Recording).where(
            Recording.lesson_id == lesson_id, Recording.kind == "track").order_by(Recording.id)))


async def test_recording_waits_for_the_teacher_and_pauses_while_the_teacher_is_away(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    student = await joined(live_server, demo, login, demo.students[0])
    teacher: LessonClient | None = None
    try:
        assert student.joined["recording"]["active"] is False, "a student alone is not recorded"
        assert student.joined["recording"]["wanted"] is True  # auto: to be recorded once the teacher is here

        for part in (1, 2):
            teacher = await joined(live_server, demo, login, demo.teacher)
            assert teacher.joined["recording"]["active"] is True, "the teacher hears it at once"
            assert (await student.next_event("recording", timeout=WAIT))["active"] is True
            await teacher.publish({"camera": ColourTrack((0, 200, 0)), "mic": ToneTrack()})
            await asyncio.sleep(1.5)  # a little of the lesson is recorded
            await teacher.close()
            paused = await student.next_event("recording", timeout=WAIT)
            assert paused["active"] is False and paused["wanted"] is True, f"part {part}: paused, not ended"
            teacher = None

        async def finished() -> list[Recording]:
            rows = await tracks(app, demo.lesson_id)
            return rows if len(rows) == 4 and all(r.status == "complete" for r in rows) else []

        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while not (rows := await finished()):
            assert loop.time() < deadline, [(r.source, r.status) for r in await tracks(app, demo.lesson_id)]
            await asyncio.sleep(0.2)
        # Two parts, each with the teacher's camera and microphone; nothing while the teacher was away.
        first, second = sorted(rows, key=lambda r: r.started_at)[::2]
        assert {r.source for r in rows} == {"camera", "mic"}
        assert first.ended_at is not None and first.ended_at <= second.started_at
    finally:
        await student.close()
        if teacher is not None:
            await teacher.close()


async def test_recording_stops_when_the_lessons_room_closes(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    """Teaching past the scheduled end is part of the lesson: the recording runs until the room
    closes (the end plus the school's grace, or here the teacher's extension), then stops, and no one comes back."""
    now = datetime.now(UTC)
    async with app[DATABASE].session() as session:
        await session.execute(update(Lesson).where(Lesson.id == demo.lesson_id)
                              .values(ends_at=now + timedelta(seconds=5), closes_at=now + timedelta(seconds=8)))
    teacher = await joined(live_server, demo, login, demo.teacher)
    student = await joined(live_server, demo, login, demo.students[0])
    try:
        assert teacher.joined["recording"]["active"] is True
        ended = await student.next_event("recording", timeout=WAIT)
        assert ended["active"] is False and ended["wanted"] is True
        assert (await teacher.next_event("bye", timeout=WAIT))["reason"] == "lesson_ended"
        again = LessonClient(live_server.url, demo.lesson_id, teacher.token)
        try:
            await again.connect()
        except ProtocolError as refused:
            assert refused.code == "lesson_ended"
        else:
            raise AssertionError("no one enters a lesson that has ended")
        finally:
            await again.close()
    finally:
        await student.close()
        await teacher.close()
