"""The lesson's chat with real WebSocket peers: private messages reach only the two people,
students write to each other only when the teacher allows it, a late joiner (and a reopened room)
finds the history, group chat stays in its group, staff delete and block, and hostile input (HTML,
control characters, a huge message, a flood) gets typed answers while the session goes on."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from classroom.activity import LessonActivity
from classroom.chat import RATE_LIMIT, ChatMessage
from school.demo import Credentials, DemoSchool
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.waiting import until
from web.keys import DATABASE, ROOMS

WAIT = 10.0


class Member:
    """A connected participant of the lesson and their user id."""

    def __init__(self, client: LessonClient, user_id: int) -> None:
        self.client = client
        self.user_id = user_id

    async def say(self, text: str, **extra: Any) -> dict[str, Any]:
        return (await self.client.request({"type": "chat", "text": text, **extra}))["message"]

    async def heard(self) -> dict[str, Any]:
        """The next chat message this member receives."""
        return (await self.client.next_event("chat", timeout=WAIT))["message"]


async def join(live_server: LiveServer, demo: DemoSchool, login: Login, who: Credentials) -> Member:
    headers = await login(who)
    client = LessonClient(live_server.url, demo.lesson_id, headers["Authorization"].removeprefix("Bearer "))
    joined = await client.connect(auto_subscribe=False)
    me = next(p for p in joined["participants"] if p["participant_id"] == joined["participant_id"])
    return Member(client, me["user_id"])


async def join_all(live_server: LiveServer, demo: DemoSchool, login: Login, *who: Credentials) -> list[Member]:
    return list(await asyncio.gather(*(join(live_server, demo, login, w) for w in who)))


async def leave_all(*members: Member) -> None:
    await asyncio.gather(*(m.client.close() for m in members))


async def history(member: Member) -> list[dict[str, Any]]:
    """What this member found on joining: the joined reply's, completed by `chat_history` when the
    lesson's earlier messages were still being read."""
    chat = member.client.joined["chat"]
    if chat["complete"]:
        return chat["messages"]
    return (await member.client.next_event("chat_history", timeout=WAIT))["messages"]


async def refused(code: str, request: Any) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        await request
    assert caught.value.code == code, caught.value
    return caught.value


async def test_a_private_message_reaches_only_the_teacher_and_students_write_to_each_other_only_when_allowed(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an, binh, chi = await join_all(live_server, demo, login, demo.teacher, *demo.students[:3])
    try:
        sent = await an.say("Thưa cô, em chưa hiểu bài 2", to=teacher.user_id)
        assert sent["to"] == teacher.user_id and sent["from"] == an.user_id and sent["from_role"] == "student"
        got = await teacher.heard()
        assert got == sent | {"deleted_by": None, "deleted_at": None}  # staff's view: who deleted it, if anyone

        # The control: the next message everyone else hears is the teacher's public one, not An's.
        public = await teacher.say("Cả lớp làm bài 3")
        assert public["to"] is None and public["room"] == "main"
        for other in (binh, chi, an):
            assert (await other.heard())["id"] == public["id"]

        # Student to student: refused until the teacher allows it; then it reaches only Bình.
        await refused("forbidden", an.say("Bình ơi", to=binh.user_id))
        await refused("forbidden", an.client.request({"type": "chat_policy", "private_between_students": True}))
        policy = await teacher.client.request({"type": "chat_policy", "private_between_students": True})
        assert policy["policy"] == {"private_between_students": True}
        for student in (an, binh, chi):
            assert (await student.client.next_event("chat_policy", timeout=WAIT))["private_between_students"] is True
        whisper = await an.say("Bình ơi, bài 3 làm sao?", to=binh.user_id)
        assert (await binh.heard())["id"] == whisper["id"]
        # The teacher writes privately to Chi: only Chi hears it.
        note = await teacher.say("Chi ở lại sau giờ nhé", to=chi.user_id)
        assert (await chi.heard())["id"] == note["id"]
        control = await teacher.say("Hết giờ")
        for other in (an, binh, chi):
            assert (await other.heard())["id"] == control["id"]
        # Nor did the teacher hear the students' private thread: the next the teacher hears is Chi's answer.
        answer = await chi.say("Dạ vâng ạ")
        assert (await teacher.heard())["id"] == answer["id"]

        # Someone outside the lesson cannot be written to.
        await refused("not_found", an.say("?", to=999999))
        await refused("bad_message", an.say("tự nói", to=an.user_id))
    finally:
        await leave_all(teacher, an, binh, chi)


async def test_a_late_joiner_finds_the_history_and_a_reopened_room_reads_it_back(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await join_all(live_server, demo, login, demo.teacher, demo.students[0])
    first = await an.say("Em chào cô")
    second = await teacher.say("Chào cả lớp")
    private = await an.say("Em xin phép ra ngoài", to=teacher.user_id)
    reply = await teacher.say("Ừ em", to=an.user_id)

    binh, observer = await join_all(live_server, demo, login, demo.students[1], demo.admin)
    seen = await history(binh)
    assert [m["id"] for m in seen] == [first["id"], second["id"]]  # not An's private thread
    assert seen[0]["text"] == "Em chào cô" and seen[0]["from_name"] == "Lê Văn An"
    assert binh.client.joined["chat"]["blocked"] is False
    assert binh.client.joined["chat"]["policy"] == {"private_between_students": False}
    # Staff see everything, the private thread included.
    assert [m["id"] for m in await history(observer)] == [first["id"], second["id"], private["id"], reply["id"]]

    await leave_all(teacher, an, binh, observer)
    await until("the lesson's room to close", lambda: demo.lesson_id not in app[ROOMS].rooms)
    an_again, = await join_all(live_server, demo, login, demo.students[0])
    try:
        assert [m["id"] for m in await history(an_again)] == [first["id"], second["id"], private["id"], reply["id"]]
    finally:
        await leave_all(an_again)


async def test_group_chat_stays_within_its_group(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, a1, a2, b1, b2 = await join_all(live_server, demo, login, demo.teacher, *demo.students)
    try:
        before = await teacher.say("Chia nhóm nhé")
        for student in (a1, a2, b1, b2):
            assert (await student.heard())["id"] == before["id"]
        started = await teacher.client.request({"type": "breakouts_start", "groups": [
            {"name": "Nhóm 1", "user_ids": [a1.user_id, a2.user_id]},
            {"name": "Nhóm 2", "user_ids": [b1.user_id, b2.user_id]}]})
        g1, g2 = (g["id"] for g in started["breakouts"]["groups"])
        for student, group in ((a1, g1), (a2, g1), (b1, g2), (b2, g2)):
            await student.client.next_event("room", timeout=WAIT, room=group)
            # On moving, a student finds the new room's chat: the main room's public messages stay theirs.
            moved = await student.client.next_event("chat_history", timeout=WAIT)
            assert [m["id"] for m in moved["messages"]] == [before["id"]]

        in_group = await a1.say("Nhóm mình làm câu 1 trước")
        assert in_group["room"] == g1
        assert (await a2.heard())["id"] == in_group["id"]
        assert (await teacher.heard())["id"] == in_group["id"]  # staff see every room
        await refused("forbidden", a1.say("Nhóm 2 ơi", room=g2))

        to_group2 = await teacher.say("Nhóm 2 nhanh lên", room=g2)
        assert to_group2["room"] == g2
        for student in (b1, b2):
            assert (await student.heard())["id"] == to_group2["id"]
        await refused("not_found", teacher.say("?", room="g99"))
        everyone = await teacher.say("Còn 5 phút", room="main")
        assert everyone["room"] == "main"
        # Group 1 heard neither group 2's message nor the (empty) main room's: the next it hears is its own.
        later = await a2.say("Xong câu 1")
        assert (await a1.heard())["id"] == later["id"]
        control = await b2.say("Nhóm 2 xong")
        assert (await b1.heard())["id"] == control["id"]  # nor did group 2 hear group 1

        # Back in the main room, a student finds the main room's chat again
        await teacher.client.request({"type": "breakouts_end"})
        await a1.client.next_event("room", timeout=WAIT, room="main")
        back = await a1.client.next_event("chat_history", timeout=WAIT)
        # (the main room's messages, and what An wrote in the group; the group's other messages stay the group's)
        assert [m["id"] for m in back["messages"]] == [before["id"], in_group["id"], everyone["id"]]
    finally:
        await leave_all(teacher, a1, a2, b1, b2)


async def test_staff_delete_a_message_and_stop_a_students_chat(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an, binh = await join_all(live_server, demo, login, demo.teacher, *demo.students[:2])
    late: list[Member] = []
    try:
        rude = await an.say("nội dung không phù hợp")
        assert (await binh.heard())["id"] == rude["id"]
        await refused("forbidden", binh.client.request({"type": "chat_delete", "message_id": rude["id"]}))
        deleted = await teacher.client.request({"type": "chat_delete", "message_id": rude["id"]})
        assert deleted["message_id"] == rude["id"] and deleted["deleted_by"] == teacher.user_id
        for student in (an, binh):
            assert (await student.client.next_event("chat_deleted", timeout=WAIT))["message_id"] == rude["id"]
        await refused("not_found", teacher.client.request({"type": "chat_delete", "message_id": 999999}))

        # The record stays: students find it blanked, staff with its text and who deleted it.
        late = await join_all(live_server, demo, login, demo.students[2], demo.admin)
        chi, observer = late
        blank = next(m for m in await history(chi) if m["id"] == rude["id"])
        assert blank["deleted"] is True and blank["text"] == "" and "deleted_by" not in blank
        kept = next(m for m in await history(observer) if m["id"] == rude["id"])
        assert kept["text"] == "nội dung không phù hợp" and kept["deleted_by"] == teacher.user_id
        async with app[DATABASE].session() as session:
            row = await session.get(ChatMessage, rude["id"])
            assert row is not None and row.text == "nội dung không phù hợp" and row.deleted_by == teacher.user_id

        # Stopping An's chat: An and the staff are told; An's messages are refused until it is turned on.
        await refused("forbidden", binh.client.request({"type": "chat_block", "user_id": an.user_id, "blocked": True}))
        blocked = await teacher.client.request({"type": "chat_block", "user_id": an.user_id, "blocked": True})
        assert blocked == {"type": "ok", "user_id": an.user_id, "blocked": True, "id": blocked["id"]}
        assert (await an.client.next_event("chat_blocked", timeout=WAIT))["blocked"] is True
        assert (await observer.client.next_event("chat_blocked", timeout=WAIT))["user_id"] == an.user_id
        await refused("forbidden", an.say("cho em nói"))
        await refused("forbidden", an.say("thưa cô", to=teacher.user_id))
        await refused("not_found", teacher.client.request({"type": "chat_block", "user_id": teacher.user_id,
                                                           "blocked": True}))
        await teacher.client.request({"type": "chat_block", "user_id": an.user_id, "blocked": False})
        assert (await an.client.next_event("chat_blocked", timeout=WAIT))["blocked"] is False
        again = await an.say("Em xin lỗi")
        assert (await binh.heard())["id"] == again["id"]
        async with app[DATABASE].session() as session:
            kinds = list(await session.scalars(select(LessonActivity.kind).where(
                LessonActivity.lesson_id == demo.lesson_id, LessonActivity.user_id == an.user_id)
                .order_by(LessonActivity.id)))
        assert kinds == ["chat_blocked", "chat_unblocked"]
    finally:
        await leave_all(teacher, an, binh, *late)


async def test_hostile_input_gets_typed_answers_and_the_session_goes_on(
    client: TestClient, app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an, binh = await join_all(live_server, demo, login, demo.teacher, *demo.students[:2])
    try:
        html = '<script>alert("x")</script><img src=x onerror=alert(1)> & <b>đậm</b>'
        sent = await an.say(html)
        assert sent["text"] == html
        assert (await teacher.heard())["text"] == html
        cleaned = await an.say("  a\x00b\x1b\r\nc\td\u202e \x7f ")
        assert cleaned["text"] == "ab\nc\td\u202e"
        await refused("bad_message", an.say(" \x00\n\t "))
        await refused("bad_message", an.say("x" * 1001))
        await refused("bad_message", an.client.request({"type": "chat", "text": 5}))
        await refused("bad_message", an.client.request({"type": "chat", "text": "hi", "extra": 1}))
        await refused("too_large", an.say("x" * 1_000_000))
        assert (await an.client.request({"type": "ping"}))["type"] == "pong"
        async with app[DATABASE].session() as session:
            stored = list(await session.scalars(select(ChatMessage.text).where(ChatMessage.sender_id == an.user_id)
                                                .order_by(ChatMessage.id)))
        assert stored == [html, "ab\nc\td\u202e"]

        # A flood: the first RATE_LIMIT are taken, the rest refused with when to try again; nothing breaks.
        answers = await asyncio.gather(*(binh.say(f"spam {i}") for i in range(50)), return_exceptions=True)
        taken = [a for a in answers if isinstance(a, dict)]
        limited = [a for a in answers if isinstance(a, ProtocolError)]
        assert len(taken) == RATE_LIMIT and len(limited) == 50 - RATE_LIMIT
        assert all(e.code == "rate_limited" and e.retry_after is not None and 0 < e.retry_after <= 10
                   for e in limited)
        assert [m["text"] for m in taken] == [f"spam {i}" for i in range(RATE_LIMIT)]  # in the order sent
        assert (await binh.client.request({"type": "ping"}))["type"] == "pong"
        assert (await teacher.say("Vẫn ổn"))["text"] == "Vẫn ổn"
        async with app[DATABASE].session() as session:
            flood = list(await session.scalars(select(ChatMessage.id).where(ChatMessage.sender_id == binh.user_id)))
        assert len(flood) == RATE_LIMIT
    finally:
        await leave_all(teacher, an, binh)
