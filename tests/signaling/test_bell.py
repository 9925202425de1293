"""The bell: a whole class arrives at once, leaves at once and comes back at once, over the lesson
page's WebSocket and over WHEP, on SQLite and on PostgreSQL; joins abandoned on the way in leave
nothing behind; peers that vanish leave; a revoke during a publish wins. Real aiortc peers that
count packets without decoding, a real server, real databases."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCSessionDescription
from sqlalchemy import func, select

from attendance.models import AttendanceEvent, OpenPresence
from bench.forwarding import Subscriber
from bench.peers import Seat, WhepStudent
from school.demo import DemoSchool
from school.models import ClassStudent, Role, User
from school.passwords import hash_password
from school.sessions import issue_token
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack
from tests.servers import postgres_cluster, postgres_url  # noqa: F401
from tests.waiting import until
from web.config import Config
from web.keys import DATABASE, JOIN_GATE, ROOMS, SIGNER

CLASS_SIZE = 40
SDP = {"Content-Type": "application/sdp"}
MEDIA_WAIT = 60.0
"""How long a peer may take to see a key frame while 40 others join (a generous bound, not a measure)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request: pytest.FixtureRequest, config: Config) -> Config:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    return dataclasses.replace(config, database_url=url, peer_silence=timedelta(seconds=3),
                               connect_timeout=timedelta(seconds=3), attendance_grace=timedelta(0))


@dataclasses.dataclass
class Student:
    user_id: int
    token: str


@pytest.fixture
async def klass(app: web.Application, demo: DemoSchool) -> list[Student]:
    """The demo class grown to 40 students (one password hash for all: sign-in is not tested here)."""
    password_hash = await hash_password("class-password-1")
    async with app[DATABASE].session() as session:
        demo_class = await session.scalar(select(User.school_id).where(User.username == demo.teacher.username))
        users = [User(school_id=demo_class, username=f"hs.bell{i:02d}", full_name=f"Học sinh {i:02d}",
                      role=Role.student, password_hash=password_hash) for i in range(CLASS_SIZE)]
        session.add_all(users)
        await session.flush()
        session.add_all([ClassStudent(class_id=demo.class_id, student_id=u.id) for u in users])
    signer = app[SIGNER]
    return [Student(u.id, (await issue_token(app[DATABASE], signer, u.id))[0]) for u in users]


@pytest.fixture
async def teacher_on_stage(live_server: LiveServer, demo: DemoSchool, login: Login) -> AsyncIterator[LessonClient]:
    token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    teacher = LessonClient(live_server.url, demo.lesson_id, token)
    await teacher.connect(auto_subscribe=False)
    await teacher.publish({"camera": ColourTrack((0, 128, 255)), "mic": ToneTrack()})
    yield teacher
    await teacher.close()


async def report(client: TestClient, demo: DemoSchool, login: Login) -> dict[int, dict[str, Any]]:
    response = await client.get(f"/api/lessons/{demo.lesson_id}/attendance", headers=await login(demo.teacher))
    assert response.status == 200, await response.text()
    rows = (await response.json())["students"]
    by_user: dict[int, dict[str, Any]] = {}
    for row in rows:
        assert row["user_id"] not in by_user, f"student {row['user_id']} listed twice"
        by_user[row["user_id"]] = row
    return by_user


async def open_presences(app: web.Application, user_ids: list[int]) -> int:
    async with app[DATABASE].session() as session:
        return int(await session.scalar(select(func.count()).select_from(OpenPresence)
                                        .where(OpenPresence.user_id.in_(user_ids))) or 0)


async def events_of(app: web.Application, user_ids: list[int]) -> list[AttendanceEvent]:
    async with app[DATABASE].session() as session:
        return list(await session.scalars(select(AttendanceEvent).where(AttendanceEvent.user_id.in_(user_ids))))


def participants(app: web.Application, lesson_id: int) -> dict[int, list[str]]:
    room = app[ROOMS].rooms.get(lesson_id)
    out: dict[int, list[str]] = {}
    for participant in room.participants.values() if room else ():
        out.setdefault(participant.user_id, []).append(participant.via)
    return out


# --- the page's WebSocket ----------------------------------------------------------------------
async def page_join(url: str, lesson_id: int, student: Student) -> Subscriber:
    peer = Subscriber(url, lesson_id, student.token)
    await peer.join(MEDIA_WAIT)
    return peer


async def test_a_class_joins_leaves_and_rejoins_the_page_at_once(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
    klass: list[Student], teacher_on_stage: LessonClient,
) -> None:
    ids = [s.user_id for s in klass]
    port = int(live_server.url.rsplit(":", 1)[1])
    before = media_and_web_sockets(port)
    for round_ in ("arrive", "come back"):
        peers = await asyncio.gather(*(page_join(live_server.url, demo.lesson_id, s) for s in klass),
                                     return_exceptions=True)
        failed = [p for p in peers if isinstance(p, BaseException)]
        assert not failed, f"{round_}: {len(failed)} of {CLASS_SIZE} joins failed: {failed[:3]}"
        assert all(p.keyframe.is_set() and p.packets > 0 for p in peers)  # type: ignore[union-attr]
        inside = participants(app, demo.lesson_id)
        assert all(inside.get(i) == ["ws"] for i in ids), "each student is in the room exactly once"
        rows = await report(client, demo, login)
        assert all(rows[i]["present_now"] for i in ids)
        assert await open_presences(app, ids) == CLASS_SIZE
        metrics = await (await client.get("/metrics")).text()
        assert f'lophoc_participants{{via="ws"}} {CLASS_SIZE + 1}.0' in metrics  # the class and its teacher
        assert "lophoc_joins_in_progress 0.0" in metrics
        await asyncio.gather(*(p.close() for p in peers))  # type: ignore[union-attr]

        async def all_left() -> bool:
            return not set(participants(app, demo.lesson_id)) & set(ids) and await open_presences(app, ids) == 0

        await until(f"{round_}: every student left", all_left)

        async def sockets_back() -> bool:  # + the test client's keep-alive connection
            return media_and_web_sockets(port) <= before + 2

        await until(f"{round_}: sockets back to {before} (now {media_and_web_sockets(port)})", sockets_back)
    rows = await report(client, demo, login)
    for i in ids:
        assert len(rows[i]["intervals"]) == 2, rows[i]["intervals"]
        assert all(iv["left_at"] is not None and iv["reason"] == "left" for iv in rows[i]["intervals"])


# --- WHEP --------------------------------------------------------------------------------------
async def whep_join(http: aiohttp.ClientSession, url: str, lesson_id: int, student: Student) -> WhepStudent:
    viewer = WhepStudent(url, Seat(lesson_id, student.token))
    try:
        offer = await viewer.offer()
        async with http.post(viewer.url, data=offer, headers={**viewer.headers, **SDP}) as response:
            assert response.status == 201, await response.text()
            viewer.location = response.headers["Location"]
            answer = await response.text()
        await viewer.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.wait_for(viewer.keyframe.wait(), MEDIA_WAIT)
    except BaseException:
        await viewer.close()
        raise
    return viewer


async def whep_leave(http: aiohttp.ClientSession, url: str, viewer: WhepStudent) -> int:
    assert viewer.location is not None
    async with http.delete(url + viewer.location, headers=viewer.headers) as response:
        status = response.status
    await viewer.close()
    return status


async def test_a_class_watches_over_whep_leaves_and_rejoins_at_once(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
    klass: list[Student], teacher_on_stage: LessonClient,
) -> None:
    ids = [s.user_id for s in klass]
    before = media_and_web_sockets(None)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=MEDIA_WAIT)) as http:
        for round_ in ("arrive", "come back"):
            viewers = await asyncio.gather(*(whep_join(http, live_server.url, demo.lesson_id, s) for s in klass),
                                           return_exceptions=True)
            failed = [v for v in viewers if isinstance(v, BaseException)]
            assert not failed, f"{round_}: {len(failed)} of {CLASS_SIZE} WHEP joins failed: {failed[:3]}"

            async def all_present() -> bool:  # a WHEP presence begins when its media connects
                return await open_presences(app, ids) == CLASS_SIZE

            await until(f"{round_}: all 40 viewers recorded present", all_present)
            rows = await report(client, demo, login)
            assert all(rows[i]["present_now"] and len(rows[i]["intervals"]) >= 1 for i in ids)
            statuses = await asyncio.gather(*(whep_leave(http, live_server.url, v) for v in viewers))  # type: ignore[arg-type]
            assert statuses == [204] * CLASS_SIZE
            assert not set(participants(app, demo.lesson_id)) & set(ids)
            assert await open_presences(app, ids) == 0, "a leave is written before the DELETE is answered"

            async def sockets_back() -> bool:  # the peer connections' (HTTP keeps its connections alive)
                return media_and_web_sockets(None) <= before

            await until(f"{round_}: UDP sockets back to {before} (now {media_and_web_sockets(None)})", sockets_back)
    rows = await report(client, demo, login)
    for i in ids:
        intervals = rows[i]["intervals"]
        assert len(intervals) == 2 and all(iv["via"] == "whep" and iv["reason"] == "left" for iv in intervals)


# --- what must leave nothing behind ------------------------------------------------------------
def media_and_web_sockets(server_port: int | None) -> int:
    """UDP sockets (peer connections) and TCP connections to or from the lophoc server at
    `server_port` (None: UDP only) in this process, server and test peers alike; the database's
    pooled connections are not counted."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                continue
            with socket.socket(fileno=os.dup(int(fd))) as sock:
                if sock.family not in (socket.AF_INET, socket.AF_INET6):
                    continue
                if sock.type == socket.SOCK_DGRAM:
                    count += 1
                    continue
                ports = {sock.getsockname()[1]}
                with contextlib.suppress(OSError):
                    ports.add(sock.getpeername()[1])
                count += server_port is not None and server_port in ports
        except OSError:
            pass  # closed while listing
    return count


async def test_joins_abandoned_on_the_way_in_leave_nothing_behind(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
    klass: list[Student], teacher_on_stage: LessonClient,
) -> None:
    gate = app[JOIN_GATE]
    gate.wait = 30.0
    await gate.set_capacity(0)  # every join waits for a turn: the clients give up meanwhile
    page, whep, silent = klass[:10], klass[10:20], klass[20:25]
    ids = [s.user_id for s in page + whep + silent]
    port = int(live_server.url.rsplit(":", 1)[1])
    before = media_and_web_sockets(port)

    async def abandon_page(student: Student) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{live_server.url}/api/lessons/{demo.lesson_id}/ws") as ws:
            await ws.send_json({"type": "join", "token": student.token, "id": 1})
        # the socket is closed here, before the server could answer

    async def abandon_whep(student: Student) -> None:
        viewer = WhepStudent(live_server.url, Seat(demo.lesson_id, student.token))
        try:
            offer = await viewer.offer()
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.5)) as http:
                with pytest.raises(TimeoutError):
                    await http.post(viewer.url, data=offer, headers={**viewer.headers, **SDP})
        finally:
            await viewer.close()

    await asyncio.gather(*(abandon_page(s) for s in page), *(abandon_whep(s) for s in whep))
    await until("nobody holding a turn", lambda: gate.inside == 0)
    await gate.set_capacity(64)

    # Answered, but the player is gone before connecting: it never shows its media.
    async with aiohttp.ClientSession() as http:
        for student in silent:
            viewer = WhepStudent(live_server.url, Seat(demo.lesson_id, student.token))
            offer = await viewer.offer()
            async with http.post(viewer.url, data=offer, headers={**viewer.headers, **SDP}) as response:
                assert response.status == 201
            await viewer.close()

    async def settled() -> bool:
        return not gate.inside and not set(participants(app, demo.lesson_id)) & set(ids)

    await until("every abandoned join is gone from the room", settled)
    assert await events_of(app, ids) == [], "nothing recorded for joins that never happened"
    rows = await report(client, demo, login)
    assert all(rows[i]["status"] == "absent" and not rows[i]["intervals"] for i in ids)
    room = app[ROOMS].rooms[demo.lesson_id]
    assert all(p.user_id not in ids for p in room.participants.values())
    assert len(room._transports) == 1, "only the teacher's send transport remains"

    async def sockets_back() -> bool:
        return media_and_web_sockets(port) <= before + 2  # + the test client's keep-alive connection

    await until(f"sockets back to {before} (now {media_and_web_sockets(port)})", sockets_back)


async def test_a_whep_viewer_that_vanishes_without_delete_leaves(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
    klass: list[Student], teacher_on_stage: LessonClient,
) -> None:
    """A player tab closed, a phone asleep: no DELETE comes. The closed connection, or its silence,
    takes the viewer out and the attendance log closes the presence when it was last seen."""
    gone, asleep = klass[0], klass[1]
    async with aiohttp.ClientSession() as http:
        closed = await whep_join(http, live_server.url, demo.lesson_id, gone)
        sleeping = await whep_join(http, live_server.url, demo.lesson_id, asleep)
        await until("both viewers present", lambda: _present(app, [gone.user_id, asleep.user_id]))
        await closed.close()  # the peer connection ends; nobody tells the server
        # The other falls silent at once: its sockets go away without a word (no DTLS close).
        ice = sleeping.pc.getTransceivers()[0].receiver.transport.transport
        for protocol in ice._connection._protocols:  # a test peer's internals, not the server's
            protocol.transport.close()

        async def both_left() -> bool:
            return await open_presences(app, [gone.user_id, asleep.user_id]) == 0

        await until("the vanished viewers are recorded as left", both_left)
        await sleeping.close()
    assert not {gone.user_id, asleep.user_id} & set(participants(app, demo.lesson_id))
    rows = await report(client, demo, login)
    for student in (gone, asleep):
        (interval,) = rows[student.user_id]["intervals"]
        assert interval["left_at"] is not None and interval["reason"] == "disconnected"
        assert not rows[student.user_id]["present_now"]


async def _present(app: web.Application, ids: list[int]) -> bool:
    return await open_presences(app, ids) == len(ids)


# --- one owner -----------------------------------------------------------------------------------
async def test_a_revoke_during_a_publish_wins_and_a_regrant_starts_clean(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, klass: list[Student],
    teacher_on_stage: LessonClient,
) -> None:
    student = LessonClient(live_server.url, demo.lesson_id, klass[0].token)
    watcher = LessonClient(live_server.url, demo.lesson_id, klass[1].token)
    try:
        await student.connect(auto_subscribe=False)
        await watcher.connect(auto_subscribe=False)
        me = student.joined["participant_id"]
        await teacher_on_stage.request({"type": "permit", "participant_id": me, "source": "camera", "allowed": True})
        await student.next_event("permissions")
        # The publish and the revoke race: whichever way they meet, the revoke wins.
        outcome = await asyncio.gather(
            student.publish({"camera": ColourTrack((255, 0, 0))}),
            teacher_on_stage.request({"type": "permit", "participant_id": me, "source": "camera", "allowed": False}),
            return_exceptions=True)
        assert not isinstance(outcome[1], BaseException), outcome[1]
        room = app[ROOMS].rooms[demo.lesson_id]

        def cameras() -> list[str]:
            return [p.id for p in room.room.producers.values()
                    if p.app_data["participant_id"] == me and p.app_data["source"] == "camera"]

        await until("no camera of the student's to survive the revoke", lambda: not cameras())
        assert room.participants[me].permissions["camera"] is False
        assert "camera" not in room.participants[me].mids.values(), "no stale mid is left for the camera"

        # Allowed again, the same device publishes again and is seen.
        await teacher_on_stage.request({"type": "permit", "participant_id": me, "source": "camera", "allowed": True})
        published = await student.publish({"camera": ColourTrack((255, 0, 0))})
        assert [p["source"] for p in published["producers"]] == ["camera"]
        added = await watcher.next_event("producer_added", timeout=10)
        while added["producer"]["participant_id"] != me:
            added = await watcher.next_event("producer_added", timeout=10)
        assert cameras() == [added["producer"]["producer_id"]]
        camera = room.room.producers[cameras()[0]]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while camera.stats.packets_in < 30:  # the republished camera's media reaches the server
            assert loop.time() < deadline, camera.stats.packets_in
            await asyncio.sleep(0.1)
        # The student's connection drops and comes back: what the teacher allowed is still allowed.
        await student.close(leave=False)
        student = LessonClient(live_server.url, demo.lesson_id, klass[0].token)
        await student.connect(auto_subscribe=False)
        assert student.joined["permissions"]["camera"] is True
    finally:
        await student.close()
        await watcher.close()


async def test_a_second_device_of_the_teacher_never_lands_in_a_closing_room(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    """The teacher, alone, leaves on one device while opening the lesson on another: the new
    session is always in an open room."""
    token = (await login(demo.teacher))["Authorization"].removeprefix("Bearer ")
    for _ in range(5):
        first = LessonClient(live_server.url, demo.lesson_id, token)
        await first.connect()
        second = LessonClient(live_server.url, demo.lesson_id, token)
        await asyncio.gather(first.close(), second.connect())
        room = app[ROOMS].rooms.get(demo.lesson_id)
        assert room is not None and not room.closed
        assert [p.id for p in room.participants.values()] == [second.joined["participant_id"]]
        await second.close()

        async def closed() -> bool:
            return demo.lesson_id not in app[ROOMS].rooms

        await until("the empty room closes", closed)


async def test_a_full_server_answers_overloaded_at_once_with_a_time_to_retry(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, klass: list[Student],
) -> None:
    gate = app[JOIN_GATE]
    gate.wait = 0.1
    await gate.set_capacity(0)
    page = LessonClient(live_server.url, demo.lesson_id, klass[0].token)
    viewer = WhepStudent(live_server.url, Seat(demo.lesson_id, klass[1].token))
    try:
        with pytest.raises(ProtocolError) as refused:
            await page.connect()
        assert refused.value.code == "overloaded" and refused.value.retry_after and refused.value.retry_after > 0
        response = await client.post(f"/api/lessons/{demo.lesson_id}/whep", data=await viewer.offer(),
                                     headers={**viewer.headers, **SDP})
        assert response.status == 503 and int(response.headers["Retry-After"]) >= 1
        assert (await response.json())["error"]["code"] == "overloaded"
        assert gate.refused == 2
        metrics = await (await client.get("/metrics")).text()
        assert "lophoc_joins_refused_overloaded_total 2.0" in metrics
        assert await events_of(app, [klass[0].user_id, klass[1].user_id]) == []
        await gate.set_capacity(64)
        await page.close()
        page = LessonClient(live_server.url, demo.lesson_id, klass[0].token)
        assert (await page.connect())["type"] == "joined"
    finally:
        await page.close()
        await viewer.close()
