"""Polls and quick quizzes in the live lesson: the teacher prepares, opens, closes and publishes them,
students answer (and may change their answer until it closes), the teacher watches the answers
come in (`poll_counts`, at most 4 a second per poll however many answer at once), and a timed
poll closes by itself.

The database is the truth (classroom/polls.py): every change is written durably first, outside
the lesson's actions, and only then applied to what the lesson keeps in memory and announced. A
room that opens again reads its polls back, and closes those whose time ran out meanwhile."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from classroom import polls as records
from classroom.polls import AnswerRecord, PollIn, PollRecord, ResultRow
from school import errors as school_errors
from signaling.errors import BadMessage, Conflict, Forbidden, LessonClosed, NotFound, SignalingError
from signaling.features import LessonFeature
from signaling.messages import Message

if TYPE_CHECKING:
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant
    from storage.database import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
COUNTS_INTERVAL = 0.25
"""At most one `poll_counts` per poll per this many seconds (4 a second)."""
PollId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class PollCreate(Message):
    type: Literal["poll_create"]
    poll: PollIn
    open: bool = True
    """Open it at once (False: a draft, opened later with poll_open)."""


class PollStep(Message):
    type: Literal["poll_open", "poll_close", "poll_publish"]
    poll_id: PollId


class PollAnswerIn(Message):
    type: Literal["poll_answer"]
    poll_id: PollId
    choices: Annotated[list[Annotated[int, Field(ge=0, le=1000)]], Field(max_length=records.MAX_OPTIONS)] | None = None
    text: Annotated[str, Field(max_length=4 * records.MAX_TEXT)] | None = None
    number: Annotated[float, Field(allow_inf_nan=False)] | None = None


MESSAGES: tuple[type, ...] = (PollCreate, PollStep, PollAnswerIn)


class Polls(LessonFeature):
    """The lesson's polls as the live room knows them: each poll and every answer to it."""

    name = "polls"

    def __init__(self, lesson: LessonRoom) -> None:
        super().__init__(lesson)
        self.polls: dict[int, PollRecord] = {}
        self.answers: dict[int, dict[int, AnswerRecord]] = {}
        """By poll, by student."""
        self.loaded = lesson.db is None
        self._early: set[str] = set()
        """Participants welcomed before the polls were read back: they are sent them once read."""
        self._timers: dict[int, asyncio.Task[None]] = {}
        self._counts_at: dict[int, float] = {}
        self._counts_later: dict[int, asyncio.TimerHandle] = {}
        self._loading: asyncio.Task[None] | None = None
        if lesson.db is not None:
            self._loading = asyncio.get_running_loop().create_task(self._load(lesson.db))
            self._loading.add_done_callback(_log_failure)

    # --- reading (actions) -----------------------------------------------------------------------
    def view(self, poll_id: int, viewer: Participant) -> dict[str, Any] | None:
        poll = self.polls[poll_id]
        return records.poll_view(poll, list(self.answers.get(poll_id, {}).values()), staff=viewer.staff,
                                 user_id=viewer.user_id)

    def welcome(self, participant: Participant) -> Any:
        if not self.loaded:
            self._early.add(participant.id)
        items = [self.view(pid, participant) for pid in sorted(self.polls)]
        return {"items": [item for item in items if item is not None]}

    def left(self, participant: Participant) -> None:
        self._early.discard(participant.id)

    # --- changes (actions, after the database has them) ------------------------------------------
    def apply(self, poll: PollRecord, viewer: Participant | None = None,
              results: list[ResultRow] | None = None) -> dict[str, Any] | None:
        """A poll as just written: kept, its timer set or stopped, and announced to everyone as
        they may see it (only if it changed). Returns it as `viewer` sees it."""
        before = self.polls.get(poll.id)
        self.polls[poll.id] = poll
        self.answers.setdefault(poll.id, {})
        if poll.status == "open":
            self._schedule(poll)
        else:
            self._unschedule(poll.id)
            self._flush_counts(poll.id)
        if before != poll:
            self._tell(poll.id)
            if results is not None and poll.published:
                self._tell_results(poll, results)
        return self.view(poll.id, viewer) if viewer is not None else None

    def answered(self, poll: PollRecord, answer: AnswerRecord) -> None:
        """A student's answer as just written: counted, and the staff told (throttled)."""
        self.polls.setdefault(poll.id, poll)
        answers = self.answers.setdefault(poll.id, {})
        known = answers.get(answer.user_id)
        if known is None or known.updated_at <= answer.updated_at:
            answers[answer.user_id] = answer
        self._counts_soon(poll.id)

    def _tell(self, poll_id: int) -> None:
        for participant in list(self.lesson.participants.values()):
            view = self.view(poll_id, participant)
            if view is not None:
                participant.send({"type": "poll", "poll": view})

    def _tell_results(self, poll: PollRecord, rows: list[ResultRow]) -> None:
        answers = [{"user_id": r.user_id, "full_name": r.full_name, "answer": r.answer, "correct": r.correct,
                    "score": r.score} for r in rows if r.answered]
        event = {"type": "poll_results", "poll_id": poll.id,
                 "counts": records.counts(poll, self.answers.get(poll.id, {}).values()), "correct": poll.correct}
        for participant in list(self.lesson.participants.values()):
            shown = participant.staff or not poll.anonymous
            participant.send(event | {"answers": answers if shown else []})

    # --- live counts -----------------------------------------------------------------------------
    def counts_event(self, poll_id: int) -> dict[str, Any]:
        answers = self.answers.get(poll_id, {})
        return {"type": "poll_counts", "poll_id": poll_id, "answered": len(answers),
                "total": len(self.lesson.lesson.student_ids),
                "counts": records.counts(self.polls[poll_id], answers.values())}

    def _counts_soon(self, poll_id: int) -> None:
        if poll_id in self._counts_later:
            return  # already on its way, with this answer in it
        loop = asyncio.get_running_loop()
        wait = self._counts_at.get(poll_id, float("-inf")) + COUNTS_INTERVAL - loop.time()
        if wait <= 0:
            self._send_counts(poll_id)
        else:
            self._counts_later[poll_id] = loop.call_later(
                wait, lambda: self.lesson.actor.post(lambda: self._flush_counts(poll_id)))

    def _flush_counts(self, poll_id: int) -> None:
        handle = self._counts_later.pop(poll_id, None)
        if handle is not None:
            handle.cancel()
            self._send_counts(poll_id)

    def _send_counts(self, poll_id: int) -> None:
        self._counts_at[poll_id] = asyncio.get_running_loop().time()
        event = self.counts_event(poll_id)
        for participant in list(self.lesson.participants.values()):
            if participant.staff:
                participant.send(event)

    # --- timed polls -----------------------------------------------------------------------------
    def _schedule(self, poll: PollRecord) -> None:
        if poll.closes_at is not None and poll.id not in self._timers and self.lesson.db is not None:
            task = asyncio.get_running_loop().create_task(self._expire(self.lesson.db, poll.id, poll.closes_at))
            task.add_done_callback(_log_failure)
            self._timers[poll.id] = task

    def _unschedule(self, poll_id: int) -> None:
        task = self._timers.pop(poll_id, None)
        if task is not None:
            task.cancel()

    async def _expire(self, db: Database, poll_id: int, closes_at: datetime) -> None:
        await asyncio.sleep(max(0.0, (closes_at - datetime.now(UTC)).total_seconds()))
        try:
            await self.lesson.act(lambda: self._timers.pop(poll_id, None))  # from here on, nothing cancels it
            poll = await write(db, lambda s: records.close_poll(s, poll_id, only_if_due=True))
            await self.lesson.act(lambda: self.apply(poll))
        except LessonClosed:
            pass  # the room closed: the poll's closes_at still holds in the database

    # --- reading back ----------------------------------------------------------------------------
    async def _load(self, db: Database) -> None:
        lesson_id = self.lesson.lesson.id
        await db.writer.write(lambda s: records.close_overdue(s, lesson_id))
        async with db.session() as session:
            polls = await records.lesson_polls(session, lesson_id)
            answers = await records.poll_answers(session, [p.id for p in polls])
        try:
            await self.lesson.act(lambda: self._loaded(polls, answers))
        except LessonClosed:
            pass

    def _loaded(self, polls: list[PollRecord], answers: list[AnswerRecord]) -> None:
        for poll in polls:  # what was changed meanwhile is newer than what was read
            self.polls.setdefault(poll.id, poll)
            self.answers.setdefault(poll.id, {})
        for answer in answers:
            known = self.answers[answer.poll_id].get(answer.user_id)
            if known is None or known.updated_at < answer.updated_at:
                self.answers[answer.poll_id][answer.user_id] = answer
        for poll in self.polls.values():
            if poll.status == "open":
                self._schedule(poll)
        self.loaded = True
        early, self._early = self._early, set()
        for participant in list(self.lesson.participants.values()):
            if participant.id in early:
                for poll_id in sorted(self.polls):
                    view = self.view(poll_id, participant)
                    if view is not None:
                        participant.send({"type": "poll", "poll": view})

    def close(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
        for task in self._timers.values():
            task.cancel()
        self._timers.clear()
        for handle in self._counts_later.values():
            handle.cancel()
        self._counts_later.clear()


FEATURE = Polls


# --- the writes, shared with the REST API ---------------------------------------------------------
async def write(db: Database, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """A durable write of the polls' records; the school layer's refusals become signaling errors."""
    try:
        return await db.writer.write(fn)
    except school_errors.InvalidField as exc:
        raise BadMessage(exc.message) from exc
    except school_errors.Conflict as exc:
        raise Conflict(exc.message) from exc
    except school_errors.NotFound as exc:
        raise NotFound(exc.message) from exc
    except school_errors.Forbidden as exc:
        raise Forbidden(exc.message) from exc


async def result_rows(db: Database, poll: PollRecord, class_id: int) -> list[ResultRow]:
    """One row per student of the class, with their answer (or none)."""
    async with db.session() as session:
        roster = await records.class_roster(session, class_id)
        answers = await records.poll_answers(session, [poll.id])
    return records.result_rows(poll, roster, answers)


async def tell_room(room: LessonRoom | None, poll: PollRecord, results: list[ResultRow] | None = None,
                    answer: AnswerRecord | None = None) -> None:
    """What was written through the REST API, applied to the lesson's live room if it is open."""
    if room is None or room.closed or "polls" not in room.features:
        return
    feature: Polls = room.features["polls"]  # type: ignore[assignment]
    try:
        if answer is not None:
            await room.act(lambda: feature.answered(poll, answer))
        else:
            await room.act(lambda: feature.apply(poll, results=results))
    except LessonClosed:
        pass


def _require_staff(me: Participant) -> None:
    if not me.staff:
        raise Forbidden("only the lesson's teacher runs polls")


async def handle(lesson: LessonRoom, me: Participant, message: Any) -> dict[str, Any]:
    """The poll messages of the lesson page (docs/protocol.md, "Polls and quizzes")."""
    db = lesson.db
    feature: Polls = lesson.features["polls"]  # type: ignore[assignment]
    info = lesson.lesson
    if isinstance(message, PollAnswerIn):
        if me.role != "student":
            raise Forbidden("only students answer polls")
        if db is None:
            raise Conflict("this lesson keeps no records")
        poll, answer = await write(db, lambda s: records.save_answer(
            s, message.poll_id, me.user_id, lesson_id=info.id, choices=message.choices, text=message.text,
            number=message.number))
        await lesson.act(lambda: feature.answered(poll, answer))
        return {"type": "ok", "answer": records.answer_view(poll, answer)}
    _require_staff(me)
    if db is None:
        raise Conflict("this lesson keeps no records")
    results = None
    if isinstance(message, PollCreate):
        spec, open_now = message.poll, message.open
        poll = await write(db, lambda s: records.create_poll(s, school_id=info.school_id, lesson_id=info.id,
                                                              created_by=me.user_id, spec=spec, open_now=open_now))
    elif message.type == "poll_open":
        poll = await write(db, lambda s: records.open_poll(s, message.poll_id, info.id))
    else:
        publish = message.type == "poll_publish"
        poll = await write(db, lambda s: records.close_poll(s, message.poll_id, info.id, publish=publish))
        if publish:
            results = await result_rows(db, poll, info.class_id)
    view = await lesson.act(lambda: feature.apply(poll, me, results))
    return {"type": "ok", "poll": view}


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None and not isinstance(task.exception(), SignalingError):
        log.error("a poll task failed", exc_info=task.exception())
