"""Boards in the database: the op log is the truth, snapshots make reading it back quick.

Every concrete op a board applied is one `board_ops` row (its seq, who, when), appended through the
process's writer, so it is durable when `append` returns. Each time the log passes a multiple of
`SNAPSHOT_EVERY` ops, the same write folds the log into `board_snapshots`; `load` is then the
snapshot plus the few ops after it. Reads are short units of work; folding happens outside them."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from whiteboard.document import PAGE_HEIGHT, Board, BoardError, Page, replay
from whiteboard.models import BoardOp, BoardRecord, BoardSnapshot

log = logging.getLogger(__name__)
SNAPSHOT_EVERY = 500
MAIN = "main"
Entry = tuple[int, int | None, datetime, dict[str, Any]]
"""(seq, user_id, at, concrete op): one row of the op log."""


class BoardNotEmpty(BoardError):
    """A board was to be copied onto one that already has ops."""

    def __init__(self, message: str) -> None:
        super().__init__("bad_op", message)


@dataclass(frozen=True)
class BoardInfo:
    id: int
    school_id: int
    lesson_id: int
    room: str
    published: bool
    created_at: datetime


def _info(row: BoardRecord) -> BoardInfo:
    return BoardInfo(row.id, row.school_id, row.lesson_id, row.room, row.published, row.created_at)


class BoardStore:
    def __init__(self, db: Database, *, snapshot_every: int = SNAPSHOT_EVERY) -> None:
        self.db = db
        self.snapshot_every = snapshot_every

    # ---- reading

    async def info(self, lesson_id: int, room: str = MAIN) -> BoardInfo | None:
        """The board of a lesson's room, if it was ever opened."""
        async with self.db.session() as session:
            row = await session.scalar(select(BoardRecord).where(
                BoardRecord.lesson_id == lesson_id, BoardRecord.room == room))
            return _info(row) if row is not None else None

    async def load(self, school_id: int, lesson_id: int, room: str) -> tuple[int, Board, int]:
        """(board id, the board as its log leaves it, its last seq); a board never opened is made."""
        board_id = await self._board_id(school_id, lesson_id, room)
        board = await self._read(board_id)
        return board_id, board, board.seq

    async def ops(self, lesson_id: int, room: str = MAIN, since: datetime | None = None,
                  until: datetime | None = None) -> list[dict[str, Any]]:
        """The board's log in order, `{seq, user_id, at, op}` each, made between since and until
        (both included) when given."""
        query = (select(BoardOp.seq, BoardOp.user_id, BoardOp.at, BoardOp.op)
                 .join(BoardRecord, BoardRecord.id == BoardOp.board_id)
                 .where(BoardRecord.lesson_id == lesson_id, BoardRecord.room == room))
        if since is not None:
            query = query.where(BoardOp.at >= since)
        if until is not None:
            query = query.where(BoardOp.at <= until)
        async with self.db.session() as session:
            rows = (await session.execute(query.order_by(BoardOp.seq))).all()
        return [{"seq": seq, "user_id": user_id, "at": at, "op": op} for seq, user_id, at, op in rows]

    async def _read(self, board_id: int) -> Board:
        async with self.db.session() as session:
            snapshot = await session.get(BoardSnapshot, board_id)
            since = snapshot.seq if snapshot is not None else 0
            data = snapshot.data if snapshot is not None else None
            rows = (await session.execute(select(BoardOp.seq, BoardOp.op).where(
                BoardOp.board_id == board_id, BoardOp.seq > since).order_by(BoardOp.seq))).all()
        board = Board.from_snapshot(data) if data is not None else Board.new()
        board.seq = since
        return replay(({"seq": seq, "op": op} for seq, op in rows), board)

    async def _board_id(self, school_id: int, lesson_id: int, room: str) -> int:
        info = await self.info(lesson_id, room)
        if info is not None:
            return info.id

        async def create(session: AsyncSession) -> int:
            return await _create(session, school_id, lesson_id, room)

        try:
            return await self.db.writer.write(create)
        except IntegrityError:  # another process made it first
            info = await self.info(lesson_id, room)
            if info is None:
                raise
            return info.id

    # ---- writing

    async def append(self, board_id: int, entries: Sequence[Entry]) -> None:
        """Append concrete ops (seq increasing by one from the board's last); durable when this
        returns. Passing a multiple of `snapshot_every` writes the snapshot in the same write."""
        if not entries:
            return
        rows = [BoardOp(board_id=board_id, seq=seq, user_id=user_id, at=at, op=op)
                for seq, user_id, at, op in entries]
        first, last = entries[0][0], entries[-1][0]
        snapshot = last // self.snapshot_every > (first - 1) // self.snapshot_every

        async def write(session: AsyncSession) -> None:
            session.add_all(rows)
            if snapshot:
                await session.flush()
                await _write_snapshot(session, board_id)

        await self.db.writer.write(write)

    async def set_published(self, lesson_id: int, room: str, published: bool) -> bool:
        """Let the class read the board after the lesson (or not); False when there is no such board."""
        async def write(session: AsyncSession) -> bool:
            result = await session.execute(update(BoardRecord).where(
                BoardRecord.lesson_id == lesson_id, BoardRecord.room == room).values(published=published))
            return bool(result.rowcount)  # type: ignore[attr-defined]

        return await self.db.writer.write(write)

    async def copy(self, from_lesson_id: int, to_lesson_id: int, school_id: int, *,
                   user_id: int | None = None) -> int:
        """Start the main board of `to_lesson_id` as the main board of `from_lesson_id` now is:
        ops that build it (so replaying the log still works) and a snapshot after them. The target
        must have no ops yet (`BoardNotEmpty`). Returns the target's seq."""
        source_info = await self.info(from_lesson_id, MAIN)
        if source_info is not None and source_info.school_id != school_id:
            raise BoardError("forbidden", "the board belongs to another school")
        source = await self._read(source_info.id) if source_info is not None else Board.new()
        ops = build_ops(source)
        target = replay(ops)
        data = target.snapshot()
        at = datetime.now(UTC)

        async def write(session: AsyncSession) -> int:
            row = await session.scalar(select(BoardRecord).where(
                BoardRecord.lesson_id == to_lesson_id, BoardRecord.room == MAIN))
            board_id = row.id if row is not None else await _create(session, school_id, to_lesson_id, MAIN)
            used = await session.scalar(select(func.count()).select_from(BoardOp).where(BoardOp.board_id == board_id))
            if used or await session.get(BoardSnapshot, board_id) is not None:
                raise BoardNotEmpty(f"the board of lesson {to_lesson_id} is not empty")
            session.add_all([BoardOp(board_id=board_id, seq=seq, user_id=user_id, at=at, op=op)
                             for seq, op in enumerate(ops, start=1)])
            if ops:
                session.add(BoardSnapshot(board_id=board_id, seq=len(ops), data=data, at=at))
            return len(ops)

        return await self.db.writer.write(write)


async def _create(session: AsyncSession, school_id: int, lesson_id: int, room: str) -> int:
    row = await session.scalar(select(BoardRecord).where(
        BoardRecord.lesson_id == lesson_id, BoardRecord.room == room))
    if row is None:
        row = BoardRecord(school_id=school_id, lesson_id=lesson_id, room=room, published=False,
                          created_at=datetime.now(UTC))
        session.add(row)
        await session.flush()
    return row.id


async def _write_snapshot(session: AsyncSession, board_id: int) -> None:
    """Fold the board's log into its snapshot. A log that does not fold is left as it is (logged):
    the ops are already written, and loading folds them again."""
    snapshot = await session.get(BoardSnapshot, board_id)
    since = snapshot.seq if snapshot is not None else 0
    rows = (await session.execute(select(BoardOp.seq, BoardOp.op).where(
        BoardOp.board_id == board_id, BoardOp.seq > since).order_by(BoardOp.seq))).all()
    if not rows:
        return
    try:
        board = Board.from_snapshot(snapshot.data) if snapshot is not None else Board.new()
        replay(({"seq": seq, "op": op} for seq, op in rows), board)
    except BoardError as exc:
        log.warning("board %d: its log does not fold after seq %d (%s); no snapshot", board_id, since, exc)
        return
    now = datetime.now(UTC)
    if snapshot is None:
        session.add(BoardSnapshot(board_id=board_id, seq=board.seq, data=board.snapshot(), at=now))
    else:
        snapshot.seq, snapshot.data, snapshot.at = board.seq, board.snapshot(), now


def build_ops(source: Board) -> list[dict[str, Any]]:
    """Concrete ops that turn a new board into `source`'s pages and objects (page 1 shown, off stage)."""
    def spec(page: Page) -> dict[str, Any]:
        return {"id": page.id, "background": dict(page.background), "height": page.height}

    def adds(page: Page) -> list[dict[str, Any]]:
        return [{"kind": "add", "page": page.id, "object": dict(obj)} for obj in page.objects.values()]

    first = source.pages[0]
    ops: list[dict[str, Any]] = []
    if first.id == "p1" and first.background == {"kind": "blank"} and first.height == PAGE_HEIGHT:
        ops += adds(first)
        for page in source.pages[1:]:
            ops += [{"kind": "add_page", "page": spec(page)}, *adds(page)]
        return ops
    # The new board's blank "p1" makes way for the source's pages.
    others = [page for page in source.pages if page.id != "p1"]
    for page in others:
        ops += [{"kind": "add_page", "page": spec(page)}, *adds(page)]
    if not others:
        ops.append({"kind": "add_page", "page": {"id": "copy", "background": {"kind": "blank"}}})
    ops.append({"kind": "remove_page", "page": "p1"})
    own = source.page("p1")
    if own is not None:
        ops += [{"kind": "add_page", "page": spec(own), "at": source.page_index("p1")}, *adds(own)]
    if not others:
        ops.append({"kind": "remove_page", "page": "copy"})
    if replay(ops).current != 0:
        ops.append({"kind": "turn", "index": 0})
    return ops
