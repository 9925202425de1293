"""The whiteboard in the live lesson: one board per room (the main room, and each breakout group),
changed only by operations the server orders (docs/protocol.md, "Whiteboard").

Boards are kept by their room's key in the store: "main", or the group's NAME (a second group of
the same name, or a group named "main", is "<name> (2)"...), so a group's board outlives the
groups ending and comes back when groups of the same names start again. On the wire a board is
named by its room: "main" or the running group's id ("g1"...).

The order of an operation, so `seq` stays gap-free and everyone gets the events in seq order:
1. An action checks who asks, applies the operation to the board in memory (`Board.apply`: pure
   and fast; invalid ops leave it unchanged) and gives the concrete ops the next seqs.
2. One writer per board (a task, the room's close waits for it) takes everything applied and not
   yet written and appends it to the store (durable when `store.append` returns), one batch after
   another: a batch is never written before the batch before it is durable.
3. An action then sends the batch's `board_op` events in seq order to everyone who sees the board
   (its room, and the lesson's staff) and answers the requests.
If a write fails, nothing of that batch or after it was sent to anyone: their requests are
refused, the board is put aside and read back from the store (the durable state), and everyone
who sees it is sent the board as it is (`board`), so no one keeps an op others never got.

Ink strokes being drawn and the laser pointer are relayed, not stored, at most ~30 per second per
user (the excess is dropped silently)."""
from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from signaling.breakouts import MAIN
from signaling.errors import BadMessage, Conflict, Forbidden, LessonClosed, NotFound, SignalingError
from signaling.features import LessonFeature
from signaling.messages import GroupId, Message
from storage.database import Database
from whiteboard.document import MAX_PAGE_HEIGHT, PAGE_WIDTH, Board, BoardError
from whiteboard.store import BoardStore

if TYPE_CHECKING:
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant

log = logging.getLogger(__name__)

KEY_LENGTH = 40
"""A board's key in the store (boards.room) is at most this long."""
MAX_INK_POINTS = 200
RELAY_RATE = 30.0
"""Ink and pointer messages relayed per second per user (each kind); the excess is dropped."""
RELAY_BURST = 10.0
STUDENT_OPS = frozenset({"add", "update", "delete", "undo", "redo"})
"""What a student allowed to draw may do; pages (adding, removing, clearing, turning) and the stage
are the staff's."""
UserId = Annotated[int, Field(ge=1, le=2**31 - 1)]


# --- messages ---------------------------------------------------------------------------------------
def _point(point: list[float]) -> list[float]:
    x, y = point[0], point[1]
    if not -PAGE_WIDTH <= x <= 2 * PAGE_WIDTH or not -MAX_PAGE_HEIGHT <= y <= 2 * MAX_PAGE_HEIGHT:
        raise ValueError("a point lies outside the page's space")
    if len(point) == 3 and not 0 <= point[2] <= 1:
        raise ValueError("pressure is 0..1")
    return point


Point = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=3),
                  AfterValidator(_point)]


class BoardOp(Message):
    type: Literal["board_op"]
    board: GroupId | None = None
    op: dict[str, Any]


class Ink(BaseModel):
    """A stroke being drawn, in the shape of the stroke object it becomes."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
    type: Literal["stroke", "highlighter"]
    points: Annotated[list[Point], Field(max_length=MAX_INK_POINTS)]
    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
    width: Annotated[float, Field(allow_inf_nan=False, ge=1, le=64)]


class BoardInk(Message):
    type: Literal["board_ink"]
    board: GroupId | None = None
    page: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = None
    """The page it is drawn on (default: the page shown)."""
    stroke: Ink


class BoardPointer(Message):
    type: Literal["board_pointer"]
    board: GroupId | None = None
    x: Annotated[float, Field(allow_inf_nan=False, ge=-PAGE_WIDTH, le=2 * PAGE_WIDTH)] | None = None
    y: Annotated[float, Field(allow_inf_nan=False, ge=-MAX_PAGE_HEIGHT, le=2 * MAX_PAGE_HEIGHT)] | None = None


class BoardAllow(Message):
    type: Literal["board_allow"]
    board: GroupId | None = None
    everyone: bool
    user_ids: Annotated[list[UserId], Field(max_length=200)] = []


class BoardGet(Message):
    type: Literal["board_get"]
    board: GroupId


MESSAGES: tuple[type, ...] = (BoardOp, BoardInk, BoardPointer, BoardAllow, BoardGet)


# --- who asks ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Who:
    """Who changes a board: a participant of the lesson page, or staff over REST."""

    user_id: int
    staff: bool
    participant: Participant | None = None


def refusal(exc: BoardError) -> SignalingError:
    """The wire error of a refused operation: not_found and forbidden as such, the rest bad_message."""
    kind = {"not_found": NotFound, "forbidden": Forbidden}.get(exc.code, BadMessage)
    return kind(exc.message)


@dataclass
class _Bucket:
    tokens: float = RELAY_BURST
    at: float = 0.0

    def take(self, now: float) -> bool:
        self.tokens = min(RELAY_BURST, self.tokens + (now - self.at) * RELAY_RATE)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# --- the board of one room ------------------------------------------------------------------------
@dataclass
class _Request:
    """One accepted operation: its concrete ops (with their seqs), answered once they are sent."""

    entries: list[tuple[int, int, datetime, dict[str, Any]]]
    future: asyncio.Future[dict[str, Any]]


@dataclass
class LiveBoard:
    key: str
    """The room's key in the store: main, or the group's name."""
    board_id: int | None
    board: Board
    seq: int
    """The seq of the last operation applied (it may still be being written)."""
    queue: list[_Request] = field(default_factory=list)
    """Applied, not yet written and sent, in seq order."""
    writing: bool = False
    idle: asyncio.Future[None] | None = None
    """Done when nothing is left to write (REST outside the room waits for it)."""


class _Shared:
    """What the boards of one database share in this process: a lock per board, so a board is read
    and written by one at a time (a room's writer, a room loading it, a REST change outside the
    room), and the live boards still writing."""

    def __init__(self) -> None:
        self.locks: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = weakref.WeakValueDictionary()
        self.writing: dict[tuple[int, str], LiveBoard] = {}

    def lock(self, lesson_id: int, key: str) -> asyncio.Lock:
        lock = self.locks.get((lesson_id, key))
        if lock is None:
            lock = self.locks[(lesson_id, key)] = asyncio.Lock()
        return lock


_SHARED: weakref.WeakKeyDictionary[Database, _Shared] = weakref.WeakKeyDictionary()


def _shared(db: Database) -> _Shared:
    shared = _SHARED.get(db)
    if shared is None:
        shared = _SHARED[db] = _Shared()
    return shared


def board_keys(group_names: list[tuple[str, str]]) -> dict[str, str]:
    """Room (main, group id) -> the key its board is stored under: the group's name (its first
    KEY_LENGTH characters), made unique in the order the groups were made ("<name> (2)"...)."""
    out, taken = {MAIN: MAIN}, {MAIN}
    for group_id, name in group_names:
        key, k = name[:KEY_LENGTH], 2
        while key in taken:
            suffix = f" ({k})"
            key, k = name[:KEY_LENGTH - len(suffix)] + suffix, k + 1
        taken.add(key)
        out[group_id] = key
    return out


class LessonBoards(LessonFeature):
    name = "board"

    def __init__(self, lesson: LessonRoom) -> None:
        super().__init__(lesson)
        self.boards: dict[str, LiveBoard] = {}
        """Loaded boards by key."""
        self.allow: dict[str, tuple[bool, frozenset[int]]] = {}
        """Who may draw, by board key (everyone, these students): kept while the room is open."""
        self.watching: dict[str, str] = {}
        """Staff participant id -> the room whose board they looked at last (they get its ink too)."""
        self._waiting: dict[str, str] = {}
        """Participant id -> the board key they are to be sent (`board`) when it has been read."""
        self._loads: dict[str, asyncio.Task[None]] = {}
        self._buckets: dict[tuple[int, str], _Bucket] = {}
        self.store = BoardStore(lesson.db) if lesson.db is not None else None

    # --- rooms and keys (actions) ---------------------------------------------------------------
    def keys(self) -> dict[str, str]:
        groups = self.lesson.breakouts.groups
        return board_keys([(g.id, g.name) for g in groups.values()])

    def room_of(self, key: str) -> str | None:
        """The room whose board this is now (None: a group not running)."""
        return next((room for room, k in self.keys().items() if k == key), None)

    def target(self, who: Who, room: str | None) -> tuple[str, str]:
        """The board (room, key) `who` names: their own room's by default; students only theirs."""
        here = who.participant.room if who.participant is not None else MAIN
        room = room or here
        if room != here and not who.staff:
            raise Forbidden("students use the board of the room they are in")
        key = self.keys().get(room)
        if key is None:
            raise NotFound(f"no board {room}: no such group is running")
        return room, key

    def may_draw(self, who: Who, key: str) -> bool:
        if who.staff:
            return True
        everyone, user_ids = self.allow.get(key, (False, frozenset()))
        return everyone or who.user_id in user_ids

    def _sees(self, participant: Participant, room: str) -> bool:
        return participant.room == room or participant.staff

    def _watches(self, participant: Participant, room: str) -> bool:
        return participant.room == room or (participant.staff and self.watching.get(participant.id) == room)

    # --- what a participant sees (actions) --------------------------------------------------------
    def view(self, live: LiveBoard, room: str | None) -> dict[str, Any]:
        everyone, user_ids = self.allow.get(live.key, (False, frozenset()))
        return {"board": room, **live.board.snapshot(), "seq": live.seq,
                "allow": {"everyone": everyone, "user_ids": sorted(user_ids)}}

    def welcome(self, participant: Participant) -> dict[str, Any] | None:
        key = self.keys().get(participant.room, MAIN)
        live = self.boards.get(key)
        if live is None:  # being read: sent as `board` once it is
            self._await_board(participant, key)
            return None
        return self.view(live, participant.room)

    def moved(self, participant: Participant, old_room: str) -> None:
        self.watching.pop(participant.id, None)
        key = self.keys().get(participant.room, MAIN)
        live = self.boards.get(key)
        if live is None:
            self._await_board(participant, key)
        else:
            participant.send({"type": "board", **self.view(live, participant.room)})

    def left(self, participant: Participant) -> None:
        self.watching.pop(participant.id, None)
        self._waiting.pop(participant.id, None)

    def close(self) -> None:
        for task in self._loads.values():
            task.cancel()

    def _await_board(self, participant: Participant, key: str) -> None:
        self._waiting[participant.id] = key
        self._start_load(key)

    # --- reading boards ---------------------------------------------------------------------------
    async def prepare(self) -> None:
        """The main room's board and every running group's are read before anyone is welcomed."""
        keys = await self.lesson.act(lambda: list(self.keys().values()))
        for key in keys:
            if key not in self.boards:
                await self.ready(key)

    async def ready(self, key: str) -> LiveBoard:
        """The board of this key, read from the store if it is not in memory."""
        while (live := self.boards.get(key)) is None:
            await asyncio.shield(self._start_load(key))
        return live

    def _start_load(self, key: str) -> asyncio.Task[None]:
        task = self._loads.get(key)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._loads[key] = asyncio.ensure_future(self._load(key))
            task.add_done_callback(_quiet)
        return task

    async def _load(self, key: str) -> None:
        info = self.lesson.lesson
        if self.store is None:
            board_id, board, seq = None, Board.new(), 0
        else:
            assert self.lesson.db is not None
            async with _shared(self.lesson.db).lock(info.id, key):
                board_id, board, seq = await self.store.load(info.school_id, info.id, key)
        try:
            await self.lesson.act(lambda: self._loaded(LiveBoard(key, board_id, board, seq)))
        except LessonClosed:
            pass
        finally:
            self._loads.pop(key, None)

    def _loaded(self, live: LiveBoard) -> None:
        if live.key in self.boards:
            return
        self.boards[live.key] = live
        for participant_id, key in list(self._waiting.items()):
            participant = self.lesson.participants.get(participant_id)
            if key != live.key:
                continue
            del self._waiting[participant_id]
            if participant is not None and self.keys().get(participant.room) == key:
                participant.send({"type": "board", **self.view(live, participant.room)})
            elif participant is not None and participant.staff:  # looked at it: told again
                participant.send({"type": "board", **self.view(live, self.room_of(key)), "elsewhere": True})

    # --- changing a board -----------------------------------------------------------------------------
    async def submit(self, who: Who, op: dict[str, Any], room: str | None = None,
                     key: str | None = None) -> dict[str, Any]:
        """Apply, write (durable), send: the reply `{board, seq, ops}` once everyone was sent the ops.
        `room` names the board as the wire does; `key` as the store does (REST, staff only)."""
        for _attempt in range(10):
            if key is None:
                _room, wanted = await self.lesson.act(lambda: self.target(who, room))
            else:
                wanted = key
            live = await self.ready(wanted)
            outcome = await self.lesson.act(lambda: self._apply(who, op, room, key, live))
            if outcome is None:
                continue  # the board was put aside (a failed write) or the rooms changed meanwhile
            if isinstance(outcome, dict):
                return outcome
            return await outcome
        raise Conflict("the board is busy; try again")

    def _apply(self, who: Who, op: dict[str, Any], room: str | None, key: str | None,
               live: LiveBoard) -> asyncio.Future[dict[str, Any]] | dict[str, Any] | None:
        if who.participant is not None and who.participant.left:
            raise NotFound("you are no longer in the lesson")
        if key is None:
            room, key = self.target(who, room)
        else:
            room = self.room_of(key)
        if self.boards.get(key) is not live:
            return None
        kind = op.get("kind")
        if not who.staff:
            if not self.may_draw(who, key):
                raise Forbidden("the teacher has not let you draw on this board")
            if kind not in STUDENT_OPS:
                raise Forbidden("pages, turning them and the stage are the teacher's")
        if kind == "show" and key != MAIN:
            raise BadMessage("op.kind: only the main room's board goes on the stage")
        try:
            concrete = live.board.apply(op, who.user_id, staff=who.staff)
        except BoardError as exc:
            raise refusal(exc) from None
        if not concrete:  # nothing to undo or redo
            return {"board": room, "seq": live.seq, "ops": []}
        at = datetime.now(UTC)
        entries = []
        for one in concrete:
            live.seq += 1
            entries.append((live.seq, who.user_id, at, one))
        live.board.seq = live.seq
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_quiet)
        live.queue.append(_Request(entries, future))
        if not live.writing:
            live.writing = True
            if self.lesson.db is not None:
                shared = _shared(self.lesson.db)
                shared.writing[(self.lesson.lesson.id, key)] = live
                live.idle = asyncio.get_running_loop().create_future()
            self.lesson._finish(self._write(live))
        return future

    async def _write(self, live: LiveBoard) -> None:
        """The board's writer: batch after batch, each durable before it is sent."""
        info = self.lesson.lesson
        while True:
            batch = await self.lesson.act(lambda: self._take(live))
            if not batch:
                return
            if self.store is not None and live.board_id is not None:
                assert self.lesson.db is not None
                entries = [entry for request in batch for entry in request.entries]
                try:
                    async with _shared(self.lesson.db).lock(info.id, live.key):
                        await self.store.append(live.board_id, entries)
                except Exception:
                    log.exception("lesson %s: board %r could not be written; read back from the store",
                                  info.id, live.key)
                    await self.lesson.act(lambda: self._failed(live))
                    return
            await self.lesson.act(lambda: self._sent(live, batch))

    def _take(self, live: LiveBoard) -> list[_Request]:
        batch = list(live.queue)
        if not batch:
            live.writing = False
            self._idle(live)
        return batch

    def _idle(self, live: LiveBoard) -> None:
        if self.lesson.db is not None:
            writing = _shared(self.lesson.db).writing
            if writing.get((self.lesson.lesson.id, live.key)) is live:
                del writing[(self.lesson.lesson.id, live.key)]
        if live.idle is not None and not live.idle.done():
            live.idle.set_result(None)

    def _sent(self, live: LiveBoard, batch: list[_Request]) -> None:
        room = self.room_of(live.key)
        audience = [p for p in self.lesson.participants.values() if room is not None and self._sees(p, room)]
        for request in batch:
            for seq, user_id, at, op in request.entries:
                event = {"type": "board_op", "board": room, "seq": seq, "by": user_id, "at": at.isoformat(), "op": op}
                for participant in audience:
                    participant.send(event)
        del live.queue[:len(batch)]
        for request in batch:
            if not request.future.done():
                request.future.set_result({"board": room, "seq": request.entries[-1][0],
                                           "ops": [op for *_, op in request.entries]})

    def _failed(self, live: LiveBoard) -> None:
        """Nothing queued was sent: refuse it all, put the board aside and read it back."""
        for request in live.queue:
            if not request.future.done():
                request.future.set_exception(SignalingError("the board could not be saved; try again"))
        live.queue.clear()
        live.writing = False
        self._idle(live)
        self._put_aside(live)

    def read_again(self, key: str) -> None:
        """The store's board changed under the room (a copy): read it back and send it to everyone
        who sees it. A board still writing is read back when its write fails (its seqs are taken)."""
        live = self.boards.get(key)
        if live is not None and not live.writing:
            self._put_aside(live)

    def _put_aside(self, live: LiveBoard) -> None:
        if self.boards.get(live.key) is live:
            del self.boards[live.key]
        room = self.room_of(live.key)
        if room is not None:
            for participant in self.lesson.participants.values():
                if self._watches(participant, room):
                    self._waiting[participant.id] = live.key
        self._start_load(live.key)

    # --- allowing, looking, relaying (actions) --------------------------------------------------------
    def set_allow(self, who: Who, room: str | None, everyone: bool, user_ids: list[int]) -> dict[str, Any]:
        if not who.staff:
            raise Forbidden("only the lesson's teacher or an observer lets students draw")
        room, key = self.target(who, room)
        students = self.lesson.lesson.student_ids
        strangers = [u for u in user_ids if u not in students]
        if strangers:
            raise NotFound(f"user {strangers[0]} is not a student of this class")
        self.allow[key] = (everyone, frozenset(user_ids))
        event = {"type": "board_allow", "board": room, "everyone": everyone, "user_ids": sorted(set(user_ids))}
        for participant in self.lesson.participants.values():
            if self._sees(participant, room):
                participant.send(event)
        return {k: v for k, v in event.items() if k != "type"}

    def look(self, who: Who, room: str, live: LiveBoard) -> dict[str, Any] | None:
        if not who.staff:
            raise Forbidden("only the lesson's teacher or an observer looks at other rooms' boards")
        room, key = self.target(who, room)
        if self.boards.get(key) is not live:
            return None
        if who.participant is not None:
            self.watching[who.participant.id] = room
        return self.view(live, room)

    def relay(self, who: Who, room: str | None, event: dict[str, Any]) -> bool:
        """Relay an ink stroke or the pointer to who watches the board; False: dropped (too many)."""
        room, key = self.target(who, room)
        if event["type"] == "board_pointer" and not who.staff:
            raise Forbidden("the laser pointer is the teacher's")
        if not self.may_draw(who, key):
            raise Forbidden("the teacher has not let you draw on this board")
        bucket = self._buckets.setdefault((who.user_id, event["type"]), _Bucket(at=_now()))
        if not bucket.take(_now()):
            return False
        event = {**event, "board": room, "user_id": who.user_id}
        for participant in self.lesson.participants.values():
            if participant is not who.participant and self._watches(participant, room):
                participant.send(event)
        return True


FEATURE = LessonBoards


def _now() -> float:
    return asyncio.get_running_loop().time()


def _quiet(task: asyncio.Future[Any]) -> None:
    """An answer (or a read) nobody may wait for any more: its failure is not left unretrieved."""
    if not task.cancelled():
        task.exception()


# --- outside the room (REST) -------------------------------------------------------------------------
async def change_offline(db: Database, school_id: int, lesson_id: int, key: str, op: dict[str, Any],
                         user_id: int) -> dict[str, Any]:
    """A change to a board whose lesson's room is not open (preparing before the lesson): read,
    apply, append under the board's lock, after whatever a closing room was still writing."""
    shared = _shared(db)
    while (busy := shared.writing.get((lesson_id, key))) is not None and busy.idle is not None:
        await asyncio.shield(busy.idle)
    store = BoardStore(db)
    async with shared.lock(lesson_id, key):
        board_id, board, seq = await store.load(school_id, lesson_id, key)
        try:
            concrete = board.apply(op, user_id)
        except BoardError as exc:
            raise refusal(exc) from None
        at = datetime.now(UTC)
        entries = [(seq + i + 1, user_id, at, one) for i, one in enumerate(concrete)]
        if entries:
            await store.append(board_id, entries)
    return {"board": key, "seq": seq + len(entries), "ops": concrete}


async def handle(lesson: LessonRoom, me: Participant, message: Any) -> dict[str, Any] | None:
    """The board messages of the lesson page (docs/protocol.md, "Whiteboard")."""
    boards: LessonBoards = lesson.features["board"]  # type: ignore[assignment]
    who = Who(me.user_id, me.staff, me)
    if isinstance(message, BoardOp):
        return {"type": "ok", **await boards.submit(who, message.op, room=message.board)}
    if isinstance(message, BoardInk):
        event = {"type": "board_ink", "page": message.page, "stroke": message.stroke.model_dump()}
        relayed = await lesson.act(lambda: boards.relay(who, message.board, event))
        return {"type": "ok", "relayed": relayed} if message.id is not None else None
    if isinstance(message, BoardPointer):
        event = {"type": "board_pointer", "x": message.x, "y": message.y}
        relayed = await lesson.act(lambda: boards.relay(who, message.board, event))
        return {"type": "ok", "relayed": relayed} if message.id is not None else None
    if isinstance(message, BoardAllow):
        return {"type": "ok", **await lesson.act(lambda: boards.set_allow(who, message.board, message.everyone,
                                                                           list(message.user_ids)))}
    if isinstance(message, BoardGet):
        for _attempt in range(10):
            _room, key = await lesson.act(lambda: boards.target(who, message.board))
            live = await boards.ready(key)
            seen = await lesson.act(lambda: boards.look(who, message.board, live))
            if seen is not None:
                return {"type": "ok", "board": seen}
        raise Conflict("the board is busy; try again")
    raise TypeError(type(message).__name__)  # pragma: no cover (the registry sends only these)

