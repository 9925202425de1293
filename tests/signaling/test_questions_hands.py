"""Questions, raised hands and reactions in a live lesson, with real WebSocket peers: what each one
sees, who may do what, what the records keep, and what a room opened again still knows."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from classroom.activity import LessonActivity
from classroom.questions import LessonQuestion, LessonQuestionVote
from school.demo import DemoSchool
from signaling.client import LessonClient, ProtocolError
from tests.conftest import LiveServer, Login
from tests.waiting import until
from web.keys import DATABASE, ROOMS

WAIT = 10.0


@pytest.fixture
async def clients() -> Any:
    made: list[LessonClient] = []
    yield made
    for client in made:
        await client.close()


@pytest.fixture
def connect(live_server: LiveServer, demo: DemoSchool, login: Login, clients: list[LessonClient]) -> Any:
    async def join(who: Any) -> LessonClient:
        token = (await login(who))["Authorization"].removeprefix("Bearer ")
        client = LessonClient(live_server.url, demo.lesson_id, token)
        clients.append(client)
        await client.connect(auto_subscribe=False)
        return client

    return join


async def refused(code: str, client: LessonClient, message: dict[str, Any]) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        await client.request(message)
    assert caught.value.code == code, caught.value
    return caught.value


async def event_where(client: LessonClient, type_: str, holds: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first event of this type for which `holds` is true (earlier ones are skipped)."""
    async def wait() -> dict[str, Any]:
        while True:
            event = await client.next_event(type_, timeout=WAIT)
            if holds(event):
                return event
    return await asyncio.wait_for(wait(), WAIT)


async def no_event(client: LessonClient, type_: str) -> None:
    """Nothing of this type is waiting for the client (after a round trip that follows it)."""
    await client.request({"type": "ping"})
    while not client.events.empty():
        assert client.events.get_nowait().get("type") != type_


async def rows(app: web.Application, query: Any) -> list[Any]:
    async with app[DATABASE].session() as session:
        return list((await session.execute(query)).scalars())


def user_of(client: LessonClient) -> int:
    pid = client.joined["participant_id"]
    return next(p["user_id"] for p in client.joined["participants"] if p["participant_id"] == pid)


# --- questions ----------------------------------------------------------------------------------
async def test_asked_voted_answered_hidden_and_reopened(app: web.Application, demo: DemoSchool, connect: Any) -> None:
    teacher = await connect(demo.teacher)
    an, binh, chi = await asyncio.gather(*(connect(s) for s in demo.students[:3]))
    assert an.joined["questions"] == {"items": [], "my_votes": []}

    text = "<b>Vì sao</b> <script>alert(1)</script> trời xanh?"
    asked = (await an.request({"type": "question_ask", "text": f"  {text}\n"}))["question"]
    assert asked["text"] == text  # kept as typed (plain text), trimmed
    assert (asked["author_id"], asked["author_name"], asked["votes"], asked["status"]) == (
        user_of(an), "Lê Văn An", 0, "open")
    for client in (teacher, binh, chi):
        assert (await client.next_event("question"))["question"] == asked
    qid = asked["id"]

    await refused("forbidden", an, {"type": "question_vote", "question_id": qid, "vote": True})
    voted = await binh.request({"type": "question_vote", "question_id": qid, "vote": True})
    assert voted["question"]["votes"] == 1
    assert (await binh.request({"type": "question_vote", "question_id": qid, "vote": True}))["question"]["votes"] == 1
    await chi.request({"type": "question_vote", "question_id": qid, "vote": True})
    assert (await event_where(an, "question", lambda e: e["question"]["votes"] == 2))["question"]["id"] == qid
    assert (await chi.request({"type": "question_vote", "question_id": qid, "vote": False}))["question"]["votes"] == 1
    votes = await rows(app, select(LessonQuestionVote.user_id).where(LessonQuestionVote.question_id == qid))
    assert votes == [user_of(binh)]

    for message in ({"type": "question_answer", "question_id": qid, "text": "Vì tán xạ."},
                    {"type": "question_status", "question_id": qid, "status": "hidden"}):
        await refused("forbidden", binh, message)
    answered = (await teacher.request({"type": "question_answer", "question_id": qid, "text": "Vì <i>tán xạ</i>."}))
    assert (answered["question"]["status"], answered["question"]["answer"]) == ("answered", "Vì <i>tán xạ</i>.")
    assert answered["question"]["answered_live"] is False
    seen = await event_where(chi, "question", lambda e: e["question"]["status"] == "answered")
    assert seen["question"]["answer"] == "Vì <i>tán xạ</i>."
    live = (await teacher.request({"type": "question_answer", "question_id": qid, "live": True}))["question"]
    assert (live["answered_live"], live["answer"]) == (True, "Vì <i>tán xạ</i>.")

    # Hidden: the other students are told it is gone and no longer get it; its author still does.
    hidden = (await teacher.request({"type": "question_status", "question_id": qid, "status": "hidden"}))["question"]
    assert hidden["status"] == "hidden"
    for client in (binh, chi):
        assert (await client.next_event("question_hidden"))["question_id"] == qid
    assert (await event_where(an, "question", lambda e: e["question"]["status"] == "hidden"))["question"]["id"] == qid
    await refused("not_found", chi, {"type": "question_vote", "question_id": qid, "vote": True})
    await teacher.request({"type": "question_vote", "question_id": qid, "vote": True})  # staff may vote
    await no_event(chi, "question")
    await event_where(an, "question", lambda e: e["question"]["votes"] == 2)
    dung = await connect(demo.students[3])
    assert dung.joined["questions"]["items"] == []  # a late joiner never sees a hidden question
    again = await connect(demo.students[0])  # the author, in a new session
    assert [q["id"] for q in again.joined["questions"]["items"]] == [qid]
    binh_again = await connect(demo.students[1])
    assert binh_again.joined["questions"] == {"items": [], "my_votes": []}

    reopened = (await teacher.request({"type": "question_status", "question_id": qid, "status": "open"}))["question"]
    assert (reopened["status"], reopened["votes"]) == ("open", 2)
    assert (await dung.next_event("question"))["question"]["text"] == text
    done = (await teacher.request({"type": "question_status", "question_id": qid, "status": "done"}))["question"]
    assert done["status"] == "done"
    [row] = await rows(app, select(LessonQuestion).where(LessonQuestion.id == qid))
    assert (row.status, row.answer_text, row.answered_live, row.text) == ("done", "Vì <i>tán xạ</i>.", True, text)


async def test_questions_outlive_the_room_and_a_late_joiner_finds_them(
    app: web.Application, demo: DemoSchool, connect: Any, clients: list[LessonClient]
) -> None:
    an, binh = await asyncio.gather(*(connect(s) for s in demo.students[:2]))
    teacher = await connect(demo.teacher)
    first = (await an.request({"type": "question_ask", "text": "Câu hỏi một"}))["question"]
    second = (await binh.request({"type": "question_ask", "text": "Câu hỏi hai"}))["question"]
    await binh.request({"type": "question_vote", "question_id": first["id"], "vote": True})
    await teacher.request({"type": "question_status", "question_id": second["id"], "status": "hidden"})
    for client in list(clients):
        await client.close()
    clients.clear()
    await until("the lesson's room closed", lambda: demo.lesson_id not in app[ROOMS].rooms)

    # A new room: the first to arrive, and the ones right behind, find what the records hold.
    chi, binh, teacher = await asyncio.gather(*(connect(w) for w in (demo.students[2], demo.students[1], demo.teacher)))
    assert [(q["id"], q["votes"], q["author_name"]) for q in chi.joined["questions"]["items"]] == [
        (first["id"], 1, "Lê Văn An")]
    assert binh.joined["questions"]["my_votes"] == [first["id"]]
    assert [q["id"] for q in binh.joined["questions"]["items"]] == [first["id"], second["id"]]  # own hidden one
    assert [q["status"] for q in teacher.joined["questions"]["items"]] == ["open", "hidden"]
    # The reopened room goes on from the records: a vote taken back, a new question after the old ones.
    assert (await binh.request({"type": "question_vote", "question_id": first["id"], "vote": False}))[
        "question"]["votes"] == 0
    third = (await chi.request({"type": "question_ask", "text": "Câu hỏi ba"}))["question"]
    assert third["id"] > second["id"]


async def test_a_flood_of_questions_and_hostile_input_get_typed_refusals(
    app: web.Application, demo: DemoSchool, connect: Any
) -> None:
    an = await connect(demo.students[0])
    teacher = await connect(demo.teacher)
    for n in range(3):
        await an.request({"type": "question_ask", "text": f"Câu {n}"})
    limited = await refused("rate_limited", an, {"type": "question_ask", "text": "Câu thứ tư"})
    assert limited.retry_after is not None and 0 < limited.retry_after <= 30
    asked = await rows(app, select(LessonQuestion.text).where(LessonQuestion.lesson_id == demo.lesson_id))
    assert asked == ["Câu 0", "Câu 1", "Câu 2"]  # the refused one was never written

    qid = (await teacher.request({"type": "question_ask", "text": "Câu của giáo viên"}))["question"]["id"]
    for message in (
        {"type": "question_ask", "text": "x" * 501},
        {"type": "question_ask", "text": " \n\t "},
        {"type": "question_ask", "text": ["a"]},
        {"type": "question_ask", "text": "hợp lệ", "author_id": 1},
        {"type": "question_vote", "question_id": qid, "vote": "yes"},
        {"type": "question_vote", "question_id": 0, "vote": True},
        {"type": "question_status", "question_id": qid, "status": "answered"},
        {"type": "question_answer", "question_id": qid, "text": "y" * 2001},
        {"type": "question_answer", "question_id": qid},
    ):
        await refused("bad_message", teacher if message["type"] != "question_ask" else an, message)
    await refused("not_found", an, {"type": "question_vote", "question_id": 99999, "vote": True})
    await refused("not_found", teacher, {"type": "question_status", "question_id": 99999, "status": "done"})
    [row] = await rows(app, select(LessonQuestion).where(LessonQuestion.id == qid))
    assert (row.status, row.answer_text) == ("open", None)


# --- hands --------------------------------------------------------------------------------------
async def test_hands_queue_in_order_of_arrival_and_the_teacher_lowers_them(
    app: web.Application, demo: DemoSchool, connect: Any, admin: dict[str, str]
) -> None:
    teacher = await connect(demo.teacher)
    students = list(await asyncio.gather(*(connect(s) for s in demo.students[:4])))
    an, binh, chi, dung = students
    assert teacher.joined["hands"] == {"queue": []}

    replies = await asyncio.gather(*(s.request({"type": "hand", "raised": True}) for s in (an, binh, chi)))
    assert all(r["raised"] for r in replies)
    shown: list[list[int]] = []
    while len(shown) < 3:
        shown.append([h["user_id"] for h in (await teacher.next_event("hands"))["queue"]])
    queue = shown[-1]
    assert sorted(queue) == sorted(user_of(s) for s in (an, binh, chi))
    assert all(queue[:len(seen)] == seen for seen in shown)  # nobody ever jumped ahead of someone shown
    raised = await rows(app, select(LessonActivity).where(LessonActivity.kind == "hand_raised")
                        .order_by(LessonActivity.id))
    assert [r.user_id for r in raised] == queue  # the queue is the order the server took them in
    await dung.request({"type": "hand", "raised": True})
    last = await dung.request({"type": "hand", "raised": True})  # raising twice keeps one place
    assert [h["user_id"] for h in last["queue"]] == queue + [user_of(dung)]
    assert last["queue"][-1]["full_name"] == "Vũ Tiến Dũng"
    assert last["queue"][-1]["participant_id"] == dung.joined["participant_id"]

    for student_may_not in ({"type": "hand_lower", "user_id": user_of(an)}, {"type": "hand_lower", "user_id": None},
                            {"type": "floor", "user_id": user_of(an)}):
        await refused("forbidden", binh, student_may_not)
    await refused("forbidden", teacher, {"type": "hand", "raised": True})
    await refused("bad_message", teacher, {"type": "hand_lower", "user_id": "all"})

    lowered = await teacher.request({"type": "hand_lower", "user_id": queue[1]})
    assert [h["user_id"] for h in lowered["queue"]] == [queue[0], queue[2], user_of(dung)]
    who = next(s for s in students if user_of(s) == queue[1])
    assert (await who.next_event("hand_lowered"))["by"] == "teacher"
    await refused("not_found", teacher, {"type": "hand_lower", "user_id": queue[1]})
    own = await dung.request({"type": "hand", "raised": False})
    assert (own["raised"], [h["user_id"] for h in own["queue"]]) == (False, [queue[0], queue[2]])

    token = admin["Authorization"].removeprefix("Bearer ")
    observer = LessonClient(teacher.base_url, demo.lesson_id, token)
    await observer.connect(auto_subscribe=False)
    try:
        assert [h["user_id"] for h in observer.joined["hands"]["queue"]] == [queue[0], queue[2]]
        await refused("forbidden", observer, {"type": "floor", "user_id": queue[0]})
        everyone = await observer.request({"type": "hand_lower", "user_id": None})  # an observer may lower them
        assert everyone["queue"] == [] and sorted(everyone["lowered"]) == sorted([queue[0], queue[2]])
    finally:
        await observer.close()
    for user_id in (queue[0], queue[2]):
        assert (await next(s for s in students if user_of(s) == user_id).next_event("hand_lowered"))["by"] == "teacher"
    assert (await event_where(teacher, "hands", lambda e: e["queue"] == []))["queue"] == []
    log = await rows(app, select(LessonActivity).where(LessonActivity.kind == "hand_lowered")
                     .order_by(LessonActivity.id))
    assert [(r.user_id, r.by_id is None) for r in log] == [
        (queue[1], False), (user_of(dung), True), (queue[0], False), (queue[2], False)]


async def test_the_floor_lowers_the_hand_and_allows_the_microphone(
    app: web.Application, demo: DemoSchool, connect: Any
) -> None:
    teacher = await connect(demo.teacher)
    an, binh = await asyncio.gather(*(connect(s) for s in demo.students[:2]))
    await teacher.request({"type": "permit", "participant_id": an.joined["participant_id"], "source": "mic",
                           "allowed": False})
    assert (await an.next_event("permissions"))["permissions"]["mic"] is False
    await an.request({"type": "hand", "raised": True})
    await binh.request({"type": "hand", "raised": True})

    given = await teacher.request({"type": "floor", "user_id": user_of(an)})
    assert given["permissions"]["mic"] is True
    assert [h["user_id"] for h in given["queue"]] == [user_of(binh)]
    assert (await an.next_event("permissions"))["permissions"]["mic"] is True
    for client in (an, binh):
        floor = await client.next_event("floor")
        assert (floor["user_id"], floor["full_name"]) == (user_of(an), "Lê Văn An")
    assert [h["user_id"] for h in (await event_where(binh, "hands", lambda e: len(e["queue"]) == 1))["queue"]] == [
        user_of(binh)]
    [row] = await rows(app, select(LessonActivity).where(LessonActivity.kind == "floor_given"))
    assert (row.user_id, row.by_id) == (user_of(an), user_of(teacher))
    await refused("not_found", teacher, {"type": "floor", "user_id": user_of(teacher)})
    await refused("not_found", teacher, {"type": "floor", "user_id": 424242})


async def test_leaving_lowers_the_hand_and_a_reconnection_keeps_its_place(
    app: web.Application, demo: DemoSchool, connect: Any, clients: list[LessonClient]
) -> None:
    teacher = await connect(demo.teacher)
    an, binh, chi = await asyncio.gather(*(connect(s) for s in demo.students[:3]))
    for student in (an, binh, chi):
        await student.request({"type": "hand", "raised": True})
    await event_where(teacher, "hands", lambda e: len(e["queue"]) == 3)
    await chi.close()
    left = await event_where(teacher, "hands", lambda e: user_of(chi) not in [h["user_id"] for h in e["queue"]])
    assert [h["user_id"] for h in left["queue"]] == [user_of(an), user_of(binh)]
    await until("the leave in the activity log", lambda: rows(
        app, select(LessonActivity).where(LessonActivity.kind == "hand_lowered", LessonActivity.detail == "left")))

    an_again = await connect(demo.students[0])  # replaces An's session
    assert [(h["user_id"], h["participant_id"]) for h in an_again.joined["hands"]["queue"]] == [
        (user_of(an), an_again.joined["participant_id"]), (user_of(binh), binh.joined["participant_id"])]
    lowered = await an_again.request({"type": "hand", "raised": False})
    assert [h["user_id"] for h in lowered["queue"]] == [user_of(binh)]


# --- reactions ----------------------------------------------------------------------------------
def counts(understood: int = 0, confused: int = 0, thumbs_up: int = 0) -> dict[str, int]:
    return {"understood": understood, "confused": confused, "thumbs_up": thumbs_up}


async def test_reactions_counts_for_everyone_and_who_for_staff(
    app: web.Application, demo: DemoSchool, connect: Any
) -> None:
    teacher = await connect(demo.teacher)
    an, binh, chi = await asyncio.gather(*(connect(s) for s in demo.students[:3]))
    assert an.joined["reactions"] == {"counts": counts(), "mine": None}
    assert teacher.joined["reactions"] == {"counts": counts(), "by_user": {}, "mine": None}

    await asyncio.gather(an.request({"type": "react", "reaction": "understood"}),
                         binh.request({"type": "react", "reaction": "confused"}),
                         chi.request({"type": "react", "reaction": "understood"}))
    staff = await event_where(teacher, "reactions", lambda e: e["counts"] == counts(2, 1))
    assert staff["by_user"] == {str(user_of(an)): "understood", str(user_of(binh)): "confused",
                                str(user_of(chi)): "understood"}
    seen = await event_where(binh, "reactions", lambda e: e["counts"] == counts(2, 1))
    assert "by_user" not in seen  # students never learn who reacted how

    changed = await an.request({"type": "react", "reaction": "thumbs_up"})
    assert (changed["reaction"], changed["counts"]) == ("thumbs_up", counts(1, 1, 1))
    cleared = await binh.request({"type": "react", "reaction": None})
    assert (cleared["reaction"], cleared["counts"]) == (None, counts(1, 0, 1))
    late = await connect(demo.students[3])
    assert late.joined["reactions"] == {"counts": counts(1, 0, 1), "mine": None}

    await refused("forbidden", an, {"type": "reactions_clear"})
    await refused("forbidden", teacher, {"type": "react", "reaction": "understood"})
    await refused("bad_message", an, {"type": "react", "reaction": "<img src=x onerror=alert(1)>"})
    assert (await teacher.request({"type": "reactions_clear"}))["counts"] == counts()
    await event_where(chi, "reactions", lambda e: e["counts"] == counts())
    again = await connect(demo.students[2])
    assert again.joined["reactions"]["mine"] is None

    logged = await rows(app, select(LessonActivity).where(LessonActivity.kind == "reaction")
                        .order_by(LessonActivity.id))
    assert sorted((r.user_id, r.detail) for r in logged) == sorted([
        (user_of(an), "understood"), (user_of(binh), "confused"), (user_of(chi), "understood"),
        (user_of(an), "thumbs_up")])


async def test_a_flood_of_hands_and_reactions_is_refused(demo: DemoSchool, connect: Any) -> None:
    an = await connect(demo.students[0])
    for n in range(10):
        await an.request({"type": "react", "reaction": "understood" if n % 2 else "confused"})
    await refused("rate_limited", an, {"type": "react", "reaction": "thumbs_up"})
    for n in range(10):
        await an.request({"type": "hand", "raised": n % 2 == 0})
    await refused("rate_limited", an, {"type": "hand", "raised": True})
