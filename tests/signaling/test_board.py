"""The whiteboard in the live lesson with real WebSocket peers: concurrent changes converge (every
client's board, a late joiner's and the REST board are the same), students draw only when the
teacher lets them, hostile operations get typed errors and the session goes on, breakout groups
have their own boards (kept by the group's name), undo and redo reach everyone as concrete ops,
ink and the pointer are relayed and thinned out, the stage is the teacher's."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from school.demo import Credentials, DemoSchool
from school.models import Lesson
from signaling.client import LessonClient, ProtocolError
from signaling.board import change_offline
from tests.conftest import LiveServer, Login
from web.keys import DATABASE
from whiteboard.document import Board, replay

WAIT = 10.0


class Member:
    def __init__(self, client: LessonClient, user_id: int) -> None:
        self.client = client
        self.user_id = user_id
        self.board_id = client.joined["board"]["board"]
        self.seq = client.joined["board"]["seq"]
        self.ops: list[dict[str, Any]] = []
        """The board_op events this member got, in arrival order."""

    async def op(self, op: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return await self.client.request({"type": "board_op", "op": op, **extra})

    async def events_until(self, seq: int, board: str = "main") -> list[dict[str, Any]]:
        """The board_op events of `board` up to `seq` (collected in `ops`)."""
        while not self.ops or self.ops[-1]["seq"] < seq:
            self.ops.append(await self.client.next_event("board_op", timeout=WAIT, board=board))
        return self.ops


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


async def refused(code: str, request: Any) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        await request
    assert caught.value.code == code, caught.value
    return caught.value


def stroke(object_id: str, x: float = 100, n: int = 20, **extra: Any) -> dict[str, Any]:
    points = [[x + i * 3, 200 + (i % 5) * 7, 0.5] for i in range(n)]
    return {"id": object_id, "type": "stroke", "points": points, "color": "#1a2b3c", "width": 3, **extra}


def add(object_id: str, page: str = "p1", **extra: Any) -> dict[str, Any]:
    return {"kind": "add", "page": page, "object": stroke(object_id, **extra)}


def folded(events: list[dict[str, Any]]) -> dict[str, Any]:
    board = replay(e["op"] for e in sorted(events, key=lambda e: e["seq"]))
    return board.snapshot()


def state(view: dict[str, Any]) -> dict[str, Any]:
    return {"pages": view["pages"], "current": view["current"], "shown": view["shown"]}


async def test_concurrent_changes_converge_for_everyone_a_late_joiner_and_the_rest_board(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an, binh = await join_all(live_server, demo, login, demo.teacher, *demo.students[:2])
    late = None
    try:
        assert teacher.client.joined["board"]["board"] == "main"
        assert state(teacher.client.joined["board"]) == Board.new().snapshot()
        allowed = await teacher.client.request({"type": "board_allow", "everyone": True})
        assert allowed["everyone"] is True
        assert (await an.client.next_event("board_allow", timeout=WAIT))["everyone"] is True

        async def draw(member: Member, name: str, n: int) -> list[dict[str, Any]]:
            replies = []
            for k in range(n):
                replies.append(await member.op(add(f"{name}{k}", x=10 * k)))
            return replies

        # The teacher and An draw at once while Bình recolours one of the teacher's strokes.
        await teacher.op(add("t-first"))
        results = await asyncio.gather(
            draw(teacher, "t", 15), draw(an, "a", 15),
            binh.op({"kind": "update", "page": "p1", "id": "t-first", "set": {"color": "#ff0000"}}))
        replies = [r for part in results[:2] for r in part] + [results[2]]
        last = max(r["seq"] for r in replies)
        assert last == 1 + 15 + 15 + 1
        assert sorted(r["seq"] for r in replies) == list(range(2, last + 1))  # one seq each, no gap

        # Everyone got every op once, in seq order, and folds them into the same board.
        boards = []
        for member in (teacher, an, binh):
            events = await member.events_until(last)
            assert [e["seq"] for e in events] == list(range(1, last + 1))
            assert all(e["board"] == "main" and isinstance(e["at"], str) for e in events)
            boards.append(folded(events))
        assert boards[0] == boards[1] == boards[2]
        objects = boards[0]["pages"][0]["objects"]
        assert len(objects) == 31 and {"t-first", "a14", "t14"} <= {o["id"] for o in objects}
        assert next(o for o in objects if o["id"] == "t-first")["color"] == "#ff0000"
        by = {e["op"]["object"]["id"]: e["by"] for e in teacher.ops if e["op"]["kind"] == "add"}
        assert by["a3"] == an.user_id and by["t3"] == teacher.user_id

        late = await join(live_server, demo, login, demo.students[2])
        assert late.client.joined["board"]["seq"] == last
        assert state(late.client.joined["board"]) == boards[0]
        response = await client.get(f"/api/lessons/{demo.lesson_id}/board", headers=await login(demo.teacher))
        assert response.status == 200, await response.text()
        rest = await response.json()
        assert rest["seq"] == last and state(rest) == boards[0] and rest["published"] is False
    finally:
        await leave_all(*(m for m in (teacher, an, binh, late) if m is not None))


async def test_a_student_draws_only_when_the_teacher_lets_them(
    live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an, binh = await join_all(live_server, demo, login, demo.teacher, *demo.students[:2])
    try:
        assert an.client.joined["board"]["allow"] == {"everyone": False, "user_ids": []}
        await refused("forbidden", an.op(add("a1")))
        await refused("forbidden", an.client.request({"type": "board_ink", "stroke": stroke("a1", n=3)}))
        await refused("forbidden", an.client.request({"type": "board_allow", "everyone": True}))
        await refused("forbidden", an.client.request({"type": "board_get", "board": "main"}))

        allowed = await teacher.client.request({"type": "board_allow", "everyone": False, "user_ids": [an.user_id]})
        assert allowed == {"type": "ok", "id": allowed["id"], "board": "main", "everyone": False,
                           "user_ids": [an.user_id]}
        for student in (an, binh):
            event = await student.client.next_event("board_allow", timeout=WAIT)
            assert event["user_ids"] == [an.user_id] and event["everyone"] is False
        done = await an.op(add("a1"))
        assert done["seq"] == 1 and done["ops"] == [add("a1")]
        assert (await teacher.events_until(1))[-1]["by"] == an.user_id
        await refused("forbidden", binh.op(add("b1")))
        # Pages, turning and the stage stay the teacher's.
        await refused("forbidden", an.op({"kind": "clear", "page": "p1"}))
        await refused("forbidden", an.op({"kind": "turn", "index": 0}))
        await refused("forbidden", an.op({"kind": "show", "active": True}))
        await refused("forbidden", an.op({"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}}))

        # The teacher takes it back: An is refused again.
        await teacher.client.request({"type": "board_allow", "everyone": False, "user_ids": []})
        await refused("forbidden", an.op(add("a2")))
        await teacher.client.request({"type": "board_allow", "everyone": True})
        assert (await binh.op(add("b1")))["seq"] == 2
    finally:
        await leave_all(teacher, an, binh)


async def test_hostile_operations_get_typed_errors_and_the_session_goes_on(
    live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await join_all(live_server, demo, login, demo.teacher, demo.students[0])
    try:
        await refused("bad_message", teacher.op(add("far", x=1e9)))
        await refused("bad_message", teacher.op({"kind": "add", "page": "p1", "object": {
            "id": "t", "type": "text", "x": 10, "y": 10, "text": "x" * 5000, "size": 20, "color": "#000000"}}))
        await refused("bad_message", teacher.op({"kind": "explode", "page": "p1"}))
        await refused("bad_message", teacher.op({"kind": "add", "page": "p1", "object": {"id": "s", "type": "svg"}}))
        await refused("bad_message", teacher.op(add("bad id with spaces")))
        await refused("bad_message", teacher.op(add("nan", x=float("nan"))))
        await refused("bad_message", teacher.client.request({"type": "board_op", "op": [1, 2, 3]}))
        await refused("bad_message", teacher.client.request({"type": "board_op", "op": {"kind": "undo"}, "x": 1}))
        await refused("bad_message", teacher.op(add("c", color="red")))
        await refused("not_found", teacher.op(add("x", page="nope")))
        await refused("not_found", teacher.op({"kind": "update", "page": "p1", "id": "ghost", "set": {"width": 2}}))
        await refused("not_found", teacher.op({"kind": "turn", "index": 7}))
        await refused("not_found", teacher.client.request({"type": "board_get", "board": "g9"}))
        await refused("bad_message", teacher.client.request({"type": "board_get", "board": "<script>"}))
        await refused("bad_message", teacher.client.request({
            "type": "board_ink", "stroke": stroke("i", x=-1e12, n=3)}))
        await refused("bad_message", teacher.client.request({"type": "board_ink", "stroke": stroke("i", n=500)}))
        # Nothing of that reached the board; it still works.
        assert (await teacher.op(add("ok")))["seq"] == 1
        event = await an.client.next_event("board_op", timeout=WAIT)
        assert event["seq"] == 1 and event["op"]["object"]["id"] == "ok"
        assert (await teacher.client.request({"type": "ping"}))["type"] == "pong"

        # A stroke of 100,000 points is more than a message may hold (64 KiB): the connection is
        # closed as too big (1009) before anything reads it.
        await teacher.client.send_raw(json.dumps({"type": "board_op", "op": add("huge", n=100_000)}))
        await teacher.client.next_event("closed", timeout=WAIT)
        assert teacher.client._ws is not None and teacher.client._ws.close_code == 1009
        await teacher.client.close()
        # The board did not change and the lesson goes on: the teacher comes back and draws.
        teacher = await join(live_server, demo, login, demo.teacher)
        assert teacher.client.joined["board"]["seq"] == 1
        assert (await teacher.op(add("after")))["seq"] == 2
    finally:
        await leave_all(teacher, an)


async def test_undo_and_redo_reach_everyone_as_concrete_ops(
    live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await join_all(live_server, demo, login, demo.teacher, demo.students[0])
    try:
        await teacher.op(add("s1"))
        await teacher.op({"kind": "update", "page": "p1", "id": "s1", "set": {"width": 9}})
        undone = await teacher.op({"kind": "undo"})
        assert undone["seq"] == 3
        assert undone["ops"] == [{"kind": "update", "page": "p1", "id": "s1", "set": {"width": 3.0}}]
        undone = await teacher.op({"kind": "undo"})
        assert undone["ops"] == [{"kind": "delete", "page": "p1", "ids": ["s1"]}]
        redone = await teacher.op({"kind": "redo"})
        assert redone["seq"] == 5 and redone["ops"][0]["kind"] == "add"
        assert (await teacher.op({"kind": "redo"}))["ops"][0]["kind"] == "update"
        events = await an.events_until(6)
        assert [e["op"]["kind"] for e in events] == ["add", "update", "update", "delete", "add", "update"]
        assert all(e["by"] == teacher.user_id for e in events)
        assert folded(events)["pages"][0]["objects"] == [stroke("s1") | {"width": 9.0}]
        # Nothing left to redo: no op, no seq.
        empty = await teacher.op({"kind": "redo"})
        assert empty["ops"] == [] and empty["seq"] == 6
    finally:
        await leave_all(teacher, an)


async def test_breakout_groups_have_their_own_boards_kept_by_the_groups_names(
    live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an, binh = await join_all(live_server, demo, login, demo.teacher, *demo.students[:2])
    try:
        await teacher.op(add("main-1"))
        groups = [{"name": "Nhóm Xanh", "user_ids": [an.user_id]}, {"name": "Nhóm Đỏ", "user_ids": [binh.user_id]}]
        await teacher.client.request({"type": "breakouts_start", "groups": groups})
        g_an = (await an.client.next_event("board", timeout=WAIT))
        g_binh = (await binh.client.next_event("board", timeout=WAIT))
        assert g_an["board"] == "g1" and g_binh["board"] == "g2"
        assert g_an["seq"] == 0 and g_an["pages"][0]["objects"] == []

        # A group's members draw on their board when allowed; the other group never hears of it.
        await refused("forbidden", an.op(add("an-1")))
        await teacher.client.request({"type": "board_allow", "board": "g1", "everyone": True})
        assert (await an.client.next_event("board_allow", timeout=WAIT))["board"] == "g1"
        done = await an.op(add("an-1"))
        assert done["board"] == "g1" and done["seq"] == 1
        # A student names only the board of their own room.
        await refused("forbidden", an.op(add("an-2"), board="g2"))
        await refused("forbidden", an.op(add("an-2"), board="main"))
        # The teacher looks at the group's board and draws on it.
        looked = await teacher.client.request({"type": "board_get", "board": "g1"})
        assert looked["board"]["board"] == "g1"
        assert [o["id"] for o in looked["board"]["pages"][0]["objects"]] == ["an-1"]
        assert (await teacher.op(add("t-g1"), board="g1"))["seq"] == 2
        event = await an.client.next_event("board_op", timeout=WAIT, seq=2)
        assert event["board"] == "g1" and event["op"]["object"]["id"] == "t-g1"
        # Bình's group: its own board, nothing of g1's (the next op he hears is his group's).
        await teacher.op(add("t-g2"), board="g2")
        heard = await binh.client.next_event("board_op", timeout=WAIT)
        assert heard["board"] == "g2" and heard["seq"] == 1 and heard["op"]["object"]["id"] == "t-g2"
        # The show op is the main room's.
        await refused("bad_message", teacher.op({"kind": "show", "active": True}, board="g1"))

        # Groups end: everyone is back with the main board.
        await teacher.client.request({"type": "breakouts_end"})
        back = await an.client.next_event("board", timeout=WAIT, board="main")
        assert [o["id"] for o in back["pages"][0]["objects"]] == ["main-1"]
        # The same names again: the group's board is still there.
        await teacher.client.request({"type": "breakouts_start", "groups": groups})
        again = await an.client.next_event("board", timeout=WAIT, board="g3")
        assert again["seq"] == 2 and [o["id"] for o in again["pages"][0]["objects"]] == ["an-1", "t-g1"]
    finally:
        await leave_all(teacher, an, binh)


async def test_ink_and_the_pointer_are_relayed_thinned_out_and_not_stored(
    live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await join_all(live_server, demo, login, demo.teacher, demo.students[0])
    try:
        await refused("forbidden", an.client.request({"type": "board_pointer", "x": 10, "y": 10}))
        pointer = await teacher.client.request({"type": "board_pointer", "x": 800, "y": 450})
        assert pointer["relayed"] is True
        event = await an.client.next_event("board_pointer", timeout=WAIT)
        assert (event["x"], event["y"], event["user_id"], event["board"]) == (800, 450, teacher.user_id, "main")

        # A flood of ink without ids: some is relayed, the excess dropped silently.
        for k in range(200):
            await teacher.client.send_raw(json.dumps({"type": "board_ink", "page": "p1",
                                                      "stroke": stroke("live", n=3, x=k)}))
        done = await teacher.op(add("live"))  # the finished stroke (after the ink, on the same connection)
        got: list[dict[str, Any]] = []
        while True:  # what An hears before the finished stroke
            event = await asyncio.wait_for(an.client.events.get(), WAIT)
            if event["type"] == "board_op":
                break
            if event["type"] == "board_ink":
                got.append(event)
        assert event["seq"] == done["seq"] == 1
        assert 1 <= len(got) < 200
        assert got[0]["stroke"]["id"] == "live" and got[0]["page"] == "p1" and got[0]["user_id"] == teacher.user_id
        # The drawer is not sent their own ink.
        mine = [teacher.client.events.get_nowait() for _ in range(teacher.client.events.qsize())]
        assert not [e for e in mine if e["type"] in ("board_ink", "board_pointer")]
    finally:
        await leave_all(teacher, an)


async def test_the_stage_is_the_teachers_and_is_stored(
    client: TestClient, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await join_all(live_server, demo, login, demo.teacher, demo.students[0])
    try:
        await teacher.client.request({"type": "board_allow", "everyone": True})
        await refused("forbidden", an.op({"kind": "show", "active": True}))
        shown = await teacher.op({"kind": "show", "active": True})
        assert shown["ops"] == [{"kind": "show", "active": True}]
        event = await an.client.next_event("board_op", timeout=WAIT)
        assert event["op"] == {"kind": "show", "active": True}
    finally:
        await leave_all(teacher, an)
    # The room closed (everyone left): the store has it.
    response = await client.get(f"/api/lessons/{demo.lesson_id}/board", headers=await login(demo.teacher))
    body = await response.json()
    assert body["shown"] is True and body["seq"] == 1


async def test_a_failed_write_tells_no_one_the_op_and_everyone_gets_the_board_as_recorded(
    app: web.Application, live_server: LiveServer, demo: DemoSchool, login: Login,
) -> None:
    teacher, an = await join_all(live_server, demo, login, demo.teacher, demo.students[0])
    try:
        assert (await teacher.op(add("s1")))["seq"] == 1
        await an.events_until(1)
        # Another writer (as another server process would) takes seq 2 behind the room's back: the
        # room's next write collides with it and fails.
        async with app[DATABASE].session() as session:
            lesson = await session.get(Lesson, demo.lesson_id)
            assert lesson is not None
            school_id = lesson.school_id
        outside = await change_offline(app[DATABASE], school_id, demo.lesson_id, "main", add("outside"),
                                       teacher.user_id)
        assert outside["seq"] == 2
        await refused("internal", teacher.op(add("lost")))
        # Nobody heard of "lost"; everyone gets the board as the records have it.
        for member in (teacher, an):
            board = await member.client.next_event("board", timeout=WAIT)
            assert board["seq"] == 2
            assert [o["id"] for o in board["pages"][0]["objects"]] == ["s1", "outside"]
        assert not [e for e in list(an.client.events._queue)  # type: ignore[attr-defined]
                    if e.get("type") == "board_op"]
        # And the board goes on from there.
        assert (await teacher.op(add("s3")))["seq"] == 3
        event = await an.client.next_event("board_op", timeout=WAIT)
        assert event["seq"] == 3 and event["op"]["object"]["id"] == "s3"
    finally:
        await leave_all(teacher, an)
