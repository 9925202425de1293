"""Participation with real aiortc peers: a student who speaks (a loud tone) with the camera on gets
time speaking and on camera, a student with a silent microphone and no camera gets none; what was
added up is written when the room closes (everyone left, nobody waits for the next 10-second write),
and a paused microphone stops counting."""
from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from classroom.participation import LessonParticipation
from school.demo import DemoSchool
from signaling.client import LessonClient
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from tests.waiting import until
from web.keys import DATABASE, ROOMS

SPEAK_S = 4.0


async def connect(live_server: LiveServer, demo: DemoSchool, login: Login, who: Any) -> LessonClient:
    token = (await login(who))["Authorization"].removeprefix("Bearer ")
    client = LessonClient(live_server.url, demo.lesson_id, token)
    await client.connect()
    return client


async def report(client: TestClient, demo: DemoSchool, login: Login) -> dict[int, dict[str, Any]]:
    response = await client.get(f"/api/lessons/{demo.lesson_id}/participation", headers=await login(demo.teacher))
    assert response.status == 200, await response.text()
    return {row["user_id"]: row for row in (await response.json())["students"]}


async def test_a_student_speaking_on_camera_gets_time_and_a_silent_one_none_written_when_the_room_closes(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, speaker, silent = await asyncio.gather(
        connect(live_server, demo, login, demo.teacher), *(connect(live_server, demo, login, s)
                                                            for s in demo.students[:2]))
    room = app[ROOMS].rooms[demo.lesson_id]
    try:
        await teacher.request({"type": "permit", "participant_id": speaker.joined["participant_id"],
                               "source": "camera", "allowed": True})
        await speaker.next_event("permissions")
        await asyncio.gather(speaker.publish({"mic": ToneTrack(), "camera": ColourTrack((255, 0, 0))}),
                             silent.publish({"mic": ToneTrack(hz=0.0)}))
        speaker_id = room.participants[speaker.joined["participant_id"]].user_id
        silent_id = room.participants[silent.joined["participant_id"]].user_id
        # Live, the feature is adding up the speaker's time (and never the silent student's).
        feature = room.features["participation"]
        await until("the speaker's time added up", lambda: feature.pending.get(speaker_id, [0, 0])[0] >= 1000)
        await asyncio.sleep(SPEAK_S)
        assert feature.pending.get(silent_id, [0, 0]) == [0, 0]
    finally:
        await asyncio.gather(teacher.close(), speaker.close(), silent.close())
    await asyncio.wait_for(asyncio.shield(room.finished), 30)
    assert demo.lesson_id not in app[ROOMS].rooms  # the room is gone: only the database tells

    rows = await report(client, demo, login)
    assert set(rows) >= {speaker_id, silent_id} and len(rows) == len(demo.students)
    spoke, quiet = rows[speaker_id], rows[silent_id]
    assert spoke["speaking_s"] >= 2 and spoke["camera_s"] >= 2, spoke
    assert quiet["speaking_s"] == 0 and quiet["camera_s"] == 0, quiet
    assert spoke["present_s"] >= spoke["speaking_s"] and quiet["present_s"] > 0
    for absent in demo.students[2:]:  # no-shows are rows of zeros
        row = next(r for r in rows.values() if r["full_name"] == absent.full_name)
        assert (row["present_s"], row["speaking_s"], row["camera_s"], row["messages"]) == (0, 0, 0, 0)


async def test_time_adds_up_across_two_visits_and_a_muted_microphone_stops_counting(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    totals: list[int] = []
    for visit in range(2):
        student = await connect(live_server, demo, login, demo.students[0])
        room = app[ROOMS].rooms[demo.lesson_id]
        try:
            published = await student.publish({"mic": ToneTrack()})
            mic = published["producers"][0]["producer_id"]
            user_id = room.participants[student.joined["participant_id"]].user_id
            feature = room.features["participation"]
            await until("speaking counted", lambda: feature.pending.get(user_id, [0, 0])[0] >= 1500)
            if visit == 1:  # muted: the microphone still sends, but is no longer heard
                await student.request({"type": "mute", "source": "mic", "muted": True})
                await asyncio.sleep(1.5)  # the level decays below the voice threshold
                feature.flush()
                await asyncio.sleep(2.5)
                assert feature.pending.get(user_id, [0, 0])[0] == 0, (mic, feature.pending)
        finally:
            await student.close()
        await asyncio.wait_for(asyncio.shield(room.finished), 30)
        async with app[DATABASE].session() as session:
            row = await session.get(LessonParticipation, (demo.lesson_id, user_id))
            assert row is not None
            totals.append(row.speaking_ms)
    assert totals[0] >= 1500 and totals[1] >= totals[0] + 1500, totals  # the second visit adds to the first
