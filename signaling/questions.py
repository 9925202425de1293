"""The lesson's questions, live: asked, voted, answered, done, hidden or reopened. Each change is
written (durable) before it is acknowledged or announced; a room opened again finds the lesson's
questions in its records before anyone is welcomed. Hidden questions reach only the lesson's staff
and their author (the other students are told `question_hidden`)."""
from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field
from sqlalchemy.ext.asyncio import AsyncSession

from classroom.limits import RateWindow
from classroom.questions import (ANSWER_MAX, ASK_LIMIT, ASK_WINDOW_S, QUESTION_MAX, Question, add_question,
                                 lesson_questions, plain_text, save_state, set_vote)
from signaling.errors import BadMessage, Forbidden, NotFound, RateLimited
from signaling.features import LessonFeature
from signaling.messages import Message

if TYPE_CHECKING:
    from signaling.lesson_room import LessonRoom
    from signaling.participant import Participant

QuestionId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _not_blank(text: str) -> str:
    text = plain_text(text)
    if not text:
        raise ValueError("write some text")
    return text


class QuestionAsk(Message):
    type: Literal["question_ask"]
    text: Annotated[str, Field(min_length=1, max_length=QUESTION_MAX), AfterValidator(_not_blank)]


class QuestionVote(Message):
    type: Literal["question_vote"]
    question_id: QuestionId
    vote: bool


class QuestionAnswer(Message):
    type: Literal["question_answer"]
    question_id: QuestionId
    text: Annotated[str, Field(min_length=1, max_length=ANSWER_MAX), AfterValidator(_not_blank)] | None = None
    live: bool = False
    """Answered aloud, in the lesson."""


class QuestionStatus(Message):
    type: Literal["question_status"]
    question_id: QuestionId
    status: Literal["open", "done", "hidden"]


MESSAGES = (QuestionAsk, QuestionVote, QuestionAnswer, QuestionStatus)


class Questions(LessonFeature):
    name = "questions"

    def __init__(self, lesson: LessonRoom) -> None:
        super().__init__(lesson)
        self.items: dict[int, Question] = {}
        self.loaded = lesson.db is None
        """The lesson's recorded questions are in `items` (a room without records has none)."""
        self._loading: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        """Ids of a room that keeps no records."""
        self.asks = RateWindow(ASK_LIMIT, ASK_WINDOW_S)
        self._locks: defaultdict[tuple[str, int], asyncio.Lock] = defaultdict(asyncio.Lock)
        """One change at a time per question (staff) and per voter: applied in the order written."""

    # --- the records ---------------------------------------------------------------------------
    async def prepare(self) -> None:
        if self.loaded:
            return
        if self._loading is None or (self._loading.done() and self._loading.exception() is not None):
            self._loading = asyncio.ensure_future(self._load())
        await asyncio.shield(self._loading)

    async def _load(self) -> None:
        assert self.lesson.db is not None
        async with self.lesson.db.session() as session:
            found = await lesson_questions(session, self.lesson.lesson.id)

        def keep() -> None:
            for question in found:
                self.items.setdefault(question.id, question)
            self.loaded = True

        await self.lesson.act(keep)

    async def _write(self, fn: Any) -> Any:
        if self.lesson.db is None:
            return None
        return await self.lesson.db.writer.write(fn)

    # --- what a participant sees (actions) ------------------------------------------------------
    def welcome(self, participant: Participant) -> dict[str, Any]:
        mine = [q for q in self.items.values() if q.visible_to(participant.user_id, participant.staff)]
        return {"items": [q.describe() for q in mine],
                "my_votes": [q.id for q in mine if participant.user_id in q.voters]}

    def _seen(self, me: Participant, question_id: int) -> Question:
        question = self.items.get(question_id)
        if question is None or not question.visible_to(me.user_id, me.staff):
            raise NotFound(f"no question {question_id} in this lesson")
        return question

    def _announce(self, question: Question, was_hidden: bool) -> None:
        event = {"type": "question", "question": question.describe()}
        for participant in list(self.lesson.participants.values()):
            if question.visible_to(participant.user_id, participant.staff):
                participant.send(event)
            elif not was_hidden:
                participant.send({"type": "question_hidden", "question_id": question.id})

    # --- commands -------------------------------------------------------------------------------
    async def ask(self, me: Participant, text: str) -> dict[str, Any]:
        at = datetime.now(UTC)

        def check() -> None:
            if me.left:
                raise NotFound("you are no longer in the lesson")
            wait = self.asks.take(me.user_id, asyncio.get_running_loop().time())
            if wait:
                raise RateLimited(f"at most {ASK_LIMIT} questions in {ASK_WINDOW_S:g} seconds", round(wait, 1))

        await self.lesson.act(check)
        lesson = self.lesson.lesson

        async def add(session: AsyncSession) -> int:
            return await add_question(session, school_id=lesson.school_id, lesson_id=lesson.id,
                                      author_id=me.user_id, text=text, at=at)

        question_id = await self._write(add)
        question = Question(question_id or next(self._ids), me.user_id, me.full_name, text, at)

        def publish() -> dict[str, Any]:
            self.items[question.id] = question
            self._announce(question, was_hidden=True)
            return question.describe()

        return await self.lesson.act(publish)

    async def vote(self, me: Participant, question_id: int, vote: bool) -> dict[str, Any] | None:
        def check() -> bool:
            question = self._seen(me, question_id)
            if question.author_id == me.user_id:
                raise Forbidden("you cannot vote for your own question")
            return (me.user_id in question.voters) != vote

        async with self._locks[("voter", me.user_id)]:
            if await self.lesson.act(check):
                at = datetime.now(UTC)
                await self._write(lambda session: set_vote(session, question_id, me.user_id, vote, at))

            def apply() -> dict[str, Any] | None:
                question = self.items[question_id]
                before = len(question.voters)
                (question.voters.add if vote else question.voters.discard)(me.user_id)
                if len(question.voters) != before:
                    self._announce(question, was_hidden=question.status == "hidden")
                return question.describe() if question.visible_to(me.user_id, me.staff) else None

            return await self.lesson.act(apply)

    async def change(self, me: Participant, question_id: int, **changes: Any) -> dict[str, Any]:
        """Staff: the question's status (and answer) as `changes` say."""

        def check() -> Question:
            if not me.staff:
                raise Forbidden("only the lesson's teacher or an observer answers, hides or reopens questions")
            question = self._seen(me, question_id)
            return dataclasses.replace(question, voters=set(), **changes)

        async with self._locks[("question", question_id)]:
            wanted = await self.lesson.act(check)
            await self._write(lambda session: save_state(session, wanted))

            def apply() -> dict[str, Any]:
                question = self.items[question_id]
                was_hidden = question.status == "hidden"
                for name in ("status", "answer", "answered_live", "answered_by", "answered_at"):
                    setattr(question, name, getattr(wanted, name))
                self._announce(question, was_hidden)
                return question.describe()

            return await self.lesson.act(apply)

    async def answer(self, me: Participant, question_id: int, text: str | None, live: bool) -> dict[str, Any]:
        if text is None and not live:
            raise BadMessage("answer with text, or say it was answered live")
        current = await self.lesson.act(lambda: self.items.get(question_id))
        return await self.change(me, question_id, status="answered",
                                 answer=text if text is not None else current.answer if current else None,
                                 answered_live=live or bool(current and current.answered_live),
                                 answered_by=me.user_id, answered_at=datetime.now(UTC))


FEATURE = Questions


async def handle(lesson: LessonRoom, me: Participant, message: Any) -> dict[str, Any]:
    """The question messages of the lesson page (docs/protocol.md, "Questions (Q&A)")."""
    questions: Questions = lesson.features["questions"]  # type: ignore[assignment]
    await questions.prepare()
    if isinstance(message, QuestionAsk):
        return {"type": "ok", "question": await questions.ask(me, message.text)}
    if isinstance(message, QuestionVote):
        return {"type": "ok", "vote": message.vote, "question": await questions.vote(me, message.question_id,
                                                                                    message.vote)}
    if isinstance(message, QuestionAnswer):
        return {"type": "ok", "question": await questions.answer(me, message.question_id, message.text, message.live)}
    if isinstance(message, QuestionStatus):
        return {"type": "ok", "question": await questions.change(me, message.question_id, status=message.status)}
    raise TypeError(type(message).__name__)  # pragma: no cover (the registry sends only these)
