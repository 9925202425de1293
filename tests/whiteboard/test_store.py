"""The board store on a real, migrated SQLite file: the op log read back, snapshots every 500 ops,
ops by time, publishing and copying a board into another lesson."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import migrations
from storage.database import Database, sqlite_url
from whiteboard.document import Board, BoardError, replay
from whiteboard.models import BoardOp, BoardSnapshot
from whiteboard.store import SNAPSHOT_EVERY, BoardNotEmpty, BoardStore, build_ops

SCHOOL, LESSON, NEXT_LESSON = 1, 30, 31
TEACHER, ANH = 7, 8
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(sqlite_url(tmp_path), strict=True)
    await migrations.upgrade(database)
    yield database
    await database.close()


def rect(oid: str, x1: float = 0) -> dict[str, Any]:
    return {"id": oid, "type": "rect", "x1": x1, "y1": 0, "x2": x1 + 30, "y2": 30, "color": "#ff0000", "width": 2}


class Live:
    """What the room does: apply an op to the live board, number its concrete ops, append them."""

    def __init__(self, store: BoardStore, board_id: int, board: Board, seq: int) -> None:
        self.store, self.board_id, self.board, self.seq = store, board_id, board, seq

    def apply(self, op: dict[str, Any], user_id: int, at: datetime) -> list[tuple[int, int, datetime, dict[str, Any]]]:
        entries = []
        for concrete in self.board.apply(op, user_id):
            self.seq += 1
            entries.append((self.seq, user_id, at, concrete))
        return entries

    async def send(self, op: dict[str, Any], user_id: int = TEACHER, at: datetime = T0) -> None:
        await self.store.append(self.board_id, self.apply(op, user_id, at))


async def live(store: BoardStore, lesson_id: int = LESSON, room: str = "main") -> Live:
    return Live(store, *await store.load(SCHOOL, lesson_id, room))


async def test_appended_ops_are_read_back_by_another_connection_as_the_live_board(db: Database) -> None:
    room = await live(BoardStore(db))
    assert room.seq == 0 and room.board.snapshot() == Board.new().snapshot()
    await room.send({"kind": "add", "page": "p1", "object": rect("a")}, ANH)
    await room.send({"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}})
    await room.send({"kind": "update", "page": "p1", "id": "a", "set": {"x1": 200}}, ANH)
    await room.send({"kind": "clear", "page": "p1"})
    await room.send({"kind": "undo"})  # one concrete op: the clear's inverse re-adds its one object
    await room.send({"kind": "turn", "index": 1})
    other = Database(db.url, strict=True)  # committed, not just buffered
    try:
        board_id, board, seq = await BoardStore(other).load(SCHOOL, LESSON, "main")
    finally:
        await other.close()
    assert (board_id, seq) == (room.board_id, room.seq) == (room.board_id, 6)
    assert board.seq == 6 and board.snapshot() == room.board.snapshot()
    assert (await BoardStore(db).load(SCHOOL, LESSON, "main"))[0] == board_id, "one board per lesson and room"
    assert (await BoardStore(db).load(SCHOOL, LESSON, "Nhóm 1"))[0] != board_id, "a group's board is its own"


async def test_several_ops_are_appended_in_one_write(db: Database) -> None:
    store = BoardStore(db)
    room = await live(store)
    entries = [entry for i in range(5) for entry in room.apply({"kind": "add", "page": "p1", "object": rect(f"r{i}")},
                                                                ANH, T0)]
    committed = db.writer.writes_committed
    await store.append(room.board_id, entries)
    assert db.writer.writes_committed == committed + 1
    assert [entry["seq"] for entry in await store.ops(LESSON)] == [1, 2, 3, 4, 5]


async def test_a_seq_taken_twice_is_refused_and_the_first_op_stays(db: Database) -> None:
    store = BoardStore(db)
    room = await live(store)
    await room.send({"kind": "add", "page": "p1", "object": rect("a")})
    with pytest.raises(IntegrityError):
        await store.append(room.board_id, [(1, ANH, T0, {"kind": "add", "page": "p1", "object": rect("b")})])
    assert [entry["op"]["object"]["id"] for entry in await store.ops(LESSON)] == ["a"]


async def test_a_snapshot_is_written_after_500_ops_and_loading_equals_the_live_board(db: Database) -> None:
    store = BoardStore(db)
    room = await live(store)
    live_at: dict[int, dict[str, Any]] = {}
    batch: list[tuple[int, int, datetime, dict[str, Any]]] = []
    for i in range(SNAPSHOT_EVERY + 30):
        if i % 7 == 6:
            top = next(reversed(room.board.pages[0].objects))
            op: dict[str, Any] = {"kind": "update", "page": "p1", "id": top, "set": {"x1": i % 1000}}
        elif i % 11 == 10:
            op = {"kind": "undo"}
        else:
            op = {"kind": "add", "page": "p1", "object": rect(f"r{i}", x1=i % 1000)}
        batch += room.apply(op, ANH, T0)
        if len(batch) >= 20:
            await store.append(room.board_id, batch)
            live_at[room.seq] = room.board.snapshot()
            batch = []
    await store.append(room.board_id, batch)
    async with db.session() as session:
        snapshot = await session.get(BoardSnapshot, room.board_id)
        assert snapshot is not None
        seq, data = snapshot.seq, snapshot.data
    assert SNAPSHOT_EVERY <= seq < SNAPSHOT_EVERY + 20, "written by the append that passed 500"
    assert data == live_at[seq], "the live board as it was after that append"
    assert Board.from_snapshot(data).snapshot() == replay(
        entry for entry in await store.ops(LESSON) if entry["seq"] <= seq).snapshot()
    _, board, last = await store.load(SCHOOL, LESSON, "main")
    assert last == room.seq > SNAPSHOT_EVERY
    assert board.snapshot() == room.board.snapshot()
    async with db.session() as session:
        # The log stays whole under the snapshot: replaying all of it gives the same board.
        assert len((await session.scalars(select(BoardOp.seq).where(BoardOp.board_id == room.board_id))).all()) == last
    assert replay(await store.ops(LESSON)).snapshot() == room.board.snapshot()


async def test_ops_are_listed_by_time(db: Database) -> None:
    store = BoardStore(db)
    room = await live(store)
    for minute in range(4):
        await room.send({"kind": "add", "page": "p1", "object": rect(f"m{minute}")}, ANH,
                        T0 + timedelta(minutes=minute))
    everything = await store.ops(LESSON, "main")
    assert [entry["seq"] for entry in everything] == [1, 2, 3, 4]
    assert everything[0] == {"seq": 1, "user_id": ANH, "at": T0, "op": {
        "kind": "add", "page": "p1", "object": {**rect("m0"), "x1": 0.0, "y1": 0.0, "x2": 30.0, "y2": 30.0,
                                                 "width": 2.0, "fill": None}}}
    middle = await store.ops(LESSON, "main", since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=2))
    assert [entry["seq"] for entry in middle] == [2, 3]
    assert [e["seq"] for e in await store.ops(LESSON, since=T0 + timedelta(seconds=150))] == [4]
    assert [e["seq"] for e in await store.ops(LESSON, until=T0)] == [1]
    assert await store.ops(LESSON, "Nhóm 2") == [] and await store.ops(999) == []


async def test_publishing_a_board(db: Database) -> None:
    store = BoardStore(db)
    assert await store.set_published(LESSON, "main", True) is False, "no board yet"
    await live(store)
    info = await store.info(LESSON)
    assert info is not None and info.published is False and info.school_id == SCHOOL
    assert await store.set_published(LESSON, "main", True) is True
    info = await store.info(LESSON)
    assert info is not None and info.published is True
    await store.set_published(LESSON, "main", False)
    info = await store.info(LESSON)
    assert info is not None and info.published is False


async def test_a_board_is_copied_into_another_lesson_as_ops_and_a_snapshot(db: Database) -> None:
    store = BoardStore(db)
    room = await live(store)
    await room.send({"kind": "add_page", "page": {"id": "s1", "background": {"kind": "slide", "slide_id": 3,
                                                                               "index": 0}, "height": 1200}, "at": 0})
    await room.send({"kind": "add", "page": "s1", "object": rect("on-slide")})
    await room.send({"kind": "remove_page", "page": "p1"})
    await room.send({"kind": "add_page", "page": {"id": "p1", "background": {"kind": "lined"}}})
    await room.send({"kind": "add", "page": "p1", "object": rect("a")})
    await room.send({"kind": "turn", "index": 1})
    await room.send({"kind": "show", "active": True})
    seq = await store.copy(LESSON, NEXT_LESSON, SCHOOL, user_id=TEACHER)
    _, copied, last = await store.load(SCHOOL, NEXT_LESSON, "main")
    assert last == seq > 0
    assert copied.snapshot() == {**room.board.snapshot(), "current": 0, "shown": False}
    log = await store.ops(NEXT_LESSON)
    assert [entry["seq"] for entry in log] == list(range(1, seq + 1)) and log[0]["user_id"] == TEACHER
    assert replay(log).snapshot() == copied.snapshot(), "the copied log replays to the copied board"
    info = await store.info(NEXT_LESSON)
    assert info is not None and info.school_id == SCHOOL
    async with db.session() as session:
        snapshot = await session.get(BoardSnapshot, info.id)
        assert snapshot is not None and snapshot.seq == seq, "loading it folds no ops"
    next_room = await live(store, NEXT_LESSON)
    await next_room.send({"kind": "add", "page": "s1", "object": rect("more")})
    with pytest.raises(BoardNotEmpty):
        await store.copy(LESSON, NEXT_LESSON, SCHOOL)
    _, again, _ = await store.load(SCHOOL, NEXT_LESSON, "main")
    assert again.snapshot() == next_room.board.snapshot(), "a refused copy wrote nothing"


async def test_a_board_of_another_school_is_not_copied(db: Database) -> None:
    store = BoardStore(db)
    await live(store)
    with pytest.raises(BoardError) as refused:
        await store.copy(LESSON, NEXT_LESSON, SCHOOL + 1)
    assert refused.value.code == "forbidden"
    assert await store.info(NEXT_LESSON) is None


async def test_copying_a_lesson_without_a_board_gives_a_new_board(db: Database) -> None:
    store = BoardStore(db)
    assert await store.copy(LESSON, NEXT_LESSON, SCHOOL) == 0
    _, board, seq = await store.load(SCHOOL, NEXT_LESSON, "main")
    assert seq == 0 and board.snapshot() == Board.new().snapshot()


def sources() -> list[Board]:
    plain = Board.new()
    plain.apply({"kind": "add", "page": "p1", "object": rect("a")}, TEACHER)
    plain.apply({"kind": "add_page", "page": {"id": "p2", "background": {"kind": "grid"}}}, TEACHER)
    only_slide = Board.new()
    only_slide.apply({"kind": "add_page", "page": {"id": "s", "background": {"kind": "slide", "slide_id": 1,
                                                                               "index": 2}, "height": 600}}, TEACHER)
    only_slide.apply({"kind": "remove_page", "page": "p1"}, TEACHER)
    only_slide.apply({"kind": "add_page", "page": {"id": "p1", "background": {"kind": "slide", "slide_id": 1,
                                                                                "index": 0}, "height": 600}}, TEACHER)
    only_slide.apply({"kind": "remove_page", "page": "s"}, TEACHER)
    only_slide.apply({"kind": "add", "page": "p1", "object": rect("b")}, TEACHER)
    p1_last = Board.new()
    p1_last.apply({"kind": "add_page", "page": {"id": "x", "background": {"kind": "blank"}}, "at": 0}, TEACHER)
    p1_last.apply({"kind": "add", "page": "p1", "object": rect("c")}, TEACHER)
    tall_p1 = Board.new()
    tall_p1.apply({"kind": "add_page", "page": {"id": "y", "background": {"kind": "blank"}, "height": 1600}}, TEACHER)
    tall_p1.apply({"kind": "remove_page", "page": "p1"}, TEACHER)
    tall_p1.apply({"kind": "add_page", "page": {"id": "p1", "background": {"kind": "blank"}, "height": 1600},
                   "at": 0}, TEACHER)
    return [Board.new(), plain, only_slide, p1_last, tall_p1]


@pytest.mark.parametrize("source", sources(), ids=["new", "plain", "only-slide", "p1-last", "tall-p1"])
def test_the_ops_of_a_copy_build_the_source_pages_from_a_new_board(source: Board) -> None:
    built = replay(build_ops(source))
    assert built.snapshot() == {**source.snapshot(), "current": 0, "shown": False}
