"""The lesson's boards over REST: a board as JSON (the lesson's staff; its class's students once
published), publishing it, changing it to prepare a lesson (through the live room when the lesson
is live, so everyone there gets the change at once) and starting a lesson's board from an earlier
lesson's (docs/protocol.md, "Whiteboard"). A board is named by its room's key: "main", or a
breakout group's name."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exists, select

from school import access
from school.errors import Conflict as SchoolConflict
from school.errors import Forbidden as SchoolForbidden
from school.models import Lesson, Role, SchoolClass
from signaling import board as live
from signaling.board import KEY_LENGTH, LessonBoards, Who
from signaling.errors import LessonClosed
from signaling.lesson_room import LessonRoom
from web.api.params import QueryId
from web.errors import ApiError
from web.keys import ROOMS
from web.routing import Api, Call
from whiteboard.models import BoardOp, BoardRecord
from whiteboard.store import MAIN, BoardNotEmpty, BoardStore

MAX_SOURCES = 20
"""Earlier lessons offered to copy a board from."""
SCANNED_SOURCES = 60
"""Earlier lessons with a board read to find those with content."""
RoomKey = Annotated[str, Field(min_length=1, max_length=KEY_LENGTH)]


class RoomQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room: RoomKey = MAIN
    """"main", or a breakout group's name."""


class BoardOut(BaseModel):
    board: str
    """The room's key: "main" or the group's name."""
    pages: list[dict[str, Any]]
    """`{id, background, height, objects: [...]}` each, objects in z-order (docs/protocol.md)."""
    current: int
    shown: bool
    seq: int
    published: bool


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    published: bool
    room: RoomKey = MAIN


class PublishOut(BaseModel):
    room: str
    published: bool


class OpIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    op: dict[str, Any]
    room: RoomKey = MAIN


class OpOut(BaseModel):
    seq: int
    """The board's seq after the change (the last op's)."""
    ops: list[dict[str, Any]]
    """The concrete ops applied, in order."""


class CopyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    from_lesson_id: QueryId


class SourceOut(BaseModel):
    id: int
    title: str
    starts_at: datetime
    class_name: str
    pages: int
    objects: int
    """Objects on all its pages."""


class SourcesOut(BaseModel):
    lessons: list[SourceOut]


class DownloadsOut(BaseModel):
    published: bool
    pages: int
    """Pages of the board as recorded (0 for a student while it is not published)."""
    objects: int


@dataclass(frozen=True)
class Reader:
    lesson: Lesson
    staff: bool


async def _reader(call: Call, lesson_id: int) -> Reader:
    """The lesson's teacher and administrators (staff) or a student of its class; 403 for anyone
    else, 404 for another school's lesson."""
    async with call.db.session() as session:
        lesson = await access.get_lesson(session, call.user, lesson_id)
    staff = call.user.role is Role.admin or lesson.teacher_id == call.user.id
    if not staff and call.user.role is not Role.student:
        raise SchoolForbidden("only the lesson's teacher, administrators and its class's students see its board")
    return Reader(lesson, staff)


def _require_staff(reader: Reader) -> None:
    if not reader.staff:
        raise SchoolForbidden("only the lesson's teacher or an administrator changes its board")


def _live(call: Call, lesson_id: int) -> tuple[LessonRoom, LessonBoards] | None:
    room = call.request.app[ROOMS].rooms.get(lesson_id)
    if room is None or room.closed:
        return None
    return room, room.features["board"]  # type: ignore[return-value]


async def _board(call: Call, lesson: Lesson, key: str) -> BoardOut:
    """The board as the live room holds it (its newest state), else as the store does."""
    store = BoardStore(call.db)
    found = _live(call, lesson.id)
    view = None
    if found is not None:
        room, boards = found
        try:
            view = await room.act(lambda: boards.view(boards.boards[key], key) if key in boards.boards else None)
        except LessonClosed:
            view = None
    if view is None:
        _board_id, board, seq = await store.load(lesson.school_id, lesson.id, key)
        view = {"board": key, **board.snapshot(), "seq": seq}
    info = await store.info(lesson.id, key)
    return BoardOut(board=key, pages=view["pages"], current=view["current"], shown=view["shown"], seq=view["seq"],
                    published=bool(info and info.published))


def register(api: Api) -> None:
    @api.route("GET", r"/api/lessons/{id:\d+}/board", summary="A board of the lesson, as JSON", tag="board",
               query=RoomQuery, response=BoardOut, errors=(403, 404), unit_of_work=False,
               description="`room`: \"main\" (default) or a breakout group's name. The lesson's teacher and "
               "administrators; the class's students once the teacher has published it (403 before). While the "
               "lesson is live, the board as its room holds it now.")
    async def get_board(call: Call) -> BoardOut:
        reader = await _reader(call, call.path_id("id"))
        key = call.query.room
        if not reader.staff:
            info = await BoardStore(call.db).info(reader.lesson.id, key)
            if info is None or not info.published:
                raise SchoolForbidden("the teacher has not published this board")
        return await _board(call, reader.lesson, key)

    @api.route("POST", r"/api/lessons/{id:\d+}/board/publish", summary="Let the class read a board", tag="board",
               body=PublishIn, response=PublishOut, errors=(403, 404), unit_of_work=False,
               description="The lesson's teacher or an administrator: the class's students may read the board "
               "(`published: true`) or no longer (`false`).")
    async def publish_board(call: Call) -> PublishOut:
        reader = await _reader(call, call.path_id("id"))
        _require_staff(reader)
        lesson, key = reader.lesson, call.body.room
        store = BoardStore(call.db)
        if await store.info(lesson.id, key) is None:
            await store.load(lesson.school_id, lesson.id, key)  # a board never opened is made (empty)
        await store.set_published(lesson.id, key, call.body.published)
        return PublishOut(room=key, published=call.body.published)

    @api.route("POST", r"/api/lessons/{id:\d+}/board/ops", summary="Change a board (prepare a lesson)",
               tag="board", body=OpIn, response=OpOut, status=201, errors=(400, 403, 404, 409), unit_of_work=False,
               description="The lesson's teacher or an administrator applies one operation (docs/protocol.md, "
               "\"Whiteboard\") to the board of `room`; durable when answered. While the lesson is live it goes "
               "through its room: everyone there gets it at once. 400 (bad_message) for an invalid operation, 404 "
               "for a page or object the board does not have.")
    async def change(call: Call) -> OpOut:
        reader = await _reader(call, call.path_id("id"))
        _require_staff(reader)
        lesson, key, op = reader.lesson, call.body.room, call.body.op
        found = _live(call, lesson.id)
        if found is not None:
            room, boards = found
            try:
                done = await boards.submit(Who(call.user.id, True), op, key=key)
                return OpOut(seq=done["seq"], ops=done["ops"])
            except LessonClosed:
                await asyncio.shield(room.finished)  # what it was still writing is written first
        done = await live.change_offline(call.db, lesson.school_id, lesson.id, key, op, call.user.id)
        return OpOut(seq=done["seq"], ops=done["ops"])

    @api.route("GET", r"/api/lessons/{id:\d+}/board/downloads", summary="Whether the board may be downloaded",
               tag="board", query=RoomQuery, response=DownloadsOut, errors=(403, 404), unit_of_work=False,
               description="What the lesson page offers to download: whether the board of `room` is published "
               "and how many pages and objects it has as recorded. The lesson's teacher and administrators; the "
               "class's students too (`pages` and `objects` are 0 for them until it is published), so the page "
               "asks without being refused.")
    async def board_downloads(call: Call) -> DownloadsOut:
        reader = await _reader(call, call.path_id("id"))
        lesson, key = reader.lesson, call.query.room
        store = BoardStore(call.db)
        info = await store.info(lesson.id, key)
        published = bool(info and info.published)
        if not reader.staff and not published:
            return DownloadsOut(published=False, pages=0, objects=0)
        if info is None:
            return DownloadsOut(published=False, pages=1, objects=0)  # never opened: one blank page
        _board_id, board, _seq = await store.load(lesson.school_id, lesson.id, key)
        pages = board.snapshot()["pages"]
        return DownloadsOut(published=published, pages=len(pages), objects=sum(len(p["objects"]) for p in pages))

    @api.route("GET", r"/api/lessons/{id:\d+}/board/sources", summary="Earlier boards to start this one from",
               tag="board", response=SourcesOut, errors=(403, 404), unit_of_work=False,
               description="The lesson's teacher or an administrator: earlier lessons of the same school and "
               "subject taught by the lesson's teacher whose main board has content (pages or objects), newest "
               "first, at most 20; any of them may be given to `board/copy`.")
    async def board_sources(call: Call) -> SourcesOut:
        reader = await _reader(call, call.path_id("id"))
        _require_staff(reader)
        lesson = reader.lesson
        written = exists().where(BoardOp.board_id == BoardRecord.id)
        query = (select(Lesson.id, Lesson.title, Lesson.starts_at, SchoolClass.name)
                 .join(BoardRecord, (BoardRecord.lesson_id == Lesson.id) & (BoardRecord.room == MAIN))
                 .join(SchoolClass, SchoolClass.id == Lesson.class_id)
                 .where(Lesson.school_id == lesson.school_id, Lesson.subject_id == lesson.subject_id,
                        Lesson.teacher_id == lesson.teacher_id, Lesson.starts_at < lesson.starts_at,
                        Lesson.id != lesson.id, BoardRecord.school_id == lesson.school_id, written)
                 .order_by(Lesson.starts_at.desc(), Lesson.id.desc()).limit(SCANNED_SOURCES))
        async with call.db.session() as session:
            rows = (await session.execute(query)).all()
        store, found = BoardStore(call.db), []
        for lesson_id, title, starts_at, class_name in rows:
            _board_id, board, _seq = await store.load(lesson.school_id, lesson_id, MAIN)
            pages = board.snapshot()["pages"]
            objects = sum(len(page["objects"]) for page in pages)
            if objects or len(pages) > 1:
                found.append(SourceOut(id=lesson_id, title=title, starts_at=starts_at, class_name=class_name,
                                       pages=len(pages), objects=objects))
                if len(found) == MAX_SOURCES:
                    break
        return SourcesOut(lessons=found)

    @api.route("POST", r"/api/lessons/{id:\d+}/board/copy", summary="Start the board from an earlier lesson's",
               tag="board", body=CopyIn, response=BoardOut, status=201, errors=(403, 404, 409, 422),
               unit_of_work=False,
               description="The main board of `from_lesson_id` (its pages and objects) becomes this lesson's. "
               "Both lessons are taught by the same teacher (403 otherwise; an administrator may copy too) in the "
               "same school (404) and subject (422); 409 when this lesson's board already has content.")
    async def copy(call: Call) -> BoardOut:
        target = await _reader(call, call.path_id("id"))
        _require_staff(target)
        source_id = call.body.from_lesson_id
        async with call.db.session() as session:
            source = await access.get_lesson(session, call.user, source_id)
        lesson = target.lesson
        if source.id == lesson.id:
            raise _invalid("from_lesson_id", "copy from another lesson")
        if source.teacher_id != lesson.teacher_id:
            raise SchoolForbidden("a board is copied between lessons of the same teacher")
        if source.subject_id != lesson.subject_id:
            raise _invalid("from_lesson_id", "the lessons are not of the same subject")
        found = _live(call, lesson.id)
        if found is not None:
            room, boards = found
            live_board = await boards.ready(MAIN)
            if await room.act(lambda: live_board.seq > 0):
                raise SchoolConflict("this lesson's board already has content")
        try:
            await BoardStore(call.db).copy(source.id, lesson.id, lesson.school_id, user_id=call.user.id)
        except BoardNotEmpty:
            raise SchoolConflict("this lesson's board already has content") from None
        if found is not None:
            room, boards = found
            try:
                await room.act(lambda: boards.read_again(MAIN))
            except LessonClosed:
                pass
        return await _board(call, lesson, MAIN)


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", f"{field}: {message}", fields=[{"field": field, "message": message}])
