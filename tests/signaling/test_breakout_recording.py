"""Breakout groups and the recording, with real aiortc peers, the real recorder and the real
renderer: a student in a group is not recorded until the teacher turns that group's recording on
(students may not), the group's members are told, a student taken out of the group stops being
recorded and is recorded again back in it; a group not turned on is never recorded; the moments
groups start and end (a timed end too) are written and become chapters of the lesson video."""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text

from recorder.models import LessonMark, Recording
from school.demo import DemoSchool
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from tests.recorder.test_recording import rows, wait_for_video
from tests.signaling.test_breakouts import WAIT, connect
from tests.waiting import until
from web.keys import DATABASE, ROOMS


async def tracks_of(app: web.Application, lesson_id: int, user_id: int) -> list[Recording]:
    return [r for r in await rows(app, lesson_id) if r.kind == "track" and r.user_id == user_id]


async def marks(app: web.Application, lesson_id: int) -> list[LessonMark]:
    async with app[DATABASE].session() as session:
        return list(await session.scalars(select(LessonMark).where(LessonMark.lesson_id == lesson_id)
                                          .order_by(LessonMark.at, LessonMark.id)))


async def group_event(client: LessonClient, group_id: str) -> dict[str, Any]:
    event = await client.next_event("group_recording", timeout=WAIT)
    while event["group_id"] != group_id:
        event = await client.next_event("group_recording", timeout=WAIT)
    return event


async def record_group(teacher: LessonClient, group_id: str, active: bool) -> dict[str, Any]:
    state = await teacher.record_group(group_id, active)
    return {g["id"]: g["recording"] for g in state["groups"]}


@pytest.mark.timeout(240)
async def test_a_group_is_recorded_only_while_the_teacher_says_so_and_the_video_has_its_chapters(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher = await connect(live_server, demo, login, demo.teacher)
    a, b = await asyncio.gather(*(connect(live_server, demo, login, s) for s in demo.students[:2]))
    try:
        assert teacher.joined["recording"]["active"] is True and not teacher.joined["recording"]["record_students"]
        await teacher.publish({"camera": ColourTrack((0, 255, 0)), "mic": ToneTrack()})
        room = app[ROOMS].rooms[demo.lesson_id]
        ua, ub = (room.participants[c.joined["participant_id"]].user_id for c in (a, b))
        await asyncio.sleep(1.5)  # the groups start well inside the lesson video's first part

        state = await teacher.start_breakouts([{"name": "Nhóm 1", "user_ids": [ua]}, {"name": "Nhóm 2", "user_ids": [ub]}])
        g1, g2 = (g["id"] for g in state["groups"])
        assert [g["recording"] for g in state["groups"]] == [False, False], "off by default"
        first = await a.next_event("group_recording", timeout=WAIT)
        assert first == {"type": "group_recording", "group_id": g1, "name": "Nhóm 1", "active": False}
        for student, group in ((a, g1), (b, g2)):
            assert (await student.next_event("room", timeout=WAIT))["room"] == group
            await student.publish({"camera": ColourTrack((255, 0, 0)), "mic": ToneTrack()})
        await asyncio.sleep(2.0)
        assert await tracks_of(app, demo.lesson_id, ua) == [], "a student in a group is not recorded by default"

        # Students may not turn it on, for their own group or another.
        for group in (g1, g2):
            with pytest.raises(ProtocolError) as refused:
                await a.request({"type": "breakouts_record", "group_id": group, "active": True})
            assert refused.value.code == "forbidden"

        # The teacher turns group 1's recording on: its members are told, its student is recorded.
        assert await record_group(teacher, g1, True) == {g1: True, g2: False}
        assert (await group_event(a, g1))["active"] is True

        async def recorded_a() -> list[Recording]:
            found = await tracks_of(app, demo.lesson_id, ua)
            return found if sorted(r.source for r in found) == ["camera", "mic"] else []

        first_tracks = await until("group 1's student to be recorded", recorded_a, timeout=WAIT)
        assert all(r.breakout_group == "Nhóm 1" and r.status == "recording" for r in first_tracks)
        await asyncio.sleep(2.0)

        # Taken out of the group, the student is no longer recorded; back in it, recorded again.
        await teacher.move_students("main", [ua])
        assert (await a.next_event("room", timeout=WAIT))["room"] == "main"

        async def finished_a() -> bool:
            found = await tracks_of(app, demo.lesson_id, ua)
            return len(found) == 2 and all(r.status == "complete" and r.duration_seconds > 0.5 for r in found)

        await until("the student's tracks to be finished once out of the group", finished_a, timeout=WAIT)
        await teacher.move_students(g1, [ua])
        # Entering a group tells whether it is recorded, before the room event.
        assert (await group_event(a, g1))["active"] is True
        assert (await a.next_event("room", timeout=WAIT))["room"] == g1

        async def again() -> bool:  # the microphone (the main room allows it) is recorded again, in a new file
            found = await tracks_of(app, demo.lesson_id, ua)
            return [r.source for r in found if r.status == "recording" and r.duration_seconds > 0] == ["mic"]

        await until("the student back in the group to be recorded again", again, timeout=WAIT)

        # Off again: its members are told, its student's files are finished.
        assert await record_group(teacher, g1, False) == {g1: False, g2: False}
        assert (await group_event(a, g1))["active"] is False

        async def all_finished() -> bool:
            found = await tracks_of(app, demo.lesson_id, ua)
            return len(found) == 3 and all(r.status == "complete" for r in found)

        try:
            await until("the student's tracks to be finished once recording is off", all_finished, timeout=WAIT)
        except AssertionError:
            raise AssertionError([(r.source, r.status, r.duration_seconds, r.breakout_group)
                                  for r in await tracks_of(app, demo.lesson_id, ua)]) from None
        assert await tracks_of(app, demo.lesson_id, ub) == [], "group 2 was never turned on"

        # The end, then a second round of groups with a timed end.
        await teacher.end_breakouts()
        await asyncio.sleep(1.5)
        timed = await teacher.start_breakouts([{"name": "Nhóm A", "user_ids": [ua, ub]}], duration_s=5)
        assert timed["ends_at"] is not None

        async def four_marks() -> list[LessonMark]:
            found = await marks(app, demo.lesson_id)
            return found if len(found) == 4 else []

        written = await until("the timed end's mark", four_marks, timeout=WAIT)
        assert [m.kind for m in written] == ["breakouts_start", "breakouts_end"] * 2
        assert written[0].label == "Nhóm 1, Nhóm 2" and written[2].label == "Nhóm A"
        await asyncio.sleep(1.5)  # the last end falls inside the recording too
    finally:
        for student in (a, b):
            await student.close()
        await teacher.close()

    # The lesson video: its first part, then the groups' starts and ends at the school's local time.
    video = await wait_for_video(app, demo.lesson_id, timeout=150)
    chapters = json.loads(video.chapters or "[]")
    async with app[DATABASE].session() as session:
        zone = ZoneInfo(await session.scalar(text("SELECT timezone FROM schools WHERE id = :id"),
                                             {"id": video.school_id}) or "Asia/Ho_Chi_Minh")
    expected = ["Phần 1"] + [f"{'Thảo luận nhóm' if m.kind == 'breakouts_start' else 'Hết thảo luận nhóm'} — "
                             f"{m.at.astimezone(zone):%H:%M}" for m in written]
    titles = [c["title"] for c in chapters]
    assert titles[0].startswith("Phần 1 — ") and titles[1:] == expected[1:], titles
    assert [c["kind"] for c in chapters] == ["segment"] + [m.kind for m in written]
    starts = [c["start"] for c in chapters]
    assert starts == sorted(starts) and starts[1] >= 1.0
    for chapter, mark in zip(chapters[1:], written, strict=True):  # each where it happened in the lesson
        assert abs((mark.at - written[0].at).total_seconds() - (chapter["start"] - starts[1])) < 0.2
    assert re.fullmatch(r"Hết thảo luận nhóm — \d\d:\d\d", titles[-1])
    vtt = await client.get(f"/api/recordings/{video.id}/chapters.vtt", headers=await login(demo.teacher))
    assert vtt.status == 200 and "Thảo luận nhóm — " in await vtt.text()
    listed = await (await client.get(f"/api/lessons/{demo.lesson_id}/recordings", headers=await login(demo.teacher))).json()
    [composite] = [r for r in listed["items"] if r["kind"] == "composite"]
    assert [c["kind"] for c in composite["chapters"]][1:3] == ["breakouts_start", "breakouts_end"]
