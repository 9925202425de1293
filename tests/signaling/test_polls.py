"""Polls and quick quizzes in a live lesson, with real WebSocket clients: a quiz answered at once over
WebSockets and REST scored per student in the XLSX download; the teacher's live counts throttled;
a timed poll closing by itself; refusals and hostile messages; anonymous results; a room that
opens again reading its polls back from the database."""
from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import update

from classroom.polls import Poll
from school.demo import DemoSchool
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.waiting import until
from web.keys import DATABASE, ROOMS

WAIT = 20.0
QUIZ = {"question": "Số nào là số nguyên tố?", "kind": "multiple", "options": ["2", "4", "5", "9"],
        "correct": [0, 2], "points": 2}


async def connect(live_server: LiveServer, demo: DemoSchool, login: Login, who: Any) -> LessonClient:
    token = (await login(who))["Authorization"].removeprefix("Bearer ")
    client = LessonClient(live_server.url, demo.lesson_id, token)
    await client.connect()
    return client


async def poll_event(client: LessonClient, poll_id: int, **match: Any) -> dict[str, Any]:
    """The next `poll` event about this poll whose poll has these fields."""
    while True:
        event = await client.next_event("poll", timeout=WAIT)
        if event["poll"]["id"] == poll_id and all(event["poll"].get(k) == v for k, v in match.items()):
            return event["poll"]


def polls_known(client: LessonClient, known: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The polls this client has been given so far: in `joined`, then as `poll` events (a room that
    has just opened may still be reading its polls back when it welcomes someone). Takes the events
    waiting in the client's queue."""
    known.update({p["id"]: p for p in client.joined["polls"]["items"] if p["id"] not in known})
    while not client.events.empty():
        event = client.events.get_nowait()
        if event["type"] == "poll":
            known[event["poll"]["id"]] = event["poll"]
    return known


async def refused(client: LessonClient, message: dict[str, Any]) -> str:
    with pytest.raises(ProtocolError) as caught:
        await client.request(message)
    return caught.value.code


async def close_all(*clients: LessonClient) -> None:
    await asyncio.gather(*(c.close() for c in clients))


async def test_a_quiz_answered_at_once_over_websockets_and_rest_is_scored_per_student(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an, binh, chi = await asyncio.gather(
        *(connect(live_server, demo, login, who) for who in (demo.teacher, *demo.students[:3])))
    try:
        created = (await teacher.request({"type": "poll_create", "poll": QUIZ, "open": True}))["poll"]
        assert created["status"] == "open" and created["correct"] == [0, 2] and created["answered"] == 0
        for student in (an, binh, chi):
            seen = await poll_event(student, created["id"], status="open")
            assert seen["correct"] is None and seen["mine"] is None and seen["answered"] is None

        chi_rest = await login(demo.students[2])

        async def an_answers() -> dict[str, Any]:
            await an.request({"type": "poll_answer", "poll_id": created["id"], "choices": [1]})
            return await an.request({"type": "poll_answer", "poll_id": created["id"], "choices": [2, 0]})

        async def chi_answers() -> int:
            response = await client.post(f"/api/polls/{created['id']}/answers", headers=chi_rest,
                                         json={"choices": [0]})
            return response.status

        an_reply, binh_reply, chi_status = await asyncio.gather(
            an_answers(), binh.request({"type": "poll_answer", "poll_id": created["id"], "choices": [0, 2]}),
            chi_answers())
        assert an_reply["answer"]["answer"] == [0, 2] and "score" not in an_reply["answer"]
        assert binh_reply["type"] == "ok" and chi_status == 201
        counted = await teacher.next_event("poll_counts", timeout=WAIT, poll_id=created["id"], answered=3)
        while counted["counts"] != [3, 0, 2, 0]:
            counted = await teacher.next_event("poll_counts", timeout=WAIT, poll_id=created["id"])
        assert counted["total"] == 4  # the class's students

        closed = (await teacher.request({"type": "poll_close", "poll_id": created["id"]}))["poll"]
        assert closed["status"] == "closed" and closed["answered"] == 3
        assert (await poll_event(an, created["id"], status="closed"))["mine"]["answer"] == [0, 2]
        assert await refused(an, {"type": "poll_answer", "poll_id": created["id"], "choices": [1]}) == "conflict"
        late = await client.post(f"/api/polls/{created['id']}/answers", headers=chi_rest, json={"choices": [1]})
        assert late.status == 409

        download = await client.get(f"/api/polls/{created['id']}/results?format=xlsx",
                                    headers=await login(demo.teacher))
        assert download.status == 200
        sheet = load_workbook(io.BytesIO(await download.read())).active
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert table[0] == ["Mã học sinh", "Họ và tên", "Câu trả lời", "Đúng/Sai", "Điểm"]
        by_name = {row[1]: row[2:] for row in table[1:]}
        assert by_name == {"Lê Văn An": ["2; 5", "Đúng", 2], "Phạm Thị Bình": ["2; 5", "Đúng", 2],
                           "Hoàng Minh Chi": ["2", "Sai", 0], "Vũ Tiến Dũng": [None, "Sai", 0]}

        published = (await teacher.request({"type": "poll_publish", "poll_id": created["id"]}))["poll"]
        assert published["published"] is True
        mine = await poll_event(chi, created["id"], published=True)
        assert mine["correct"] == [0, 2] and mine["counts"] == [3, 0, 2, 0]
        assert (mine["mine"]["answer"], mine["mine"]["correct"], mine["mine"]["score"]) == ([0], False, 0.0)
        results = await an.next_event("poll_results", timeout=WAIT, poll_id=created["id"])
        assert {a["full_name"]: a["score"] for a in results["answers"]} == {
            "Lê Văn An": 2.0, "Phạm Thị Bình": 2.0, "Hoàng Minh Chi": 0.0}  # not anonymous: the class sees
    finally:
        await close_all(teacher, an, binh, chi)


async def test_the_teachers_counts_come_at_most_a_few_a_second_however_many_answer(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, *students = await asyncio.gather(
        *(connect(live_server, demo, login, who) for who in (demo.teacher, *demo.students)))
    try:
        poll = (await teacher.request({"type": "poll_create", "open": True, "poll": {
            "question": "Chọn một số", "kind": "single", "options": ["1", "2", "3", "4"]}}))["poll"]
        changes = 10

        async def keeps_changing(student: LessonClient, last: int) -> None:
            for n in range(changes):
                choice = last if n == changes - 1 else (last + n + 1) % 4
                await student.request({"type": "poll_answer", "poll_id": poll["id"], "choices": [choice]})

        await asyncio.gather(*(keeps_changing(s, i % 2) for i, s in enumerate(students)))
        received = 1
        counted = await teacher.next_event("poll_counts", timeout=WAIT, poll_id=poll["id"])
        while counted["counts"] != [2, 2, 0, 0]:
            counted = await teacher.next_event("poll_counts", timeout=WAIT, poll_id=poll["id"])
            received += 1
        assert counted["answered"] == 4
        assert received < changes * len(students) // 2, received  # 40 answers, far fewer updates
        for student in students:
            with pytest.raises(TimeoutError):  # live counts are the staff's
                await student.next_event("poll_counts", timeout=0.3)
    finally:
        await close_all(teacher, *students)


async def test_a_timed_poll_closes_by_itself(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await asyncio.gather(*(connect(live_server, demo, login, w) for w in (demo.teacher, demo.students[0])))
    try:
        poll = (await teacher.request({"type": "poll_create", "open": True, "poll": {
            "question": "Đúng hay sai: 2 + 2 = 4", "kind": "true_false", "correct": [0], "duration_s": 10}}))["poll"]
        assert poll["closes_at"] is not None and poll["options"] == ["Đúng", "Sai"]
        await an.request({"type": "poll_answer", "poll_id": poll["id"], "choices": [0]})
        closed = await poll_event(an, poll["id"], status="closed")
        assert closed["closed_at"] == closed["closes_at"] and closed["mine"]["answer"] == [0]
        assert (await poll_event(teacher, poll["id"], status="closed"))["answered"] == 1
        assert await refused(an, {"type": "poll_answer", "poll_id": poll["id"], "choices": [1]}) == "conflict"
        listed = await (await client.get(f"/api/lessons/{demo.lesson_id}/polls",
                                         headers=await login(demo.teacher))).json()
        assert listed["items"][0]["status"] == "closed"
    finally:
        await close_all(teacher, an)


async def test_students_may_not_run_polls_and_hostile_messages_are_refused(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await asyncio.gather(*(connect(live_server, demo, login, w) for w in (demo.teacher, demo.students[0])))
    try:
        assert await refused(an, {"type": "poll_create", "poll": QUIZ}) == "forbidden"
        draft = (await teacher.request({"type": "poll_create", "poll": QUIZ, "open": False}))["poll"]
        assert draft["status"] == "draft"
        for step in ("poll_open", "poll_close", "poll_publish"):
            assert await refused(an, {"type": step, "poll_id": draft["id"]}) == "forbidden"
        await teacher.request({"type": "poll_open", "poll_id": draft["id"]})
        assert await refused(teacher, {"type": "poll_answer", "poll_id": draft["id"], "choices": [0]}) == "forbidden"
        assert await refused(teacher, {"type": "poll_open", "poll_id": draft["id"]}) == "conflict"
        assert await refused(teacher, {"type": "poll_close", "poll_id": 424242}) == "not_found"

        hostile_polls = [{**QUIZ, "kind": "essay"}, {**QUIZ, "correct": [4]}, {**QUIZ, "options": ["x"] * 11},
                         {**QUIZ, "question": "x" * 5000}, {**QUIZ, "points": "1"}, {**QUIZ, "duration_s": 1},
                         {"question": "?", "kind": "number", "correct": "ba"}, {**QUIZ, "correct": []}]
        for bad in hostile_polls:
            assert await refused(teacher, {"type": "poll_create", "poll": bad}) == "bad_message", bad
        hostile_answers = [{"choices": [9]}, {"choices": [0, 0]}, {"text": "hai"}, {"choices": [0], "number": 1},
                           {}, {"choices": "0"}, {"choices": [True]}, {"text": "x" * 60_000}]
        for bad in hostile_answers:
            assert await refused(an, {"type": "poll_answer", "poll_id": draft["id"], **bad}) in (
                "bad_message", "too_large"), bad
        await an.send_raw('{"type": "poll_answer", "poll_id": %d, "number": NaN, "id": 999}' % draft["id"])
        error = await an.next_event("error", timeout=WAIT)
        assert error["code"] == "bad_message"
        assert await refused(an, {"type": "poll_answer", "poll_id": 424242, "choices": [0]}) == "not_found"
        assert (await an.request({"type": "ping"}))["type"] == "pong"  # still connected, nothing broken
        still = (await teacher.request({"type": "poll_close", "poll_id": draft["id"]}))["poll"]
        assert still["answered"] == 0  # nothing half-written
    finally:
        await close_all(teacher, an)


async def test_anonymous_results_hide_who_answered_what_from_students(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher_rest = await login(demo.teacher)
    prepared = await client.post(f"/api/lessons/{demo.lesson_id}/polls", headers=teacher_rest, json={
        "question": "Bạn hiểu bài đến đâu?", "kind": "single", "options": ["Rõ", "Chưa rõ"], "anonymous": True})
    prepared_poll = await prepared.json()
    assert prepared_poll["status"] == "draft"  # before the lesson's room opens: prepared
    teacher, an, binh = await asyncio.gather(
        *(connect(live_server, demo, login, w) for w in (demo.teacher, *demo.students[:2])))
    try:
        teacher_knows: dict[int, dict[str, Any]] = {}
        await until("the prepared poll read back", lambda: polls_known(teacher, teacher_knows))
        assert list(teacher_knows) == [prepared_poll["id"]]
        assert polls_known(an, {}) == {}  # drafts are the teacher's alone
        opened = await client.post(f"/api/polls/{prepared_poll['id']}/open", headers=teacher_rest)
        assert opened.status == 200  # launched with one click, heard live
        first = await poll_event(an, prepared_poll["id"])
        assert first["status"] == "open" and first["anonymous"] is True  # never told of the draft
        await asyncio.gather(
            an.request({"type": "poll_answer", "poll_id": prepared_poll["id"], "choices": [0]}),
            binh.request({"type": "poll_answer", "poll_id": prepared_poll["id"], "choices": [1]}))
        await teacher.request({"type": "poll_publish", "poll_id": prepared_poll["id"]})
        staff_view = await teacher.next_event("poll_results", timeout=WAIT, poll_id=prepared_poll["id"])
        assert {a["full_name"]: a["answer"] for a in staff_view["answers"]} == {
            "Lê Văn An": "Rõ", "Phạm Thị Bình": "Chưa rõ"}  # staff always see who answered what
        student_view = await an.next_event("poll_results", timeout=WAIT, poll_id=prepared_poll["id"])
        assert student_view["answers"] == [] and student_view["counts"] == [1, 1]
        mine = await poll_event(binh, prepared_poll["id"], published=True)
        assert mine["mine"]["answer"] == [1] and mine["counts"] == [1, 1] and mine["correct"] is None
        assert "Lê Văn An" not in str(mine)

        # A poll made over REST while the lesson is live opens at once.
        live = await client.post(f"/api/lessons/{demo.lesson_id}/polls", headers=teacher_rest, json={
            "question": "Câu hỏi nhanh", "kind": "short", "correct": "Hà Nội"})
        assert (await live.json())["status"] == "open"
        assert (await poll_event(binh, (await live.json())["id"]))["status"] == "open"
    finally:
        await close_all(teacher, an, binh)


async def test_a_room_that_opens_again_reads_its_polls_back_and_closes_those_past_their_time(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await asyncio.gather(*(connect(live_server, demo, login, w) for w in (demo.teacher, demo.students[0])))
    timed = (await teacher.request({"type": "poll_create", "open": True, "poll": {**QUIZ, "duration_s": 600}}))["poll"]
    untimed = (await teacher.request({"type": "poll_create", "open": True, "poll": QUIZ}))["poll"]
    await an.request({"type": "poll_answer", "poll_id": timed["id"], "choices": [0, 2]})
    await close_all(teacher, an)
    await until("the lesson's room to close", lambda: demo.lesson_id not in app[ROOMS].rooms)

    async def time_passes(session: Any) -> None:  # the room stayed closed past the poll's time
        await session.execute(update(Poll).where(Poll.id == timed["id"]).values(closes_at=Poll.opened_at))

    await app[DATABASE].writer.write(time_passes)
    an = await connect(live_server, demo, login, demo.students[0])
    try:
        polls: dict[int, dict[str, Any]] = {}
        await until("the polls read back", lambda: {timed["id"], untimed["id"]} <= set(polls_known(an, polls)))
        assert polls[timed["id"]]["status"] == "closed" and polls[timed["id"]]["mine"]["answer"] == [0, 2]
        assert polls[untimed["id"]]["status"] == "open"
        assert await refused(an, {"type": "poll_answer", "poll_id": timed["id"], "choices": [0]}) == "conflict"
        await an.request({"type": "poll_answer", "poll_id": untimed["id"], "choices": [0]})

        async def written_closed() -> bool:
            async with app[DATABASE].session() as session:
                return (await session.get(Poll, timed["id"])).status == "closed"

        await until("the overdue poll written as closed", written_closed)
    finally:
        await an.close()
