"""Breakout groups with real aiortc peers: a teacher and four students in two groups. Each group
sees and hears its own members only (decoded frames of each publisher's colour), the teacher
listens to a group without joining its roster, a help call reaches the teacher, a timed end brings
everyone back to the main room and the teacher's camera, moves keep every transport; the REST
refusals and the attendance report's rooms."""
from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from school.demo import DemoSchool
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.media import ColourTrack, ToneTrack, close_to, mean_rgb
from web.keys import ROOMS

WAIT = 20.0
COLOURS = [(255, 0, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
TEACHER_COLOUR = (0, 255, 0)


async def connect(live_server: LiveServer, demo: DemoSchool, login: Login, who: Any) -> LessonClient:
    token = (await login(who))["Authorization"].removeprefix("Bearer ")
    client = LessonClient(live_server.url, demo.lesson_id, token)
    await client.connect()
    return client


async def receiving(client: LessonClient, expected: set[str]) -> None:
    """Wait until the client's receive transport carries exactly these producers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while {c["producer_id"] for c in client.consumers.values()} != expected:
        assert loop.time() < deadline, (sorted(c["producer_id"] for c in client.consumers.values()), sorted(expected))
        await asyncio.sleep(0.1)


async def sees_colour(client: LessonClient, producer_id: str, colour: tuple[int, int, int]) -> None:
    track = await client.track_of(producer_id, WAIT)
    # An m-line the server reused still holds what the test peer decoded from its previous producer
    # and nobody read (aiortc's remote track queues every frame): start from what arrives now.
    queue = getattr(track, "_queue", None)
    while queue is not None and not queue.empty():
        queue.get_nowait()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        frame = await asyncio.wait_for(track.recv(), WAIT)
        if close_to(mean_rgb(frame), colour):
            return
        assert loop.time() < deadline, (producer_id, mean_rgb(frame), colour)


async def test_two_groups_see_and_hear_only_their_own_and_the_teacher_watches_without_joining(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher = await connect(live_server, demo, login, demo.teacher)
    students = list(await asyncio.gather(*(connect(live_server, demo, login, s) for s in demo.students[:4])))  # at once
    try:
        cams, mics = {}, {}
        for student, colour in zip(students, COLOURS, strict=True):
            published = {p["source"]: p["producer_id"] for p in
                         (await student.publish({"mic": ToneTrack()}))["producers"]}
            mics[student] = published["mic"]
        teacher_out = {p["source"]: p["producer_id"] for p in (await teacher.publish(
            {"camera": ColourTrack(TEACHER_COLOUR), "mic": ToneTrack()}))["producers"]}
        ids = [s.joined["participant_id"] for s in students]
        room = app[ROOMS].rooms[demo.lesson_id]
        users = [room.participants[i].user_id for i in ids]
        transports_before = {i: (room.participants[i].send_transport, room.participants[i].recv_transport) for i in ids}

        state = await teacher.start_breakouts(
            [{"name": "Nhóm 1", "user_ids": users[:2]}, {"name": "Nhóm 2", "user_ids": users[2:]}],
            allow={"mic": True, "camera": True, "screen": False})
        g1, g2 = (g["id"] for g in state["groups"])
        for student, group in zip(students, (g1, g1, g2, g2), strict=True):
            moved = await student.next_event("room", timeout=WAIT)
            assert moved["room"] == group and moved["name"] in ("Nhóm 1", "Nhóm 2")
            assert {p["participant_id"] for p in moved["participants"]} <= set(ids)  # no teacher in a group's roster
        # In groups, students may turn the camera on (the groups' `allow`): each shows a colour.
        for student, colour in zip(students, COLOURS, strict=True):
            published = {p["source"]: p["producer_id"] for p in
                         (await student.publish({"mic": ToneTrack(), "camera": ColourTrack(colour)}))["producers"]}
            cams[student] = published["camera"]
        a1, a2, b1, b2 = students
        for me, mate in ((a1, a2), (a2, a1), (b1, b2), (b2, b1)):
            await receiving(me, {cams[mate], mics[mate]})
            await sees_colour(me, cams[mate], COLOURS[students.index(mate)])
        await receiving(teacher, set())  # the teacher, in the main room, alone there

        # The teacher listens to group 2 from the main room: its voices, not its cameras; unseen.
        listened = await teacher.listen(g2)
        assert listened["listening"] == g2
        await receiving(teacher, {mics[b1], mics[b2]})
        assert all(room.participants[i].room != g2 or room.participants[i].role == "student" for i in room.participants)
        present = {g["id"]: g["present"] for g in (await teacher.listen(g2))["groups"]}
        assert present == {g1: sorted(users[:2]), g2: sorted(users[2:])}

        # The teacher's grid: one camera per group, not every camera of the class.
        await teacher.watch_groups(True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while True:
            got = {c["producer_id"] for c in teacher.consumers.values()}
            if len(got & {cams[a1], cams[a2]}) == 1 and len(got & {cams[b1], cams[b2]}) == 1:
                break
            assert loop.time() < deadline, got
            await asyncio.sleep(0.1)
        await teacher.watch_groups(False)
        await receiving(teacher, {mics[b1], mics[b2]})

        # The teacher speaks into group 1 from the main room: heard there, and nowhere else.
        spoken = await teacher.speak_into(g1)
        assert spoken["speaking_to"] == g1
        await receiving(a1, {cams[a2], mics[a2], teacher_out["mic"]})
        await receiving(b1, {cams[b2], mics[b2]})
        await teacher.speak_into(None)
        await receiving(a1, {cams[a2], mics[a2]})

        # Group 2 calls for help; the teacher sees it, visits, and the call clears.
        await b1.call_teacher()
        called = await teacher.next_event("breakouts", timeout=WAIT)
        while not called["help_calls"]:
            called = await teacher.next_event("breakouts", timeout=WAIT)
        assert called["help_calls"][0]["group_id"] == g2 and called["help_calls"][0]["user_id"] == users[2]
        visited = await teacher.visit(g2)
        assert visited["help_calls"] == []
        await receiving(b1, {cams[b2], mics[b2], teacher_out["camera"], teacher_out["mic"]})
        await sees_colour(b1, teacher_out["camera"], TEACHER_COLOUR)
        await receiving(a1, {cams[a2], mics[a2]})  # nothing of group 2 (nor the visiting teacher) in group 1
        await teacher.visit(None)
        await teacher.listen(None)

        # Moves keep every transport.
        for i in ids:
            participant = room.participants[i]
            assert (participant.send_transport, participant.recv_transport) == transports_before[i]

        # A timed end: everyone back in the main room, receiving the teacher again.
        await teacher.end_breakouts()
        timed = await teacher.start_breakouts([{"name": "Nhóm A", "user_ids": users}], duration_s=5)
        assert timed["ends_at"] is not None
        warned = await a1.next_event("breakouts_ending", timeout=WAIT)
        assert 0 <= warned["in_s"] <= 5
        back = await a1.next_event("room", timeout=WAIT)
        while back["room"] != "main":
            back = await a1.next_event("room", timeout=WAIT)
        await receiving(a1, {teacher_out["camera"], teacher_out["mic"], mics[a2], mics[b1], mics[b2]})
        await sees_colour(a1, teacher_out["camera"], TEACHER_COLOUR)  # on a reused m-line, from its key frame
        assert (await client.get(f"/api/lessons/{demo.lesson_id}/breakouts",
                                 headers=await login(demo.teacher))).status == 200
    finally:
        for student in students:
            await student.close()
        await teacher.close()

    # The attendance report shows who was in which group.
    report = await (await client.get(f"/api/lessons/{demo.lesson_id}/attendance",
                                     headers=await login(demo.teacher))).json()
    rooms = {row["user_id"]: [iv["room"] for iv in row["intervals"]] for row in report["students"]}
    assert rooms[users[0]][:2] == ["main", "Nhóm 1"] and "Nhóm A" in rooms[users[0]]
    assert rooms[users[2]][:2] == ["main", "Nhóm 2"]
    reasons = {row["user_id"]: [iv["reason"] for iv in row["intervals"]] for row in report["students"]}
    assert reasons[users[0]][0] == "moved"


async def test_the_rest_api_refuses_what_it_must(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    url = f"/api/lessons/{demo.lesson_id}/breakouts"
    teacher_headers = await login(demo.teacher)
    body = {"groups": [{"name": "Nhóm 1", "user_ids": []}]}
    assert (await client.post(url, json=body, headers=teacher_headers)).status == 409, "not live: nobody is there"
    teacher = await connect(live_server, demo, login, demo.teacher)
    student = await connect(live_server, demo, login, demo.students[0])
    try:
        room = app[ROOMS].rooms[demo.lesson_id]
        student_user = room.participants[student.joined["participant_id"]].user_id
        assert (await client.post(url, json=body, headers=await login(demo.students[1]))).status == 403
        outsider = await client.post(url, json={"groups": [{"name": "Nhóm 1", "user_ids": [teacher.joined["participants"][0]["user_id"]]}]},
                                     headers=teacher_headers)
        assert outsider.status == 422
        assert (await outsider.json())["error"]["fields"][0]["field"] == "groups[0].user_ids[0]"
        twice = await client.post(url, json={"groups": [{"name": "A", "user_ids": [student_user]},
                                                         {"name": "B", "user_ids": [student_user]}]},
                                  headers=teacher_headers)
        assert twice.status == 422 and (await twice.json())["error"]["fields"][0]["field"] == "groups[1].user_ids[0]"
        started = await client.post(url, json={"groups": [{"name": "Nhóm 1", "user_ids": [student_user]}],
                                               "duration_s": 600}, headers=teacher_headers)
        assert started.status == 201, await started.text()
        made = await started.json()
        assert made["groups"][0]["user_ids"] == [student_user] and made["ends_at"]
        assert (await student.next_event("room", timeout=WAIT))["room"] == made["groups"][0]["id"]
        assert (await client.post(url, json=body, headers=teacher_headers)).status == 409, "already running"
        # Students cannot run groups over the page either, nor move themselves.
        try:
            await student.request({"type": "breakouts_move", "group_id": "main", "user_ids": [student_user]})
        except ProtocolError as exc:
            assert exc.code == "forbidden"
        else:
            raise AssertionError("a student moved themselves")
        moved = await client.put(f"{url}/groups/main/members", json={"user_ids": [student_user]},
                                 headers=teacher_headers)
        assert moved.status == 200 and (await moved.json())["groups"][0]["present"] == []
        assert (await student.next_event("room", timeout=WAIT))["room"] == "main"
        assert (await client.delete(url, headers=teacher_headers)).status == 204
        assert (await (await client.get(url, headers=teacher_headers)).json())["groups"] == []
    finally:
        await student.close()
        await teacher.close()
