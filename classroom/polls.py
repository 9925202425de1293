"""Polls and quick quizzes of a lesson: the records, what a poll and an answer must be, scoring, and
the results table. The database is the truth: a poll open past its `closes_at` counts as closed
wherever it is read, and an answer is accepted only by the write that checks the poll is open.

Kinds: single (one option), multiple (a set of options), true_false (options "Đúng", "Sai"),
short (a text, compared after Unicode NFC, case folding and collapsing spaces; accents matter),
number (equal within 1e-9). A poll with a correct answer is a quiz: each answer is scored when it
is written (full points if correct, else 0; multiple: the exact set)."""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from school.errors import Conflict, InvalidField, NotFound
from school.structure import class_rosters
from storage.database import Base
from storage.types import UTCDateTime

Kind = Literal["single", "multiple", "true_false", "short", "number"]
CHOICE_KINDS = frozenset({"single", "multiple", "true_false"})
TRUE_FALSE = ("Đúng", "Sai")
MAX_OPTIONS = 10
MAX_OPTION = 200
MAX_QUESTION = 500
MAX_TEXT = 200
"""A short answer (and a short quiz's correct answer) has at most this many characters."""
MIN_DURATION_S = 10
MAX_DURATION_S = 3600
NUMBER_TOLERANCE = 1e-9


class Poll(Base):
    __tablename__ = "polls"
    __table_args__ = (Index("ix_polls_lesson_id", "lesson_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(Integer)
    lesson_id: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(String(MAX_QUESTION))
    kind: Mapped[str] = mapped_column(String(16))
    options: Mapped[list[str]] = mapped_column(JSON)
    correct: Mapped[Any] = mapped_column(JSON, nullable=True)
    """Sorted option indexes (choice kinds), a text (short) or a number; None: a poll, not a quiz."""
    points: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    """draft, open or closed (as written: an open poll past `closes_at` reads as closed)."""
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    published: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PollAnswer(Base):
    __tablename__ = "poll_answers"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(Integer)
    answer: Mapped[Any] = mapped_column(JSON)
    """Sorted option indexes, a text or a number, as the kind says."""
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- what a poll is, as the teacher gives it -----------------------------------------------------
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION)]
Option = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_OPTION)]
Index_ = Annotated[int, Field(ge=0, lt=MAX_OPTIONS)]
Correct = list[Index_] | Annotated[str, Field(max_length=MAX_TEXT * 4)] | Annotated[float, Field(allow_inf_nan=False)]


class PollIn(BaseModel):
    """A poll or quiz as the teacher writes it (REST body and the `poll` of `poll_create`)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    question: Question
    kind: Kind
    options: Annotated[list[Option], Field(max_length=MAX_OPTIONS)] = []
    """2..10 options for single and multiple; true_false's are "Đúng", "Sai" (may be left out);
    none for short and number."""
    correct: Correct | None = None
    points: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 1.0
    duration_s: Annotated[int, Field(ge=MIN_DURATION_S, le=MAX_DURATION_S)] | None = None
    anonymous: bool = False

    @model_validator(mode="after")
    def _fits_its_kind(self) -> PollIn:
        options, correct = list(self.options), self.correct
        if self.kind in ("single", "multiple"):
            if not 2 <= len(options) <= MAX_OPTIONS:
                raise ValueError(f"a {self.kind} poll has 2 to {MAX_OPTIONS} options")
        elif self.kind == "true_false":
            if options and tuple(options) != TRUE_FALSE:
                raise ValueError('a true_false poll\'s options are ["Đúng", "Sai"] (or left out)')
            self.options = list(TRUE_FALSE)
            options = list(TRUE_FALSE)
        elif options:
            raise ValueError(f"a {self.kind} poll has no options")
        if correct is None:
            return self
        if self.kind in CHOICE_KINDS:
            if not isinstance(correct, list):
                raise ValueError("correct: a list of option indexes for this kind")
            if any(i >= len(options) for i in correct):
                raise ValueError("correct: an option index out of range")
            if len(set(correct)) != len(correct) or not correct:
                raise ValueError("correct: distinct option indexes, at least one")
            if self.kind != "multiple" and len(correct) != 1:
                raise ValueError("correct: exactly one option index for this kind")
            self.correct = sorted(correct)
        elif self.kind == "short":
            if not isinstance(correct, str) or not 1 <= len(normal_text(correct)) <= MAX_TEXT:
                raise ValueError(f"correct: a text of 1 to {MAX_TEXT} characters for a short answer")
            self.correct = " ".join(unicodedata.normalize("NFC", correct).split())
        elif isinstance(correct, list | str):
            raise ValueError("correct: a number for a number poll")
        return self


# --- answers -------------------------------------------------------------------------------------
def normal_text(text: str) -> str:
    """A short answer as compared: NFC, case-folded, spaces collapsed (accents kept: "Hà" is not "Ha")."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return " ".join(folded.split())


def answer_value(kind: str, option_count: int, *, choices: list[int] | None = None, text: str | None = None,
                 number: float | None = None) -> Any:
    """The answer as stored, or InvalidField naming what does not fit the poll's kind."""
    given = [name for name, value in (("choices", choices), ("text", text), ("number", number)) if value is not None]
    if len(given) != 1:
        raise InvalidField("answer", "give exactly one of choices, text or number")
    if kind in CHOICE_KINDS:
        if choices is None:
            raise InvalidField("choices", "this poll is answered with choices (option indexes)")
        if not choices or any(not 0 <= i < option_count for i in choices):
            raise InvalidField("choices", f"option indexes between 0 and {option_count - 1}")
        if len(set(choices)) != len(choices):
            raise InvalidField("choices", "each option once")
        if kind != "multiple" and len(choices) != 1:
            raise InvalidField("choices", "choose exactly one option")
        return sorted(choices)
    if kind == "short":
        if text is None:
            raise InvalidField("text", "this poll is answered with a text")
        clean = " ".join(unicodedata.normalize("NFC", text).split())
        if not 1 <= len(clean) <= MAX_TEXT:
            raise InvalidField("text", f"a text of 1 to {MAX_TEXT} characters")
        return clean
    if number is None or isinstance(number, bool):
        raise InvalidField("number", "this poll is answered with a number")
    if not math.isfinite(number):
        raise InvalidField("number", "a finite number")
    return number


def scored(kind: str, correct: Any, points: float, answer: Any) -> tuple[bool | None, float | None]:
    """(correct, score) of an answer: full points if correct, else 0; (None, None) for a poll."""
    if correct is None:
        return None, None
    if kind in CHOICE_KINDS:
        right = sorted(answer) == sorted(correct)
    elif kind == "short":
        right = normal_text(answer) == normal_text(correct)
    else:
        right = math.isclose(float(answer), float(correct), rel_tol=NUMBER_TOLERANCE, abs_tol=NUMBER_TOLERANCE)
    return right, points if right else 0.0


def answer_text(options: list[str], kind: str, answer: Any) -> str:
    """An answer as a person reads it: option texts joined with "; ", the text, or the number."""
    if answer is None:
        return ""
    if kind in CHOICE_KINDS:
        return "; ".join(options[i] for i in answer if 0 <= i < len(options))
    if kind == "number":
        number = float(answer)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return str(answer)


# --- records as read -----------------------------------------------------------------------------
@dataclass(frozen=True)
class PollRecord:
    id: int
    school_id: int
    lesson_id: int
    created_by: int
    question: str
    kind: str
    options: list[str]
    correct: Any
    points: float
    duration_s: int | None
    anonymous: bool
    status: str
    """As it stands now: an open poll past its closes_at is closed."""
    opened_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    published: bool
    created_at: datetime

    @property
    def quiz(self) -> bool:
        return self.correct is not None


@dataclass(frozen=True)
class AnswerRecord:
    poll_id: int
    user_id: int
    answer: Any
    correct: bool | None
    score: float | None
    answered_at: datetime
    updated_at: datetime


def status_of(poll: Poll, now: datetime | None = None) -> str:
    if poll.status == "open" and poll.closes_at is not None and poll.closes_at <= (now or datetime.now(UTC)):
        return "closed"
    return poll.status


def record(poll: Poll, now: datetime | None = None) -> PollRecord:
    status = status_of(poll, now)
    closed_at = poll.closed_at if poll.status != "open" or status == "open" else poll.closes_at
    return PollRecord(poll.id, poll.school_id, poll.lesson_id, poll.created_by, poll.question, poll.kind,
                      list(poll.options), poll.correct, poll.points, poll.duration_s, poll.anonymous, status,
                      poll.opened_at, poll.closes_at, closed_at, poll.published, poll.created_at)


def answer_record(row: PollAnswer) -> AnswerRecord:
    return AnswerRecord(row.poll_id, row.user_id, row.answer, row.correct, row.score, row.answered_at,
                        row.updated_at)


def counts(poll: PollRecord, answers: list[AnswerRecord] | Any) -> list[int]:
    """How many chose each option (choice kinds; [] for short and number)."""
    out = [0] * len(poll.options) if poll.kind in CHOICE_KINDS else []
    for answer in answers:
        for i in answer.answer if out else ():
            if 0 <= i < len(out):
                out[i] += 1
    return out


# --- reading -------------------------------------------------------------------------------------
async def lesson_polls(session: AsyncSession, lesson_id: int) -> list[PollRecord]:
    now = datetime.now(UTC)
    rows = await session.scalars(select(Poll).where(Poll.lesson_id == lesson_id).order_by(Poll.id))
    return [record(p, now) for p in rows]


async def get_poll(session: AsyncSession, poll_id: int) -> PollRecord:
    poll = await session.get(Poll, poll_id)
    if poll is None:
        raise NotFound(f"poll {poll_id} not found")
    return record(poll)


async def poll_answers(session: AsyncSession, poll_ids: list[int]) -> list[AnswerRecord]:
    if not poll_ids:
        return []
    rows = await session.scalars(select(PollAnswer).where(PollAnswer.poll_id.in_(poll_ids))
                                 .order_by(PollAnswer.poll_id, PollAnswer.user_id))
    return [answer_record(a) for a in rows]


async def user_answers(session: AsyncSession, user_id: int) -> list[tuple[PollRecord, AnswerRecord]]:
    """Every answer this user gave, with its poll, in the order the polls were made."""
    rows = await session.execute(select(Poll, PollAnswer).join(PollAnswer, PollAnswer.poll_id == Poll.id)
                                 .where(PollAnswer.user_id == user_id).order_by(Poll.lesson_id, Poll.id))
    now = datetime.now(UTC)
    return [(record(p, now), answer_record(a)) for p, a in rows]


async def class_roster(session: AsyncSession, class_id: int) -> list[tuple[int, str]]:
    """The class's students as (user_id, full_name), by name."""
    return [(u.id, u.full_name) for u in (await class_rosters(session, {class_id}))[class_id]]


async def quiz_totals(session: AsyncSession, lesson_id: int) -> tuple[float, dict[int, float]]:
    """(the points the lesson's quizzes were worth, each student's score) — quizzes that were opened."""
    polls = [p for p in await lesson_polls(session, lesson_id) if p.quiz and p.status != "draft"]
    scores: dict[int, float] = {}
    for answer in await poll_answers(session, [p.id for p in polls]):
        scores[answer.user_id] = scores.get(answer.user_id, 0.0) + (answer.score or 0.0)
    return sum(p.points for p in polls), scores


# --- writing (each runs inside a writer's write) -------------------------------------------------
async def _row(session: AsyncSession, poll_id: int, lesson_id: int | None) -> Poll:
    poll = await session.get(Poll, poll_id)
    if poll is None or (lesson_id is not None and poll.lesson_id != lesson_id):
        raise NotFound(f"poll {poll_id} not found")
    return poll


def _open(poll: Poll, now: datetime) -> None:
    poll.status = "open"
    poll.opened_at = now
    poll.closes_at = now + timedelta(seconds=poll.duration_s) if poll.duration_s else None


async def create_poll(session: AsyncSession, *, school_id: int, lesson_id: int, created_by: int, spec: PollIn,
                      open_now: bool) -> PollRecord:
    now = datetime.now(UTC)
    poll = Poll(school_id=school_id, lesson_id=lesson_id, created_by=created_by, question=spec.question,
                kind=spec.kind, options=list(spec.options), correct=spec.correct, points=float(spec.points),
                duration_s=spec.duration_s, anonymous=spec.anonymous, status="draft", published=False,
                created_at=now)
    if open_now:
        _open(poll, now)
    session.add(poll)
    await session.flush()
    return record(poll, now)


async def open_poll(session: AsyncSession, poll_id: int, lesson_id: int | None = None) -> PollRecord:
    poll = await _row(session, poll_id, lesson_id)
    if poll.status != "draft":
        raise Conflict("only a prepared poll (a draft) is opened; this one has already been opened")
    now = datetime.now(UTC)
    _open(poll, now)
    return record(poll, now)


async def close_poll(session: AsyncSession, poll_id: int, lesson_id: int | None = None, *,
                     publish: bool = False, only_if_due: bool = False) -> PollRecord:
    """Close an open poll (closing a closed one changes nothing); `publish` also shows its results.
    `only_if_due`: the poll's own timer, which closes it only once its time is up."""
    poll = await _row(session, poll_id, lesson_id)
    now = datetime.now(UTC)
    if poll.status == "draft":
        raise Conflict("this poll has not been opened yet")
    if poll.status == "open":
        due = poll.closes_at is not None and poll.closes_at <= now
        if only_if_due and not due:
            return record(poll, now)
        poll.status = "closed"
        poll.closed_at = min(now, poll.closes_at) if due and poll.closes_at is not None else now
    if publish:
        poll.published = True
    return record(poll, now)


async def close_overdue(session: AsyncSession, lesson_id: int) -> None:
    """Write as closed the lesson's open polls whose time is up (the room was closed meanwhile)."""
    now = datetime.now(UTC)
    rows = await session.scalars(select(Poll).where(Poll.lesson_id == lesson_id, Poll.status == "open",
                                                    Poll.closes_at.is_not(None), Poll.closes_at <= now))
    for poll in rows:
        poll.status = "closed"
        poll.closed_at = poll.closes_at


async def save_answer(session: AsyncSession, poll_id: int, user_id: int, *, lesson_id: int | None = None,
                      choices: list[int] | None = None, text: str | None = None,
                      number: float | None = None) -> tuple[PollRecord, AnswerRecord]:
    """Write (or change) a student's answer while the poll is open, scored as it is written."""
    poll = await _row(session, poll_id, lesson_id)
    now = datetime.now(UTC)
    status = status_of(poll, now)
    if status != "open":
        raise Conflict("this poll is closed: answers are no longer taken" if status == "closed"
                       else "this poll has not been opened yet")
    value = answer_value(poll.kind, len(poll.options), choices=choices, text=text, number=number)
    right, score = scored(poll.kind, poll.correct, poll.points, value)
    row = await session.scalar(select(PollAnswer).where(PollAnswer.poll_id == poll_id, PollAnswer.user_id == user_id))
    if row is None:
        row = PollAnswer(poll_id=poll_id, user_id=user_id, answer=value, correct=right, score=score,
                         answered_at=now, updated_at=now)
        session.add(row)
    else:
        row.answer, row.correct, row.score, row.updated_at = value, right, score, now
    await session.flush()
    return record(poll, now), answer_record(row)


# --- the results table ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultRow:
    user_id: int
    full_name: str
    answered: bool
    answer: str
    """As a person reads it ("" for a student who did not answer)."""
    correct: bool | None
    """A quiz: whether the answer was right (False for no answer); a poll: None."""
    score: float | None
    """A quiz: the points earned (0 for no answer); a poll: None."""


def result_rows(poll: PollRecord, roster: list[tuple[int, str]], answers: list[AnswerRecord]) -> list[ResultRow]:
    """One row per student of the class (roster: (user_id, full_name)), those who did not answer too;
    a student who answered and has since left the class comes after."""
    by_user = {a.user_id: a for a in answers}
    names = dict(roster)
    ids = [uid for uid, _ in roster] + [a.user_id for a in answers if a.user_id not in names]
    rows = []
    for uid in ids:
        answer = by_user.get(uid)
        if answer is None:
            rows.append(ResultRow(uid, names.get(uid, ""), False, "", False if poll.quiz else None,
                                  0.0 if poll.quiz else None))
        else:
            rows.append(ResultRow(uid, names.get(uid, ""), True, answer_text(poll.options, poll.kind, answer.answer),
                                  answer.correct, answer.score))
    return rows


def poll_view(poll: PollRecord, answers: list[AnswerRecord], *, staff: bool, user_id: int) -> dict[str, Any] | None:
    """A poll as this viewer may see it (None: not for them: a draft for a student)."""
    if poll.status == "draft" and not staff:
        return None
    shown = staff or poll.published
    out: dict[str, Any] = {
        "id": poll.id, "lesson_id": poll.lesson_id, "question": poll.question, "kind": poll.kind,
        "options": list(poll.options), "points": poll.points, "duration_s": poll.duration_s,
        "anonymous": poll.anonymous, "status": poll.status, "quiz": poll.quiz,
        "opened_at": _iso(poll.opened_at), "closes_at": _iso(poll.closes_at), "closed_at": _iso(poll.closed_at),
        "published": poll.published, "answered": len(answers) if staff else None,
        "correct": poll.correct if shown else None,
        "counts": counts(poll, answers) if shown else None,
    }
    if not staff:
        mine = next((a for a in answers if a.user_id == user_id), None)
        out["mine"] = None if mine is None else answer_view(poll, mine)
    return out


def answer_view(poll: PollRecord, answer: AnswerRecord) -> dict[str, Any]:
    """A student's own answer: correct and score only once the results are published."""
    out: dict[str, Any] = {"poll_id": poll.id, "answer": answer.answer,
                           "answered_at": _iso(answer.answered_at), "updated_at": _iso(answer.updated_at)}
    if poll.published:
        out["correct"], out["score"] = answer.correct, answer.score
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
